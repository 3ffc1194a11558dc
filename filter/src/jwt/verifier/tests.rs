//! The whole path, token to identity, for every algorithm and each rejection a token can
//! earn; each fixture is a good token with one thing changed, named for it.

use super::*;
use crate::decision::Code;
use crate::jwt::algorithm::Algorithm;
use crate::jwt::claims::ClaimError;
use crate::jwt::header::HeaderError;
use crate::jwt::mapping::MappingError;
use crate::jwt::testkit::{self, ISSUER, NOW, SECRET_ENV, good_claims, main_config};
use serde_json::json;

fn rs256(claims: &Value) -> String {
    testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"rsa-1","typ":"JWT"}),
        claims,
    )
}

fn main_providers() -> Providers {
    testkit::providers(&[main_config()])
}

#[test]
fn a_good_rs256_token_verifies_to_its_identity() {
    let id = main_providers()
        .verify(&rs256(&good_claims()), NOW)
        .unwrap();
    assert_eq!(id.provider, "main");
    assert_eq!(id.subject, "user_1");
    assert_eq!(id.expires_at, Some(NOW + 300));
}

#[test]
fn every_supported_algorithm_verifies_with_its_key() {
    let keyed = [
        (
            testkit::rsa(),
            ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"].as_slice(),
        ),
        (testkit::p256(1), &["ES256"]),
        (testkit::p384(1), &["ES384"]),
        (testkit::ed25519(1), &["EdDSA"]),
    ];
    for (key, algs) in keyed {
        let mut config = main_config();
        config["jwks"] = json!({"keys": [key.jwk(Some("k"), None)]});
        config["algorithms"] = json!(algs);
        let providers = testkit::providers(&[config]);
        for name in algs {
            let alg = Algorithm::from_name(name).unwrap();
            let token = key.mint(alg, &json!({"alg": name, "kid": "k"}), &good_claims());
            assert!(providers.verify(&token, NOW).is_ok(), "{name}");
        }
    }
    let secret = testkit::providers(&[json!({
        "name": "hs", "issuer": ISSUER, "secret_env": SECRET_ENV,
        "algorithms": ["HS256", "HS384", "HS512"],
    })]);
    let key = testkit::TestKey::Secret(testkit::SECRET.to_vec());
    for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        let token = key.mint(alg, &json!({"alg": alg.name()}), &good_claims());
        assert!(secret.verify(&token, NOW).is_ok(), "{alg}");
    }
}

#[test]
fn the_rfc_7515_example_token_verifies_up_to_its_missing_subject() {
    // RFC 7515 A.2 with the RFC 7517 A.1 key: signed by "joe", expiring 1300819380.
    let token = concat!(
        "eyJhbGciOiJSUzI1NiJ9.",
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.",
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
    );
    let n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    let providers = testkit::providers(&[json!({
        "name": "rfc", "issuer": "joe", "jwks": {"keys": [{"kty": "RSA", "n": n, "e": "AQAB"}]},
    })]);
    assert_eq!(
        providers.verify(token, 1_300_819_000),
        Err(JwtRejection::Mapping(MappingError::NoSubject))
    );
    let expired = providers.verify(token, 1_300_819_386).unwrap_err();
    assert_eq!(expired.code(), Code::ExpiredCredentials);
}

#[test]
fn token_signed_by_another_key_is_rejected() {
    let token = testkit::other_rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"rsa-1"}),
        &good_claims(),
    );
    let err = main_providers().verify(&token, NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "jwt signature does not verify with the 1 RS256 key(s) of provider \"main\" for kid \"rsa-1\""
    );
    assert_eq!(err.code(), Code::InvalidCredentials);
}

#[test]
fn a_token_without_kid_is_tried_against_keys_of_its_algorithm() {
    let mut config = main_config();
    config["jwks"] = json!({"keys": [
        testkit::other_rsa().jwk(Some("old"), Some("RS256")),
        testkit::p256(1).jwk(Some("ec"), None),
        testkit::rsa().jwk(Some("new"), Some("RS256")),
    ]});
    let providers = testkit::providers(&[config]);
    let token = testkit::rsa().mint(Algorithm::Rs256, &json!({"alg":"RS256"}), &good_claims());
    assert!(providers.verify(&token, NOW).is_ok());
}

#[test]
fn an_unknown_kid_is_rejected() {
    let token = testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"../../etc/passwd"}),
        &good_claims(),
    );
    assert!(matches!(
        main_providers().verify(&token, NOW),
        Err(JwtRejection::NoKey { .. })
    ));
}

#[test]
fn an_algorithm_the_keys_do_not_declare_is_rejected() {
    let token = testkit::rsa().mint(
        Algorithm::Ps256,
        &json!({"alg":"PS256","kid":"rsa-1"}),
        &good_claims(),
    );
    assert_eq!(
        main_providers()
            .verify(&token, NOW)
            .unwrap_err()
            .to_string(),
        "jwt alg PS256 is not allowed by provider \"main\", expected one of [RS256]"
    );
}

#[test]
fn token_larger_than_the_limit_is_rejected_before_decoding() {
    let mut claims = good_claims();
    claims["padding"] = json!("x".repeat(9000));
    assert_eq!(
        main_providers().verify(&rs256(&claims), NOW),
        Err(JwtRejection::TooLarge {
            max: 8192,
            actual: rs256(&claims).len()
        })
    );
    let mut small = main_config();
    small["max_token_bytes"] = json!(512);
    let mut other = main_config();
    other["name"] = json!("other");
    other["issuer"] = json!("https://other.example");
    let providers = testkit::providers(&[small, other]);
    assert!(matches!(
        providers.verify(&rs256(&good_claims()), NOW),
        Err(JwtRejection::TooLarge { max: 512, .. })
    ));
    assert!(matches!(
        providers.verify(&"a".repeat(9000), NOW),
        Err(JwtRejection::TooLarge { max: 8192, .. })
    ));
}

#[test]
fn an_unknown_or_missing_issuer_is_rejected() {
    let mut claims = good_claims();
    claims["iss"] = json!("https://evil.example");
    assert!(matches!(
        main_providers().verify(&rs256(&claims), NOW),
        Err(JwtRejection::UnknownIssuer { .. })
    ));
    claims["iss"] = json!(7);
    assert_eq!(
        main_providers()
            .verify(&rs256(&claims), NOW)
            .unwrap_err()
            .to_string(),
        "jwt `iss` is absent, expected one of [\"https://issuer.example\"]"
    );
}

#[test]
fn a_token_without_the_required_typ_is_rejected() {
    let mut config = main_config();
    config["typ"] = json!("at+jwt");
    let providers = testkit::providers(&[config]);
    assert!(matches!(
        providers.verify(&rs256(&good_claims()), NOW),
        Err(JwtRejection::Header(HeaderError::Type { .. }))
    ));
    let typed = testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg":"RS256","kid":"rsa-1","typ":"application/at+JWT"}),
        &good_claims(),
    );
    assert!(providers.verify(&typed, NOW).is_ok());
}

#[test]
fn synced_keys_are_not_ready_until_installed_and_bump_the_generation() {
    let mut config = main_config();
    config.as_object_mut().unwrap().remove("jwks");
    let mut providers = testkit::providers(&[config]);
    assert_eq!(providers.synced().collect::<Vec<_>>(), ["main"]);
    let err = providers.verify(&rs256(&good_claims()), NOW).unwrap_err();
    assert_eq!(err.code(), Code::NotReady);
    let jwks = Jwks::parse(&testkit::jwks(&[testkit::rsa().jwk(Some("rsa-1"), None)])).unwrap();
    assert_eq!(providers.generation(), 0);
    providers.install_jwks("main", jwks.clone()).unwrap();
    assert_eq!(providers.generation(), 1);
    assert!(providers.verify(&rs256(&good_claims()), NOW).is_ok());
    assert_eq!(
        providers.install_jwks("nobody", jwks.clone()),
        Err(InstallError::UnknownProvider {
            name: "nobody".into()
        })
    );
    let mut inline = main_providers();
    assert!(matches!(
        inline.install_jwks("main", jwks),
        Err(InstallError::ConfiguredKeys { .. })
    ));
}

#[test]
fn expired_token_is_rejected_with_the_expired_code() {
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 10);
    let err = main_providers().verify(&rs256(&claims), NOW).unwrap_err();
    assert!(matches!(
        err,
        JwtRejection::Claims(ClaimError::Expired { .. })
    ));
    assert_eq!(err.code(), Code::ExpiredCredentials);
}

#[test]
fn a_rejection_message_never_contains_the_token() {
    let token = rs256(&good_claims());
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let tampered = format!("{signing_input}.{}", signature.replace('A', "B"));
    let providers = main_providers();
    for attempt in [
        tampered,
        format!("{token}.x"),
        token.replace('.', ".."),
        token.clone(),
    ] {
        if let Err(rejection) = providers.verify(&attempt, NOW + 10_000) {
            let message = rejection.to_string();
            assert!(!message.contains(signature), "{message}");
            assert!(!message.contains(signing_input), "{message}");
        }
    }
}
