//! The `local_ratelimit` fragment's shape. That Envoy accepts it is checked by
//! `tests/ratelimit_local_envoy.rs` with a real Envoy.

use super::*;
use crate::ratelimit::tiers::tests::policy;
use crate::store::LimitUnit;

fn typed_config<'a>(fragment: &'a Value, which: &str) -> &'a Value {
    &fragment[which]["typed_config"]
}

/// `("k=v/k", max_tokens, fill_interval)` per descriptor, `*` for a dynamic value.
fn descriptors(config: &Value) -> Vec<(String, u64, String)> {
    config["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let path: Vec<String> = d["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let value = e["value"].as_str().unwrap();
                    format!(
                        "{}={}",
                        e["key"].as_str().unwrap(),
                        if value.is_empty() { "*" } else { value }
                    )
                })
                .collect();
            let bucket = &d["token_bucket"];
            assert_eq!(bucket["max_tokens"], bucket["tokens_per_fill"], "{d}");
            (
                path.join("/"),
                bucket["max_tokens"].as_u64().unwrap(),
                bucket["fill_interval"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(path: &str, tokens: u64, interval: &str) -> (String, u64, String) {
    (path.to_owned(), tokens, interval.to_owned())
}

const UNLIMITED_TOKENS: u64 = u32::MAX as u64;

#[test]
fn both_filters_count_per_process_only_what_the_routes_descriptors_match() {
    let fragment = fragment(&policy());
    assert_eq!(fragment["revision"], 42);
    for (which, name, stage) in [
        ("before_auth", "portcullis.ratelimit.ip", 0),
        ("after_auth", "portcullis.ratelimit.identity", 1),
    ] {
        assert_eq!(fragment[which]["name"], name);
        let config = typed_config(&fragment, which);
        assert_eq!(config["@type"], TYPE_URL);
        assert_eq!(config["stage"], stage);
        for percent in ["filter_enabled", "filter_enforced"] {
            assert_eq!(
                config[percent]["default_value"]["numerator"], 100,
                "{which}"
            );
            assert_eq!(config[percent]["default_value"]["denominator"], "HUNDRED");
        }
        assert_eq!(config["local_rate_limit_per_downstream_connection"], false);
        assert_eq!(config["max_dynamic_descriptors"], MAX_DYNAMIC_DESCRIPTORS);
        assert_eq!(config["enable_x_ratelimit_headers"], "DRAFT_VERSION_03");
        // No default bucket, and no actions of their own: the routes' actions decide.
        assert!(config.get("token_bucket").is_none(), "{config}");
        assert!(config.get("rate_limits").is_none(), "{config}");
    }
}

#[test]
fn before_auth_counts_each_client_address_by_the_default_per_ip_limit() {
    let fragment = fragment(&policy());
    let config = typed_config(&fragment, "before_auth");
    assert_eq!(
        fragment["route_rate_limits"]["before_auth"],
        json!([{"stage": 0, "actions": [{"remote_address": {}}]}])
    );
    assert_eq!(
        descriptors(config),
        vec![row("remote_address=*", 60, "60s")]
    );
}

#[test]
fn after_auth_reads_the_filters_identity_headers_and_skips_an_absent_tier() {
    let fragment = fragment(&policy());
    let actions = &fragment["route_rate_limits"]["after_auth"];
    let tier = json!({"request_headers": {"header_name": "x-auth-tier",
        "descriptor_key": "tier", "skip_if_absent": true}});
    assert_eq!(
        actions,
        &json!([
            {"stage": 1, "actions": [tier, {"request_headers":
                {"header_name": "x-auth-key-id", "descriptor_key": "key_id"}}]},
            {"stage": 1, "actions": [tier, {"request_headers":
                {"header_name": "x-auth-org", "descriptor_key": "org_id"}}]},
        ])
    );
}

#[test]
fn after_auth_has_a_bucket_per_rule_with_overrides_as_exact_entries() {
    let fragment = fragment(&policy());
    assert_eq!(
        descriptors(typed_config(&fragment, "after_auth")),
        vec![
            row("key_id=*", 120, "60s"),
            row("key_id=key_NoTier", 5, "1s"),
            row("org_id=*", 300, "60s"),
            row("org_id=acme", 50, "86400s"),
            row("tier=default/key_id=*", 120, "60s"),
            row("tier=default/org_id=*", 300, "60s"),
            row("tier=default/org_id=acme", 50, "86400s"),
            row("tier=free/key_id=*", 10, "1s"),
            row("tier=free/org_id=*", 100, "3600s"),
            row("tier=free/org_id=acme", 50, "86400s"),
            row("tier=gold/key_id=*", 1000, "60s"),
            row("tier=gold/key_id=key_Gold1", UNLIMITED_TOKENS, "1s"),
            row("tier=gold/org_id=*", UNLIMITED_TOKENS, "1s"),
            row("tier=gold/org_id=acme", 50, "86400s"),
        ]
    );
}

#[test]
fn each_unit_is_a_fill_interval_in_whole_seconds() {
    for (unit, interval) in [
        (LimitUnit::Second, "1s"),
        (LimitUnit::Minute, "60s"),
        (LimitUnit::Hour, "3600s"),
        (LimitUnit::Day, "86400s"),
    ] {
        assert_eq!(bucket(Limit::per(9, unit))["fill_interval"], interval);
    }
}
