//! Test keys and token minting: every test token is signed at test time by one of these
//! keys, and each fixture differs from a good token in exactly one thing.

use super::algorithm::{Algorithm, Family, Hash};
use super::base64url::encode;
use ::hmac::{Hmac, KeyInit, Mac};
use ed25519_dalek::Signer as _;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey};
use serde_json::{Value, json};
use sha2_010::Digest as _;
use std::sync::OnceLock;

/// A private key that signs test tokens.
pub enum TestKey {
    /// RS* and PS*.
    Rsa(Box<RsaPrivateKey>),
    /// ES256.
    P256(p256::ecdsa::SigningKey),
    /// ES384.
    P384(p384::ecdsa::SigningKey),
    /// EdDSA.
    Ed25519(ed25519_dalek::SigningKey),
    /// HS*.
    Secret(Vec<u8>),
}

/// The 2048-bit RSA test key.
pub fn rsa() -> TestKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        RsaPrivateKey::from_pkcs8_pem(include_str!("crypto/rsa/testdata/test-only-rsa2048.pem"))
            .unwrap()
    });
    TestKey::Rsa(Box::new(key.clone()))
}

/// A second RSA key (3072 bits), for "signed by another key" fixtures.
pub fn other_rsa() -> TestKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        RsaPrivateKey::from_pkcs8_pem(include_str!("crypto/rsa/testdata/test-only-rsa3072.pem"))
            .unwrap()
    });
    TestKey::Rsa(Box::new(key.clone()))
}

/// A P-256 key from a fixed seed byte.
pub fn p256(seed: u8) -> TestKey {
    TestKey::P256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap())
}

/// A P-384 key from a fixed seed byte.
pub fn p384(seed: u8) -> TestKey {
    TestKey::P384(p384::ecdsa::SigningKey::from_slice(&[seed; 48]).unwrap())
}

/// An Ed25519 key from a fixed seed byte.
pub fn ed25519(seed: u8) -> TestKey {
    TestKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
}

impl TestKey {
    /// The public JWK, with `kid` and `alg` when given.
    pub fn jwk(&self, kid: Option<&str>, alg: Option<&str>) -> Value {
        let mut jwk = match self {
            TestKey::Rsa(key) => json!({
                "kty": "RSA",
                "n": encode(&key.n().to_bytes_be()),
                "e": encode(&key.e().to_bytes_be()),
            }),
            TestKey::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                json!({"kty":"EC","crv":"P-256","x":encode(point.x().unwrap()),"y":encode(point.y().unwrap())})
            }
            TestKey::P384(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                json!({"kty":"EC","crv":"P-384","x":encode(point.x().unwrap()),"y":encode(point.y().unwrap())})
            }
            TestKey::Ed25519(key) => {
                json!({"kty":"OKP","crv":"Ed25519","x":encode(key.verifying_key().as_bytes())})
            }
            TestKey::Secret(secret) => json!({"kty":"oct","k":encode(secret)}),
        };
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    /// The `alg` signature of `input` (`header.payload`).
    pub fn sign(&self, alg: Algorithm, input: &[u8]) -> Vec<u8> {
        match self {
            TestKey::Rsa(key) => {
                let (digest, pkcs1, pss) = match alg.hash() {
                    Hash::Sha256 => (
                        sha2_010::Sha256::digest(input).to_vec(),
                        Pkcs1v15Sign::new::<sha2_010::Sha256>(),
                        Pss::new::<sha2_010::Sha256>(),
                    ),
                    Hash::Sha384 => (
                        sha2_010::Sha384::digest(input).to_vec(),
                        Pkcs1v15Sign::new::<sha2_010::Sha384>(),
                        Pss::new::<sha2_010::Sha384>(),
                    ),
                    Hash::Sha512 => (
                        sha2_010::Sha512::digest(input).to_vec(),
                        Pkcs1v15Sign::new::<sha2_010::Sha512>(),
                        Pss::new::<sha2_010::Sha512>(),
                    ),
                };
                if alg.family() == Family::RsaPss {
                    let mut rng = ChaCha8Rng::seed_from_u64(7);
                    key.sign_with_rng(&mut rng, pss, &digest).unwrap()
                } else {
                    key.sign(pkcs1, &digest).unwrap()
                }
            }
            TestKey::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(input);
                sig.to_bytes().to_vec()
            }
            TestKey::P384(key) => {
                let sig: p384::ecdsa::Signature = key.sign(input);
                sig.to_bytes().to_vec()
            }
            TestKey::Ed25519(key) => key.sign(input).to_bytes().to_vec(),
            TestKey::Secret(secret) => hmac(alg, secret, input),
        }
    }

    /// A compact token of `header` and `claims`, signed with `alg`.
    pub fn mint(&self, alg: Algorithm, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            encode(header.to_string().as_bytes()),
            encode(claims.to_string().as_bytes())
        );
        let signature = self.sign(alg, input.as_bytes());
        format!("{input}.{}", encode(&signature))
    }
}

/// The HMAC of `input` under `secret`, with `alg`'s hash.
pub fn hmac(alg: Algorithm, secret: &[u8], input: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(secret: &[u8], input: &[u8]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(secret).unwrap();
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }
    match alg.hash() {
        Hash::Sha256 => run::<Hmac<sha2::Sha256>>(secret, input),
        Hash::Sha384 => run::<Hmac<sha2::Sha384>>(secret, input),
        Hash::Sha512 => run::<Hmac<sha2::Sha512>>(secret, input),
    }
}

/// A JWKS document of `keys`.
pub fn jwks(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

/// The time of every check, unless a test says otherwise.
pub const NOW: i64 = 1_800_000_000;
/// The issuer of the main test provider.
pub const ISSUER: &str = "https://issuer.example";
/// The environment variable holding the test HMAC secret.
pub const SECRET_ENV: &str = "TEST_JWT_SECRET";
/// The test HMAC secret (64 bytes, enough for HS512).
pub const SECRET: &[u8; 64] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The claims of a good token for the main provider.
pub fn good_claims() -> Value {
    json!({"iss": ISSUER, "aud": "api", "sub": "user_1", "iat": NOW, "exp": NOW + 300})
}

/// The main provider's configuration: the RSA test key inline as `rsa-1` (RS256).
pub fn main_config() -> Value {
    json!({
        "name": "main",
        "issuer": ISSUER,
        "audiences": ["api"],
        "jwks": {"keys": [rsa().jwk(Some("rsa-1"), Some("RS256"))]},
    })
}

/// Validated providers from JSON configurations, with [`SECRET_ENV`] set.
pub fn providers(configs: &[Value]) -> super::verifier::Providers {
    let configs: Vec<super::provider::ProviderConfig> = configs
        .iter()
        .map(|c| serde_json::from_value(c.clone()).unwrap())
        .collect();
    super::verifier::Providers::from_configs(&configs, "jwt_providers", env).unwrap()
}

/// The environment the test configurations read.
pub fn env(name: &str) -> Option<String> {
    (name == SECRET_ENV).then(|| String::from_utf8(SECRET.to_vec()).unwrap())
}

/// A token from raw header and claims JSON text (for duplicate members), signed by `key`.
pub fn mint_raw(key: &TestKey, alg: Algorithm, header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        encode(header.as_bytes()),
        encode(claims.as_bytes())
    );
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", encode(&signature))
}
