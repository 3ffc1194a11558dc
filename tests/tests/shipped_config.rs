//! The bundled `envoy/envoy.yaml` as `make run` starts it (only its ports and `.wasm` path
//! moved) beside the real control-plane: `/health` open, everything else behind a static
//! token or an API key, `/admin/` for the service token.

use std::time::Duration;

use portcullis_e2e::control_plane::SYNC_TOKEN;
use portcullis_e2e::fixtures::{ADMIN_TOKEN, SERVICE_TOKEN};
use portcullis_e2e::{ControlPlane, Envoy, Request, poll};
use serde_json::json;

/// Envoy's own environment, which the shipped file passes to the VMs (`host_env_keys`).
const ENV: [(&str, &str); 3] = [
    ("PORTCULLIS_LOCAL_ADMIN_TOKEN", ADMIN_TOKEN),
    ("PORTCULLIS_SERVICE_TOKEN", SERVICE_TOKEN),
    ("PORTCULLIS_SYNC_TOKEN", SYNC_TOKEN),
];

#[test]
fn shipped_config_serves_an_api_key_created_on_the_control_plane() {
    let plane = ControlPlane::start();
    let envoy = Envoy::start_shipped(&ENV, plane.port());
    let created =
        plane.create_key(&json!({"name": "demo", "org_id": "acme", "scopes": ["reports:read"]}));
    let key = created["key"].as_str().expect("secret").to_owned();
    let served = poll::until(Duration::from_secs(15), || {
        let response = envoy.send(&Request::get("/reports/q3").bearer(&key));
        (response.status == 200).then_some(response)
    })
    .expect("the key reaches the filter");
    assert_eq!(
        served
            .upstream_identity()
            .get("x-auth-org")
            .map(String::as_str),
        Some("acme")
    );
}

#[test]
fn shipped_config_keeps_health_open_and_everything_else_behind_a_token() {
    let envoy = Envoy::start_shipped(&ENV, ControlPlane::reserve_port());

    let health = envoy.get("/health");
    assert_eq!(health.status, 200, "{health}");
    assert!(health.upstream_identity().is_empty(), "{health}");

    let anonymous = envoy.get("/orders/7");
    anonymous.assert_error(401, "unauthorized", "missing_credentials");
    assert_eq!(anonymous.www_authenticate(), r#"Bearer realm="portcullis""#);

    let admin = envoy.send(&Request::get("/orders/7").bearer(ADMIN_TOKEN));
    let identity = admin.upstream_identity();
    assert_eq!(
        identity.get("x-auth-subject").map(String::as_str),
        Some("local-admin")
    );
    assert_eq!(
        identity.get("x-auth-role").map(String::as_str),
        Some("admin")
    );

    let reports = envoy.send(&Request::get("/reports/q3").api_key(ADMIN_TOKEN));
    assert_eq!(reports.status, 200, "{reports}");
}

#[test]
fn shipped_config_reserves_admin_for_the_service_token() {
    let envoy = Envoy::start_shipped(&ENV, ControlPlane::reserve_port());

    for target in ["/admin/users", "//admin/users", "/health/../admin/users"] {
        let local_admin = envoy.send(&Request::get(target).bearer(ADMIN_TOKEN));
        local_admin.assert_error(403, "forbidden", "forbidden");
    }

    let service = envoy.send(&Request::get("/admin/users").bearer(SERVICE_TOKEN));
    let identity = service.upstream_identity();
    assert_eq!(
        identity.get("x-auth-subject").map(String::as_str),
        Some("ci")
    );
    assert_eq!(
        identity.get("x-auth-role").map(String::as_str),
        Some("system_admin")
    );

    let reports = envoy.send(&Request::get("/reports/q3").bearer(SERVICE_TOKEN));
    reports.assert_error(403, "forbidden", "insufficient_scope");
}
