//! Brute-force protection on the request path: failed credentials counted the way the glue
//! counts them, and what a client that reached the limit gets on every kind of route.

use super::*;
use crate::config::parse;
use crate::failure_limit::{self, Client};
use crate::host::fake::FakeHost;

const ADMIN: &str = "admin_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
const WRONG: &str = "wrong_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";

/// The start of an hour (1,800,000,000 = 500,000 hours).
const T0: i64 = 1_800_000_000;

fn config(failure_limit: &str) -> Config {
    let json = format!(
        r#"{{"static_tokens": [{{"name": "admin", "token_env": "ADMIN_TOKEN",
            "subject": "local-admin", "role": "admin"}}],
          "routes": [{{"exact": "/health", "access": "public"}},
                     {{"prefix": "/docs/", "access": "optional"}}],
          "failure_limit": {failure_limit}}}"#
    );
    parse(json.as_bytes(), |name| {
        (name == "ADMIN_TOKEN").then(|| ADMIN.to_owned())
    })
    .unwrap()
}

fn host() -> FakeHost {
    let host = FakeHost::default();
    host.set_now(T0 + 100);
    failure_limit::prepare(&host).unwrap();
    host
}

/// Decides `GET path` from `peer` with `token`, counting a failed credential as the glue
/// does; returns the decision's label.
fn attempt(
    config: &Config,
    host: &FakeHost,
    peer: &str,
    path: &str,
    token: Option<&str>,
) -> String {
    let mut headers = vec![
        (":method".to_owned(), b"GET".to_vec()),
        (":path".to_owned(), path.as_bytes().to_vec()),
    ];
    if let Some(token) = token {
        headers.push((
            "authorization".to_owned(),
            format!("Bearer {token}").into_bytes(),
        ));
    }
    let peer: IpAddr = peer.parse().unwrap();
    let decision = decide(config, &Request::new(&headers, Some(peer)), host, None);
    if let (Decision::Denied(denial), Some(limit)) = (&decision, &config.failure_limit)
        && failure_limit::counts(denial)
    {
        limit.record_failure(host, Client::of(peer)).unwrap();
    }
    decision.label().to_owned()
}

#[test]
fn after_the_limit_a_valid_token_from_the_same_client_is_refused_and_others_pass() {
    let config = config(r#"{"requests_per_unit": 3, "unit": "hour"}"#);
    let host = host();
    for _ in 0..3 {
        assert_eq!(
            attempt(&config, &host, "10.0.0.1", "/orders", Some(WRONG)),
            "invalid_credentials"
        );
    }
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/orders", Some(WRONG)),
        "rate_limited"
    );
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/orders", Some(ADMIN)),
        "rate_limited"
    );
    assert_eq!(
        attempt(&config, &host, "10.0.0.2", "/orders", Some(ADMIN)),
        "allowed"
    );
    let headers = vec![
        (":path".to_owned(), b"/orders".to_vec()),
        (
            "authorization".to_owned(),
            format!("Bearer {ADMIN}").into_bytes(),
        ),
    ];
    let Decision::Denied(Denial::RateLimited(blocked)) = decide(
        &config,
        &Request::new(&headers, "10.0.0.1".parse().ok()),
        &host,
        None,
    ) else {
        panic!("expected rate_limited")
    };
    assert_eq!(blocked.retry_after_secs, 3_600 - 100);
    host.set_now(T0 + 3_600);
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/orders", Some(ADMIN)),
        "allowed"
    );
}

#[test]
fn a_blocked_client_still_reaches_public_routes_and_is_told_what_it_lacks_without_a_credential() {
    let config = config(r#"{"requests_per_unit": 1, "unit": "hour"}"#);
    let host = host();
    attempt(&config, &host, "10.0.0.1", "/orders", Some(WRONG));
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/health", Some(ADMIN)),
        "public"
    );
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/docs/a", None),
        "anonymous"
    );
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/orders", None),
        "missing_credentials"
    );
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/docs/a", Some(ADMIN)),
        "rate_limited"
    );
}

#[test]
fn missing_credentials_are_not_counted() {
    let config = config(r#"{"requests_per_unit": 1, "unit": "hour"}"#);
    let host = host();
    for _ in 0..5 {
        assert_eq!(
            attempt(&config, &host, "10.0.0.1", "/orders", None),
            "missing_credentials"
        );
    }
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/orders", Some(ADMIN)),
        "allowed"
    );
}

#[test]
fn with_the_limit_off_failures_are_never_refused() {
    let config = config(r#"{"enabled": false}"#);
    let host = host();
    for _ in 0..100 {
        assert_eq!(
            attempt(&config, &host, "10.0.0.1", "/orders", Some(WRONG)),
            "invalid_credentials"
        );
    }
    assert_eq!(
        attempt(&config, &host, "10.0.0.1", "/orders", Some(ADMIN)),
        "allowed"
    );
}
