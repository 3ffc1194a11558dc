//! API keys end to end: keys created, revoked, expired and rotated through the real
//! control-plane reach the real filter in Envoy through the syncer, and Envoy keeps
//! deciding with the last good state when the control-plane is gone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portcullis_e2e::fixtures::{self, SYNC_ENV};
use portcullis_e2e::{ControlPlane, Envoy, Request, Response, poll};
use serde_json::{Value, json};

/// How long a change may take to travel control-plane → syncer → filter.
const SYNC_DEADLINE: Duration = Duration::from_secs(15);

fn start_envoy(control_plane_port: u16) -> Envoy {
    let mut config = fixtures::with_api_keys(fixtures::routes());
    // These tests present revoked and expired keys hundreds of times a minute from one
    // address; brute-force protection has its own tests (brute_force.rs).
    config["failure_limit"] = json!({"enabled": false});
    Envoy::start_with_sync(config, &SYNC_ENV, control_plane_port, fixtures::syncer())
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

fn new_key(plane: &ControlPlane, extra: Value) -> (String, String) {
    if plane.call("GET", "/v1/tiers/gold", None).status == 404 {
        let per_minute = json!({"requests_per_unit": 1000, "unit": "minute"});
        plane.put_tier(
            "gold",
            &json!({"per_ip": "unlimited", "per_key": per_minute, "per_org": per_minute}),
        );
    }
    let mut body =
        json!({"name": "e2e", "org_id": "acme", "scopes": ["reports:read"], "tier": "gold"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let created = plane.create_key(&body);
    let id = created["id"].as_str().expect("id").to_owned();
    let secret = created["key"].as_str().expect("secret").to_owned();
    (id, secret)
}

/// Sends `GET path` with `key` until the status is `status`, and returns that response.
fn wait_for_status(envoy: &Envoy, path: &str, key: &str, status: u16) -> Response {
    let mut last = None;
    let reached = poll::until(SYNC_DEADLINE, || {
        let response = envoy.send(&Request::get(path).bearer(key));
        let done = response.status == status;
        last = Some(response.clone());
        done.then_some(response)
    });
    reached.unwrap_or_else(|| {
        panic!(
            "no {status} for {path} within {SYNC_DEADLINE:?}; last: {}",
            last.expect("a response")
        )
    })
}

fn assert_code(response: &Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{response}");
    assert_eq!(response.json()["code"], code, "{response}");
}

#[test]
fn a_created_key_passes_with_its_identity_and_fails_on_the_first_request_after_revocation() {
    let plane = ControlPlane::start();
    let envoy = start_envoy(plane.port());
    let (id, secret) = new_key(&plane, json!({}));

    let allowed = wait_for_status(&envoy, "/reports/q3", &secret, 200);
    let identity = allowed.upstream_identity();
    let header = |name: &str| identity.get(name).map(String::as_str);
    assert_eq!(header("x-auth-method"), Some("api_key"));
    assert_eq!(header("x-auth-key-id"), Some(id.as_str()));
    assert_eq!(header("x-auth-subject"), Some(id.as_str()));
    assert_eq!(header("x-auth-org"), Some("acme"));
    assert_eq!(header("x-auth-scopes"), Some("reports:read"));
    assert_eq!(header("x-auth-tier"), Some("gold"));
    // The same key through X-API-Key, and route requirements still apply.
    assert_eq!(
        envoy
            .send(&Request::get("/reports/q3").api_key(&secret))
            .status,
        200
    );
    assert_code(
        &envoy.send(&Request::get("/admin/x").bearer(&secret)),
        403,
        "forbidden",
    );

    plane.revoke_key(&id);
    let revoked = wait_for_status(&envoy, "/reports/q3", &secret, 401);
    assert_code(&revoked, 401, "revoked_credentials");
    assert!(!revoked.text().contains(&secret));

    let sidecars = plane.sidecars();
    let listed = sidecars["items"]
        .as_array()
        .or(sidecars.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(
        !listed.is_empty(),
        "the syncer is listed as a sidecar: {sidecars}"
    );
}

#[test]
fn an_unknown_or_mistyped_key_is_invalid_and_an_expired_key_expires() {
    let plane = ControlPlane::start();
    let envoy = start_envoy(plane.port());
    let (_, secret) = new_key(&plane, json!({"expires_at": now() + 6}));
    wait_for_status(&envoy, "/reports/q3", &secret, 200);

    let mut typo = secret.clone();
    typo.replace_range(5..6, if &secret[5..6] == "a" { "b" } else { "a" });
    assert_code(
        &envoy.send(&Request::get("/reports/q3").bearer(&typo)),
        401,
        "invalid_credentials",
    );

    let expired = wait_for_status(&envoy, "/reports/q3", &secret, 401);
    assert_code(&expired, 401, "expired_credentials");
}

#[test]
fn a_rotated_keys_old_secret_works_during_the_grace_and_fails_after() {
    let plane = ControlPlane::start();
    let envoy = start_envoy(plane.port());
    let (id, old) = new_key(&plane, json!({}));
    wait_for_status(&envoy, "/reports/q3", &old, 200);

    let rotated = plane.rotate_key(&id, 4);
    let new = rotated["key"].as_str().expect("new secret").to_owned();
    wait_for_status(&envoy, "/reports/q3", &new, 200);
    assert_eq!(
        envoy.send(&Request::get("/reports/q3").bearer(&old)).status,
        200,
        "grace"
    );

    let retired = wait_for_status(&envoy, "/reports/q3", &old, 401);
    assert_code(&retired, 401, "expired_credentials");
    assert_eq!(
        envoy.send(&Request::get("/reports/q3").bearer(&new)).status,
        200
    );
}

#[test]
fn envoy_started_before_the_control_plane_answers_503_until_the_first_sync() {
    let port = ControlPlane::reserve_port();
    let envoy = start_envoy(port);
    let well_formed = portcullis::api_key::compose("0123456789abcdefghijKL");
    let not_ready = envoy.send(&Request::get("/reports/q3").bearer(&well_formed));
    assert_eq!(not_ready.status, 503, "{not_ready}");
    assert_eq!(not_ready.json()["code"], "not_ready");
    assert_eq!(not_ready.json()["retryable"], true);
    // Static tokens do not depend on the control-plane.
    let static_token = Request::get("/reports/q3").bearer(fixtures::ADMIN_TOKEN);
    assert_eq!(envoy.send(&static_token).status, 200);

    let plane = ControlPlane::start_on(port);
    let (_, secret) = new_key(&plane, json!({}));
    wait_for_status(&envoy, "/reports/q3", &secret, 200);
    assert_code(
        &envoy.send(&Request::get("/reports/q3").bearer(&well_formed)),
        401,
        "invalid_credentials",
    );
}

#[test]
fn the_last_good_state_keeps_serving_while_the_control_plane_is_down() {
    let mut plane = ControlPlane::start();
    let envoy = start_envoy(plane.port());
    let (_, live) = new_key(&plane, json!({}));
    let (revoked_id, revoked) = new_key(&plane, json!({}));
    plane.revoke_key(&revoked_id);
    wait_for_status(&envoy, "/reports/q3", &live, 200);
    wait_for_status(&envoy, "/reports/q3", &revoked, 401);
    // The gold tier, two creations and a revocation: revision 4, as the syncer's gauge shows.
    envoy.wait_for_counter("wasmcustom.portcullis.sync.revision", 4);

    plane.kill();
    // The syncer now fails and backs off; every decision still uses the synced state.
    let started = std::time::Instant::now();
    let mut checked = 0;
    while started.elapsed() < Duration::from_secs(3) || checked < 20 {
        assert_eq!(
            envoy
                .send(&Request::get("/reports/q3").bearer(&live))
                .status,
            200
        );
        assert_code(
            &envoy.send(&Request::get("/reports/q3").bearer(&revoked)),
            401,
            "revoked_credentials",
        );
        checked += 1;
    }
    let failures = poll::until(SYNC_DEADLINE, || {
        let failures = envoy.counter("wasmcustom.portcullis.sync.failures");
        (failures > 0).then_some(failures)
    });
    assert!(failures.is_some(), "the syncer counts its failed polls");

    // Back up on the same database: new keys flow again.
    plane.restart();
    let (_, later) = new_key(&plane, json!({}));
    wait_for_status(&envoy, "/reports/q3", &later, 200);
}
