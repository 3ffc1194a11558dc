//! Bad plugin configurations are refused whole: Envoy does not start serving, and its log
//! names the offending field by path, without ever printing a secret.

use portcullis_e2e::Envoy;
use portcullis_e2e::fixtures::{self, ADMIN_TOKEN_ENV, ENV};
use serde_json::{Value, json};

/// Starts Envoy on `config`, expects the refusal and returns Envoy's log.
fn refusal(config: &Value, env: &[(&str, &str)]) -> String {
    Envoy::start_expecting_refusal(config, env)
}

fn assert_names(log: &str, field: &str) {
    assert!(
        log.contains(field),
        "Envoy's log does not name `{field}`; the log:\n{log}"
    );
}

#[test]
fn a_token_from_the_environment_shorter_than_50_characters_is_refused() {
    let short_secret = "short-secret-0123456789";
    let log = refusal(
        &fixtures::enforce(fixtures::routes()),
        &[(ADMIN_TOKEN_ENV, short_secret)],
    );
    assert_names(&log, "static_tokens[0].token_env");
    assert!(
        !log.contains(short_secret),
        "the log shows the secret:\n{log}"
    );
}

#[test]
fn a_missing_environment_variable_is_refused() {
    let log = refusal(&fixtures::enforce(fixtures::routes()), &[]);
    assert_names(&log, "static_tokens[0].token_env");
    assert_names(&log, ADMIN_TOKEN_ENV);
}

#[test]
fn a_token_sha256_that_is_not_64_hex_digits_is_refused() {
    let mut config = fixtures::enforce(fixtures::routes());
    config["static_tokens"][1]["token_sha256"] = "c53f39e14d9f454d314f9ad128be19c7".into();
    assert_names(&refusal(&config, &ENV), "static_tokens[1].token_sha256");
}

#[test]
fn an_unknown_access_value_is_refused() {
    let config = fixtures::enforce(json!([
        {"exact": "/health", "access": "public"},
        {"prefix": "/docs/", "access": "sometimes"}
    ]));
    let log = refusal(&config, &ENV);
    assert_names(&log, "routes[1].access");
    assert_names(&log, "sometimes");
}

#[test]
fn a_route_with_both_exact_and_prefix_is_refused() {
    let config = fixtures::enforce(json!([
        {"exact": "/health", "prefix": "/health/", "access": "public"}
    ]));
    assert_names(&refusal(&config, &ENV), "routes[0]");
}

#[test]
fn an_unknown_field_is_refused() {
    let mut config = fixtures::enforce(fixtures::routes());
    config["hide_credential"] = true.into();
    assert_names(&refusal(&config, &ENV), "hide_credential");
}

#[test]
fn a_field_of_the_wrong_type_is_refused() {
    let mut config = fixtures::enforce(fixtures::routes());
    config["hide_credentials"] = "yes".into();
    assert_names(&refusal(&config, &ENV), "hide_credentials");
}
