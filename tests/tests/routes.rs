//! Route rules end to end: public, optional and required access, first match wins, method
//! lists, and the 403s for missing scopes and roles.

use portcullis_e2e::fixtures::{self, ADMIN_TOKEN, ENV, SERVICE_TOKEN, UNKNOWN_TOKEN};
use portcullis_e2e::{Envoy, Request};

fn start() -> Envoy {
    Envoy::start(fixtures::enforce(fixtures::routes()), &ENV)
}

#[test]
fn public_routes_are_open_and_set_no_identity() {
    let envoy = start();
    for request in [
        Request::get("/health"),
        Request::get("/health?probe=liveness"),
        Request::new("HEAD", "/health"),
        // No credential is checked on a public route, not even a wrong one.
        Request::get("/health").bearer(UNKNOWN_TOKEN),
        Request::get("/reports/status"),
    ] {
        let response = envoy.send(&request);
        assert_eq!(response.status, 200, "{request:?}: {response}");
        if !response.body.is_empty() {
            assert!(response.upstream_identity().is_empty(), "{response}");
        }
    }
}

#[test]
fn requests_outside_a_public_rule_need_a_credential() {
    let envoy = start();
    for request in [
        // `methods` limits the public rule to GET and HEAD.
        Request::new("POST", "/health").body(b"{}"),
        // `exact` is not a prefix.
        Request::get("/health/details"),
        // The first match wins: `/reports/` comes before the public `/reports/shadowed`.
        Request::get("/reports/shadowed"),
        // No rule matches: required.
        Request::get("/anything/else"),
    ] {
        let response = envoy.send(&request);
        response.assert_error(401, "unauthorized", "missing_credentials");
    }
}

#[test]
fn optional_routes_admit_anonymous_requests_but_check_presented_credentials() {
    let envoy = start();

    let anonymous = envoy.send(&Request::get("/docs/intro"));
    assert!(anonymous.upstream_identity().is_empty(), "{anonymous}");

    let known = envoy.send(&Request::get("/docs/intro").bearer(ADMIN_TOKEN));
    assert_eq!(
        known
            .upstream_identity()
            .get("x-auth-subject")
            .map(String::as_str),
        Some("local-admin"),
        "{known}"
    );

    let unknown = envoy.send(&Request::get("/docs/intro").bearer(UNKNOWN_TOKEN));
    unknown.assert_error(401, "unauthorized", "invalid_credentials");
}

#[test]
fn missing_scopes_are_refused_as_insufficient_scope() {
    let envoy = start();

    for target in ["/reports/q3", "/exports/q3"] {
        let allowed = envoy.send(&Request::get(target).bearer(ADMIN_TOKEN));
        assert_eq!(allowed.status, 200, "local admin on {target}: {allowed}");
    }

    for (token, target, scope) in [
        (SERVICE_TOKEN, "/reports/q3", "reports:read"),
        (SERVICE_TOKEN, "/exports/q3", "reports:read reports:write"),
        (ADMIN_TOKEN, "/billing/q3", "billing:read"),
    ] {
        let response = envoy.send(&Request::get(target).bearer(token));
        response.assert_error(403, "forbidden", "insufficient_scope");
        let challenge = response.www_authenticate();
        assert!(
            challenge.contains(r#"error="insufficient_scope""#),
            "{target}: {response}"
        );
        assert!(
            challenge.contains(&format!(r#"scope="{scope}""#)),
            "{target}: {response}"
        );
        assert!(
            !response.text().contains(token),
            "{target} echoed the token: {response}"
        );
    }
}

#[test]
fn a_role_outside_the_rule_is_forbidden() {
    let envoy = start();

    let service = envoy.send(&Request::get("/admin/users").bearer(SERVICE_TOKEN));
    assert_eq!(service.status, 200, "{service}");

    for target in [
        "/admin/users",
        // Normalised by Envoy before the filter sees the path.
        "//admin/users",
        "/docs/../admin/users",
    ] {
        let response = envoy.send(&Request::get(target).bearer(ADMIN_TOKEN));
        response.assert_error(403, "forbidden", "forbidden");
    }

    let anonymous = envoy.send(&Request::get("/admin/users"));
    anonymous.assert_error(401, "unauthorized", "missing_credentials");
}
