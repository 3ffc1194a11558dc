//! Static tokens end to end: who gets through with which identity, and the exact 401 and
//! 400 replies for missing, unknown and ambiguous credentials.

use portcullis_e2e::fixtures::{
    self, ADMIN_SCOPES, ADMIN_TOKEN, ENV, SERVICE_TOKEN, UNKNOWN_TOKEN,
};
use portcullis_e2e::{Envoy, Request, Response};

fn start() -> Envoy {
    Envoy::start(fixtures::enforce(fixtures::routes()), &ENV)
}

fn assert_identity(response: &Response, subject: &str, role: &str, scopes: &str) {
    let identity = response.upstream_identity();
    assert_eq!(
        identity.get("x-auth-method").map(String::as_str),
        Some("static_token"),
        "{response}"
    );
    assert_eq!(
        identity.get("x-auth-subject").map(String::as_str),
        Some(subject),
        "{response}"
    );
    assert_eq!(
        identity.get("x-auth-role").map(String::as_str),
        Some(role),
        "{response}"
    );
    assert_eq!(
        identity.get("x-auth-scopes").map_or("", String::as_str),
        scopes,
        "{response}"
    );
}

#[test]
fn valid_static_tokens_reach_the_upstream_with_their_identity() {
    let envoy = start();
    let admin_scopes = ADMIN_SCOPES.join(" ");

    let bearer = envoy.send(&Request::get("/orders/7").bearer(ADMIN_TOKEN));
    assert_identity(&bearer, "local-admin", "admin", &admin_scopes);
    // hide_credentials is off by default: the upstream still sees the credential.
    assert_eq!(
        bearer
            .upstream_headers()
            .get("authorization")
            .map(String::as_str),
        Some(format!("Bearer {ADMIN_TOKEN}").as_str())
    );

    let api_key = envoy.send(&Request::get("/orders/7").api_key(ADMIN_TOKEN));
    assert_identity(&api_key, "local-admin", "admin", &admin_scopes);

    let lowercase_scheme = envoy
        .send(&Request::get("/orders/7").header("Authorization", &format!("bearer {ADMIN_TOKEN}")));
    assert_identity(&lowercase_scheme, "local-admin", "admin", &admin_scopes);

    // Known to the configuration only by its SHA-256.
    let service = envoy.send(&Request::get("/orders/7").bearer(SERVICE_TOKEN));
    assert_identity(&service, "ci", "system_admin", "");
}

#[test]
fn request_without_credentials_gets_a_bare_bearer_challenge() {
    let envoy = start();
    for request in [
        Request::get("/orders/7"),
        // Another scheme is not a credential Portcullis checks.
        Request::get("/orders/7").header("Authorization", "Basic dXNlcjpwYXNz"),
    ] {
        let response = envoy.send(&request);
        response.assert_error(401, "unauthorized", "missing_credentials");
        assert_eq!(response.www_authenticate(), r#"Bearer realm="portcullis""#);
    }
}

#[test]
fn unknown_token_is_refused_as_invalid_without_echoing_it() {
    let envoy = start();
    for request in [
        Request::get("/orders/7").bearer(UNKNOWN_TOKEN),
        Request::get("/orders/7").api_key(UNKNOWN_TOKEN),
    ] {
        let response = envoy.send(&request);
        response.assert_error(401, "unauthorized", "invalid_credentials");
        let challenge = response.www_authenticate();
        assert!(
            challenge.starts_with(r#"Bearer realm="portcullis""#),
            "{response}"
        );
        assert!(challenge.contains(r#"error="invalid_token""#), "{response}");
        assert!(!response.text().contains(UNKNOWN_TOKEN), "{response}");
    }
}

#[test]
fn ambiguous_or_malformed_credentials_are_a_bad_request() {
    let envoy = start();
    let cases = [
        (
            "two Authorization headers",
            Request::get("/orders/7")
                .bearer(ADMIN_TOKEN)
                .bearer(ADMIN_TOKEN),
            "the request has more than one authorization header",
        ),
        (
            "two X-API-Key headers",
            Request::get("/orders/7")
                .api_key(ADMIN_TOKEN)
                .api_key(ADMIN_TOKEN),
            "the request has more than one x-api-key header",
        ),
        (
            "X-API-Key and Bearer disagreeing",
            Request::get("/orders/7")
                .api_key(ADMIN_TOKEN)
                .bearer(SERVICE_TOKEN),
            "x-api-key and authorization carry different credentials; send one",
        ),
        (
            "an empty Bearer token",
            Request::get("/orders/7").header("Authorization", "Bearer "),
            "authorization uses the bearer scheme but carries no token",
        ),
        (
            "a Bearer token with characters outside token68",
            Request::get("/orders/7").header("Authorization", "Bearer not;a:token"),
            "authorization is not a well-formed token (RFC 6750 §2.1)",
        ),
    ];
    for (case, request, message) in cases {
        let response = envoy.send(&request);
        assert_eq!(response.status, 400, "{case}: {response}");
        response.assert_error(400, "bad_request", "invalid_request");
        assert_eq!(response.json()["message"], message, "{case}: {response}");
        assert!(
            response
                .www_authenticate()
                .contains(r#"error="invalid_request""#),
            "{case}: {response}"
        );
        for token in [ADMIN_TOKEN, SERVICE_TOKEN] {
            assert!(
                !response.text().contains(token),
                "{case} echoed a token: {response}"
            );
        }
    }
}

#[test]
fn the_same_credential_in_both_headers_is_accepted() {
    let envoy = start();
    let response = envoy.send(
        &Request::get("/orders/7")
            .api_key(SERVICE_TOKEN)
            .bearer(SERVICE_TOKEN),
    );
    assert_identity(&response, "ci", "system_admin", "");
}
