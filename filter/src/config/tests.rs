//! Configuration parsing and validation: every rule, and the messages operators read.

use super::*;
use crate::policy::Access;
use crate::trusted_networks::peer_ip;

const TOKEN: &str = "tok_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";

fn env(name: &str) -> Option<String> {
    match name {
        "GOOD_TOKEN" => Some(TOKEN.to_owned()),
        "SHORT_TOKEN" => Some("tooshort".to_owned()),
        "SK_TOKEN" => Some(format!("sk_{TOKEN}")),
        "SPACED_TOKEN" => Some(format!("{TOKEN} x")),
        _ => None,
    }
}

fn parse_str(json: &str) -> Result<Config, Vec<ConfigError>> {
    parse(json.as_bytes(), env)
}

fn messages(json: &str) -> Vec<String> {
    parse_str(json)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn empty_configuration_enforces_with_no_tokens() {
    let config = parse(b"", env).unwrap();
    assert_eq!(config.mode, Mode::Enforce);
    assert_eq!(config.realm, "portcullis");
    assert!(config.tokens.verify(TOKEN).is_none());
    assert_eq!(config.policy.route_for("GET", "/").access, Access::Required);
}

#[test]
fn a_token_from_the_environment_grants_its_identity() {
    let config = parse_str(
        r#"{"static_tokens": [{"name": "admin", "token_env": "GOOD_TOKEN",
            "subject": "local-admin", "role": "admin", "scopes": ["read"]}]}"#,
    )
    .unwrap();
    let identity = config.tokens.verify(TOKEN).unwrap();
    assert_eq!(
        (identity.subject.as_str(), identity.roles.as_slice()),
        ("local-admin", &["admin".to_owned()][..])
    );
    assert_eq!(identity.scopes, ["read"]);
}

#[test]
fn a_token_given_as_sha256_digest_is_accepted() {
    let hex: String = static_token::digest(TOKEN.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let json = format!(
        r#"{{"static_tokens": [{{"name": "ci", "token_sha256": "{hex}",
            "subject": "ci", "role": "system_admin"}}]}}"#
    );
    let config = parse_str(&json).unwrap();
    assert_eq!(config.tokens.verify(TOKEN).unwrap().roles, ["system_admin"]);
}

#[test]
fn a_short_token_is_refused_without_revealing_it() {
    let errors = messages(
        r#"{"static_tokens": [{"name": "a", "token_env": "SHORT_TOKEN", "subject": "s", "role": "r"}]}"#,
    );
    assert_eq!(
        errors,
        [
            "static_tokens[0].token_env: expected a token of at least 50 characters in SHORT_TOKEN, got 8"
        ]
    );
    assert!(!errors[0].contains("tooshort"));
}

#[test]
fn a_missing_environment_variable_is_refused() {
    let errors = messages(
        r#"{"static_tokens": [{"name": "a", "token_env": "UNSET", "subject": "s", "role": "r"}]}"#,
    );
    assert!(
        errors[0].starts_with(
            "static_tokens[0].token_env: expected environment variable UNSET to be set"
        )
    );
}

#[test]
fn tokens_with_api_key_prefix_or_bad_characters_are_refused() {
    let errors = messages(
        r#"{"static_tokens": [
            {"name": "a", "token_env": "SK_TOKEN", "subject": "s", "role": "r"},
            {"name": "b", "token_env": "SPACED_TOKEN", "subject": "s", "role": "r"}]}"#,
    );
    assert_eq!(errors.len(), 2);
    assert!(errors[0].contains("reserved for API keys"));
    assert!(errors[1].contains("RFC 6750 b64token"));
}

#[test]
fn token_source_must_be_exactly_one_of_env_or_digest() {
    let errors = messages(
        r#"{"static_tokens": [
            {"name": "a", "subject": "s", "role": "r"},
            {"name": "b", "token_env": "GOOD_TOKEN", "token_sha256": "00", "subject": "s", "role": "r"}]}"#,
    );
    assert_eq!(
        errors,
        [
            "static_tokens[0]: expected exactly one of token_env or token_sha256, got neither",
            "static_tokens[1]: expected exactly one of token_env or token_sha256, got both",
        ]
    );
}

#[test]
fn bad_digest_duplicate_names_and_duplicate_tokens_are_refused() {
    let errors = messages(
        r#"{"static_tokens": [
            {"name": "a", "token_env": "GOOD_TOKEN", "subject": "s", "role": "r"},
            {"name": "a", "token_env": "GOOD_TOKEN", "subject": "s", "role": "r"},
            {"name": "c", "token_sha256": "xyz", "subject": "s", "role": "r"}]}"#,
    );
    assert_eq!(
        errors,
        [
            r#"static_tokens[1].name: expected a unique, non-empty name, got "a""#,
            "static_tokens[1]: expected a distinct token, got the same token as an earlier entry",
            "static_tokens[2].token_sha256: expected 64 hexadecimal characters, got 3 characters",
        ]
    );
}

#[test]
fn unknown_fields_and_wrong_types_name_their_path() {
    let errors = messages(r#"{"routes": [{"prefix": "/", "acess": "public"}]}"#);
    assert!(
        errors[0].starts_with(
            "routes[0].acess: unknown field `acess`, expected one of `exact`, `prefix`"
        ),
        "{errors:?}"
    );
    let errors = messages(r#"{"hide_credentials": "yes"}"#);
    assert!(
        errors[0].starts_with("hide_credentials: invalid type: string \"yes\", expected a boolean"),
        "{errors:?}"
    );
}

#[test]
fn an_unknown_access_value_lists_the_expected_ones() {
    let errors = messages(r#"{"routes": [{"prefix": "/", "access": "sometimes"}]}"#);
    assert!(
        errors[0].starts_with("routes[0].access: unknown variant `sometimes`, expected one of `public`, `optional`, `required`"),
        "{errors:?}"
    );
}

#[test]
fn every_route_problem_is_reported_at_once() {
    let errors = messages(
        r#"{"routes": [
            {"exact": "/a", "prefix": "/b"},
            {"prefix": "api", "methods": ["get"]},
            {"prefix": "/p", "access": "public", "roles": ["admin"]},
            {"prefix": "/s", "scopes": {"any_of": []}},
            {"prefix": "/t", "scopes": {}}]}"#,
    );
    assert_eq!(
        errors,
        [
            "routes[0]: expected exactly one of exact or prefix, got both",
            r#"routes[1].prefix: expected a path starting with '/', got "api""#,
            r#"routes[1].methods[0]: expected an upper-case HTTP method such as GET, got "get""#,
            "routes[2].access: expected optional or required on a route with scopes or roles, got public (a public route checks nothing)",
            "routes[3].scopes.any_of: expected at least one entry, got an empty list",
            "routes[4].scopes: expected any_of or all_of, got neither",
        ]
    );
}

#[test]
fn routes_keep_their_order_and_requirements() {
    let config = parse_str(
        r#"{"routes": [
            {"exact": "/health", "methods": ["GET"], "access": "public"},
            {"prefix": "/admin/", "roles": ["system_admin"], "scopes": {"all_of": ["a"], "any_of": ["b"]}}]}"#,
    )
    .unwrap();
    assert_eq!(
        config.policy.route_for("GET", "/health").access,
        Access::Public
    );
    let admin = config.policy.route_for("GET", "/admin/x");
    assert_eq!(admin.requirement.roles, ["system_admin"]);
    assert_eq!(admin.requirement.scopes_all_of, ["a"]);
    assert_eq!(admin.requirement.scopes_any_of, ["b"]);
}

#[test]
fn zero_auth_defaults_to_loopback_and_validates_networks() {
    let config = parse_str(r#"{"mode": "zero_auth"}"#).unwrap();
    let Mode::ZeroAuth { trusted, identity } = &config.mode else {
        panic!("expected zero-auth")
    };
    assert!(trusted.contains(peer_ip(b"127.0.0.1:1")));
    assert!(!trusted.contains(peer_ip(b"192.0.2.1:1")));
    assert_eq!(identity.subject, "local_admin");
    assert!(config.needs_peer());

    let errors = messages(
        r#"{"mode": "zero_auth", "zero_auth": {"trusted_networks": ["10.0.0.0/8", "lan"]}}"#,
    );
    assert_eq!(
        errors,
        [
            r#"zero_auth.trusted_networks[1]: expected a network such as 127.0.0.0/8 or an address, got "lan""#
        ]
    );
}

#[test]
fn realm_and_labels_must_be_safe_in_headers() {
    let errors = messages(
        r#"{"realm": "a\"b", "static_tokens": [{"name": "a", "token_env": "GOOD_TOKEN",
            "subject": "two words", "role": "r", "scopes": [""]}]}"#,
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("realm:"));
    assert!(errors[1].starts_with("static_tokens[0].subject:"));
    assert!(errors[2].starts_with("static_tokens[0].scopes[0]:"));
}

#[test]
fn malformed_json_is_refused_with_its_position() {
    let errors = messages("{\"mode\": ");
    assert!(errors[0].contains("line 1"), "{errors:?}");
}

#[test]
fn the_failure_limit_is_on_by_default_at_60_per_minute_without_a_service() {
    let limit = parse(b"{}", env).unwrap().failure_limit.unwrap();
    assert_eq!((limit.requests_per_unit, limit.window_secs), (60, 60));
    assert_eq!(limit.rls, None);
    assert!(parse(b"{}", env).unwrap().needs_peer());
}

#[test]
fn the_failure_limit_can_be_switched_off() {
    let config = parse_str(r#"{"failure_limit": {"enabled": false}}"#).unwrap();
    assert_eq!(config.failure_limit, None);
    assert!(!config.needs_peer());
}

#[test]
fn a_failure_limit_with_a_rate_limit_service_takes_its_defaults() {
    let config = parse_str(
        r#"{"failure_limit": {"requests_per_unit": 5, "unit": "hour",
            "rls": {"cluster": "portcullis_ratelimit"}}}"#,
    )
    .unwrap();
    let limit = config.failure_limit.unwrap();
    assert_eq!((limit.requests_per_unit, limit.window_secs), (5, 3_600));
    let rls = limit.rls.unwrap();
    assert_eq!(rls.cluster, "portcullis_ratelimit");
    assert_eq!(rls.domain, "portcullis");
    assert_eq!(rls.timeout, std::time::Duration::from_millis(100));
    assert_eq!(
        rls.service.as_bytes(),
        crate::failure_limit::rls::grpc_service("portcullis_ratelimit")
    );
}

#[test]
fn failure_limit_problems_are_reported_by_path() {
    let errors = messages(
        r#"{"failure_limit": {"requests_per_unit": 0,
            "rls": {"cluster": "", "domain": "a b", "timeout_ms": 0}}}"#,
    );
    assert_eq!(
        errors,
        [
            "failure_limit.requests_per_unit: expected at least 1 (set failure_limit.enabled to false to switch the limit off), got 0",
            "failure_limit.rls.cluster: expected the name of an Envoy cluster (visible ASCII, at most 100 characters), got \"\"",
            "failure_limit.rls.domain: expected a rate-limit domain such as portcullis, got \"a b\"",
            "failure_limit.rls.timeout_ms: expected 1 to 10000, got 0",
        ]
    );
    let off = messages(r#"{"failure_limit": {"enabled": false, "rls": {"cluster": "rl"}}}"#);
    assert_eq!(
        off,
        ["failure_limit.enabled: expected true when failure_limit.rls is configured, got false"]
    );
    let unit = messages(r#"{"failure_limit": {"unit": "fortnight"}}"#);
    assert!(
        unit[0].starts_with("failure_limit.unit: unknown variant `fortnight`"),
        "{unit:?}"
    );
    let typo = messages(r#"{"failure_limit": {"limit": 5}}"#);
    assert!(typo[0].contains("unknown field `limit`"), "{typo:?}");
}
