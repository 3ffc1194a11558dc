//! Provider configuration: defaults, and each invalid field reported by its path.

use super::*;
use crate::jwt::testkit::{self, ISSUER, SECRET_ENV, main_config};
use crate::jwt::verifier::Providers;
use serde_json::{Value, json};

fn validate(configs: &[Value]) -> Result<Providers, Vec<ConfigError>> {
    validate_with(configs, testkit::env)
}

fn validate_with(
    configs: &[Value],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Providers, Vec<ConfigError>> {
    let configs: Vec<ProviderConfig> = configs
        .iter()
        .map(|c| serde_json::from_value(c.clone()).unwrap())
        .collect();
    Providers::from_configs(&configs, "jwt_providers", env)
}

fn paths(result: Result<Providers, Vec<ConfigError>>) -> Vec<String> {
    result.unwrap_err().into_iter().map(|e| e.path).collect()
}

fn one(config: Value) -> Provider {
    let mut problems = Vec::new();
    let config: ProviderConfig = serde_json::from_value(config).unwrap();
    let provider = Provider::from_config(&config, "p", &testkit::env, &mut problems);
    assert_eq!(problems, []);
    provider.unwrap()
}

#[test]
fn a_provider_without_keys_waits_for_synced_keys_with_the_defaults() {
    let provider = one(json!({"name": "clerk", "issuer": ISSUER}));
    assert_eq!(provider.rules.leeway, Duration::from_secs(5));
    assert!(provider.rules.require_exp);
    assert_eq!(provider.max_token_bytes, 8192);
    assert_eq!(provider.algorithms, None);
    assert!(matches!(provider.keys, ProviderKeys::Synced(None)));
    assert_eq!(provider.mapping.profile, Profile::Auto);
}

#[test]
fn a_secret_provider_allows_hs256_by_default() {
    let provider = one(json!({"name": "hs", "issuer": ISSUER, "secret_env": SECRET_ENV}));
    assert_eq!(provider.algorithms, Some(vec![Algorithm::Hs256]));
    assert!(matches!(provider.keys, ProviderKeys::Secret(_)));
}

#[test]
fn every_problem_is_reported_with_its_field_path() {
    let bad = json!({
        "name": "has space",
        "issuer": "",
        "audiences": [""],
        "algorithms": ["RS256", "none", "HS256"],
        "leeway_secs": 3600,
        "max_token_bytes": 10,
        "typ": "",
        "implied_scopes": {"org:admin": ["ok", "not ok"]},
    });
    assert_eq!(
        paths(validate(&[bad])),
        [
            "jwt_providers[0].name",
            "jwt_providers[0].issuer",
            "jwt_providers[0].audiences[0]",
            "jwt_providers[0].leeway_secs",
            "jwt_providers[0].max_token_bytes",
            "jwt_providers[0].typ",
            "jwt_providers[0].algorithms[1]",
            "jwt_providers[0].algorithms[2]",
            "jwt_providers[0].implied_scopes.org:admin[1]",
        ]
    );
}

#[test]
fn hs_algorithms_are_refused_for_a_provider_with_public_keys() {
    let mut config = main_config();
    config["algorithms"] = json!(["RS256", "HS256"]);
    let problems = validate(&[config]).unwrap_err();
    assert_eq!(problems[0].path, "jwt_providers[0].algorithms[1]");
    assert_eq!(
        problems[0].message,
        "expected an asymmetric algorithm (HS* needs secret_env), got HS256"
    );
}

#[test]
fn a_secret_provider_allows_only_hs_algorithms() {
    let config =
        json!({"name": "hs", "issuer": ISSUER, "secret_env": SECRET_ENV, "algorithms": ["RS256"]});
    assert_eq!(
        paths(validate(&[config])),
        ["jwt_providers[0].algorithms[0]"]
    );
}

#[test]
fn a_secret_shorter_than_the_hash_is_refused_without_showing_it() {
    let config =
        json!({"name": "hs", "issuer": ISSUER, "secret_env": "SHORT", "algorithms": ["HS512"]});
    let problems = validate_with(&[config], |_| Some("tiny-secret-value".into())).unwrap_err();
    assert_eq!(
        problems[0].message,
        "expected a secret of at least 64 bytes in SHORT, got 17"
    );
    assert!(!problems[0].message.contains("tiny-secret-value"));
}

#[test]
fn a_missing_secret_variable_is_refused() {
    let config = json!({"name": "hs", "issuer": ISSUER, "secret_env": "UNSET"});
    assert_eq!(paths(validate(&[config])), ["jwt_providers[0].secret_env"]);
}

#[test]
fn a_secret_and_a_key_set_together_are_refused() {
    let mut config = main_config();
    config["secret_env"] = json!(SECRET_ENV);
    assert_eq!(paths(validate(&[config])), ["jwt_providers[0].secret_env"]);
}

#[test]
fn an_inline_key_set_without_a_usable_key_is_refused() {
    let mut config = main_config();
    config["jwks"] = json!({"keys": [{"kty": "oct", "k": "AAAA"}]});
    let problems = validate(&[config]).unwrap_err();
    assert_eq!(problems[0].path, "jwt_providers[0].jwks");
    assert!(
        problems[0]
            .message
            .contains("never accepted from a key set")
    );
}

#[test]
fn an_inline_key_set_without_a_key_for_the_algorithms_is_refused() {
    let mut config = main_config();
    config["algorithms"] = json!(["ES256"]);
    assert_eq!(paths(validate(&[config])), ["jwt_providers[0].jwks"]);
}

#[test]
fn names_and_issuers_must_be_unique() {
    let mut second = main_config();
    second["jwks"] = Value::Null;
    assert_eq!(
        paths(validate(&[main_config(), second])),
        ["jwt_providers[1].name", "jwt_providers[1].issuer"]
    );
}

#[test]
fn an_unknown_field_is_refused() {
    let mut config = main_config();
    config["audience"] = json!("api");
    assert!(serde_json::from_value::<ProviderConfig>(config).is_err());
}
