//! The shipped rate-limit configurations as the end-to-end tests run them: `envoy/envoy.yaml`
//! (local_ratelimit, the `make run` default), optionally with the two filters the
//! control-plane rendered for a test's own tiers put in place of the default tiers' ones, and
//! `envoy/envoy-redis.yaml` (the global ratelimit filter) pointed at a test's rate-limit
//! service. Everything else stays as shipped.

use serde_json::Value;

use crate::envoy_config::{self, Placement};
use crate::paths;

/// The names of the shipped rate-limit filters, stage 0 then stage 1.
pub const FILTERS: [&str; 2] = ["portcullis.ratelimit.ip", "portcullis.ratelimit.identity"];

/// The port the shipped redis variant's rate-limit cluster points at.
const SHIPPED_RATELIMIT_PORT: &str = "port_value: 8082";

/// The text of `envoy/<name>`.
pub fn shipped_text(name: &str) -> String {
    let path = paths::repo_root().join("envoy").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// `envoy/<name>` parsed, as JSON.
pub fn shipped(name: &str) -> Value {
    parse(&shipped_text(name))
}

fn parse(yaml: &str) -> Value {
    serde_norway::from_str(yaml).unwrap_or_else(|error| panic!("not YAML: {error}"))
}

/// The listener's `http_filters` of a parsed configuration.
pub fn http_filters(config: &Value) -> &Value {
    &config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
}

/// The demo virtual host's routes of a parsed configuration.
pub fn routes(config: &Value) -> &Value {
    &config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
        ["virtual_hosts"][0]["routes"]
}

/// `envoy/envoy.yaml` relocated to `placement` and `control_plane_port`, with its two
/// local_ratelimit filters replaced by `fragment`'s `before_auth` and `after_auth` (a
/// `GET /v1/ratelimit/local` answer). Written as JSON, which Envoy reads as YAML.
pub fn local_with(placement: &Placement, control_plane_port: u16, fragment: &Value) -> String {
    let relocated =
        envoy_config::relocate_shipped(&shipped_text("envoy.yaml"), placement, control_plane_port);
    let mut config = parse(&relocated);
    let filters = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        ["typed_config"]["http_filters"]
        .as_array_mut()
        .expect("http_filters in envoy/envoy.yaml");
    for (name, rendered) in FILTERS.iter().zip(["before_auth", "after_auth"]) {
        let slot = filters
            .iter_mut()
            .find(|filter| filter["name"] == *name)
            .unwrap_or_else(|| panic!("no filter {name} in envoy/envoy.yaml"));
        *slot = fragment[rendered].clone();
    }
    config.to_string()
}

/// `envoy/envoy-redis.yaml` relocated to `placement` and `control_plane_port`, its
/// rate-limit cluster pointed at `ratelimit_port`.
pub fn redis(placement: &Placement, control_plane_port: u16, ratelimit_port: u16) -> String {
    let shipped = shipped_text("envoy-redis.yaml");
    assert_eq!(
        shipped.matches(SHIPPED_RATELIMIT_PORT).count(),
        1,
        "envoy/envoy-redis.yaml should contain `{SHIPPED_RATELIMIT_PORT}` once"
    );
    let shipped = shipped.replace(
        SHIPPED_RATELIMIT_PORT,
        &format!("port_value: {ratelimit_port}"),
    );
    envoy_config::relocate_shipped(&shipped, placement, control_plane_port)
}
