//! The rendered YAML: its shape, that this project's own loader reads it back to the same
//! tree, and which rule each descriptor Envoy sends ends up at.

use super::*;
use crate::ratelimit::matcher::Matcher;
use crate::ratelimit::metrics::Metrics;
use crate::ratelimit::tiers::tests::policy;
use crate::ratelimit::yaml;
use crate::store::{KeyOverride, TierLimits};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;

/// A request descriptor as `(key, value)` pairs.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn limited(requests_per_unit: u32, unit: Unit) -> Option<Quota> {
    Some(Quota::Limited {
        requests_per_unit,
        unit,
    })
}

/// The quota of the rule the service applies to `pairs`, if any.
fn quota_for(config: &RateLimitConfig, pairs: &[(&str, &str)]) -> Option<Quota> {
    let entries: Vec<Entry> = pairs
        .iter()
        .map(|(key, value)| Entry {
            key: (*key).to_owned(),
            value: (*value).to_owned(),
        })
        .collect();
    let matcher = Matcher::new(config, &Metrics::default());
    matcher.find("portcullis", &entries).map(|rule| rule.quota)
}

#[test]
fn the_yaml_loads_in_the_services_own_parser_as_the_same_tree() {
    let policy = policy();
    let text = yaml(&policy).unwrap();
    let parsed = yaml::parse("portcullis.yaml", &text).unwrap();
    assert_eq!(parsed, config(&policy).unwrap());
}

#[test]
fn the_yaml_opens_with_its_revision_and_is_in_the_reference_format() {
    let text = yaml(&policy()).unwrap();
    assert!(text.starts_with("# envoyproxy/ratelimit configuration rendered"));
    assert!(text.contains("at revision 42."), "{text}");
    let document: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(document["domain"], "portcullis");
    let top = document["descriptors"].as_sequence().unwrap();
    assert_eq!(top[0]["key"], "remote_address");
    assert!(
        top[0].get("value").is_none(),
        "any address, counted per address"
    );
    assert_eq!(top[0]["rate_limit"]["unit"], "minute");
    assert_eq!(top[0]["rate_limit"]["requests_per_unit"], 60);
    assert_eq!(top[1]["key"], "auth_failure");
    assert!(top[1].get("value").is_none(), "counted per client");
    assert_eq!(top[1]["rate_limit"]["unit"], "minute");
    assert_eq!(top[1]["rate_limit"]["requests_per_unit"], 60);
    let gold = top
        .iter()
        .find(|d| d["key"] == "tier" && d["value"] == "gold")
        .unwrap();
    assert!(gold.get("rate_limit").is_none(), "a tier node only nests");
    let children = gold["descriptors"].as_sequence().unwrap();
    let override_ = children.iter().find(|d| d["value"] == "key_Gold1").unwrap();
    assert_eq!(override_["key"], "key_id");
    assert_eq!(override_["rate_limit"]["unlimited"], true);
    assert!(override_["rate_limit"].get("unit").is_none());
}

#[test]
fn descriptors_from_envoy_reach_the_tier_the_override_or_the_default() {
    let config = config(&policy()).unwrap();
    let cases: [(Pairs<'_>, Option<Quota>); 11] = [
        (&[("remote_address", "10.0.0.1")], limited(60, Unit::Minute)),
        (&[("auth_failure", "10.0.0.1")], limited(60, Unit::Minute)),
        (
            &[("auth_failure", "2001:db8::/64")],
            limited(60, Unit::Minute),
        ),
        (
            &[("tier", "gold"), ("key_id", "key_Other")],
            limited(1000, Unit::Minute),
        ),
        (
            &[("tier", "gold"), ("key_id", "key_Gold1")],
            Some(Quota::Unlimited),
        ),
        (
            &[("tier", "free"), ("org_id", "globex")],
            limited(100, Unit::Hour),
        ),
        (
            &[("tier", "free"), ("org_id", "acme")],
            limited(50, Unit::Day),
        ),
        (&[("key_id", "key_Plain")], limited(120, Unit::Minute)),
        (&[("key_id", "key_NoTier")], limited(5, Unit::Second)),
        (&[("org_id", "acme")], limited(50, Unit::Day)),
        // A tier that is not configured is not limited: keys can only name stored tiers.
        (&[("tier", "platinum"), ("key_id", "key_X")], None),
    ];
    for (pairs, expected) in cases {
        assert_eq!(quota_for(&config, pairs), expected, "{pairs:?}");
    }
}

#[test]
fn every_unit_round_trips() {
    let mut policy = policy();
    for (name, unit) in [
        ("free", LimitUnit::Second),
        ("gold", LimitUnit::Hour),
        ("default", LimitUnit::Day),
    ] {
        if let Some(tier) = policy.tiers.get_mut(name) {
            tier.per_key = Limit::per(3, unit);
        }
    }
    let parsed = yaml::parse("p.yaml", &yaml(&policy).unwrap()).unwrap();
    assert_eq!(
        quota_for(&parsed, &[("tier", "free"), ("key_id", "k")]),
        limited(3, Unit::Second)
    );
    assert_eq!(
        quota_for(&parsed, &[("tier", "gold"), ("key_id", "k")]),
        limited(3, Unit::Hour)
    );
    assert_eq!(
        quota_for(&parsed, &[("key_id", "k")]),
        limited(3, Unit::Day)
    );
}

#[test]
fn names_yaml_would_read_as_other_types_stay_strings() {
    let mut policy = policy();
    policy.key_overrides.clear();
    let odd = [
        "null", "true", "123", "-", "1_000", "0x1f", "1e3", "no", "-1",
    ];
    for name in odd {
        policy.tiers.insert(name.to_owned(), TierLimits::DEFAULT);
        policy
            .org_overrides
            .insert(name.to_owned(), Limit::per(1, LimitUnit::Hour));
        policy.key_overrides.push(KeyOverride {
            key_id: name.to_owned(),
            tier: Some(name.to_owned()),
            limit: Limit::Unlimited,
        });
    }
    let parsed = yaml::parse("odd.yaml", &yaml(&policy).unwrap()).unwrap();
    assert_eq!(parsed, config(&policy).unwrap());
    for name in odd {
        let pairs = [("tier", name), ("key_id", name)];
        assert_eq!(quota_for(&parsed, &pairs), Some(Quota::Unlimited), "{name}");
    }
}

#[test]
fn failed_credentials_follow_the_default_tiers_per_ip_limit() {
    let mut policy = policy();
    if let Some(default) = policy.tiers.get_mut("default") {
        default.per_ip = Limit::per(5, LimitUnit::Hour);
    }
    let parsed = yaml::parse("p.yaml", &yaml(&policy).unwrap()).unwrap();
    assert_eq!(
        quota_for(&parsed, &[("auth_failure", "10.0.0.1")]),
        limited(5, Unit::Hour)
    );
    if let Some(default) = policy.tiers.get_mut("default") {
        default.per_ip = Limit::Unlimited;
    }
    let config = config(&policy).unwrap();
    assert_eq!(
        quota_for(&config, &[("auth_failure", "10.0.0.1")]),
        Some(Quota::Unlimited),
        "the filter's own limit still applies in each Envoy"
    );
}

#[test]
fn the_filters_default_failure_limit_is_the_default_tiers_per_ip_limit() {
    use portcullis::failure_limit::{DEFAULT_REQUESTS_PER_UNIT, DEFAULT_WINDOW_SECS};
    assert_eq!(DEFAULT_WINDOW_SECS, 60);
    assert_eq!(
        TierLimits::DEFAULT.per_ip,
        Limit::per(DEFAULT_REQUESTS_PER_UNIT, LimitUnit::Minute)
    );
}
