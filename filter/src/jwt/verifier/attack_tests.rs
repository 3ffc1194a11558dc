//! The attacks of RFC 8725 and the JWT vulnerabilities seen in the wild, each as a token
//! that must be rejected.

use super::*;
use crate::jwt::algorithm::Algorithm;
use crate::jwt::base64url::encode;
use crate::jwt::header::HeaderError;
use crate::jwt::json::JsonError;
use crate::jwt::testkit::{
    self, ISSUER, NOW, SECRET_ENV, TestKey, good_claims, main_config, mint_raw,
};
use crate::jwt::token::{Segment, TokenError};
use serde_json::json;

fn main_providers() -> Providers {
    testkit::providers(&[main_config()])
}

/// An unsigned token: `header.claims.` with an empty signature.
fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        encode(header.to_string().as_bytes()),
        encode(claims.to_string().as_bytes())
    )
}

#[test]
fn alg_none_is_rejected_in_every_casing() {
    for none in ["none", "None", "NONE", "nOnE"] {
        let token = unsigned(&json!({"alg": none}), &good_claims());
        assert_eq!(
            main_providers().verify(&token, NOW),
            Err(JwtRejection::Header(HeaderError::NoneAlgorithm {
                actual: none.into()
            }))
        );
    }
}

#[test]
fn an_rs256_public_key_used_as_an_hs256_secret_is_rejected() {
    // The classic confusion: sign HS256 with the provider's public key as the secret.
    let jwk = testkit::rsa().jwk(Some("rsa-1"), Some("RS256"));
    let n = crate::jwt::base64url::decode(jwk["n"].as_str().unwrap().as_bytes()).unwrap();
    for secret in [jwk.to_string().into_bytes(), n] {
        let forged = TestKey::Secret(secret).mint(
            Algorithm::Hs256,
            &json!({"alg":"HS256","kid":"rsa-1"}),
            &good_claims(),
        );
        assert!(matches!(
            main_providers().verify(&forged, NOW),
            Err(JwtRejection::AlgorithmNotAllowed {
                alg: Algorithm::Hs256,
                ..
            })
        ));
    }
}

#[test]
fn hs256_is_rejected_even_when_the_provider_lists_every_asymmetric_algorithm() {
    let mut config = main_config();
    config["algorithms"] = json!(["RS256", "PS256", "ES256", "EdDSA"]);
    let providers = testkit::providers(&[config]);
    let forged = TestKey::Secret(b"anything-at-all-32-bytes-long!!!".to_vec()).mint(
        Algorithm::Hs256,
        &json!({"alg":"HS256"}),
        &good_claims(),
    );
    assert!(matches!(
        providers.verify(&forged, NOW),
        Err(JwtRejection::AlgorithmNotAllowed { .. })
    ));
}

#[test]
fn an_embedded_jwk_header_is_never_trusted() {
    // The attacker signs with their own key and embeds it; the provider's key is P-256 too.
    let mut config = main_config();
    config["jwks"] = json!({"keys": [testkit::p256(1).jwk(Some("ec-1"), None)]});
    let providers = testkit::providers(&[config]);
    let attacker = testkit::p256(66);
    for header in [
        json!({"alg":"ES256","kid":"ec-1","jwk": attacker.jwk(None, None)}),
        json!({"alg":"ES256","jwk": attacker.jwk(Some("ec-1"), None)}),
    ] {
        let forged = attacker.mint(Algorithm::Es256, &header, &good_claims());
        assert!(matches!(
            providers.verify(&forged, NOW),
            Err(JwtRejection::BadSignature { .. })
        ));
    }
}

#[test]
fn jku_x5u_and_x5c_headers_are_never_followed() {
    let attacker = testkit::other_rsa();
    let header = json!({
        "alg": "RS256",
        "kid": "rsa-1",
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    });
    let forged = attacker.mint(Algorithm::Rs256, &header, &good_claims());
    assert!(matches!(
        main_providers().verify(&forged, NOW),
        Err(JwtRejection::BadSignature { .. })
    ));
}

#[test]
fn a_psychic_ecdsa_signature_is_rejected() {
    // CVE-2022-21449: r = s = 0 "verifies" against any message in a broken verifier.
    let mut config = main_config();
    config["jwks"] = json!({"keys": [testkit::p256(1).jwk(Some("ec-1"), None)]});
    let providers = testkit::providers(&[config]);
    for length in [64, 96] {
        let token = format!(
            "{}{}",
            unsigned(&json!({"alg":"ES256","kid":"ec-1"}), &good_claims()),
            encode(&vec![0u8; length])
        );
        assert!(matches!(
            providers.verify(&token, NOW),
            Err(JwtRejection::BadSignature { .. })
        ));
    }
}

#[test]
fn a_crit_header_is_rejected() {
    let token = testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":NOW}),
        &good_claims(),
    );
    assert!(matches!(
        main_providers().verify(&token, NOW),
        Err(JwtRejection::Header(HeaderError::Critical { .. }))
    ));
}

#[test]
fn a_nested_jwt_is_rejected() {
    let inner = testkit::rsa().mint(Algorithm::Rs256, &json!({"alg":"RS256"}), &good_claims());
    let outer = mint_raw(
        &testkit::rsa(),
        Algorithm::Rs256,
        r#"{"alg":"RS256","kid":"rsa-1","cty":"JWT"}"#,
        &inner,
    );
    assert!(matches!(
        main_providers().verify(&outer, NOW),
        Err(JwtRejection::Malformed(_)) | Err(JwtRejection::Header(HeaderError::Nested { .. }))
    ));
    let wrapped = testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"rsa-1","cty":"JWT"}),
        &good_claims(),
    );
    assert!(matches!(
        main_providers().verify(&wrapped, NOW),
        Err(JwtRejection::Header(HeaderError::Nested { .. }))
    ));
}

#[test]
fn a_duplicate_alg_in_the_header_is_rejected() {
    let token = mint_raw(
        &testkit::rsa(),
        Algorithm::Rs256,
        r#"{"alg":"RS256","kid":"rsa-1","alg":"none"}"#,
        &good_claims().to_string(),
    );
    assert_eq!(
        main_providers().verify(&token, NOW),
        Err(JwtRejection::Malformed(TokenError::Json {
            segment: Segment::Header,
            source: JsonError::Duplicate { name: "alg".into() }
        }))
    );
}

#[test]
fn a_duplicate_sub_in_the_claims_is_rejected() {
    let claims = format!(
        r#"{{"iss":"{ISSUER}","aud":"api","sub":"user_1","exp":{},"sub":"admin"}}"#,
        NOW + 300
    );
    let token = mint_raw(
        &testkit::rsa(),
        Algorithm::Rs256,
        r#"{"alg":"RS256","kid":"rsa-1"}"#,
        &claims,
    );
    assert!(matches!(
        main_providers().verify(&token, NOW),
        Err(JwtRejection::Malformed(TokenError::Json {
            segment: Segment::Payload,
            source: JsonError::Duplicate { .. }
        }))
    ));
}

#[test]
fn a_token_for_one_provider_signed_by_another_providers_key_is_rejected() {
    let mut other = main_config();
    other["name"] = json!("other");
    other["issuer"] = json!("https://other.example");
    other["jwks"] = json!({"keys": [testkit::other_rsa().jwk(Some("other-1"), Some("RS256"))]});
    let providers = testkit::providers(&[main_config(), other]);
    // Signed by "other", claiming to come from the main issuer, without a kid.
    let token =
        testkit::other_rsa().mint(Algorithm::Rs256, &json!({"alg":"RS256"}), &good_claims());
    assert!(matches!(
        providers.verify(&token, NOW),
        Err(JwtRejection::BadSignature { .. })
    ));
}

#[test]
fn an_hs256_token_with_another_secret_is_rejected() {
    let providers =
        testkit::providers(&[json!({"name":"hs","issuer":ISSUER,"secret_env":SECRET_ENV})]);
    let forged = TestKey::Secret(vec![b'x'; 64]).mint(
        Algorithm::Hs256,
        &json!({"alg":"HS256"}),
        &good_claims(),
    );
    assert!(matches!(
        providers.verify(&forged, NOW),
        Err(JwtRejection::BadSignature { .. })
    ));
}

#[test]
fn a_jwe_or_padded_or_spaced_token_is_rejected_as_malformed() {
    let token = testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"rsa-1"}),
        &good_claims(),
    );
    for bad in [
        "a.b.c.d.e".to_owned(),
        format!("{token}="),
        format!(" {token}"),
        token.replacen('.', ". ", 1),
    ] {
        assert!(
            matches!(
                main_providers().verify(&bad, NOW),
                Err(JwtRejection::Malformed(_))
            ),
            "{bad}"
        );
    }
}
