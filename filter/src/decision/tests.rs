//! The request path end to end, natively: configuration in, decision out.

use super::*;
use crate::config::parse;
use crate::host::fake::FakeHost;
use crate::trusted_networks::peer_ip;

/// `decide` without a JWT verifier: these tests are about everything else.
fn decide<'c>(config: &'c Config, request: &Request<'_>, host: &impl Host) -> Decision<'c> {
    super::decide(config, request, host, None)
}

const ADMIN: &str = "admin_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
const SERVICE: &str = "service_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH";

fn env(name: &str) -> Option<String> {
    match name {
        "ADMIN_TOKEN" => Some(ADMIN.to_owned()),
        "SERVICE_TOKEN" => Some(SERVICE.to_owned()),
        _ => None,
    }
}

const ENFORCE: &str = r#"{
  "static_tokens": [
    {"name": "local-admin", "token_env": "ADMIN_TOKEN", "subject": "local-admin", "role": "admin",
     "scopes": ["reports:read"]},
    {"name": "ci", "token_env": "SERVICE_TOKEN", "subject": "ci", "role": "system_admin"}],
  "routes": [
    {"exact": "/health", "methods": ["GET", "HEAD"], "access": "public"},
    {"prefix": "/docs/", "access": "optional"},
    {"prefix": "/admin/", "roles": ["system_admin"]},
    {"prefix": "/reports/", "scopes": {"any_of": ["reports:read"]}},
    {"prefix": "/billing/", "scopes": {"all_of": ["billing:write"]}}]
}"#;

fn config(json: &str) -> Config {
    parse(json.as_bytes(), env).unwrap()
}

fn headers(method: &str, path: &str, extra: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let mut all = vec![
        (":method".to_owned(), method.as_bytes().to_vec()),
        (":path".to_owned(), path.as_bytes().to_vec()),
    ];
    all.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())),
    );
    all
}

fn decide_on(config: &Config, method: &str, path: &str, extra: &[(&str, &str)]) -> String {
    let headers = headers(method, path, extra);
    decide(
        config,
        &Request::new(&headers, peer_ip(b"127.0.0.1:5000")),
        &FakeHost::default(),
    )
    .label()
    .to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn health_stays_open_without_any_credential() {
    let c = config(ENFORCE);
    assert_eq!(decide_on(&c, "GET", "/health", &[]), "public");
    assert_eq!(
        decide_on(&c, "GET", "/health", &[("authorization", "Bearer junk")]),
        "public"
    );
    assert_eq!(decide_on(&c, "POST", "/health", &[]), "missing_credentials");
}

#[test]
fn every_other_path_requires_a_credential() {
    let c = config(ENFORCE);
    assert_eq!(
        decide_on(&c, "GET", "/anything", &[]),
        "missing_credentials"
    );
    assert_eq!(
        decide_on(&c, "GET", "/anything", &[("authorization", "Basic dTpw")]),
        "missing_credentials"
    );
}

#[test]
fn the_local_admin_token_is_allowed_with_its_identity() {
    let c = config(ENFORCE);
    let h = headers("GET", "/api", &[("authorization", &bearer(ADMIN))]);
    match decide(&c, &Request::new(&h, None), &FakeHost::default()) {
        Decision::Allowed { identity, hide } => {
            assert_eq!(identity.subject, "local-admin");
            assert_eq!(identity.roles, ["admin"]);
            assert_eq!(hide, Sources::default());
        }
        other => panic!("expected allowed, got {other:?}"),
    }
}

#[test]
fn a_token_in_x_api_key_is_accepted_too() {
    let c = config(ENFORCE);
    assert_eq!(
        decide_on(&c, "GET", "/api", &[("x-api-key", SERVICE)]),
        "allowed"
    );
}

#[test]
fn an_unknown_token_is_invalid_credentials() {
    let c = config(ENFORCE);
    let wrong = format!("{}x", &ADMIN[..ADMIN.len() - 1]);
    assert_eq!(
        decide_on(&c, "GET", "/api", &[("authorization", &bearer(&wrong))]),
        "invalid_credentials"
    );
}

#[test]
fn malformed_or_conflicting_credentials_are_invalid_request() {
    let c = config(ENFORCE);
    let conflicting = [("x-api-key", ADMIN), ("authorization", &bearer(SERVICE))];
    assert_eq!(
        decide_on(&c, "GET", "/api", &conflicting),
        "invalid_request"
    );
    let twice = [
        ("authorization", &bearer(ADMIN)[..]),
        ("authorization", &bearer(ADMIN)),
    ];
    assert_eq!(decide_on(&c, "GET", "/api", &twice), "invalid_request");
}

#[test]
fn optional_route_lets_anonymous_through_but_checks_a_presented_credential() {
    let c = config(ENFORCE);
    assert_eq!(decide_on(&c, "GET", "/docs/intro", &[]), "anonymous");
    assert_eq!(
        decide_on(&c, "GET", "/docs/intro", &[("x-api-key", "nope")]),
        "invalid_credentials"
    );
    assert_eq!(
        decide_on(&c, "GET", "/docs/intro", &[("x-api-key", ADMIN)]),
        "allowed"
    );
}

#[test]
fn role_requirement_admits_only_listed_roles() {
    let c = config(ENFORCE);
    assert_eq!(
        decide_on(&c, "GET", "/admin/users", &[("x-api-key", ADMIN)]),
        "forbidden"
    );
    assert_eq!(
        decide_on(&c, "GET", "/admin/users", &[("x-api-key", SERVICE)]),
        "allowed"
    );
}

#[test]
fn scope_requirements_are_evaluated_even_when_no_credential_can_meet_them() {
    let c = config(ENFORCE);
    assert_eq!(
        decide_on(&c, "GET", "/reports/q3", &[("x-api-key", ADMIN)]),
        "allowed"
    );
    assert_eq!(
        decide_on(&c, "GET", "/reports/q3", &[("x-api-key", SERVICE)]),
        "insufficient_scope"
    );
    assert_eq!(
        decide_on(&c, "POST", "/billing/pay", &[("x-api-key", ADMIN)]),
        "insufficient_scope"
    );
}

#[test]
fn hide_credentials_names_the_headers_that_carried_the_token() {
    let json = ENFORCE.replacen('{', r#"{"hide_credentials": true,"#, 1);
    let c = config(&json);
    let h = headers(
        "GET",
        "/api",
        &[("x-api-key", ADMIN), ("authorization", &bearer(ADMIN))],
    );
    match decide(&c, &Request::new(&h, None), &FakeHost::default()) {
        Decision::Allowed { hide, .. } => {
            assert_eq!(
                hide.names().collect::<Vec<_>>(),
                ["x-api-key", "authorization"]
            );
        }
        other => panic!("expected allowed, got {other:?}"),
    }
}

#[test]
fn zero_auth_admits_trusted_peers_as_local_admin_and_refuses_others() {
    let c = config(
        r#"{"mode": "zero_auth", "zero_auth": {"trusted_networks": ["127.0.0.1/32"]},
                      "routes": [{"exact": "/health", "access": "public"}]}"#,
    );
    let h = headers("DELETE", "/anything", &[]);
    match decide(
        &c,
        &Request::new(&h, peer_ip(b"127.0.0.1:4000")),
        &FakeHost::default(),
    ) {
        Decision::Allowed { identity, .. } => assert_eq!(identity.subject, "local_admin"),
        other => panic!("expected allowed, got {other:?}"),
    }
    let refused = decide(
        &c,
        &Request::new(&h, peer_ip(b"127.0.0.2:4000")),
        &FakeHost::default(),
    );
    assert_eq!(refused.label(), "untrusted_network");
    assert_eq!(
        decide(&c, &Request::new(&h, None), &FakeHost::default()).label(),
        "untrusted_network"
    );
    let health = headers("GET", "/health", &[]);
    assert_eq!(
        decide(
            &c,
            &Request::new(&health, peer_ip(b"10.1.1.1:1")),
            &FakeHost::default()
        )
        .label(),
        "public"
    );
}

#[test]
fn missing_pseudo_headers_fall_back_to_required() {
    let c = config(ENFORCE);
    let h = vec![(":path".to_owned(), vec![0xff, 0xfe])];
    assert_eq!(
        decide(&c, &Request::new(&h, None), &FakeHost::default()).label(),
        "missing_credentials"
    );
}

#[test]
fn denial_messages_never_contain_the_token() {
    let c = config(ENFORCE);
    let h = headers("GET", "/admin/x", &[("x-api-key", ADMIN)]);
    let Decision::Denied(denial) = decide(&c, &Request::new(&h, None), &FakeHost::default()) else {
        panic!("expected a denial")
    };
    let reply = crate::reply::render(&denial, &c.realm);
    assert!(!denial.to_string().contains(ADMIN));
    assert!(!reply.body.contains(ADMIN));
}

/// A small deterministic generator, so the test needs no dependency and replays exactly.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, alphabet: &[u8], max_len: u64) -> Vec<u8> {
        let len = self.next() % (max_len + 1);
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn arbitrary_header_bytes_never_panic_and_never_leak_the_token_into_a_reply() {
    let c = config(ENFORCE);
    let names = [
        ":method",
        ":path",
        "authorization",
        "x-api-key",
        "x-auth-role",
        "host",
    ];
    let mut alphabet: Vec<u8> = (0u8..=255).collect();
    // Bias towards the characters the parsers branch on.
    alphabet.extend_from_slice(b"Bearer bearer ,=/?#.-_~+ sk_");
    alphabet.extend_from_slice(ADMIN.as_bytes());
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let count = rng.next() % 6;
        let headers: Vec<(String, Vec<u8>)> = (0..count)
            .map(|_| {
                let name = names[(rng.next() % names.len() as u64) as usize].to_owned();
                (name, rng.bytes(&alphabet, 80))
            })
            .collect();
        let decision = decide(&c, &Request::new(&headers, None), &FakeHost::default());
        if let Decision::Denied(denial) = decision {
            let reply = crate::reply::render(&denial, &c.realm);
            assert!(!reply.body.contains(ADMIN));
        }
    }
}

mod api_keys {
    use super::*;
    use crate::api_key::compose;
    use crate::shared;
    use crate::static_token::digest;
    use crate::wire::{KeyEntry, KeyStatus};

    const NOW: i64 = 1_800_000_000;

    fn key() -> String {
        compose("0123456789abcdefghijKL")
    }

    fn host_with(status: KeyStatus, scopes: &[&str]) -> FakeHost {
        let host = FakeHost::default();
        host.set_now(NOW);
        host.set_shared(shared::SYNCED, b"3").unwrap();
        let entry = KeyEntry {
            digest: String::new(),
            key_id: "key_7".into(),
            org_id: "acme".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            roles: vec![],
            tier: None,
            expires_at: None,
            revoked_at: None,
            status,
        };
        shared::publish(&host, &digest(key().as_bytes()), &entry);
        host
    }

    fn enabled() -> Config {
        config(&ENFORCE.replacen('{', r#"{"api_keys": {"enabled": true},"#, 1))
    }

    fn label(config: &Config, path: &str, host: &FakeHost) -> String {
        let bearer = bearer(&key());
        let h = headers("GET", path, &[("authorization", &bearer)]);
        decide(config, &Request::new(&h, None), host)
            .label()
            .to_owned()
    }

    #[test]
    fn a_published_key_is_allowed_as_its_key_id_and_org() {
        let c = enabled();
        let host = host_with(KeyStatus::Active, &["reports:read"]);
        let h = headers("GET", "/reports/q3", &[("x-api-key", &key())]);
        match decide(&c, &Request::new(&h, None), &host) {
            Decision::Allowed { identity, .. } => {
                assert_eq!(identity.subject, "key_7");
                assert_eq!(
                    identity.key.as_ref().map(|k| k.org_id.as_str()),
                    Some("acme")
                );
            }
            other => panic!("expected allowed, got {other:?}"),
        }
    }

    #[test]
    fn route_requirements_apply_to_api_keys() {
        let host = host_with(KeyStatus::Active, &[]);
        assert_eq!(
            label(&enabled(), "/reports/q3", &host),
            "insufficient_scope"
        );
        assert_eq!(label(&enabled(), "/admin/x", &host), "forbidden");
    }

    #[test]
    fn revoked_keys_and_unsynced_filters_have_their_own_codes() {
        let c = enabled();
        assert_eq!(
            label(&c, "/api", &host_with(KeyStatus::Revoked, &[])),
            "revoked_credentials"
        );
        assert_eq!(label(&c, "/api", &FakeHost::default()), "not_ready");
    }

    #[test]
    fn without_api_keys_enabled_an_sk_token_is_just_an_unknown_token() {
        let host = host_with(KeyStatus::Active, &[]);
        assert_eq!(
            label(&config(ENFORCE), "/api", &host),
            "invalid_credentials"
        );
    }
}
