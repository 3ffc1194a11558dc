//! What the brute-force tests need beyond one Envoy: Envoys whose filter reports failed
//! credentials to a rate-limit service through a gRPC cluster, and the assertions on the
//! filter's own 429.
//!
//! Every process is killed on drop; when the test is failing, its log is printed first.

use std::time::Duration;

use serde_json::Value;

use crate::client::Request;
use crate::envoy_config;
use crate::launch::{self, Launch, Outcome};
use crate::poll;
use crate::response::Response;

/// The Envoy cluster of the rate-limit service in [`RlsEnvoy`]'s configuration.
pub const RLS_CLUSTER: &str = "portcullis_ratelimit";

/// Asserts a brute-force 429: the Portcullis JSON shape with `code: rate_limited` and
/// `retryable: true`, `retry-after` within the window, and the `x-ratelimit-*` headers of
/// `limit` per `window_secs`.
pub fn assert_rate_limited(response: &Response, limit: u32, window_secs: u64) {
    assert_eq!(response.status, 429, "{response}");
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{response}");
    let body = response.json();
    assert_eq!(body["error"], "too_many_requests", "{response}");
    assert_eq!(body["code"], "rate_limited", "{response}");
    assert_eq!(body["retryable"], true, "{response}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{response}"
    );
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric retry-after in {response}"));
    assert!((1..=window_secs).contains(&retry_after), "{response}");
    assert_eq!(
        response.header("x-ratelimit-limit"),
        Some(format!("{limit}, {limit};w={window_secs}").as_str()),
        "{response}"
    );
    assert_eq!(response.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        response.header("x-ratelimit-reset"),
        Some(retry_after.to_string().as_str())
    );
}

/// An Envoy with the filter configured by a test, plus the gRPC cluster [`RLS_CLUSTER`]
/// pointing at a rate-limit service on `rls_port` (nothing need listen there).
pub struct RlsEnvoy {
    launch: Launch,
}

impl RlsEnvoy {
    /// Starts Envoy and waits until it serves.
    pub fn start(plugin_config: &Value, env: &[(&str, &str)], rls_port: u16) -> Self {
        let plugin_config = plugin_config.to_string();
        let cluster = RLS_CLUSTER_YAML
            .replace("{cluster}", RLS_CLUSTER)
            .replace("{port}", &rls_port.to_string());
        // The generated configuration ends with its cluster list: one more goes last.
        let (launch, outcome) = launch::start(
            true,
            &|placement| envoy_config::render(placement, &plugin_config, env) + &cluster,
            &[],
        );
        assert_eq!(
            outcome,
            Outcome::Ready,
            "Envoy did not start; its log:\n{}",
            launch.process.log()
        );
        Self { launch }
    }

    /// Sends `request` to the listener.
    pub fn send(&self, request: &Request) -> Response {
        request.send(self.launch.listener)
    }

    /// The stat `name` (`wasmcustom.portcullis.…`), 0 while it does not exist.
    pub fn counter(&self, name: &str) -> u64 {
        let response = Request::get("/stats?format=json").send(self.launch.admin);
        assert_eq!(response.status, 200, "admin /stats: {response}");
        response.json()["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|stat| stat["name"] == name)
            .and_then(|stat| stat["value"].as_u64())
            .unwrap_or(0)
    }

    /// Waits until the stat `name` is at least `minimum`; panics with its last value.
    pub fn wait_for_counter_at_least(&self, name: &str, minimum: u64) {
        let mut last = 0;
        let reached = poll::until(Duration::from_secs(5), || {
            last = self.counter(name);
            (last >= minimum).then_some(())
        });
        assert!(
            reached.is_some(),
            "stat {name} is {last}, expected at least {minimum}"
        );
    }
}

impl Drop for RlsEnvoy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.launch.process.print_log();
            if let Some(upstream) = &self.launch.upstream {
                upstream.print_log();
            }
        }
    }
}

const RLS_CLUSTER_YAML: &str = r#"    - name: {cluster}
      type: STATIC
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
      load_assignment:
        cluster_name: {cluster}
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address: { socket_address: { address: 127.0.0.1, port_value: {port} } }
"#;
