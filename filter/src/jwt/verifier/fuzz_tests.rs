//! Random and mutated tokens: the verifier must answer every one without panicking, and
//! must accept no token that differs from a validly signed one.

use crate::jwt::algorithm::Algorithm;
use crate::jwt::base64url::encode;
use crate::jwt::testkit::{self, NOW, SECRET_ENV, TestKey, good_claims, main_config};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde_json::json;

/// `token` changed in one random way.
fn mutate(rng: &mut ChaCha8Rng, token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = rng.next_u32() as usize % bytes.len();
    let alphabet = b"AZaz09-_.=+/ \x00\xff{}\"";
    match rng.next_u32() % 6 {
        0 => bytes[at] ^= 1 << (rng.next_u32() % 8),
        1 => bytes[at] = alphabet[rng.next_u32() as usize % alphabet.len()],
        2 => bytes.truncate(at),
        3 => bytes.insert(at, alphabet[rng.next_u32() as usize % alphabet.len()]),
        4 => {
            bytes.remove(at);
        }
        _ => {
            let segment = rng.next_u32() as usize % 3;
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            let junk: Vec<u8> = (0..rng.next_u32() % 40)
                .map(|_| rng.next_u32() as u8)
                .collect();
            parts[segment] = encode(&junk);
            return parts.join(".");
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Header and claims with odd JSON types in the members the verifier reads.
fn odd_token(rng: &mut ChaCha8Rng, key: &TestKey) -> String {
    let odd = [
        json!(null),
        json!(1),
        json!(-1.5),
        json!(""),
        json!([]),
        json!({}),
        json!(["a"]),
        json!("x".repeat(100)),
    ];
    let pick = |rng: &mut ChaCha8Rng| odd[rng.next_u32() as usize % odd.len()].clone();
    let mut header = json!({"alg": "HS256"});
    let mut claims = good_claims();
    for name in ["kid", "typ", "cty", "crit"] {
        if rng.next_u32().is_multiple_of(3) {
            header[name] = pick(rng);
        }
    }
    for name in [
        "iss",
        "aud",
        "sub",
        "exp",
        "nbf",
        "azp",
        "scope",
        "scp",
        "o",
        "org_permissions",
        "client_id",
        "roles",
        "fea",
    ] {
        if rng.next_u32().is_multiple_of(4) {
            claims[name] = pick(rng);
        }
    }
    key.mint(Algorithm::Hs256, &header, &claims)
}

#[test]
fn random_and_mutated_tokens_never_panic_and_never_verify() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut ec = main_config();
    ec["name"] = json!("ec");
    ec["issuer"] = json!("https://ec.example");
    ec["jwks"] =
        json!({"keys": [testkit::p256(1).jwk(None, None), testkit::ed25519(1).jwk(None, None)]});
    let hs = json!({"name": "hs", "issuer": "https://hs.example", "secret_env": SECRET_ENV});
    let providers = testkit::providers(&[main_config(), ec, hs]);
    let secret = TestKey::Secret(testkit::SECRET.to_vec());
    let claims_for = |iss: &str| {
        let mut claims = good_claims();
        claims["iss"] = json!(iss);
        claims
    };
    let originals = [
        (
            testkit::rsa().mint(
                Algorithm::Rs256,
                &json!({"alg":"RS256","kid":"rsa-1"}),
                &good_claims(),
            ),
            150,
        ),
        (
            testkit::p256(1).mint(
                Algorithm::Es256,
                &json!({"alg":"ES256"}),
                &claims_for("https://ec.example"),
            ),
            60,
        ),
        (
            testkit::ed25519(1).mint(
                Algorithm::EdDsa,
                &json!({"alg":"EdDSA"}),
                &claims_for("https://ec.example"),
            ),
            300,
        ),
        (
            secret.mint(
                Algorithm::Hs256,
                &json!({"alg":"HS256"}),
                &claims_for("https://hs.example"),
            ),
            3000,
        ),
    ];
    for (original, rounds) in &originals {
        assert!(providers.verify(original, NOW).is_ok());
        for _ in 0..*rounds {
            let mutated = mutate(&mut rng, original);
            if mutated != *original {
                assert!(
                    providers.verify(&mutated, NOW).is_err(),
                    "accepted {mutated}"
                );
            }
        }
    }
    for _ in 0..1000 {
        let _ = providers.verify(&odd_token(&mut rng, &secret), NOW);
    }
    for _ in 0..2000 {
        let len = rng.next_u32() as usize % 300;
        let alphabet = b"eyJ.-_aAzZ09{}\"=:";
        let junk: String = (0..len)
            .map(|_| char::from(alphabet[rng.next_u32() as usize % alphabet.len()]))
            .collect();
        assert!(providers.verify(&junk, NOW).is_err());
    }
}
