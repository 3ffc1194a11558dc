//! JWTs end to end: a real OpenID provider (npm's oidc-provider) issues access tokens, the
//! control-plane discovers it and fetches its key set, the syncer carries provider and keys
//! to Envoy, and the filter verifies each token inside Envoy.

use std::time::Duration;

use portcullis_e2e::oidc_provider::{API_AUDIENCE, Alg, CLIENT_ID, OTHER_AUDIENCE, OidcProvider};
use portcullis_e2e::temp_dir::TempDir;
use portcullis_e2e::{ControlPlane, Envoy, Request, Response, fixtures, poll};
use serde_json::json;

/// Where the filter answers the caller's identity itself.
const WHOAMI: &str = "/.well-known/portcullis/whoami";

/// How long a change may take to travel provider → control-plane → syncer → filter.
const SYNC_DEADLINE: Duration = Duration::from_secs(20);

/// Control-plane, OpenID provider and Envoy, with the provider registered and its keys
/// synced to Envoy.
struct Stack {
    oidc: OidcProvider,
    envoy: Envoy,
    plane: ControlPlane,
    keys: TempDir,
}

fn start(ttl: Duration) -> Stack {
    let keys = TempDir::new();
    let oidc = OidcProvider::start(&keys.path().join("keys.json"), ttl);
    // Refetch at most once a second for an unknown `kid`, so a rotation test is quick.
    let plane = ControlPlane::start_with_env(&[("PORTCULLIS_JWKS_MIN_KID_REFRESH_SECS", "1")]);
    let provider = json!({"issuer": oidc.issuer(), "audiences": [API_AUDIENCE], "typ": "at+jwt"});
    let created = plane.call("POST", "/v1/providers", Some(&provider));
    assert_eq!(created.status, 201, "{created}");
    let mut config = fixtures::with_api_keys(fixtures::routes());
    config["jwt"] = json!({"enabled": true});
    config["whoami_path"] = json!(WHOAMI);
    let envoy = Envoy::start_with_sync(
        config,
        &fixtures::SYNC_ENV,
        plane.port(),
        fixtures::syncer(),
    );
    Stack {
        oidc,
        envoy,
        plane,
        keys,
    }
}

/// Sends `GET path` with `token` until the status is `status`.
fn wait_for_status(envoy: &Envoy, path: &str, token: &str, status: u16) -> Response {
    let mut last = None;
    poll::until(SYNC_DEADLINE, || {
        let response = envoy.send(&Request::get(path).bearer(token));
        let done = response.status == status;
        last = Some(response.clone());
        done.then_some(response)
    })
    .unwrap_or_else(|| {
        panic!(
            "no {status} for {path} within {SYNC_DEADLINE:?}; last: {}",
            last.expect("a response")
        )
    })
}

#[test]
fn tokens_of_every_algorithm_from_a_real_provider_pass_with_their_identity() {
    let stack = start(Duration::from_secs(300));
    for alg in Alg::ALL {
        let token = stack.oidc.token(alg, API_AUDIENCE, "read write");
        let allowed = wait_for_status(&stack.envoy, "/private", &token, 200);
        let identity = allowed.upstream_identity();
        let header = |name: &str| identity.get(name).map(String::as_str);
        assert_eq!(header("x-auth-method"), Some("jwt"), "{}", alg.name());
        assert_eq!(header("x-auth-subject"), Some(CLIENT_ID));
        assert_eq!(header("x-auth-issuer"), Some(stack.oidc.issuer().as_str()));
        assert_eq!(header("x-auth-scopes"), Some("read write"));
        assert!(
            allowed.upstream_headers().contains_key("authorization"),
            "the credential reaches the upstream unless hide_credentials is set"
        );
    }
    let token = stack.oidc.token(Alg::Es256, API_AUDIENCE, "read");
    let whoami = stack.envoy.send(&Request::get(WHOAMI).bearer(&token));
    assert_eq!(whoami.status, 200, "{whoami}");
    let body = whoami.json();
    assert_eq!(
        (body["method"].as_str(), body["subject"].as_str()),
        (Some("jwt"), Some(CLIENT_ID))
    );
    assert_eq!(body["scopes"], json!(["read"]));
    let static_token = stack
        .envoy
        .send(&Request::get(WHOAMI).bearer(fixtures::ADMIN_TOKEN));
    assert_eq!(
        static_token.json()["method"],
        "static_token",
        "{static_token}"
    );
}

#[test]
fn tokens_for_another_audience_or_without_the_routes_scope_are_refused() {
    let stack = start(Duration::from_secs(300));
    let good = stack.oidc.token(Alg::Es256, API_AUDIENCE, "read");
    wait_for_status(&stack.envoy, "/private", &good, 200);

    let other = stack.oidc.token(Alg::Es256, OTHER_AUDIENCE, "read");
    let refused = stack.envoy.send(&Request::get("/private").bearer(&other));
    refused.assert_error(401, "unauthorized", "invalid_credentials");
    assert!(!refused.text().contains(&other));

    let scoped = stack.envoy.send(&Request::get("/reports/q3").bearer(&good));
    scoped.assert_error(403, "forbidden", "insufficient_scope");

    let mut forged = good.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let refused = stack.envoy.send(&Request::get("/private").bearer(&forged));
    refused.assert_error(401, "unauthorized", "invalid_credentials");
}

#[test]
fn an_expired_token_is_refused_once_its_exp_and_the_leeway_pass() {
    let stack = start(Duration::from_secs(1));
    let token = stack.oidc.token(Alg::Rs256, API_AUDIENCE, "read");
    // Valid for 1 s, plus the default 5 s leeway: 200 first (once synced), 401 after.
    let first = stack.envoy.send(&Request::get("/private").bearer(&token));
    assert!(matches!(first.status, 200 | 401 | 503), "{first}");
    let expired = wait_for_status(&stack.envoy, "/private", &token, 401);
    expired.assert_error(401, "unauthorized", "expired_credentials");
}

#[test]
fn after_the_provider_rotates_its_keys_new_tokens_pass_and_old_ones_fail() {
    let mut stack = start(Duration::from_secs(300));
    let old = stack.oidc.token(Alg::Rs256, API_AUDIENCE, "read");
    wait_for_status(&stack.envoy, "/private", &old, 200);
    let old_kids = kids(&stack.oidc.jwks());
    let scheduled = jwks_state(&stack.plane)["next_refresh_at"]
        .as_i64()
        .unwrap_or_default();

    // A missing key file makes the provider generate new keys: same issuer, new `kid`s.
    stack
        .oidc
        .restart(&stack.keys.path().join("rotated-keys.json"));
    let new_kids = kids(&stack.oidc.jwks());
    assert!(
        new_kids.iter().all(|kid| !old_kids.contains(kid)),
        "the provider kept a kid: {old_kids:?} → {new_kids:?}"
    );
    let new = stack.oidc.token(Alg::Rs256, API_AUDIENCE, "read");

    // The filter meets an unknown `kid`, the syncer reports it, the control-plane refetches
    // the key set at once (not at its next scheduled refresh) and syncs it to Envoy.
    let allowed = wait_for_status(&stack.envoy, "/private", &new, 200);
    assert_eq!(
        allowed
            .upstream_identity()
            .get("x-auth-method")
            .map(String::as_str),
        Some("jwt")
    );
    let refused = stack.envoy.send(&Request::get("/private").bearer(&old));
    refused.assert_error(401, "unauthorized", "invalid_credentials");

    let fetched = jwks_state(&stack.plane);
    let served = kids(&fetched["jwks"]);
    assert!(
        !served.is_empty() && served.iter().all(|kid| new_kids.contains(kid)),
        "the control-plane holds the rotated keys: {fetched}"
    );
    assert!(
        fetched["fetched_at"].as_i64().unwrap_or(i64::MAX) < scheduled,
        "the refetch came from the unknown-kid report, before the scheduled one at {scheduled}: {fetched}"
    );
}

/// `GET /v1/providers/{id}/jwks` of the stack's only provider.
fn jwks_state(plane: &ControlPlane) -> serde_json::Value {
    let providers = plane.call("GET", "/v1/providers", None).json();
    let id = providers["items"][0]["id"].as_str().unwrap_or_default();
    plane
        .call("GET", &format!("/v1/providers/{id}/jwks"), None)
        .json()
}

/// The `kid`s of a JWKS document.
fn kids(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|key| key["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
