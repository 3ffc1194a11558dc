//! Rate limits through Envoy's global ratelimit filter, all real: the shipped
//! `envoy/envoy-redis.yaml` (ports moved), the release `.wasm`, the control-plane on SQLite,
//! `portcullis ratelimit serve --control-plane …` and a Debian redis-server. Limits are set
//! through the API, small and per hour.

use portcullis_e2e::ratelimit_config;
use portcullis_e2e::ratelimit_fixtures::{
    SHIPPED_ENV, assert_rate_limited, avoid_window_end, create_key, per_hour, set_default_tier,
    statuses, wait_for_key, wait_for_revision,
};
use portcullis_e2e::{ControlPlane, Envoy, RateLimitService, Redis, Request};
use serde_json::json;

/// A control-plane with `default` tier limits (per hour), Redis, the rate-limit service
/// following the control-plane, and one Envoy asking it.
struct Stack {
    plane: ControlPlane,
    service: RateLimitService,
    envoy: Envoy,
    /// Held: counters live here.
    _redis: Redis,
}

impl Stack {
    fn start(per_ip: u32, per_key: u32, per_org: u32) -> Self {
        avoid_window_end();
        let plane = ControlPlane::start();
        set_default_tier(&plane, per_ip, per_key, per_org);
        let redis = Redis::start();
        let service = RateLimitService::start(plane.port(), &redis);
        let envoy = start_envoy(&plane, &service);
        Self {
            plane,
            service,
            envoy,
            _redis: redis,
        }
    }

    /// A key of `org`, known to the Envoy: its id and secret.
    fn key(&self, org: &str) -> (String, String) {
        let (id, secret) = create_key(&self.plane, org);
        wait_for_key(&self.envoy, &secret);
        (id, secret)
    }
}

fn start_envoy(plane: &ControlPlane, service: &RateLimitService) -> Envoy {
    let (plane_port, service_port) = (plane.port(), service.grpc_port());
    Envoy::start_configured(
        &|placement| ratelimit_config::redis(placement, plane_port, service_port),
        &SHIPPED_ENV,
    )
}

fn hello(secret: &str) -> Request {
    Request::get("/api/hello").bearer(secret)
}

#[test]
fn requests_past_a_keys_limit_get_a_json_429_while_another_orgs_key_passes() {
    let stack = Stack::start(100, 3, 100);
    let (_, acme) = stack.key("acme");
    let (_, globex) = stack.key("globex");
    let first = stack.envoy.send(&hello(&acme));
    assert_eq!(first.status, 200, "{first}");
    assert_eq!(first.header("x-ratelimit-remaining"), Some("2"), "{first}");
    assert_eq!(statuses(&stack.envoy, &hello(&acme), 2), [200, 200]);
    let limited = stack.envoy.send(&hello(&acme));
    assert_rate_limited(&limited);
    assert_eq!(stack.envoy.send(&hello(&globex)).status, 200);
}

#[test]
fn two_keys_of_one_org_share_the_org_limit() {
    let stack = Stack::start(100, 10, 4);
    let (_, first) = stack.key("acme");
    let (_, second) = stack.key("acme");
    assert_eq!(statuses(&stack.envoy, &hello(&first), 2), [200, 200]);
    assert_eq!(statuses(&stack.envoy, &hello(&second), 2), [200, 200]);
    assert_rate_limited(&stack.envoy.send(&hello(&first)));
    assert_rate_limited(&stack.envoy.send(&hello(&second)));
    let (_, other_org) = stack.key("globex");
    assert_eq!(stack.envoy.send(&hello(&other_org)).status, 200);
}

#[test]
fn the_per_ip_limit_on_authentication_endpoints_holds_before_authentication() {
    let stack = Stack::start(3, 100, 100);
    let login = Request::get("/auth/login");
    for _ in 0..3 {
        let refused = stack.envoy.send(&login);
        // The filter's own reply keeps its JSON: only the rate limits' 429s are rewritten.
        refused.assert_error(401, "unauthorized", "missing_credentials");
    }
    assert_rate_limited(&stack.envoy.send(&login));
    // Counted per address, before any credential is looked at: a valid key is refused too.
    let (_, key) = stack.key("acme");
    assert_rate_limited(&stack.envoy.send(&Request::get("/auth/login").bearer(&key)));
    // Another address has its own count; other routes have no per-IP limit.
    let elsewhere = Request::get("/auth/login").from_source([127, 0, 0, 2].into());
    assert_eq!(stack.envoy.send(&elsewhere).status, 401);
    assert_eq!(stack.envoy.get("/api/hello").status, 401);
    assert_eq!(stack.envoy.send(&hello(&key)).status, 200);
}

#[test]
fn a_per_key_override_raised_through_the_api_takes_effect_without_a_restart() {
    let stack = Stack::start(100, 2, 100);
    let (id, key) = stack.key("acme");
    assert_eq!(statuses(&stack.envoy, &hello(&key), 2), [200, 200]);
    assert_rate_limited(&stack.envoy.send(&hello(&key)));

    stack
        .plane
        .patch_key(&id, &json!({"rate_limit": per_hour(100)}));
    wait_for_revision(&stack.plane, "the rate-limit service", || {
        stack.service.config_revision()
    });
    let raised = stack.envoy.send(&hello(&key));
    assert_eq!(raised.status, 200, "{raised}");
}

#[test]
fn two_envoys_asking_one_service_share_one_count() {
    let stack = Stack::start(100, 4, 100);
    let second = start_envoy(&stack.plane, &stack.service);
    let (_, key) = stack.key("acme");
    wait_for_key(&second, &key);
    assert_eq!(statuses(&stack.envoy, &hello(&key), 2), [200, 200]);
    assert_eq!(statuses(&second, &hello(&key), 2), [200, 200]);
    assert_rate_limited(&stack.envoy.send(&hello(&key)));
    assert_rate_limited(&second.send(&hello(&key)));
}
