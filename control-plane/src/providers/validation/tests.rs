//! Each case differs from a valid provider in one field and must be refused by name.

use super::*;
use crate::providers::DEFAULT_MAX_TOKEN_BYTES;

fn config() -> ProviderConfig {
    serde_json::from_value(serde_json::json!({
        "issuer": "https://idp.example/",
        "audiences": ["api"],
        "required_claims": ["sub"],
        "role_implications": {"org:admin": {"scopes": ["keys:write"], "roles": ["member"]}}
    }))
    .unwrap()
}

fn field_of(result: Result<Provider, ProviderError>) -> String {
    match result {
        Err(ProviderError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn a_valid_config_keeps_its_issuer_exactly() {
    assert_eq!(check(config()).unwrap().issuer, "https://idp.example/");
}

#[test]
fn each_bad_field_is_named() {
    let mut implication = BTreeMap::new();
    implication.insert(
        "admin".to_owned(),
        RoleImplication {
            scopes: vec!["a b".into()],
            roles: vec![],
        },
    );
    let cases: Vec<(ProviderConfig, &str)> = vec![
        (
            ProviderConfig {
                issuer: "http://idp.example".into(),
                ..config()
            },
            "issuer",
        ),
        (
            ProviderConfig {
                issuer: "https://idp.example/?t=1".into(),
                ..config()
            },
            "issuer",
        ),
        (
            ProviderConfig {
                issuer: "idp.example".into(),
                ..config()
            },
            "issuer",
        ),
        (
            ProviderConfig {
                jwks_uri: Some("http://idp.example/k".into()),
                ..config()
            },
            "jwks_uri",
        ),
        (
            ProviderConfig {
                audiences: vec!["ok".into(), String::new()],
                ..config()
            },
            "audiences[1]",
        ),
        (
            ProviderConfig {
                algorithms: vec!["RS256".into(), "HS256".into()],
                ..config()
            },
            "algorithms[1]",
        ),
        (
            ProviderConfig {
                algorithms: vec!["none".into()],
                ..config()
            },
            "algorithms[0]",
        ),
        (
            ProviderConfig {
                algorithms: vec!["rs256".into()],
                ..config()
            },
            "algorithms[0]",
        ),
        (
            ProviderConfig {
                leeway_secs: 301,
                ..config()
            },
            "leeway_secs",
        ),
        (
            ProviderConfig {
                required_claims: vec!["a\nb".into()],
                ..config()
            },
            "required_claims[0]",
        ),
        (
            ProviderConfig {
                authorized_parties: vec!["x".repeat(257)],
                ..config()
            },
            "authorized_parties[0]",
        ),
        (
            ProviderConfig {
                typ: Some("at jwt".into()),
                ..config()
            },
            "typ",
        ),
        (
            ProviderConfig {
                max_token_bytes: 1023,
                ..config()
            },
            "max_token_bytes",
        ),
        (
            ProviderConfig {
                max_token_bytes: 65537,
                ..config()
            },
            "max_token_bytes",
        ),
        (
            ProviderConfig {
                role_implications: implication,
                ..config()
            },
            "role_implications.admin.scopes[0]",
        ),
        (
            ProviderConfig {
                audiences: vec!["a".into(); 65],
                ..config()
            },
            "audiences",
        ),
    ];
    for (config, field) in cases {
        assert_eq!(field_of(check(config.clone())), field, "{config:?}");
    }
}

#[test]
fn a_symmetric_algorithm_is_refused_with_the_reason() {
    let err = check(ProviderConfig {
        algorithms: vec!["HS256".into()],
        ..config()
    })
    .unwrap_err();
    assert!(err.to_string().contains("not asymmetric"), "{err}");
}

#[test]
fn a_patch_is_checked_by_the_same_rules_and_may_clear_jwks_uri_and_typ() {
    let bad = ProviderPatch {
        max_token_bytes: Some(DEFAULT_MAX_TOKEN_BYTES * 100),
        ..ProviderPatch::default()
    };
    assert!(matches!(
        check_patch(&bad),
        Err(ProviderError::Invalid { field, .. }) if field == "max_token_bytes"
    ));
    let clear = ProviderPatch {
        jwks_uri: Some(None),
        typ: Some(None),
        ..ProviderPatch::default()
    };
    assert!(check_patch(&clear).is_ok());
}
