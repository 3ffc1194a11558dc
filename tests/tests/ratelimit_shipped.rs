//! The shipped rate-limit configurations themselves: `envoy/envoy.yaml` carries exactly what
//! the control-plane renders for the default tiers, `envoy/envoy-redis.yaml` differs from it
//! only in the rate-limit filters and the rate-limit service's cluster, and the shipped
//! per-IP limit (60 per minute) holds on `/auth/` as `make run` starts it. The JSON rewrite
//! of rate-limit 429s leaves a 429 another filter answered with (the Portcullis filter's
//! own, say) as it was.

use portcullis_e2e::envoy_config;
use portcullis_e2e::ratelimit_config::{FILTERS, http_filters, routes, shipped, shipped_text};
use portcullis_e2e::ratelimit_fixtures::{SHIPPED_ENV, assert_rate_limited};
use portcullis_e2e::{ControlPlane, Envoy, Request};
use serde_json::Value;

/// The shipped per-IP limit: the default tier's 60 per minute.
const SHIPPED_PER_IP: usize = 60;

fn filter<'a>(config: &'a Value, name: &str) -> &'a Value {
    http_filters(config)
        .as_array()
        .and_then(|filters| filters.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no filter {name}"))
}

fn route<'a>(config: &'a Value, prefix: &str) -> &'a Value {
    routes(config)
        .as_array()
        .and_then(|routes| routes.iter().find(|r| r["match"]["prefix"] == prefix))
        .unwrap_or_else(|| panic!("no route for prefix {prefix}"))
}

#[test]
fn the_shipped_local_limits_are_the_default_tiers_rendering() {
    let plane = ControlPlane::start();
    let rendered = plane.call("GET", "/v1/ratelimit/local", None).json();
    let config = shipped("envoy.yaml");
    assert_eq!(filter(&config, FILTERS[0]), &rendered["before_auth"]);
    assert_eq!(filter(&config, FILTERS[1]), &rendered["after_auth"]);

    let actions = &rendered["route_rate_limits"];
    let mut both = actions["before_auth"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    both.extend(
        actions["after_auth"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    assert_eq!(
        route(&config, "/auth/")["route"]["rate_limits"],
        Value::from(both)
    );
    assert_eq!(
        route(&config, "/")["route"]["rate_limits"],
        actions["after_auth"]
    );

    // Filter order: stage 0, Portcullis, stage 1, router.
    let names: Vec<&str> = http_filters(&config)
        .as_array()
        .map(|filters| filters.iter().filter_map(|f| f["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "portcullis.retry_after",
            FILTERS[0],
            "portcullis",
            FILTERS[1],
            "envoy.filters.http.router"
        ]
    );
}

#[test]
fn the_redis_variant_differs_only_in_its_rate_limit_filters_and_cluster() {
    let strip = |mut config: Value| {
        let chain = &mut config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
            [0]["typed_config"]["http_filters"];
        if let Some(filters) = chain.as_array_mut() {
            filters.retain(|f| {
                let name = f["name"].as_str().unwrap_or_default();
                !FILTERS.contains(&name) && name != "portcullis.retry_after"
            });
        }
        if let Some(clusters) = config["static_resources"]["clusters"].as_array_mut() {
            clusters.retain(|c| c["name"] != "portcullis_ratelimit");
        }
        config
    };
    let redis = shipped("envoy-redis.yaml");
    for name in FILTERS {
        let typed = &filter(&redis, name)["typed_config"];
        assert_eq!(typed["domain"], "portcullis", "{name}");
        assert_eq!(
            typed["enable_x_ratelimit_headers"], "DRAFT_VERSION_03",
            "{name}"
        );
    }
    assert_eq!(strip(redis), strip(shipped("envoy.yaml")));
}

#[test]
fn the_shipped_config_limits_each_address_on_auth_before_authentication() {
    let envoy = Envoy::start_shipped(&SHIPPED_ENV, ControlPlane::reserve_port());
    let login = Request::get("/auth/login");
    // The bucket refills one token a second, so a slow run may pass a few more than 60.
    let mut passed = 0;
    let limited = loop {
        let response = envoy.send(&login);
        if response.status != 401 {
            break response;
        }
        passed += 1;
        assert!(
            passed <= 2 * SHIPPED_PER_IP,
            "no 429 after {passed} requests"
        );
    };
    assert!(
        passed >= SHIPPED_PER_IP,
        "limited after {passed}: {limited}"
    );
    assert_rate_limited(&limited);
}

/// A Lua filter in the Portcullis filter's place answering a JSON 429 of its own, as the
/// filter does when it limits failed attempts.
const OWN_429: &str = r#"
function envoy_on_request(handle)
  if handle:headers():get("x-test-own-429") then
    handle:respond({[":status"] = "429", ["content-type"] = "application/json",
                    ["retry-after"] = "7"},
                   '{"error":"too_many_requests","code":"too_many_failures","message":"own","retryable":true}')
  end
end
"#;

#[test]
fn a_429_another_filter_sends_keeps_its_own_body_and_retry_after() {
    let render = |placement: &envoy_config::Placement| {
        let relocated = envoy_config::relocate_shipped(
            &shipped_text("envoy.yaml"),
            placement,
            ControlPlane::reserve_port(),
        );
        let mut config: Value = serde_norway::from_str(&relocated).expect("YAML");
        let lua = serde_json::json!({"name": "own_429", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            "default_source_code": {"inline_string": OWN_429}}});
        let chain = &mut config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
            [0]["typed_config"]["http_filters"];
        if let Some(filters) = chain.as_array_mut() {
            let at = filters.iter().position(|f| f["name"] == "portcullis");
            filters.insert(at.expect("the portcullis filter"), lua);
        }
        config.to_string()
    };
    let envoy = Envoy::start_configured(&render, &SHIPPED_ENV);
    let own = envoy.send(&Request::get("/api/hello").header("x-test-own-429", "1"));
    assert_eq!(own.status, 429, "{own}");
    assert_eq!(own.header("retry-after"), Some("7"), "{own}");
    assert_eq!(own.json()["code"], "too_many_failures", "{own}");
    assert_eq!(own.json()["message"], "own", "{own}");
}
