//! Rate limits in one Envoy with no extra service: the shipped `envoy/envoy.yaml` (the
//! `make run` default, ports moved) with its two local_ratelimit filters replaced by what the
//! control-plane renders for a test's small per-hour tiers (`GET /v1/ratelimit/local`). No
//! Redis, no rate-limit service: the same limits hold.

use portcullis_e2e::ratelimit_config;
use portcullis_e2e::ratelimit_fixtures::{
    SHIPPED_ENV, assert_rate_limited, create_key, set_default_tier, statuses, wait_for_key,
};
use portcullis_e2e::{ControlPlane, Envoy, Request};

/// A control-plane with `default` tier limits (per hour) and an Envoy enforcing their local
/// rendering.
struct Stack {
    plane: ControlPlane,
    envoy: Envoy,
}

impl Stack {
    fn start(per_ip: u32, per_key: u32, per_org: u32) -> Self {
        let plane = ControlPlane::start();
        set_default_tier(&plane, per_ip, per_key, per_org);
        let rendered = plane.call("GET", "/v1/ratelimit/local", None);
        assert_eq!(rendered.status, 200, "{rendered}");
        let fragment = rendered.json();
        let port = plane.port();
        let envoy = Envoy::start_configured(
            &|placement| ratelimit_config::local_with(placement, port, &fragment),
            &SHIPPED_ENV,
        );
        Self { plane, envoy }
    }

    fn key(&self, org: &str) -> String {
        let (_, secret) = create_key(&self.plane, org);
        wait_for_key(&self.envoy, &secret);
        secret
    }
}

fn hello(secret: &str) -> Request {
    Request::get("/api/hello").bearer(secret)
}

#[test]
fn requests_past_a_keys_local_limit_get_a_json_429_while_another_orgs_key_passes() {
    let stack = Stack::start(100, 3, 100);
    let (acme, globex) = (stack.key("acme"), stack.key("globex"));
    assert_eq!(statuses(&stack.envoy, &hello(&acme), 3), [200, 200, 200]);
    assert_rate_limited(&stack.envoy.send(&hello(&acme)));
    let other = stack.envoy.send(&hello(&globex));
    assert_eq!(other.status, 200, "{other}");
    // A counted response carries the headers, but only a 429 has retry-after.
    assert!(other.header("x-ratelimit-limit").is_some(), "{other}");
    assert_eq!(other.header("retry-after"), None, "{other}");
}

#[test]
fn two_keys_of_one_org_share_the_local_org_limit() {
    let stack = Stack::start(100, 10, 4);
    let (first, second) = (stack.key("acme"), stack.key("acme"));
    assert_eq!(statuses(&stack.envoy, &hello(&first), 2), [200, 200]);
    assert_eq!(statuses(&stack.envoy, &hello(&second), 2), [200, 200]);
    assert_rate_limited(&stack.envoy.send(&hello(&first)));
    assert_rate_limited(&stack.envoy.send(&hello(&second)));
}

#[test]
fn the_local_per_ip_limit_on_authentication_endpoints_holds_before_authentication() {
    let stack = Stack::start(3, 100, 100);
    let login = Request::get("/auth/login");
    for _ in 0..3 {
        stack
            .envoy
            .send(&login)
            .assert_error(401, "unauthorized", "missing_credentials");
    }
    assert_rate_limited(&stack.envoy.send(&login));
    let elsewhere = Request::get("/auth/login").from_source([127, 0, 0, 2].into());
    assert_eq!(stack.envoy.send(&elsewhere).status, 401);
    let public = stack.envoy.get("/health");
    assert_eq!(public.status, 200, "{public}");
    assert_eq!(
        public.header("x-ratelimit-limit"),
        None,
        "uncounted: {public}"
    );
}
