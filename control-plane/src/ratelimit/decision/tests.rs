//! Limit selection, `replaces`, hits and judging, with counts given rather than counted.

use super::*;
use crate::ratelimit::yaml;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::{
    Entry, RateLimitOverride,
};
use envoy_types::pb::google::protobuf::UInt64Value;
use std::sync::atomic::Ordering;

const NOW: UnixSecs = 1_800_000_030;

const CONFIG: &str = r#"
domain: rl
descriptors:
  - key: key_1
    value: value_1
    descriptors:
      - key: user
        value: bob
        rate_limit: {name: specific_limit, requests_per_unit: 5, unit: second}
  - key: key_2
    value: value_2
    descriptors:
      - key: user
        value: bob
        rate_limit:
          replaces: [{name: specific_limit}]
          requests_per_unit: 10
          unit: second
  - key: ldap
    rate_limit: {unlimited: true}
  - key: user
    shadow_mode: true
    rate_limit: {requests_per_unit: 10, unit: minute}
"#;

fn matcher(metrics: &Metrics) -> Matcher {
    Matcher::new(&yaml::parse("rl.yaml", CONFIG).unwrap(), metrics)
}

fn descriptor(pairs: &[(&str, &str)]) -> RateLimitDescriptor {
    RateLimitDescriptor {
        entries: pairs
            .iter()
            .map(|(key, value)| Entry {
                key: (*key).to_owned(),
                value: (*value).to_owned(),
            })
            .collect(),
        ..RateLimitDescriptor::default()
    }
}

fn request(domain: &str, descriptors: Vec<RateLimitDescriptor>) -> RateLimitRequest {
    RateLimitRequest {
        domain: domain.to_owned(),
        descriptors,
        hits_addend: 0,
    }
}

fn paths(selected: &[Selected<'_>]) -> Vec<String> {
    selected
        .iter()
        .map(|s| match s {
            Selected::NoLimit => "none".to_owned(),
            Selected::Unlimited => "unlimited".to_owned(),
            Selected::Limited { rule, .. } => rule.path.clone(),
        })
        .collect()
}

#[test]
fn a_replacing_rule_drops_the_named_rule_for_that_request_only() {
    let metrics = Metrics::default();
    let m = matcher(&metrics);
    let both = request(
        "rl",
        vec![
            descriptor(&[("key_1", "value_1"), ("user", "bob")]),
            descriptor(&[("key_2", "value_2"), ("user", "bob")]),
        ],
    );
    assert_eq!(
        paths(&select(&m, &metrics, &both)),
        ["none", "rl.key_2_value_2.user_bob"]
    );
    let alone = request(
        "rl",
        vec![descriptor(&[("key_1", "value_1"), ("user", "bob")])],
    );
    assert_eq!(
        paths(&select(&m, &metrics, &alone)),
        ["rl.key_1_value_1.user_bob"]
    );
}

#[test]
fn unlimited_unmatched_and_unknown_domains_are_not_counted() {
    let metrics = Metrics::default();
    let m = matcher(&metrics);
    let known = request(
        "rl",
        vec![descriptor(&[("ldap", "x")]), descriptor(&[("nope", "x")])],
    );
    assert_eq!(paths(&select(&m, &metrics, &known)), ["unlimited", "none"]);
    let unknown = request("other", vec![descriptor(&[("user", "x")])]);
    assert_eq!(paths(&select(&m, &metrics, &unknown)), ["none"]);
}

#[test]
fn a_limit_override_from_envoy_beats_the_configuration() {
    let metrics = Metrics::default();
    let m = matcher(&metrics);
    let mut overridden = descriptor(&[("user", "alice")]);
    overridden.limit = Some(RateLimitOverride {
        requests_per_unit: 42,
        unit: Unit::Hour.to_proto() as i32,
    });
    let selected = select(&m, &metrics, &request("rl", vec![overridden]));
    match &selected[0] {
        Selected::Limited {
            rule,
            requests_per_unit,
            unit,
        } => {
            assert_eq!(rule.path, "rl.limit_override");
            assert!(!rule.shadow_mode);
            assert_eq!((*requests_per_unit, *unit), (42, Unit::Hour));
        }
        other => panic!("expected the override, got {other:?}"),
    }
}

#[test]
fn an_override_with_an_unknown_unit_is_ignored_for_the_configuration() {
    let metrics = Metrics::default();
    let m = matcher(&metrics);
    let mut overridden = descriptor(&[("user", "alice")]);
    overridden.limit = Some(RateLimitOverride {
        requests_per_unit: 42,
        unit: 0,
    });
    let selected = select(&m, &metrics, &request("rl", vec![overridden]));
    assert_eq!(paths(&selected), ["rl.user"]);
}

#[test]
fn hits_come_from_the_descriptor_then_the_request_then_one() {
    let mut req = request("rl", vec![descriptor(&[("user", "a")])]);
    assert_eq!(hits_addend(&req, &req.descriptors[0]), 1);
    req.hits_addend = 5;
    assert_eq!(hits_addend(&req, &req.descriptors[0]), 5);
    let mut own = descriptor(&[("user", "a")]);
    own.hits_addend = Some(UInt64Value { value: 0 });
    assert_eq!(hits_addend(&req, &own), 0);
    own.hits_addend = Some(UInt64Value { value: 7 });
    assert_eq!(hits_addend(&req, &own), 7);
}

fn rule(shadow_mode: bool) -> Rule {
    Rule {
        path: "rl.user".to_owned(),
        quota: Quota::Limited {
            requests_per_unit: 10,
            unit: Unit::Minute,
        },
        name: Some("per_user".to_owned()),
        replaces: Vec::new(),
        shadow_mode,
        counters: Arc::default(),
    }
}

fn judged(rule: &Rule, hits: u64, after: u64) -> DescriptorStatus {
    judge(
        rule,
        10,
        Window::containing(NOW, Unit::Minute),
        hits,
        after,
        NOW,
    )
}

fn count(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

use std::sync::Arc;

#[test]
fn within_the_limit_is_ok_with_remaining_and_reset() {
    let rule = rule(false);
    let status = judged(&rule, 1, 4);
    assert_eq!(status.code, Code::Ok as i32);
    assert_eq!(status.limit_remaining, 6);
    assert_eq!(status.duration_until_reset.unwrap().seconds, 30);
    let limit = status.current_limit.unwrap();
    assert_eq!(
        (limit.name.as_str(), limit.requests_per_unit),
        ("per_user", 10)
    );
    assert_eq!(limit.unit, Unit::Minute.to_proto() as i32);
    assert_eq!(count(&rule.counters.within_limit), 1);
}

#[test]
fn the_last_allowed_hit_is_ok_and_the_next_is_over_the_limit() {
    let rule = rule(false);
    let last = judged(&rule, 1, 10);
    assert_eq!((last.code, last.limit_remaining), (Code::Ok as i32, 0));
    let over = judged(&rule, 1, 11);
    assert_eq!(
        (over.code, over.limit_remaining),
        (Code::OverLimit as i32, 0)
    );
    assert_eq!(count(&rule.counters.over_limit), 1);
    assert_eq!(count(&rule.counters.hits), 2);
}

#[test]
fn a_batch_straddling_the_limit_counts_only_its_excess_as_over() {
    let rule = rule(false);
    // 7 counted before, 5 more: 3 fit (two of them near the limit), 2 are over.
    let status = judged(&rule, 5, 12);
    assert_eq!(status.code, Code::OverLimit as i32);
    assert_eq!(count(&rule.counters.over_limit), 2);
    assert_eq!(count(&rule.counters.within_limit), 3);
    assert_eq!(count(&rule.counters.near_limit), 2);
}

#[test]
fn hits_past_eighty_percent_are_near_the_limit() {
    let rule = rule(false);
    judged(&rule, 1, 8);
    assert_eq!(count(&rule.counters.near_limit), 0);
    judged(&rule, 1, 9);
    assert_eq!(count(&rule.counters.near_limit), 1);
}

#[test]
fn shadow_mode_counts_the_breach_but_answers_ok() {
    let rule = rule(true);
    let status = judged(&rule, 1, 11);
    assert_eq!((status.code, status.limit_remaining), (Code::Ok as i32, 0));
    assert_eq!(count(&rule.counters.shadow_mode), 1);
    assert_eq!(count(&rule.counters.over_limit), 1);
}

#[test]
fn the_request_is_over_the_limit_when_any_descriptor_is() {
    let rule = rule(false);
    let ok = judged(&rule, 1, 1);
    let over = judged(&rule, 1, 11);
    assert_eq!(overall(&[ok.clone(), unlimited_status()]), Code::Ok);
    assert_eq!(overall(&[ok, over, no_limit_status()]), Code::OverLimit);
    assert_eq!(unlimited_status().limit_remaining, u32::MAX);
}
