//! JWTs on the request path: which credentials are JWTs, the identity they give, their
//! refusals, and the whoami answer.

use super::*;
use crate::config::parse;
use crate::host::fake::FakeHost;
use crate::jwt::algorithm::Algorithm;
use crate::jwt::testkit::{self, NOW};
use serde_json::json;

fn config(whoami: bool) -> Config {
    let mut provider = testkit::main_config();
    provider["implied_scopes"] = json!({"org:admin": ["reports:read"]});
    let mut config = json!({
        "jwt": {"enabled": true, "providers": [provider],
                "claim_headers": [{"claim": "email", "header": "x-auth-email"}]},
        "routes": [{"prefix": "/reports/", "scopes": {"any_of": ["reports:read"]}}],
    });
    if whoami {
        config["whoami_path"] = json!("/.well-known/portcullis/whoami");
    }
    parse(config.to_string().as_bytes(), testkit::env).unwrap()
}

fn token(claims: serde_json::Value) -> String {
    testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg": "RS256", "kid": "rsa-1"}),
        &claims,
    )
}

fn org_admin() -> String {
    let mut claims = testkit::good_claims();
    claims["org_id"] = json!("org_1");
    claims["org_role"] = json!("admin");
    claims["email"] = json!("ada@example.com");
    token(claims)
}

fn decide_with(config: &Config, path: &str, header: (&str, String)) -> Decision<'static> {
    let headers = vec![
        (":method".to_owned(), b"GET".to_vec()),
        (":path".to_owned(), path.as_bytes().to_vec()),
        (header.0.to_owned(), header.1.into_bytes()),
    ];
    let host = FakeHost::default();
    host.set_now(NOW);
    let mut cache = JwksCache::new(config.jwt.as_ref().unwrap());
    match decide(
        config,
        &Request::new(&headers, None),
        &host,
        Some(&mut cache),
    ) {
        Decision::Allowed { identity, .. } => Decision::Allowed {
            identity: Cow::Owned(identity.into_owned()),
            hide: Sources::default(),
        },
        Decision::Whoami { identity } => Decision::Whoami {
            identity: Cow::Owned(identity.into_owned()),
        },
        Decision::Denied(denial) => Decision::Denied(denial),
        Decision::Public => Decision::Public,
        Decision::Anonymous => Decision::Anonymous,
    }
}

#[test]
fn a_bearer_jwt_with_an_implied_scope_passes_with_its_identity_headers() {
    let config = config(false);
    let decision = decide_with(
        &config,
        "/reports/1",
        ("authorization", format!("Bearer {}", org_admin())),
    );
    let Decision::Allowed { identity, .. } = decision else {
        panic!("{decision:?}");
    };
    let headers: Vec<(String, String)> = identity
        .headers()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    for expected in [
        ("x-auth-method", "jwt"),
        ("x-auth-subject", "user_1"),
        ("x-auth-org", "org_1"),
        ("x-auth-org-role", "org:admin"),
        ("x-auth-issuer", testkit::ISSUER),
        ("x-auth-email", "ada@example.com"),
    ] {
        assert!(
            headers.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {headers:?}"
        );
    }
}

#[test]
fn a_jwt_without_the_routes_scope_is_insufficient_scope() {
    let decision = decide_with(
        &config(false),
        "/reports/1",
        (
            "authorization",
            format!("Bearer {}", token(testkit::good_claims())),
        ),
    );
    assert_eq!(decision.label(), "insufficient_scope");
}

#[test]
fn an_expired_jwt_is_expired_credentials_and_a_forged_one_invalid() {
    let mut claims = testkit::good_claims();
    claims["exp"] = json!(NOW - 60);
    let expired = decide_with(
        &config(false),
        "/x",
        ("authorization", format!("Bearer {}", token(claims))),
    );
    assert_eq!(expired.label(), "expired_credentials");
    let mut forged = org_admin();
    forged.push('A');
    let forged = decide_with(
        &config(false),
        "/x",
        ("authorization", format!("Bearer {forged}")),
    );
    assert_eq!(forged.label(), "invalid_credentials");
}

#[test]
fn a_jwt_in_x_api_key_is_not_a_jwt() {
    let decision = decide_with(&config(false), "/x", ("x-api-key", org_admin()));
    assert_eq!(decision.label(), "invalid_credentials");
}

#[test]
fn whoami_answers_the_identity_and_needs_a_credential() {
    let config = config(true);
    let path = "/.well-known/portcullis/whoami?x=1";
    let decision = decide_with(
        &config,
        path,
        ("authorization", format!("Bearer {}", org_admin())),
    );
    let Decision::Whoami { identity } = decision else {
        panic!("{decision:?}");
    };
    let body: serde_json::Value =
        serde_json::from_str(&crate::reply::whoami(&identity).body).unwrap();
    assert_eq!(body["method"], "jwt");
    assert_eq!(body["org_role"], "org:admin");
    assert_eq!(body["scopes"], json!(["reports:read"]));
    let none = decide_with(&config, path, ("x-other", String::new()));
    assert_eq!(none.label(), "missing_credentials");
}
