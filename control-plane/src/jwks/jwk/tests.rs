//! Each fixture differs from a good key in one member and is named for that defect.

use super::*;
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    BASE64URL.encode(bytes)
}

/// A 2048-bit modulus: 256 bytes, top bit set, odd.
fn modulus(top: u8) -> Vec<u8> {
    let mut n = vec![0x5a; 256];
    n[0] = top;
    n[255] = 0x01;
    n
}

fn rsa_key() -> Value {
    json!({"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256",
           "n": b64(&modulus(0xc1)), "e": "AQAB"})
}

fn ec_key() -> Value {
    json!({"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64(&[7; 32]), "y": b64(&[9; 32])})
}

fn ed_key() -> Value {
    json!({"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": b64(&[3; 32])})
}

fn with(mut key: Value, member: &str, value: Value) -> Value {
    key[member] = value;
    key
}

fn without(mut key: Value, member: &str) -> Value {
    key.as_object_mut().unwrap().remove(member);
    key
}

#[test]
fn a_good_rsa_key_is_usable_and_loses_leading_zero_bytes() {
    let mut padded = vec![0];
    padded.extend(modulus(0xc1));
    let key = check(&with(rsa_key(), "n", json!(b64(&padded)))).unwrap();
    assert_eq!(
        (key.kid.as_deref(), key.alg.as_deref()),
        (Some("r1"), Some("RS256"))
    );
    assert_eq!(
        key.key,
        PublicKey::Rsa {
            n: b64(&modulus(0xc1)),
            e: "AQAB".into()
        }
    );
}

#[test]
fn good_ec_and_ed25519_keys_are_usable() {
    assert!(matches!(check(&ec_key()).unwrap().key, PublicKey::Ec { crv, .. } if crv == "P-256"));
    let p384 = json!({"kty": "EC", "crv": "P-384", "alg": "ES384", "x": b64(&[1; 48]), "y": b64(&[2; 48])});
    assert!(check(&p384).is_ok());
    assert!(matches!(
        check(&ed_key()).unwrap().key,
        PublicKey::Okp { .. }
    ));
    assert!(check(&with(ed_key(), "alg", json!("EdDSA"))).is_ok());
}

#[test]
fn the_normalized_key_keeps_only_public_members() {
    let noisy = with(rsa_key(), "x5c", json!(["MIIB..."]));
    let json = serde_json::to_value(check(&noisy).unwrap()).unwrap();
    let mut members: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n"]);
}

#[test]
fn unknown_kty_is_skipped() {
    let key = json!({"kty": "PQC", "kid": "future"});
    assert_eq!(check(&key), Err(KeyDefect::UnknownKty("PQC".into())));
}

#[test]
fn missing_kty_is_rejected() {
    assert_eq!(
        check(&without(rsa_key(), "kty")),
        Err(KeyDefect::MissingKty)
    );
    assert_eq!(check(&json!("RSA")), Err(KeyDefect::NotAnObject));
}

#[test]
fn oct_key_is_never_accepted() {
    let key = json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"});
    assert_eq!(check(&key), Err(KeyDefect::Symmetric));
}

#[test]
fn rsa_modulus_of_2047_bits_is_too_short() {
    let key = with(rsa_key(), "n", json!(b64(&modulus(0x7f))));
    assert_eq!(check(&key), Err(KeyDefect::ModulusTooShort(2047)));
}

#[test]
fn rsa_modulus_of_1024_bits_is_too_short() {
    let key = with(rsa_key(), "n", json!(b64(&modulus(0xc1)[..128])));
    assert_eq!(check(&key), Err(KeyDefect::ModulusTooShort(1024)));
}

#[test]
fn rsa_modulus_above_8192_bits_is_too_long() {
    let key = with(rsa_key(), "n", json!(b64(&[0xff; 1025])));
    assert_eq!(check(&key), Err(KeyDefect::ModulusTooLong(8200)));
}

#[test]
fn rsa_modulus_that_is_not_base64url_is_rejected() {
    let key = with(rsa_key(), "n", json!("not+base64/url"));
    assert_eq!(check(&key), Err(KeyDefect::NotBase64Url("n")));
}

#[test]
fn rsa_exponent_that_is_not_base64url_is_rejected() {
    let key = with(rsa_key(), "e", json!("AQ*B"));
    assert_eq!(check(&key), Err(KeyDefect::NotBase64Url("e")));
}

#[test]
fn rsa_key_without_exponent_is_rejected() {
    assert_eq!(
        check(&without(rsa_key(), "e")),
        Err(KeyDefect::MissingMember("e"))
    );
}

#[test]
fn rsa_exponent_of_one_or_even_is_rejected() {
    for e in [b64(&[1]), b64(&[0x01, 0x00, 0x00]), b64(&[])] {
        let key = with(rsa_key(), "e", json!(e));
        assert_eq!(check(&key), Err(KeyDefect::BadExponent), "e = {e}");
    }
}

#[test]
fn ec_unknown_curve_is_rejected() {
    let key = with(ec_key(), "crv", json!("secp256k1"));
    assert!(matches!(check(&key), Err(KeyDefect::UnknownCurve { crv, .. }) if crv == "secp256k1"));
}

#[test]
fn ec_coordinate_of_31_bytes_is_the_wrong_length() {
    let key = with(ec_key(), "y", json!(b64(&[9; 31])));
    assert_eq!(
        check(&key),
        Err(KeyDefect::WrongLength {
            member: "y",
            crv: "P-256",
            expected: 32,
            actual: 31
        })
    );
}

#[test]
fn ec_key_without_y_is_rejected() {
    assert_eq!(
        check(&without(ec_key(), "y")),
        Err(KeyDefect::MissingMember("y"))
    );
}

#[test]
fn okp_ed448_is_not_ed25519() {
    let key = json!({"kty": "OKP", "crv": "Ed448", "x": b64(&[3; 57])});
    assert!(matches!(check(&key), Err(KeyDefect::UnknownCurve { crv, .. }) if crv == "Ed448"));
}

#[test]
fn okp_x_of_33_bytes_is_the_wrong_length() {
    let key = with(ed_key(), "x", json!(b64(&[3; 33])));
    assert!(matches!(
        check(&key),
        Err(KeyDefect::WrongLength {
            member: "x",
            actual: 33,
            ..
        })
    ));
}

#[test]
fn encryption_key_is_not_for_signatures() {
    let key = with(rsa_key(), "use", json!("enc"));
    assert_eq!(check(&key), Err(KeyDefect::NotForSignatures("enc".into())));
}

#[test]
fn key_ops_without_verify_is_rejected() {
    let key = with(ec_key(), "key_ops", json!(["encrypt"]));
    assert_eq!(check(&key), Err(KeyDefect::NoVerifyOp));
    assert!(check(&with(ec_key(), "key_ops", json!(["verify"]))).is_ok());
}

#[test]
fn published_private_exponent_is_rejected() {
    let key = with(rsa_key(), "d", json!(b64(&[1; 256])));
    assert_eq!(check(&key), Err(KeyDefect::PrivateMember("d")));
}

#[test]
fn hs256_on_an_rsa_key_is_an_alg_mismatch() {
    let key = with(rsa_key(), "alg", json!("HS256"));
    assert!(matches!(check(&key), Err(KeyDefect::AlgMismatch { alg, .. }) if alg == "\"HS256\""));
}

#[test]
fn es384_on_a_p256_key_is_an_alg_mismatch() {
    let key = with(ec_key(), "alg", json!("ES384"));
    assert!(matches!(
        check(&key),
        Err(KeyDefect::AlgMismatch {
            expected: ["ES256"],
            ..
        })
    ));
}

#[test]
fn a_kid_that_is_not_a_string_is_rejected() {
    assert_eq!(
        check(&with(ed_key(), "kid", json!(7))),
        Err(KeyDefect::BadKid)
    );
    assert_eq!(
        check(&with(ed_key(), "kid", json!(""))),
        Err(KeyDefect::BadKid)
    );
}
