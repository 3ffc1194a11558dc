use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://issuer.example";

fn key() -> SigningKey {
    SigningKey::from_slice(&[7; 32]).unwrap()
}

fn jwks() -> Value {
    let point = key().verifying_key().to_sec1_point(false);
    json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    }]})
}

fn key_set() -> KeySet {
    KeySet {
        document: jwks(),
        skipped: Vec::new(),
    }
}

fn mint(claims: &Value) -> String {
    let header = json!({"alg": "ES256", "kid": "k1", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn good_claims() -> Value {
    json!({"iss": ISSUER, "aud": "api", "sub": "user_1", "exp": NOW + 300})
}

fn args() -> VerifyArgs {
    VerifyArgs {
        jwks: PathBuf::from("jwks.json"),
        issuer: None,
        audiences: Vec::new(),
        leeway_secs: DEFAULT_LEEWAY_SECS,
        now: None,
        required_claims: Vec::new(),
        token: STDIN.to_owned(),
    }
}

fn judged(args: &VerifyArgs, token: &str, now: i64) -> Verdict {
    judge(args, key_set(), token, now).unwrap()
}

#[test]
fn a_good_token_is_valid_and_shows_its_claims() {
    let token = mint(&good_claims());
    let verdict = judged(&args(), &token, NOW);
    assert_eq!(
        (verdict.valid, verdict.code, verdict.exit_code()),
        (true, VALID_CODE, ExitCode::SUCCESS)
    );
    assert_eq!(Value::Object(verdict.claims.unwrap()), good_claims());
    assert!(
        verdict.message.contains("\"user_1\""),
        "{}",
        verdict.message
    );
}

#[test]
fn an_expired_token_shows_its_claims_because_its_signature_verified() {
    let token = mint(&good_claims());
    let verdict = judged(&args(), &token, NOW + 305);
    assert_eq!(
        (verdict.valid, verdict.code, verdict.exit_code()),
        (false, "expired_credentials", ExitCode::from(EXIT_REJECTED))
    );
    assert_eq!(
        verdict.message,
        "jwt `exp` 1800000300 is before now 1800000305 (leeway 5s)"
    );
    assert!(verdict.claims.is_some());
}

#[test]
fn a_tampered_expired_token_shows_no_claims() {
    let token = mint(&good_claims());
    let (input, _) = token.rsplit_once('.').unwrap();
    let other = mint(&json!({"sub": "someone else"}));
    let forged = format!("{input}.{}", other.rsplit_once('.').unwrap().1);
    let verdict = judged(&args(), &forged, NOW + 1000);
    assert_eq!(verdict.code, "invalid_credentials");
    assert!(verdict.message.contains("signature"), "{}", verdict.message);
    assert_eq!(verdict.claims, None);
}

#[test]
fn without_issuer_the_tokens_own_iss_passes() {
    let mut claims = good_claims();
    claims["iss"] = json!("https://anyone.example");
    assert!(judged(&args(), &mint(&claims), NOW).valid);
}

#[test]
fn with_issuer_another_iss_is_rejected_with_both_values() {
    let args = VerifyArgs {
        issuer: Some("https://expected.example".into()),
        ..args()
    };
    let verdict = judged(&args, &mint(&good_claims()), NOW);
    assert_eq!(verdict.code, "invalid_credentials");
    assert!(
        verdict.message.contains("https://expected.example") && verdict.message.contains(ISSUER),
        "{}",
        verdict.message
    );
}

#[test]
fn without_issuer_a_token_without_iss_is_rejected_and_no_placeholder_is_quoted() {
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("iss");
    let verdict = judged(&args(), &mint(&claims), NOW);
    assert_eq!(verdict.code, "invalid_credentials");
    assert_eq!(verdict.message, "jwt `iss` is absent, expected one of []");
    assert_eq!(verdict.claims, None);
}

#[test]
fn leeway_keeps_a_just_expired_token_valid() {
    let token = mint(&good_claims());
    let args = VerifyArgs {
        leeway_secs: 60,
        ..args()
    };
    assert!(judged(&args, &token, NOW + 330).valid);
    assert!(!judged(&args, &token, NOW + 360).valid);
}

#[test]
fn audiences_are_any_of_and_a_miss_shows_claims() {
    let token = mint(&good_claims());
    let with = |audiences: &[&str]| VerifyArgs {
        audiences: audiences.iter().map(|a| a.to_string()).collect(),
        ..args()
    };
    assert!(judged(&with(&["other", "api"]), &token, NOW).valid);
    let verdict = judged(&with(&["other"]), &token, NOW);
    assert_eq!(
        verdict.message,
        r#"jwt `aud` is ["api"], expected one of ["other"]"#
    );
    assert!(verdict.claims.is_some());
}

#[test]
fn a_missing_required_claim_is_named() {
    let args = VerifyArgs {
        required_claims: vec!["org_id".into()],
        ..args()
    };
    let verdict = judged(&args, &mint(&good_claims()), NOW);
    assert_eq!(
        verdict.message,
        "jwt has no `org_id` claim, which the provider requires"
    );
}

#[test]
fn no_message_contains_the_token() {
    let token = mint(&good_claims());
    for now in [NOW, NOW + 1000] {
        assert!(!judged(&args(), &token, now).message.contains(&token));
    }
}

#[test]
fn a_token_from_standard_input_is_trimmed() {
    let token = read_token("-", "\n  a.b.c \n".as_bytes()).unwrap();
    assert_eq!(token, "a.b.c");
}

#[test]
fn a_token_argument_is_taken_as_given() {
    assert_eq!(read_token(" a.b.c", io::empty()).unwrap(), " a.b.c");
}

#[test]
fn empty_standard_input_is_no_token() {
    let err = read_token("-", " \n".as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a token on standard input, got nothing"
    );
}

#[test]
fn a_missing_jwks_file_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_jwks(&dir.path().join("absent.json")).unwrap_err();
    assert!(matches!(err, UsageError::ReadJwks { .. }), "{err}");
}

#[test]
fn a_jwks_file_without_a_usable_key_is_refused_with_each_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).unwrap();
    let err = load_jwks(&path).unwrap_err();
    assert!(
        matches!(
            &err,
            UsageError::Jwks {
                source: JwksError::NoUsableKey { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("oct"), "{err}");
}

#[test]
fn a_usable_jwks_file_lists_the_keys_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let mut document = jwks();
    document["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "EC", "crv": "P-521", "kid": "big", "x": "AA", "y": "AA"}));
    std::fs::write(&path, document.to_string()).unwrap();
    let keys = load_jwks(&path).unwrap();
    assert_eq!(keys.document, document);
    assert_eq!(keys.skipped.len(), 1);
    assert_eq!(keys.skipped[0].kid.as_deref(), Some("big"));
}
