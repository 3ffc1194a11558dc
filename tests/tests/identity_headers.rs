//! What the upstream is allowed to see: never a client's own `x-auth-*` headers, never the
//! credential when `hide_credentials` is on, and never a dead filter after odd bytes.

use portcullis_e2e::fixtures::{self, ADMIN_TOKEN, ENV, SERVICE_TOKEN};
use portcullis_e2e::{Envoy, Request};

/// Headers a client might send to impersonate someone.
fn spoofed(request: Request) -> Request {
    request
        .header("x-auth-subject", "mallory")
        .header("X-Auth-Role", "system_admin")
        .header("X-AUTH-METHOD", "static_token")
        .header("x-auth-scopes", "billing:read")
        .header("x-auth-org", "victim-org")
}

#[test]
fn spoofed_identity_headers_never_reach_the_upstream() {
    let envoy = Envoy::start(fixtures::enforce(fixtures::routes()), &ENV);

    let public = envoy.send(&spoofed(Request::get("/health")));
    assert!(
        public.upstream_identity().is_empty(),
        "public route: {public}"
    );

    let anonymous = envoy.send(&spoofed(Request::get("/docs/intro")));
    assert!(
        anonymous.upstream_identity().is_empty(),
        "optional route: {anonymous}"
    );

    let protected = envoy.send(&spoofed(Request::get("/orders/7")).bearer(ADMIN_TOKEN));
    let identity = protected.upstream_identity();
    assert_eq!(
        identity.get("x-auth-subject").map(String::as_str),
        Some("local-admin")
    );
    assert_eq!(
        identity.get("x-auth-role").map(String::as_str),
        Some("admin")
    );
    assert_eq!(
        identity.get("x-auth-scopes").map(String::as_str),
        Some("reports:read reports:write")
    );
    assert!(
        !identity.contains_key("x-auth-org"),
        "protected route: {protected}"
    );
}

#[test]
fn hide_credentials_keeps_the_credential_from_the_upstream() {
    let mut config = fixtures::enforce(fixtures::routes());
    config["hide_credentials"] = true.into();
    let envoy = Envoy::start(config, &ENV);

    for request in [
        Request::get("/orders/7").bearer(ADMIN_TOKEN),
        Request::get("/orders/7").api_key(ADMIN_TOKEN),
        Request::get("/orders/7")
            .api_key(SERVICE_TOKEN)
            .bearer(SERVICE_TOKEN),
    ] {
        let response = envoy.send(&request);
        let headers = response.upstream_headers();
        assert!(headers.contains_key("x-auth-subject"), "{response}");
        assert!(!headers.contains_key("authorization"), "{response}");
        assert!(!headers.contains_key("x-api-key"), "{response}");
    }
}

#[test]
fn header_values_that_are_not_utf8_get_a_clean_reply_and_the_filter_survives() {
    let envoy = Envoy::start(fixtures::enforce(fixtures::routes()), &ENV);

    for (case, request) in [
        (
            "0xFF in X-API-Key",
            Request::get("/orders/7").raw_header("X-API-Key", b"pc_\xff_key"),
        ),
        (
            "0xFF in a Bearer token",
            Request::get("/orders/7").raw_header("Authorization", b"Bearer pc_\xff_key"),
        ),
        (
            "0xFF in an unrelated header",
            Request::get("/orders/7").raw_header("X-Note", b"caf\xff"),
        ),
    ] {
        let response = envoy.send(&request);
        assert!(
            matches!(response.status, 400 | 401),
            "{case}: expected a clean 400 or 401, got {response}"
        );
        let code = response.json()["code"].clone();
        assert!(
            [
                "invalid_request",
                "invalid_credentials",
                "missing_credentials"
            ]
            .iter()
            .any(|expected| code == *expected),
            "{case}: {response}"
        );

        let next = envoy.send(&Request::get("/orders/7").bearer(ADMIN_TOKEN));
        assert_eq!(next.status, 200, "the request after {case}: {next}");
    }

    let unrelated = envoy.send(
        &Request::get("/orders/7")
            .raw_header("X-Note", b"caf\xff")
            .bearer(ADMIN_TOKEN),
    );
    assert_eq!(
        unrelated
            .upstream_identity()
            .get("x-auth-subject")
            .map(String::as_str),
        Some("local-admin"),
        "a valid token next to an unrelated non-UTF-8 header: {unrelated}"
    );

    assert_eq!(
        envoy.counter("wasm.portcullis.vm_reload"),
        0,
        "the Wasm VM was reloaded"
    );
    assert!(!envoy.log().contains("panicked"), "the filter panicked");
}
