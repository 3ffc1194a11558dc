//! `portcullis jwt verify` as scripts run it: the real binary, a JWKS file, tokens minted
//! here with a P-256 test key; the JSON verdict on stdout and the exit status.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The time of every check that passes `--now`.
const NOW: i64 = 1_800_000_000;
const NOW_ARG: &str = "1800000000";
const ISSUER: &str = "https://issuer.example";

fn key() -> SigningKey {
    SigningKey::from_slice(&[7; 32]).unwrap()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token of `header` and `claims`, signed with the test key.
fn mint_with(header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature: Signature = key().sign(input.as_bytes());
    format!("{input}.{}", b64(signature.to_bytes()))
}

fn mint(claims: &Value) -> String {
    mint_with(&json!({"alg": "ES256", "kid": "k1", "typ": "JWT"}), claims)
}

fn good_claims() -> Value {
    json!({"iss": ISSUER, "aud": "api", "sub": "user_1", "exp": NOW + 300})
}

/// A temporary directory holding `jwks.json`.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    /// The test key's public half as `k1`.
    fn good() -> Keys {
        let point = key().verifying_key().to_sec1_point(false);
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": "k1",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
        });
        Keys::with(&json!({ "keys": [jwk] }).to_string())
    }

    fn with(document: &str) -> Keys {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jwks.json"), document).unwrap();
        Keys { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("jwks.json")
    }

    /// `portcullis jwt verify --jwks <path> <args>`, `stdin` on standard input.
    fn verify(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["jwt", "verify", "--jwks"])
            .arg(self.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// The exit status and verdict of `token` checked at [`NOW`] with `args`.
    fn judge(&self, token: &str, args: &[&str]) -> (i32, Value) {
        self.judge_at(NOW_ARG, token, args)
    }

    /// The exit status and verdict of `token` checked at `now` with `args`.
    fn judge_at(&self, now: &str, token: &str, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--now", now];
        all.extend_from_slice(args);
        all.push(token);
        parse(&self.verify(&all, ""))
    }
}

/// The exit status and the one JSON object on stdout.
fn parse(output: &Output) -> (i32, Value) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {stdout}{stderr}"));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    (output.status.code().unwrap(), json)
}

/// Asserts an unusable invocation: exit 2, `stderr_has` on stderr, nothing on stdout.
fn assert_unusable(output: &Output, stderr_has: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty(), "{:?}", output.stdout);
    assert!(stderr.contains(stderr_has), "{stderr}");
}

#[test]
fn a_good_jwt_is_valid_and_its_claims_are_shown() {
    let output = Keys::good().verify(&["--now", NOW_ARG, &mint(&good_claims())], "");
    let (status, verdict) = parse(&output);
    assert_eq!(status, 0, "{verdict}");
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["code"], "valid");
    assert_eq!(
        verdict["message"],
        r#"jwt signature and claims verify; subject "user_1", `exp` 1800000300"#
    );
    assert_eq!(verdict["claims"], good_claims());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(r#"{"valid":true,"code":"valid","message":"#),
        "{stdout}"
    );
}

#[test]
fn a_jwt_expired_beyond_the_leeway_is_rejected_as_expired() {
    let (status, verdict) = Keys::good().judge_at("1800000305", &mint(&good_claims()), &[]);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["code"], "expired_credentials");
    assert_eq!(
        verdict["message"],
        "jwt `exp` 1800000300 is before now 1800000305 (leeway 5s)"
    );
    assert_eq!(verdict["claims"], good_claims());
}

#[test]
fn a_jwt_is_judged_by_the_system_clock_unless_now_is_given() {
    let keys = Keys::good();
    let mut claims = good_claims();
    claims["exp"] = json!(1_000_000_000);
    let token = mint(&claims);
    let (status, verdict) = parse(&keys.verify(&[&token], ""));
    assert_eq!(
        (status, &verdict["code"]),
        (1, &json!("expired_credentials"))
    );
    let (status, verdict) = parse(&keys.verify(&["--now", "999999000", &token], ""));
    assert_eq!(status, 0, "{verdict}");
}

#[test]
fn leeway_secs_keeps_a_just_expired_jwt_valid() {
    let keys = Keys::good();
    let token = mint(&good_claims());
    let at = |now| keys.judge_at(now, &token, &["--leeway-secs", "60"]).0;
    assert_eq!((at("1800000330"), at("1800000360")), (0, 1));
}

#[test]
fn jwt_verify_refuses_a_leeway_above_the_filters_limit() {
    let output = Keys::good().verify(&["--leeway-secs", "301", "-"], "");
    assert_unusable(&output, "301");
}

#[test]
fn a_jwt_for_another_audience_is_rejected_with_both_values() {
    let (status, verdict) = Keys::good().judge(&mint(&good_claims()), &["--audience", "admin"]);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(verdict["code"], "invalid_credentials");
    assert_eq!(
        verdict["message"],
        r#"jwt `aud` is ["api"], expected one of ["admin"]"#
    );
    assert_eq!(verdict["claims"], good_claims());
}

#[test]
fn a_jwt_for_any_of_the_audiences_is_valid() {
    let args = ["--audience", "admin", "--audience", "api"];
    assert_eq!(Keys::good().judge(&mint(&good_claims()), &args).0, 0);
}

#[test]
fn a_jwt_from_another_issuer_is_rejected() {
    let args = ["--issuer", "https://other.example"];
    let (status, verdict) = Keys::good().judge(&mint(&good_claims()), &args);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(verdict["code"], "invalid_credentials");
    assert_eq!(
        verdict["message"],
        r#"jwt `iss` is "https://issuer.example", expected one of ["https://other.example"]"#
    );
    assert_eq!(verdict["claims"], Value::Null);
}

#[test]
fn a_jwt_from_the_given_issuer_is_valid() {
    let (status, verdict) = Keys::good().judge(&mint(&good_claims()), &["--issuer", ISSUER]);
    assert_eq!(status, 0, "{verdict}");
}

#[test]
fn without_issuer_a_jwt_from_any_issuer_is_valid() {
    let mut claims = good_claims();
    claims["iss"] = json!("https://elsewhere.example");
    assert_eq!(Keys::good().judge(&mint(&claims), &[]).0, 0);
}

#[test]
fn a_jwt_missing_a_required_claim_is_rejected() {
    let args = ["--require-claim", "sub", "--require-claim", "org_id"];
    let (status, verdict) = Keys::good().judge(&mint(&good_claims()), &args);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(
        verdict["message"],
        "jwt has no `org_id` claim, which the provider requires"
    );
}

#[test]
fn a_tampered_jwt_is_rejected_without_claims() {
    let token = mint(&good_claims());
    let (input, _) = token.rsplit_once('.').unwrap();
    let mut claims = good_claims();
    claims["sub"] = json!("admin");
    let forged = format!(
        "{}.{}.{}",
        input.split('.').next().unwrap(),
        b64(claims.to_string()),
        token.rsplit_once('.').unwrap().1
    );
    let (status, verdict) = Keys::good().judge(&forged, &[]);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(verdict["code"], "invalid_credentials");
    assert!(
        verdict["message"].as_str().unwrap().contains("signature"),
        "{verdict}"
    );
    assert_eq!(verdict["claims"], Value::Null);
}

#[test]
fn an_unsecured_jwt_is_rejected() {
    let none = format!(
        "{}.{}.",
        b64(json!({"alg": "none"}).to_string()),
        b64(good_claims().to_string())
    );
    let (status, verdict) = Keys::good().judge(&none, &[]);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(verdict["code"], "invalid_credentials");
    assert_eq!(
        verdict["message"],
        r#"jwt header alg is "none"; unsecured jwts are never accepted"#
    );
    assert_eq!(verdict["claims"], Value::Null);
}

#[test]
fn a_malformed_jwt_is_rejected() {
    let (status, verdict) = Keys::good().judge("not-a-jwt", &[]);
    assert_eq!(status, 1, "{verdict}");
    assert_eq!(verdict["code"], "invalid_credentials");
    assert_eq!(
        verdict["message"],
        "expected a compact jwt of 3 dot-separated segments, got 1"
    );
}

#[test]
fn a_dash_reads_the_jwt_from_standard_input() {
    let token = mint(&good_claims());
    let output = Keys::good().verify(&["--now", NOW_ARG, "-"], &format!("  {token}\n"));
    let (status, verdict) = parse(&output);
    assert_eq!(status, 0, "{verdict}");
    assert!(!verdict.to_string().contains(&token));
}

#[test]
fn jwt_verify_refuses_empty_standard_input() {
    assert_unusable(&Keys::good().verify(&["-"], "\n"), "expected a token");
}

#[test]
fn jwt_verify_refuses_an_unreadable_jwks_file() {
    let keys = Keys::good();
    std::fs::remove_file(keys.path()).unwrap();
    assert_unusable(
        &keys.verify(&[&mint(&good_claims())], ""),
        "cannot read the jwks file",
    );
}

#[test]
fn jwt_verify_refuses_a_jwks_file_that_is_not_json() {
    let keys = Keys::with("{\"keys\": [");
    assert_unusable(&keys.verify(&[&mint(&good_claims())], ""), "jwks");
}

#[test]
fn jwt_verify_refuses_a_jwks_file_without_a_usable_key() {
    let keys = Keys::with(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#);
    assert_unusable(
        &keys.verify(&[&mint(&good_claims())], ""),
        "expected at least one usable signing key",
    );
}

#[test]
fn jwt_verify_without_jwks_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["jwt", "verify", "a.b.c"])
        .output()
        .unwrap();
    assert_unusable(&output, "--jwks");
}
