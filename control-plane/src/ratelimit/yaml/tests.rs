//! Files written in the reference service's documented format, and each way one can be wrong.

use super::*;
use crate::ratelimit::config::Quota;

fn limited(requests_per_unit: u32, unit: Unit) -> Quota {
    Quota::Limited {
        requests_per_unit,
        unit,
    }
}

#[test]
fn nested_descriptors_with_and_without_values_are_read() {
    let config = parse(
        "messaging.yaml",
        r#"
# Five marketing messages a day per number, 100 messages a day to any one number.
domain: messaging
descriptors:
  - key: message_type
    value: marketing
    descriptors:
      - key: to_number
        rate_limit:
          unit: day
          requests_per_unit: 5
  - key: to_number
    rate_limit:
      unit: DAY
      requests_per_unit: 100
"#,
    )
    .unwrap();
    let domain = config.domain("messaging").unwrap();
    let marketing = &domain.descriptors[0];
    assert_eq!(marketing.value.as_deref(), Some("marketing"));
    assert_eq!(marketing.rate_limit, None);
    let per_number = &marketing.descriptors[0];
    assert_eq!(per_number.key, "to_number");
    assert_eq!(per_number.value, None);
    assert_eq!(
        per_number.rate_limit.as_ref().unwrap().quota,
        limited(5, Unit::Day)
    );
    assert_eq!(
        domain.descriptors[1].rate_limit.as_ref().unwrap().quota,
        limited(100, Unit::Day)
    );
}

#[test]
fn unlimited_shadow_mode_replaces_and_names_are_read() {
    let config = parse(
        "internal.yaml",
        r#"
domain: internal
descriptors:
  - key: ldap
    rate_limit:
      unlimited: true
  - key: service
    descriptors:
      - key: user
        value: alice
        shadow_mode: true
        rate_limit: {requests_per_unit: 10, unit: second, name: alice_limit}
      - key: user
        value: bob
        rate_limit:
          requests_per_unit: 20
          unit: second
          replaces:
            - name: alice_limit
"#,
    )
    .unwrap();
    let domain = config.domain("internal").unwrap();
    let ldap = domain.descriptors[0].rate_limit.as_ref().unwrap();
    assert_eq!(ldap.quota, Quota::Unlimited);
    let users = &domain.descriptors[1].descriptors;
    assert!(users[0].shadow_mode);
    assert_eq!(
        users[0].rate_limit.as_ref().unwrap().name.as_deref(),
        Some("alice_limit")
    );
    assert!(!users[1].shadow_mode);
    assert_eq!(
        users[1].rate_limit.as_ref().unwrap().replaces,
        vec!["alice_limit".to_owned()]
    );
}

#[test]
fn metrics_only_fields_are_accepted_and_change_nothing() {
    let config = parse(
        "example.yaml",
        r#"
domain: example
descriptors:
  - key: route
    value_to_metric: true
    metadata: {team: payments}
    descriptors:
      - key: user
        detailed_metric: true
        rate_limit: {unit: minute, requests_per_unit: 60}
"#,
    )
    .unwrap();
    let route = &config.domain("example").unwrap().descriptors[0];
    assert_eq!(
        route.descriptors[0].rate_limit.as_ref().unwrap().quota,
        limited(60, Unit::Minute)
    );
}

#[test]
fn zero_requests_per_unit_is_the_reference_way_to_block_a_value() {
    let config = parse(
        "edge.yaml",
        r#"
domain: edge_proxy_per_ip
descriptors:
  - key: remote_address
    rate_limit: {unit: second, requests_per_unit: 10}
  - key: remote_address
    value: 50.0.0.5
    rate_limit: {unit: second, requests_per_unit: 0}
"#,
    )
    .unwrap();
    let blocked = &config.domain("edge_proxy_per_ip").unwrap().descriptors[1];
    assert_eq!(
        blocked.rate_limit.as_ref().unwrap().quota,
        limited(0, Unit::Second)
    );
}

#[test]
fn wildcard_values_are_kept_as_written() {
    let config = parse(
        "w.yaml",
        "domain: w\ndescriptors:\n  - key: path\n    value: /api/*/action\n    rate_limit: {unit: minute, requests_per_unit: 20}\n",
    )
    .unwrap();
    let path = &config.domain("w").unwrap().descriptors[0];
    assert_eq!(path.value.as_deref(), Some("/api/*/action"));
}

fn error(text: &str) -> String {
    parse("rl.yaml", text).unwrap_err().to_string()
}

#[test]
fn an_unknown_unit_is_refused_naming_file_path_and_unit() {
    let message = error(
        "domain: rl\ndescriptors:\n  - key: tier\n    value: free\n    descriptors:\n      - key: key_id\n        rate_limit: {unit: fortnight, requests_per_unit: 5}\n",
    );
    assert_eq!(
        message,
        "rl.yaml: rl.tier_free.key_id: unknown unit \"fortnight\": expected one of second, \
         minute, hour, day, week, month, year"
    );
}

#[test]
fn a_negative_count_is_refused_with_its_line() {
    let message = error(
        "domain: rl\ndescriptors:\n  - key: tier\n    rate_limit: {unit: minute, requests_per_unit: -5}\n",
    );
    assert!(message.starts_with("rl.yaml: "), "{message}");
    assert!(message.contains("-5"), "{message}");
    assert!(message.contains("line 4"), "{message}");
}

#[test]
fn a_missing_count_or_unit_is_refused() {
    let message =
        error("domain: rl\ndescriptors:\n  - key: tier\n    rate_limit: {unit: minute}\n");
    assert_eq!(
        message,
        "rl.yaml: rl.tier: rate_limit has no requests_per_unit: expected a count (0 refuses \
         every request)"
    );
    let message =
        error("domain: rl\ndescriptors:\n  - key: tier\n    rate_limit: {requests_per_unit: 5}\n");
    assert_eq!(
        message,
        "rl.yaml: rl.tier: rate_limit has no unit: expected one of second, minute, hour, day, week, month, year"
    );
}

#[test]
fn a_unit_next_to_unlimited_is_refused() {
    let message = error(
        "domain: rl\ndescriptors:\n  - key: tier\n    rate_limit: {unlimited: true, unit: minute}\n",
    );
    assert_eq!(
        message,
        "rl.yaml: rl.tier: unlimited limit has unit \"minute\": expected no unit when unlimited \
         is true"
    );
}

#[test]
fn unknown_fields_are_refused_as_the_reference_does() {
    let message = error("domain: rl\ndescriptors:\n  - key: tier\n    limit: 5\n");
    assert!(message.contains("unknown field `limit`"), "{message}");
}

#[test]
fn decision_changing_fields_that_are_not_implemented_are_refused() {
    let message = error(
        "domain: rl\ndescriptors:\n  - key: files\n    value: files/*\n    share_threshold: true\n",
    );
    assert_eq!(
        message,
        "rl.yaml: rl.files_files/*: share_threshold is not supported: expected it absent or false"
    );
    let message = error("domain: rl\ndescriptors:\n  - key: tier\n    quota_mode: true\n");
    assert!(message.contains("quota_mode is not supported"), "{message}");
}

#[test]
fn a_duplicate_descriptor_is_refused_naming_file_and_path() {
    let message = error(
        "domain: rl\ndescriptors:\n  - key: tier\n    value: free\n  - key: tier\n    value: free\n",
    );
    assert_eq!(
        message,
        "rl.yaml: rl.tier_free: duplicate descriptor: expected each key and value once per level"
    );
}

#[test]
fn a_file_loads_and_a_directory_loads_each_yaml_file_as_a_domain() {
    let dir = tempfile::tempdir().unwrap();
    let edge = "domain: edge\ndescriptors:\n  - key: remote_address\n    rate_limit: {unit: minute, requests_per_unit: 60}\n";
    let keys = "domain: keys\ndescriptors:\n  - key: key_id\n    rate_limit: {unit: minute, requests_per_unit: 120}\n";
    std::fs::write(dir.path().join("edge.yaml"), edge).unwrap();
    std::fs::write(dir.path().join("keys.yml"), keys).unwrap();
    std::fs::write(dir.path().join(".hidden.yaml"), "not: [valid").unwrap();
    std::fs::write(dir.path().join("README.md"), "not yaml").unwrap();

    let config = load(dir.path()).unwrap();
    let names: Vec<&str> = config.domains().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["edge", "keys"]);

    let single = load(&dir.path().join("edge.yaml")).unwrap();
    assert_eq!(single.domains().count(), 1);
}

#[test]
fn a_domain_in_two_files_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "domain: edge\n").unwrap();
    std::fs::write(dir.path().join("b.yaml"), "domain: edge\n").unwrap();
    let message = load(dir.path()).unwrap_err().to_string();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    assert_eq!(
        message,
        format!(
            "{} and {}: domain \"edge\" is defined twice: expected each domain once",
            a.display(),
            b.display()
        )
    );
}

#[test]
fn an_empty_directory_or_a_missing_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let message = load(dir.path()).unwrap_err().to_string();
    assert!(message.ends_with("no *.yaml or *.yml file: expected at least one domain"));
    let missing = dir.path().join("missing.yaml");
    assert!(matches!(load(&missing), Err(LoadError::Read { .. })));
}
