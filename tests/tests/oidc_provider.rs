//! The OpenID provider the JWT tests rely on, alone (no Envoy): what it discovers and
//! publishes, the access tokens it issues for each algorithm, and key rotation on restart.
//! Tokens are only decoded here, never verified: verifying them is the filter's job.

use std::collections::BTreeMap;
use std::time::Duration;

use portcullis_e2e::oidc_provider::{
    API_AUDIENCE, Alg, CLIENT_ID, JWKS_PATH, OTHER_AUDIENCE, OidcProvider,
};
use portcullis_e2e::temp_dir::TempDir;
use serde_json::Value;

/// Not the provider's default lifetime, so the tests see the argument applied.
const TTL: Duration = Duration::from_secs(120);

#[test]
fn discovery_names_the_issuer_and_a_jwks_with_one_public_key_per_algorithm() {
    let dir = TempDir::new();
    let provider = OidcProvider::start(&dir.join("keys.json"), TTL);
    let issuer = provider.issuer();
    assert_eq!(issuer, format!("http://127.0.0.1:{}", provider.port()));

    let discovery = provider.discovery();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{issuer}{JWKS_PATH}"));
    assert_eq!(discovery["token_endpoint"], format!("{issuer}/token"));
    let grants = discovery["grant_types_supported"].to_string();
    assert!(grants.contains("client_credentials"), "{discovery}");

    let published = provider.jwks();
    let kids = kids_by_alg(&published);
    assert_eq!(
        kids.len(),
        Alg::ALL.len(),
        "one key per algorithm: {published}"
    );
    for key in keys(&published) {
        let alg = key["alg"].as_str().unwrap_or_default();
        let (kty, crv) = match alg {
            "RS256" | "PS256" => ("RSA", None),
            "ES256" => ("EC", Some("P-256")),
            "EdDSA" => ("OKP", Some("Ed25519")),
            other => panic!("unexpected alg {other:?} in {published}"),
        };
        assert_eq!(key["kty"], kty, "{key}");
        assert_eq!(key["crv"].as_str(), crv, "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "published private `{private}`: {key}"
            );
        }
    }
    let stored: Value = serde_json::from_slice(
        &std::fs::read(provider.jwks_path()).expect("read the provider's key file"),
    )
    .expect("the key file is JSON");
    assert_eq!(
        kids_by_alg(&stored),
        kids,
        "the key file holds the published keys"
    );
}

#[test]
fn each_algorithm_signs_an_at_jwt_for_the_requested_audience_and_scopes() {
    let dir = TempDir::new();
    let provider = OidcProvider::start(&dir.join("keys.json"), TTL);
    let kids = kids_by_alg(&provider.jwks());

    for alg in Alg::ALL {
        for audience in [API_AUDIENCE, OTHER_AUDIENCE] {
            let token = provider.token(alg, audience, "read write");
            let (header, claims) = decode(&token);
            assert_eq!(header["alg"], alg.name(), "{header}");
            assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1: {header}");
            assert_eq!(
                header["kid"].as_str(),
                kids.get(alg.name()).map(String::as_str)
            );
            assert_eq!(claims["iss"], provider.issuer(), "{claims}");
            assert_eq!(claims["aud"], audience, "{claims}");
            assert_eq!(claims["scope"], "read write", "{claims}");
            assert_eq!(claims["client_id"], CLIENT_ID, "{claims}");
            assert_eq!(claims["sub"], CLIENT_ID, "{claims}");
            let lifetime = claims["exp"].as_u64().zip(claims["iat"].as_u64());
            assert_eq!(lifetime.map(|(exp, iat)| exp - iat), Some(TTL.as_secs()));
        }
    }
}

#[test]
fn a_token_carries_only_the_requested_scopes_the_audience_knows() {
    let dir = TempDir::new();
    let provider = OidcProvider::start(&dir.join("keys.json"), TTL);

    let (_, read_only) = decode(&provider.token(Alg::Es256, API_AUDIENCE, "read"));
    assert_eq!(read_only["scope"], "read", "{read_only}");

    let (_, unknown_dropped) = decode(&provider.token(Alg::Es256, API_AUDIENCE, "write admin"));
    assert_eq!(unknown_dropped["scope"], "write", "{unknown_dropped}");

    let (_, none) = decode(&provider.token(Alg::Es256, API_AUDIENCE, ""));
    assert!(none.get("scope").is_none(), "{none}");
}

#[test]
fn restart_keeps_the_keys_of_the_same_file_and_rotates_them_with_a_fresh_one() {
    let dir = TempDir::new();
    let first = dir.join("keys.json");
    let mut provider = OidcProvider::start(&first, TTL);
    let issuer = provider.issuer();
    let original = kids_by_alg(&provider.jwks());

    provider.restart(&first);
    assert_eq!(provider.issuer(), issuer);
    assert_eq!(kids_by_alg(&provider.jwks()), original);
    let (header, _) = decode(&provider.token(Alg::Rs256, API_AUDIENCE, "read"));
    assert_eq!(
        header["kid"].as_str(),
        original.get("RS256").map(String::as_str)
    );

    let fresh = dir.join("rotated-keys.json");
    provider.restart(&fresh);
    assert_eq!(provider.issuer(), issuer, "the issuer survives rotation");
    assert_eq!(provider.jwks_path(), fresh.as_path());
    let rotated = kids_by_alg(&provider.jwks());
    assert_eq!(rotated.len(), Alg::ALL.len(), "{rotated:?}");
    for alg in Alg::ALL {
        assert_ne!(rotated.get(alg.name()), original.get(alg.name()), "{alg:?}");
        let (header, _) = decode(&provider.token(alg, API_AUDIENCE, "read"));
        assert_eq!(
            header["kid"].as_str(),
            rotated.get(alg.name()).map(String::as_str)
        );
    }
}

fn keys(jwks: &Value) -> &[Value] {
    jwks["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no `keys` array in {jwks}"))
}

/// `alg` -> `kid` of every key in a JWKS.
fn kids_by_alg(jwks: &Value) -> BTreeMap<String, String> {
    keys(jwks)
        .iter()
        .map(|key| {
            let member = |name: &str| {
                key[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("no `{name}` in {key}"))
                    .to_string()
            };
            (member("alg"), member("kid"))
        })
        .collect()
}

/// The JOSE header and the claims of a compact JWS, unverified.
fn decode(token: &str) -> (Value, Value) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "not a compact JWS: {token:?}");
    let json = |segment: &str| -> Value {
        serde_json::from_slice(&base64url_decode(segment))
            .unwrap_or_else(|error| panic!("segment {segment:?} is not JSON: {error}"))
    };
    (json(segments[0]), json(segments[1]))
}

/// Unpadded base64url (RFC 4648 §5), as JWS segments are encoded (RFC 7515 §2).
fn base64url_decode(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for character in text.bytes() {
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            other => panic!("{:?} is not base64url in {text:?}", char::from(other)),
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    bytes
}
