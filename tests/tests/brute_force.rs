//! Brute-force protection end to end: failed credentials from one address are cut off on an
//! ordinary route, after which even a valid key from that address gets a 429 while other
//! addresses pass; across two Envoys the failures share one count in the real
//! `portcullis ratelimit serve` over Redis; and without a reachable service the local limit
//! still holds.
//!
//! Limits are per hour and every test first makes sure a minute of the hour is left, so no
//! count is split by a window boundary.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{SystemTime, UNIX_EPOCH};

use portcullis::api_key::compose;
use portcullis_e2e::brute_force_support::{RLS_CLUSTER, RlsEnvoy, assert_rate_limited};
use portcullis_e2e::fixtures::{self, ADMIN_TOKEN, ENV, SYNC_ENV, UNKNOWN_TOKEN};
use portcullis_e2e::ratelimit_fixtures::{
    avoid_window_end, revision, set_default_tier, wait_for_revision,
};
use portcullis_e2e::ratelimit_service::RateLimitService;
use portcullis_e2e::redis::Redis;
use portcullis_e2e::{ControlPlane, Envoy, Request};
use serde_json::json;

const HOUR: u64 = 3_600;
/// Where the guesses come from.
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// Someone else behind the same Envoy.
const BYSTANDER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
/// An ordinary route: nothing about it says "login".
const ROUTE: &str = "/orders/42";

/// A well-formed API key (checksum and all) that no one was ever given.
fn guess(i: u32) -> String {
    compose(&format!("guess{i:017}"))
}

#[test]
fn a_flood_of_bad_keys_is_cut_off_and_then_a_valid_key_from_that_address_gets_429() {
    avoid_window_end();
    let plane = ControlPlane::start();
    let mut config = fixtures::with_api_keys(fixtures::routes());
    config["failure_limit"] = json!({"requests_per_unit": 5, "unit": "hour"});
    let envoy = Envoy::start_with_sync(config, &SYNC_ENV, plane.port(), fixtures::syncer());
    let created = plane.create_key(&json!({"name": "brute-force", "org_id": "acme"}));
    let key = created["key"].as_str().expect("the secret").to_owned();
    // Waiting on the syncer's revision, not on a request: a request sent before the key
    // arrives would itself be a failed credential.
    envoy.wait_for_counter("wasmcustom.portcullis.sync.revision", 1);

    for i in 0..4 {
        let response = envoy.send(&Request::get(ROUTE).bearer(&guess(i)).from_source(ATTACKER));
        response.assert_error(401, "unauthorized", "invalid_credentials");
    }
    // A malformed key is a failed credential too: the fifth.
    let malformed = envoy.send(&Request::get(ROUTE).api_key("sk_nope").from_source(ATTACKER));
    malformed.assert_error(401, "unauthorized", "invalid_credentials");

    let cut_off = envoy.send(&Request::get(ROUTE).bearer(&guess(5)).from_source(ATTACKER));
    assert_rate_limited(&cut_off, 5, HOUR);
    for valid in [
        Request::get(ROUTE).bearer(&key),
        Request::get(ROUTE).api_key(&key),
    ] {
        let refused = envoy.send(&valid.from_source(ATTACKER));
        assert_rate_limited(&refused, 5, HOUR);
        assert!(!refused.text().contains(&key));
    }
    // Others are unaffected, and the public route stays open to the attacker's address.
    let other = envoy.send(&Request::get(ROUTE).bearer(&key).from_source(BYSTANDER));
    assert_eq!(other.status, 200, "{other}");
    let public = envoy.send(&Request::get("/health").from_source(ATTACKER));
    assert_eq!(public.status, 200, "{public}");

    envoy.wait_for_counter("wasmcustom.portcullis.failure_limit.counted", 5);
    envoy.wait_for_counter("wasmcustom.portcullis.denied.rate_limited", 3);
    envoy.wait_for_counter("wasmcustom.portcullis.failure_limit.lost", 0);
    envoy.wait_for_access_log(&format!("decision=rate_limited status=429 path={ROUTE}"));
}

#[test]
fn failures_through_two_envoys_share_one_count_in_the_rate_limit_service() {
    avoid_window_end();
    // The service follows the control-plane, which renders its `auth_failure` rule from the
    // default tier's per-address limit.
    let plane = ControlPlane::start();
    set_default_tier(&plane, 4, 1_000, 1_000);
    let redis = Redis::start();
    let service = RateLimitService::start(plane.port(), &redis);
    wait_for_revision(&plane, "the rate-limit service", || {
        service.config_revision()
    });
    assert!(revision(&plane) > 0);
    let mut config = fixtures::enforce(fixtures::routes());
    // Each Envoy alone would allow 100: only the shared count can stop the attacker.
    config["failure_limit"] = json!({
        "requests_per_unit": 100, "unit": "hour",
        "rls": {"cluster": RLS_CLUSTER, "timeout_ms": 2000},
    });
    let a = RlsEnvoy::start(&config, &ENV, service.grpc_port());
    let b = RlsEnvoy::start(&config, &ENV, service.grpc_port());
    let bad = || {
        Request::get(ROUTE)
            .bearer(UNKNOWN_TOKEN)
            .from_source(ATTACKER)
    };
    let valid = |from| Request::get(ROUTE).bearer(ADMIN_TOKEN).from_source(from);

    for envoy in [&a, &b, &a, &b] {
        envoy
            .send(&bad())
            .assert_error(401, "unauthorized", "invalid_credentials");
    }
    // The fifth failure in all is over the service's limit of 4, whichever Envoy sees it.
    assert_rate_limited(&b.send(&bad()), 4, HOUR);
    assert_rate_limited(&b.send(&valid(ATTACKER)), 4, HOUR);
    // Envoy A has not yet been told: a valid key still passes there until A's next counted
    // failure from that address brings the service's answer.
    assert_eq!(a.send(&valid(ATTACKER)).status, 200);
    assert_rate_limited(&a.send(&bad()), 4, HOUR);
    assert_rate_limited(&a.send(&valid(ATTACKER)), 4, HOUR);
    for envoy in [&a, &b] {
        let other = envoy.send(&valid(BYSTANDER));
        assert_eq!(other.status, 200, "{other}");
    }

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let counter = format!("portcullis_auth_failure_127.0.0.2_{}", now - now % HOUR);
    assert_eq!(
        redis.command(&format!("GET {counter}")).as_deref(),
        Some("6"),
        "every failure through either Envoy counted once in Redis"
    );
    a.wait_for_counter_at_least("wasmcustom.portcullis.failure_limit.counted", 3);
    b.wait_for_counter_at_least("wasmcustom.portcullis.failure_limit.counted", 3);
}

#[test]
fn without_a_reachable_rate_limit_service_failures_stay_401_and_the_local_limit_holds() {
    avoid_window_end();
    let mut config = fixtures::enforce(fixtures::routes());
    config["failure_limit"] = json!({
        "requests_per_unit": 3, "unit": "hour",
        "rls": {"cluster": RLS_CLUSTER, "timeout_ms": 500},
    });
    // Nothing listens on the service's port.
    let envoy = RlsEnvoy::start(&config, &ENV, portcullis_e2e::ports::free());
    let bad = Request::get(ROUTE)
        .bearer(UNKNOWN_TOKEN)
        .from_source(ATTACKER);
    for _ in 0..3 {
        envoy
            .send(&bad)
            .assert_error(401, "unauthorized", "invalid_credentials");
    }
    assert_rate_limited(&envoy.send(&bad), 3, HOUR);
    envoy.wait_for_counter_at_least("wasmcustom.portcullis.failure_limit.rls_errors", 3);
}
