//! The Envoy configurations the tests run: one generated around a test's plugin
//! configuration, mirroring the filter block of `envoy/envoy.yaml`, and the shipped
//! `envoy/envoy.yaml` itself with its ports and `.wasm` path moved to the test's.

use std::path::Path;

/// Ports and files one Envoy uses.
pub struct Placement<'a> {
    /// The HTTP listener on 127.0.0.1.
    pub listener_port: u16,
    /// The admin interface on 127.0.0.1.
    pub admin_port: u16,
    /// The demo upstream on 127.0.0.1.
    pub upstream_port: u16,
    /// The release filter.
    pub wasm: &'a Path,
    /// Where the access log is written.
    pub access_log: &'a Path,
}

/// The format of the access log in generated configurations: the filter's decision as
/// stored in the filter state, the status and the path.
pub const ACCESS_LOG_FORMAT: &str = "decision=%FILTER_STATE(wasm.portcullis.decision:PLAIN)% status=%RESPONSE_CODE% path=%REQ(:PATH)%\n";

/// A configuration serving `plugin_config` (the filter's JSON) with `env` as the Wasm VM's
/// environment (`environment_variables.key_values`); otherwise the filter is configured
/// exactly as in `envoy/envoy.yaml`.
pub fn render(placement: &Placement, plugin_config: &str, env: &[(&str, &str)]) -> String {
    fill(TEMPLATE, placement, plugin_config, env)
        .replace("{bootstrap_extensions}", "")
        .replace("{control_plane_cluster}", "")
}

/// Like [`render`], plus the syncer: the same `.wasm` as a singleton bootstrap service
/// (root id `portcullis_sync`, vm id `portcullis`, so it shares data with the filter)
/// configured by `syncer_config`, and the `portcullis_control_plane` cluster on
/// `control_plane_port`.
pub fn render_with_sync(
    placement: &Placement,
    plugin_config: &str,
    env: &[(&str, &str)],
    control_plane_port: u16,
    syncer_config: &str,
) -> String {
    let bootstrap = fill(SYNC_BOOTSTRAP, placement, syncer_config, env);
    fill(TEMPLATE, placement, plugin_config, env)
        .replace("{bootstrap_extensions}", &bootstrap)
        .replace(
            "{control_plane_cluster}",
            &CONTROL_PLANE_CLUSTER.replace("{control_plane_port}", &control_plane_port.to_string()),
        )
}

fn fill(
    template: &str,
    placement: &Placement,
    plugin_config: &str,
    env: &[(&str, &str)],
) -> String {
    let key_values = if env.is_empty() {
        "{}".to_string()
    } else {
        let pairs: Vec<String> = env
            .iter()
            .map(|(name, value)| format!("{}: {}", quoted(name), quoted(value)))
            .collect();
        format!("{{ {} }}", pairs.join(", "))
    };
    template
        .replace("{listener_port}", &placement.listener_port.to_string())
        .replace("{admin_port}", &placement.admin_port.to_string())
        .replace("{upstream_port}", &placement.upstream_port.to_string())
        .replace(
            "{access_log}",
            &quoted(&placement.access_log.to_string_lossy()),
        )
        .replace("{access_log_format}", &quoted(ACCESS_LOG_FORMAT))
        .replace("{wasm}", &quoted(&placement.wasm.to_string_lossy()))
        .replace("{key_values}", &key_values)
        .replace("{plugin_config}", &quoted(plugin_config))
}

/// The shipped `envoy/envoy.yaml` with its listener (10000), admin (9901), upstream (8081)
/// and control-plane (8080) ports and its relative `.wasm` path (filter and syncer)
/// replaced. Panics if any of them is no longer where it was, so a change to the shipped
/// file cannot silently skip its test.
pub fn relocate_shipped(shipped: &str, placement: &Placement, control_plane_port: u16) -> String {
    let replacements = [
        (
            "port_value: 8080",
            format!("port_value: {control_plane_port}"),
            1,
        ),
        (
            "port_value: 10000",
            format!("port_value: {}", placement.listener_port),
            1,
        ),
        (
            "port_value: 9901",
            format!("port_value: {}", placement.admin_port),
            1,
        ),
        (
            "port_value: 8081",
            format!("port_value: {}", placement.upstream_port),
            1,
        ),
        (
            "filename: target/wasm32-wasip1/release/portcullis.wasm",
            format!("filename: {}", quoted(&placement.wasm.to_string_lossy())),
            2,
        ),
    ];
    let mut config = shipped.to_string();
    for (from, to, times) in replacements {
        assert_eq!(
            config.matches(from).count(),
            times,
            "envoy/envoy.yaml should contain `{from}` {times} time(s)"
        );
        config = config.replace(from, &to);
    }
    config
}

/// A YAML double-quoted scalar: a JSON string literal is one.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

const SYNC_BOOTSTRAP: &str = r#"bootstrap_extensions:
  - name: envoy.bootstrap.wasm
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
      singleton: true
      config:
        name: portcullis_sync
        root_id: portcullis_sync
        vm_config:
          vm_id: portcullis
          runtime: envoy.wasm.runtime.v8
          code: { local: { filename: {wasm} } }
          environment_variables:
            key_values: {key_values}
        configuration:
          "@type": type.googleapis.com/google.protobuf.StringValue
          value: {plugin_config}
"#;

const CONTROL_PLANE_CLUSTER: &str = r#"    - name: portcullis_control_plane
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: portcullis_control_plane
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address: { socket_address: { address: 127.0.0.1, port_value: {control_plane_port} } }
"#;

const TEMPLATE: &str = r#"# Generated by the portcullis end-to-end tests.
{bootstrap_extensions}admin:
  address: { socket_address: { address: 127.0.0.1, port_value: {admin_port} } }
static_resources:
  listeners:
    - name: ingress
      address: { socket_address: { address: 127.0.0.1, port_value: {listener_port} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress
                normalize_path: true
                merge_slashes: true
                access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: {access_log}
                      log_format:
                        text_format_source:
                          inline_string: {access_log_format}
                route_config:
                  name: local
                  virtual_hosts:
                    - name: demo
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: demo_upstream }
                http_filters:
                  - name: portcullis
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: portcullis
                        root_id: portcullis
                        failure_policy: FAIL_RELOAD
                        vm_config:
                          vm_id: portcullis
                          runtime: envoy.wasm.runtime.v8
                          code: { local: { filename: {wasm} } }
                          environment_variables:
                            key_values: {key_values}
                        configuration:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: {plugin_config}
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: demo_upstream
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: demo_upstream
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address: { socket_address: { address: 127.0.0.1, port_value: {upstream_port} } }
{control_plane_cluster}"#;
