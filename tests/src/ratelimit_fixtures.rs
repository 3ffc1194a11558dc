//! What the rate-limit tests share: small per-hour tiers set through the API, keys waited for
//! without spending their quota, the guard against fixed windows ending mid-test, and the
//! assertion on a rate-limit 429.
//!
//! Limits are per hour, so a test's burst of requests always fits in one window of the
//! rate-limit service (fixed windows) and the local token buckets refill no token while it
//! runs; [`avoid_window_end`] waits out the last seconds of an hour before a test starts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::client::Request;
use crate::control_plane::{ControlPlane, SYNC_TOKEN};
use crate::envoy::Envoy;
use crate::fixtures::{ADMIN_TOKEN, SERVICE_TOKEN};
use crate::poll;
use crate::response::Response;

/// Envoy's own environment for the shipped configurations (`host_env_keys`).
pub const SHIPPED_ENV: [(&str, &str); 3] = [
    ("PORTCULLIS_LOCAL_ADMIN_TOKEN", ADMIN_TOKEN),
    ("PORTCULLIS_SERVICE_TOKEN", SERVICE_TOKEN),
    ("PORTCULLIS_SYNC_TOKEN", SYNC_TOKEN),
];

/// The filter answers this path itself, so a request to it never reaches the stage-1 limits.
const WHOAMI: &str = "/.well-known/portcullis/whoami";

/// How long a key may take to reach an Envoy, or a change to reach the rate-limit service.
const SYNC_TIMEOUT: Duration = Duration::from_secs(15);

/// Seconds before the end of an hour in which no test starts.
const WINDOW_MARGIN_SECS: u64 = 60;

/// `n` requests per hour.
pub fn per_hour(n: u32) -> Value {
    json!({"requests_per_unit": n, "unit": "hour"})
}

/// Sets the `default` tier, which covers keys without a tier.
pub fn set_default_tier(plane: &ControlPlane, per_ip: u32, per_key: u32, per_org: u32) {
    plane.put_tier(
        "default",
        &json!({"per_ip": per_hour(per_ip), "per_key": per_hour(per_key),
                "per_org": per_hour(per_org)}),
    );
}

/// An API key in `org`, without a tier: its id and secret.
pub fn create_key(plane: &ControlPlane, org: &str) -> (String, String) {
    let created = plane.create_key(&json!({"name": format!("{org} key"), "org_id": org}));
    let id = created["id"].as_str().expect("key id").to_string();
    let secret = created["key"].as_str().expect("key secret").to_string();
    (id, secret)
}

/// Waits until `envoy` knows `secret`, asking the filter's whoami path, which no rate limit
/// counts.
pub fn wait_for_key(envoy: &Envoy, secret: &str) {
    let known = poll::until(SYNC_TIMEOUT, || {
        let response = envoy.send(&Request::get(WHOAMI).bearer(secret));
        (response.status == 200).then_some(())
    });
    assert!(
        known.is_some(),
        "the key did not reach Envoy in {SYNC_TIMEOUT:?}"
    );
}

/// The control-plane's current revision.
pub fn revision(plane: &ControlPlane) -> u64 {
    plane.sidecars()["revision"]
        .as_u64()
        .expect("revision in /v1/sidecars")
}

/// Waits until `probe` (a revision something runs) reaches the control-plane's revision.
pub fn wait_for_revision(plane: &ControlPlane, what: &str, probe: impl Fn() -> u64) {
    let target = revision(plane);
    let reached = poll::until(SYNC_TIMEOUT, || (probe() >= target).then_some(()));
    assert!(
        reached.is_some(),
        "{what} is at revision {}, not {target}, after {SYNC_TIMEOUT:?}",
        probe()
    );
}

/// Returns at once unless the hour ends within [`WINDOW_MARGIN_SECS`]; then sleeps until it
/// has ended, so a test's hourly windows cannot end while it runs.
pub fn avoid_window_end() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let left = 3600 - now % 3600;
    if left <= WINDOW_MARGIN_SECS {
        std::thread::sleep(Duration::from_secs(left + 1));
    }
}

/// Asserts a rate limit's 429: the JSON body every Portcullis reply has, with code
/// `rate_limited` and `retryable: true`, `retry-after` in whole seconds, and the
/// `x-ratelimit-*` headers.
pub fn assert_rate_limited(response: &Response) {
    assert_eq!(response.status, 429, "{response}");
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{response}"
    );
    let body = response.json();
    assert_eq!(body["error"], "too_many_requests", "{response}");
    assert_eq!(body["code"], "rate_limited", "{response}");
    assert_eq!(body["retryable"], true, "{response}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{response}"
    );
    let retry_after: Option<u64> = response.header("retry-after").and_then(|v| v.parse().ok());
    assert!(
        retry_after.is_some_and(|secs| secs >= 1),
        "retry-after of {response}"
    );
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(response.header(name).is_some(), "no {name} in {response}");
    }
    assert_eq!(
        response.header("x-ratelimit-remaining"),
        Some("0"),
        "{response}"
    );
}

/// Sends `request` to `envoy` `times` times and returns the statuses.
pub fn statuses(envoy: &Envoy, request: &Request, times: usize) -> Vec<u16> {
    (0..times).map(|_| envoy.send(request).status).collect()
}
