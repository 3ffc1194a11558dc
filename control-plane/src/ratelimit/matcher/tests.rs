//! Matching and precedence, on configurations written as operators write them.

use super::*;
use crate::ratelimit::window::Unit;
use crate::ratelimit::yaml;

fn matcher(text: &str) -> Matcher {
    Matcher::new(
        &yaml::parse("test.yaml", text).unwrap(),
        &Metrics::default(),
    )
}

fn entries(pairs: &[(&str, &str)]) -> Vec<Entry> {
    pairs
        .iter()
        .map(|(key, value)| Entry {
            key: (*key).to_owned(),
            value: (*value).to_owned(),
        })
        .collect()
}

fn path(m: &Matcher, domain: &str, pairs: &[(&str, &str)]) -> Option<String> {
    m.find(domain, &entries(pairs))
        .map(|rule| rule.path.clone())
}

const EDGE: &str = r#"
domain: edge
descriptors:
  - key: remote_address
    rate_limit: {unit: second, requests_per_unit: 10}
  - key: remote_address
    value: 50.0.0.5
    rate_limit: {unit: second, requests_per_unit: 0}
  - key: remote_address
    value: "10.*"
    rate_limit: {unit: second, requests_per_unit: 1000}
"#;

#[test]
fn an_exact_value_beats_a_wildcard_which_beats_the_key_alone() {
    let m = matcher(EDGE);
    let exact = path(&m, "edge", &[("remote_address", "50.0.0.5")]);
    assert_eq!(exact.as_deref(), Some("edge.remote_address_50.0.0.5"));
    let wildcard = path(&m, "edge", &[("remote_address", "10.1.2.3")]);
    assert_eq!(wildcard.as_deref(), Some("edge.remote_address_10.*"));
    let any = path(&m, "edge", &[("remote_address", "192.0.2.1")]);
    assert_eq!(any.as_deref(), Some("edge.remote_address"));
}

#[test]
fn the_matched_rule_carries_its_limit() {
    let m = matcher(EDGE);
    let rule = m
        .find("edge", &entries(&[("remote_address", "50.0.0.5")]))
        .unwrap();
    assert_eq!(
        rule.quota,
        Quota::Limited {
            requests_per_unit: 0,
            unit: Unit::Second
        }
    );
}

#[test]
fn an_unknown_domain_key_or_value_matches_nothing() {
    let m = matcher(
        "domain: d\ndescriptors:\n  - key: k\n    value: v\n    rate_limit: {unit: minute, requests_per_unit: 1}\n",
    );
    assert_eq!(path(&m, "other", &[("k", "v")]), None);
    assert_eq!(path(&m, "d", &[("other", "v")]), None);
    assert_eq!(path(&m, "d", &[("k", "w")]), None);
    assert_eq!(path(&m, "d", &[]), None);
    assert!(m.has_domain("d"));
    assert!(!m.has_domain("other"));
}

const NESTED: &str = r#"
domain: portcullis
descriptors:
  - key: tier
    value: free
    rate_limit: {unit: hour, requests_per_unit: 1000}
    descriptors:
      - key: key_id
        rate_limit: {unit: minute, requests_per_unit: 120}
  - key: tier
    descriptors:
      - key: org_id
        rate_limit: {unit: minute, requests_per_unit: 300}
"#;

#[test]
fn nested_descriptors_match_one_entry_per_level() {
    let m = matcher(NESTED);
    let key = path(&m, "portcullis", &[("tier", "free"), ("key_id", "k1")]);
    assert_eq!(key.as_deref(), Some("portcullis.tier_free.key_id"));
    let org = path(&m, "portcullis", &[("tier", "pro"), ("org_id", "o1")]);
    assert_eq!(org.as_deref(), Some("portcullis.tier.org_id"));
}

#[test]
fn a_rule_applies_only_where_the_descriptor_ends() {
    let m = matcher(NESTED);
    // Ends at the parent: the parent's own limit.
    let parent = path(&m, "portcullis", &[("tier", "free")]);
    assert_eq!(parent.as_deref(), Some("portcullis.tier_free"));
    // Ends above a rule-less parent: nothing.
    assert_eq!(path(&m, "portcullis", &[("tier", "pro")]), None);
    // Deeper than the tree: nothing, not the parent's limit.
    let deeper = [("tier", "free"), ("key_id", "k1"), ("extra", "x")];
    assert_eq!(path(&m, "portcullis", &deeper), None);
}

#[test]
fn precedence_is_decided_per_level_without_backtracking() {
    // The exact value wins at level one even though only the key-only branch has a rule
    // for the second entry: the reference service does not backtrack either.
    let m = matcher(NESTED);
    let entries = [("tier", "free"), ("org_id", "o1")];
    assert_eq!(path(&m, "portcullis", &entries), None);
}

#[test]
fn wildcards_match_anywhere_in_the_value() {
    let m = matcher(
        r#"
domain: w
descriptors:
  - key: path
    value: /api/*/action
    rate_limit: {unit: minute, requests_per_unit: 1}
  - key: route
    value: /api/*/resource/*/action
    rate_limit: {unit: minute, requests_per_unit: 1}
  - key: any
    value: "*"
    rate_limit: {unit: minute, requests_per_unit: 1}
"#,
    );
    assert!(path(&m, "w", &[("path", "/api/123/action")]).is_some());
    assert!(path(&m, "w", &[("path", "/api//action")]).is_some());
    assert!(path(&m, "w", &[("path", "/api/123/other")]).is_none());
    assert!(path(&m, "w", &[("path", "/api/action")]).is_none());
    assert!(path(&m, "w", &[("route", "/api/v1/resource/9/action")]).is_some());
    assert!(path(&m, "w", &[("route", "/api/v1/resource/action")]).is_none());
    assert!(path(&m, "w", &[("any", "")]).is_some());
}

#[test]
fn rules_at_one_path_share_counters_across_recompiles() {
    let metrics = Metrics::default();
    let config = yaml::parse("t.yaml", EDGE).unwrap();
    let first = Matcher::new(&config, &metrics);
    let second = Matcher::new(&config, &metrics);
    let e = entries(&[("remote_address", "192.0.2.1")]);
    let a = &first.find("edge", &e).unwrap().counters;
    let b = &second.find("edge", &e).unwrap().counters;
    assert!(Arc::ptr_eq(a, b));
}
