//! Key sets: each key type parses, each defect skips its key with the reason, and a set
//! with no usable key is refused.

use super::*;
use crate::jwt::testkit::{self, jwks};
use serde_json::{Value, json};

fn issue_of(key: Value) -> KeyIssue {
    match Jwks::parse(&jwks(&[key])) {
        Err(JwksError::NoUsableKey { mut skipped }) => skipped.remove(0).issue,
        other => panic!("expected the key to be skipped, got {other:?}"),
    }
}

#[test]
fn one_key_of_each_type_parses_into_a_usable_key() {
    let set = Jwks::parse(&jwks(&[
        testkit::rsa().jwk(Some("r"), Some("RS256")),
        testkit::p256(1).jwk(Some("e256"), None),
        testkit::p384(1).jwk(Some("e384"), None),
        testkit::ed25519(1).jwk(Some("ed"), Some("EdDSA")),
    ]))
    .unwrap();
    assert_eq!(set.keys().len(), 4);
    assert!(set.skipped().is_empty());
    let defaults: Vec<_> = set.keys().iter().map(|k| k.default_algorithm()).collect();
    assert_eq!(
        defaults,
        [
            Some(Algorithm::Rs256),
            Some(Algorithm::Es256),
            Some(Algorithm::Es384),
            Some(Algorithm::EdDsa)
        ]
    );
    assert_eq!(set.with_kid("e384").count(), 1);
    assert_eq!(set.with_kid("missing").count(), 0);
}

#[test]
fn keys_sharing_a_kid_are_all_found() {
    let set = Jwks::parse(&jwks(&[
        testkit::rsa().jwk(Some("same"), Some("RS256")),
        testkit::rsa().jwk(Some("same"), Some("PS256")),
    ]))
    .unwrap();
    let algs: Vec<_> = set.with_kid("same").map(|k| k.alg).collect();
    assert_eq!(algs, [Some(Algorithm::Rs256), Some(Algorithm::Ps256)]);
}

#[test]
fn a_key_with_an_alg_accepts_only_that_alg() {
    let set = Jwks::parse(&jwks(&[testkit::rsa().jwk(None, Some("RS256"))])).unwrap();
    let key = &set.keys()[0];
    assert!(key.accepts(Algorithm::Rs256));
    assert!(!key.accepts(Algorithm::Ps256));
    assert!(!key.accepts(Algorithm::Hs256));
    let untyped = Jwks::parse(&jwks(&[testkit::rsa().jwk(None, None)])).unwrap();
    assert!(untyped.keys()[0].accepts(Algorithm::Ps512));
    assert!(!untyped.keys()[0].accepts(Algorithm::Es256));
}

#[test]
fn an_unknown_key_type_is_skipped_and_the_rest_are_used() {
    let set = Jwks::parse(&jwks(&[
        json!({"kty":"PQC","kid":"future","pub":"AAAA"}),
        testkit::p256(2).jwk(Some("ok"), None),
    ]))
    .unwrap();
    assert_eq!(set.keys().len(), 1);
    assert_eq!(
        set.skipped()[0].to_string(),
        "keys[0] (kid \"future\"): kty \"PQC\" is not supported, expected RSA, EC or OKP"
    );
}

#[test]
fn a_symmetric_key_is_never_taken_from_a_key_set() {
    let oct = testkit::TestKey::Secret(vec![7; 32]).jwk(Some("hs"), Some("HS256"));
    assert_eq!(issue_of(oct), KeyIssue::Symmetric);
}

#[test]
fn an_encryption_key_is_skipped() {
    let mut enc = testkit::rsa().jwk(None, None);
    enc["use"] = json!("enc");
    assert_eq!(
        issue_of(enc),
        KeyIssue::NotForSignatures {
            actual: "enc".into()
        }
    );
    let mut wrap = testkit::rsa().jwk(None, None);
    wrap["key_ops"] = json!(["wrapKey"]);
    assert!(matches!(issue_of(wrap), KeyIssue::NoVerifyOperation { .. }));
    let mut verify = testkit::rsa().jwk(None, None);
    verify["use"] = json!("sig");
    verify["key_ops"] = json!(["verify"]);
    assert!(Jwks::parse(&jwks(&[verify])).is_ok());
}

#[test]
fn a_1024_bit_rsa_key_is_skipped() {
    let mut short = testkit::rsa().jwk(None, None);
    let n = crate::jwt::base64url::decode(short["n"].as_str().unwrap().as_bytes()).unwrap();
    let mut half = n[..128].to_vec();
    *half.last_mut().unwrap() |= 1;
    short["n"] = json!(crate::jwt::base64url::encode(&half));
    assert!(matches!(
        issue_of(short),
        KeyIssue::Rsa(RsaKeyError::Modulus { bits: 1024, .. })
    ));
}

#[test]
fn an_rsa_exponent_of_3_is_skipped() {
    let mut weak = testkit::rsa().jwk(None, None);
    weak["e"] = json!("Aw");
    assert!(matches!(
        issue_of(weak),
        KeyIssue::Rsa(RsaKeyError::Exponent { .. })
    ));
}

#[test]
fn an_ec_point_off_the_curve_is_skipped() {
    let mut off = testkit::p256(3).jwk(None, None);
    off["y"] = off["x"].clone();
    assert_eq!(
        issue_of(off),
        KeyIssue::Ec(EcKeyError::NotOnCurve { crv: "P-256" })
    );
}

#[test]
fn a_short_ec_coordinate_is_skipped() {
    let mut short = testkit::p256(3).jwk(None, None);
    short["x"] = json!("AAAA");
    assert!(matches!(
        issue_of(short),
        KeyIssue::Ec(EcKeyError::CoordinateLength { actual: 3, .. })
    ));
}

#[test]
fn an_unsupported_curve_is_skipped() {
    let mut p521 = testkit::p256(3).jwk(None, None);
    p521["crv"] = json!("P-521");
    assert!(matches!(issue_of(p521), KeyIssue::UnsupportedCurve { .. }));
    let x25519 = json!({"kty":"OKP","crv":"X25519","x":"AAAA"});
    assert!(matches!(
        issue_of(x25519),
        KeyIssue::UnsupportedCurve { kty: "OKP", .. }
    ));
}

#[test]
fn a_key_whose_alg_does_not_fit_its_type_is_skipped() {
    let mismatched = testkit::rsa().jwk(None, Some("ES256"));
    assert_eq!(
        issue_of(mismatched),
        KeyIssue::Algorithm {
            kty: "RSA",
            alg: "ES256".into()
        }
    );
    let oaep = testkit::rsa().jwk(None, Some("RSA-OAEP"));
    assert!(matches!(issue_of(oaep), KeyIssue::Algorithm { .. }));
    let hs_on_rsa = testkit::rsa().jwk(None, Some("HS256"));
    assert!(matches!(issue_of(hs_on_rsa), KeyIssue::Algorithm { .. }));
}

#[test]
fn a_padded_or_missing_parameter_is_skipped() {
    let mut padded = testkit::ed25519(4).jwk(None, None);
    padded["x"] = json!(format!("{}=", padded["x"].as_str().unwrap()));
    assert!(matches!(
        issue_of(padded),
        KeyIssue::Base64 { name: "x", .. }
    ));
    let missing = json!({"kty":"RSA","e":"AQAB"});
    assert!(matches!(
        issue_of(missing),
        KeyIssue::Member { name: "n", .. }
    ));
    let numeric_kid = json!({"kty":"RSA","kid":7});
    assert!(matches!(
        issue_of(numeric_kid),
        KeyIssue::Member { name: "kid", .. }
    ));
}

#[test]
fn a_weak_ed25519_key_is_skipped() {
    let identity =
        json!({"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert_eq!(
        issue_of(identity),
        KeyIssue::Ed25519(Ed25519KeyError::Invalid)
    );
}

#[test]
fn a_set_with_no_usable_key_is_refused_with_every_reason() {
    let err =
        Jwks::parse(&jwks(&[json!({"kty":"oct","kid":"a"}), json!("not a key")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "jwks: expected at least one usable signing key, got none; keys[0] (kid \"a\"): kty \"oct\" (a shared secret) is never accepted from a key set; keys[1]: expected a JSON object, got a string"
    );
    assert!(matches!(
        Jwks::parse(br#"{"keys":[]}"#),
        Err(JwksError::NoUsableKey { .. })
    ));
}

#[test]
fn a_document_that_is_not_a_key_set_is_refused() {
    assert!(matches!(Jwks::parse(b"[]"), Err(JwksError::Json(_))));
    assert!(matches!(
        Jwks::parse(br#"{"keys":{}}"#),
        Err(JwksError::Keys {
            actual: "an object"
        })
    ));
    assert!(matches!(
        Jwks::parse(br#"{}"#),
        Err(JwksError::Keys { actual: "nothing" })
    ));
    let duplicated = br#"{"keys":[{"kty":"RSA","n":"AQAB","n":"AQAB","e":"AQAB"}]}"#;
    assert!(matches!(
        Jwks::parse(duplicated),
        Err(JwksError::Json(JsonError::Duplicate { .. }))
    ));
    let many: Vec<Value> = (0..=MAX_KEYS).map(|_| json!({})).collect();
    assert_eq!(
        Jwks::parse(&jwks(&many)).unwrap_err(),
        JwksError::TooManyKeys {
            actual: MAX_KEYS + 1
        }
    );
}
