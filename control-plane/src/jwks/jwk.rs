//! One JWK from a provider's JWKS: is it a public signature key the filter can verify
//! with, and if so its normalized form (public members only, canonical base64url).
//!
//! RFC 7517 §5: a key with an unknown `kty` is skipped, not an error for the set. Every
//! other defect also drops just that key; the set fails only when no key is left.

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use serde_json::{Map, Value};

/// The shortest RSA modulus accepted (RFC 7518 §3.3 requires 2048 bits or more).
pub const MIN_RSA_BITS: usize = 2048;
/// The longest RSA modulus accepted: longer ones cost the filter verification time for no
/// security any issuer needs.
pub const MAX_RSA_BITS: usize = 8192;
/// The algorithms an RSA key may declare (RFC 7518 §3.3, §3.5).
const RSA_ALGS: &[&str] = &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
/// The algorithms an Ed25519 key may declare (RFC 8037 §3.1, RFC 9864 §2.2).
const ED25519_ALGS: &[&str] = &["EdDSA", "Ed25519"];
/// The longest `kid` kept.
const MAX_KID_CHARS: usize = 256;

/// Members that only a private key has (RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2) or that
/// hold a symmetric secret (`k`).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// base64url (RFC 7515 §2): the URL-safe alphabet, padding tolerated though not emitted.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The public key material of a usable key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kty")]
pub enum PublicKey {
    /// RSA: modulus and exponent, big-endian without leading zero bytes (RFC 7518 §6.3.1).
    #[serde(rename = "RSA")]
    Rsa {
        /// Modulus.
        n: String,
        /// Public exponent.
        e: String,
    },
    /// An elliptic-curve point on P-256, P-384 or P-521 (RFC 7518 §6.2.1).
    #[serde(rename = "EC")]
    Ec {
        /// The curve.
        crv: String,
        /// X coordinate, full length.
        x: String,
        /// Y coordinate, full length.
        y: String,
    },
    /// An Ed25519 public key (RFC 8037 §2).
    #[serde(rename = "OKP")]
    Okp {
        /// Always `Ed25519`.
        crv: String,
        /// The 32-byte public key.
        x: String,
    },
}

/// A key the filter may verify signatures with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsableKey {
    /// Its `kid`, which tokens name in their header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The one algorithm it is for, when the JWKS says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// The public key.
    #[serde(flatten)]
    pub key: PublicKey,
}

/// Why one key of a JWKS is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyDefect {
    /// The entry is not a JSON object.
    #[error("is not a JSON object")]
    NotAnObject,
    /// `kty` is missing or not a string.
    #[error("has no `kty` string")]
    MissingKty,
    /// A key type this verifier does not know; skipped as RFC 7517 §5 says.
    #[error("has `kty` {0:?}, expected RSA, EC or OKP")]
    UnknownKty(String),
    /// A symmetric key: published, it would let anyone sign.
    #[error("is a symmetric (`oct`) key, never accepted from a JWKS URL")]
    Symmetric,
    /// `kid` is not a string of 1 to 256 characters.
    #[error("has a `kid` that is not a string of 1 to {MAX_KID_CHARS} characters")]
    BadKid,
    /// The key is for encryption (`use` other than `sig`).
    #[error("has `use` {0:?}, expected \"sig\"")]
    NotForSignatures(String),
    /// `key_ops` is present without `verify`.
    #[error("has `key_ops` without \"verify\"")]
    NoVerifyOp,
    /// Private or secret material was published.
    #[error("carries the private member `{0}`")]
    PrivateMember(&'static str),
    /// A required member is missing or not a string.
    #[error("lacks the string member `{0}`")]
    MissingMember(&'static str),
    /// A member is not base64url.
    #[error("has `{0}` that is not base64url")]
    NotBase64Url(&'static str),
    /// The RSA modulus is too short to be safe.
    #[error("has an RSA modulus of {0} bits, expected at least {MIN_RSA_BITS}")]
    ModulusTooShort(usize),
    /// The RSA modulus is longer than any issuer needs.
    #[error("has an RSA modulus of {0} bits, expected at most {MAX_RSA_BITS}")]
    ModulusTooLong(usize),
    /// The RSA exponent is not an odd number above 1 that fits 64 bits.
    #[error("has an RSA exponent that is not an odd number from 3 to 2^64-1")]
    BadExponent,
    /// A curve this verifier does not know for the key type.
    #[error("has `crv` {crv:?}, expected {expected}")]
    UnknownCurve {
        /// The curve named.
        crv: String,
        /// The curves accepted for its `kty`.
        expected: &'static str,
    },
    /// A coordinate of the wrong length for its curve.
    #[error("has `{member}` of {actual} bytes, expected {expected} for {crv}")]
    WrongLength {
        /// `x` or `y`.
        member: &'static str,
        /// The curve.
        crv: &'static str,
        /// The curve's coordinate length.
        expected: usize,
        /// The decoded length.
        actual: usize,
    },
    /// `alg` names an algorithm this key cannot be used with.
    #[error("has `alg` {alg}, expected one of {}", expected.join(", "))]
    AlgMismatch {
        /// The algorithm named, as JSON.
        alg: String,
        /// The algorithms the key's type and curve allow.
        expected: &'static [&'static str],
    },
    /// Another key of the set already has this `kid`.
    #[error("repeats the `kid` {0:?} of an earlier key")]
    DuplicateKid(String),
    /// The set already holds as many keys as are kept.
    #[error("is beyond the {0} keys kept")]
    TooMany(usize),
}

/// Checks one JWK and returns its normalized form.
pub fn check(value: &Value) -> Result<UsableKey, KeyDefect> {
    let jwk = value.as_object().ok_or(KeyDefect::NotAnObject)?;
    let kty = jwk
        .get("kty")
        .and_then(Value::as_str)
        .ok_or(KeyDefect::MissingKty)?;
    // The symmetric check comes first: an `oct` key must never be mistaken for skippable.
    match kty {
        "oct" => return Err(KeyDefect::Symmetric),
        "RSA" | "EC" | "OKP" => {}
        other => return Err(KeyDefect::UnknownKty(other.to_owned())),
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) if (1..=MAX_KID_CHARS).contains(&kid.chars().count()) => {
            Some(kid.clone())
        }
        Some(_) => return Err(KeyDefect::BadKid),
    };
    check_purpose(jwk)?;
    if let Some(member) = PRIVATE_MEMBERS.into_iter().find(|m| jwk.contains_key(*m)) {
        return Err(KeyDefect::PrivateMember(member));
    }
    let (key, algs) = match kty {
        "RSA" => (rsa(jwk)?, RSA_ALGS),
        "EC" => ec(jwk)?,
        _ => (okp(jwk)?, ED25519_ALGS),
    };
    let alg = match jwk.get("alg") {
        None => None,
        Some(Value::String(alg)) if algs.contains(&alg.as_str()) => Some(alg.clone()),
        Some(other) => {
            return Err(KeyDefect::AlgMismatch {
                alg: other.to_string(),
                expected: algs,
            });
        }
    };
    Ok(UsableKey { kid, alg, key })
}

/// `use` and `key_ops` (RFC 7517 §4.2, §4.3), when present, must allow verifying.
fn check_purpose(jwk: &Map<String, Value>) -> Result<(), KeyDefect> {
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(other) => {
            let shown = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned);
            return Err(KeyDefect::NotForSignatures(shown));
        }
    }
    match jwk.get("key_ops") {
        None => Ok(()),
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => Ok(()),
        Some(_) => Err(KeyDefect::NoVerifyOp),
    }
}

fn decoded(jwk: &Map<String, Value>, member: &'static str) -> Result<Vec<u8>, KeyDefect> {
    let text = jwk
        .get(member)
        .and_then(Value::as_str)
        .ok_or(KeyDefect::MissingMember(member))?;
    BASE64URL
        .decode(text)
        .map_err(|_| KeyDefect::NotBase64Url(member))
}

/// The bytes without leading zeros, as RFC 7518 §6.3.1 wants an unsigned integer.
fn minimal(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

fn rsa(jwk: &Map<String, Value>) -> Result<PublicKey, KeyDefect> {
    let n = decoded(jwk, "n")?;
    let e = decoded(jwk, "e")?;
    let n = minimal(&n);
    let bits = n.first().map_or(0, |&top| {
        (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    });
    if bits < MIN_RSA_BITS {
        return Err(KeyDefect::ModulusTooShort(bits));
    }
    if bits > MAX_RSA_BITS {
        return Err(KeyDefect::ModulusTooLong(bits));
    }
    let e = minimal(&e);
    let is_odd = e.last().is_some_and(|last| last & 1 == 1);
    if e.len() > 8 || !is_odd || e == [1] {
        return Err(KeyDefect::BadExponent);
    }
    Ok(PublicKey::Rsa {
        n: BASE64URL.encode(n),
        e: BASE64URL.encode(e),
    })
}

fn ec(jwk: &Map<String, Value>) -> Result<(PublicKey, &'static [&'static str]), KeyDefect> {
    let crv = jwk
        .get("crv")
        .and_then(Value::as_str)
        .ok_or(KeyDefect::MissingMember("crv"))?;
    let (crv, len, alg) = match crv {
        "P-256" => ("P-256", 32, &["ES256"][..]),
        "P-384" => ("P-384", 48, &["ES384"][..]),
        "P-521" => ("P-521", 66, &["ES512"][..]),
        other => {
            return Err(KeyDefect::UnknownCurve {
                crv: other.to_owned(),
                expected: "P-256, P-384 or P-521",
            });
        }
    };
    let x = coordinate(jwk, "x", crv, len)?;
    let y = coordinate(jwk, "y", crv, len)?;
    let key = PublicKey::Ec {
        crv: crv.to_owned(),
        x,
        y,
    };
    Ok((key, alg))
}

fn okp(jwk: &Map<String, Value>) -> Result<PublicKey, KeyDefect> {
    match jwk.get("crv").and_then(Value::as_str) {
        Some("Ed25519") => Ok(PublicKey::Okp {
            crv: "Ed25519".to_owned(),
            x: coordinate(jwk, "x", "Ed25519", 32)?,
        }),
        Some(other) => Err(KeyDefect::UnknownCurve {
            crv: other.to_owned(),
            expected: "Ed25519",
        }),
        None => Err(KeyDefect::MissingMember("crv")),
    }
}

/// A fixed-length member (EC coordinates are padded to the curve size, RFC 7518 §6.2.1.2).
fn coordinate(
    jwk: &Map<String, Value>,
    member: &'static str,
    crv: &'static str,
    expected: usize,
) -> Result<String, KeyDefect> {
    let bytes = decoded(jwk, member)?;
    if bytes.len() != expected {
        return Err(KeyDefect::WrongLength {
            member,
            crv,
            expected,
            actual: bytes.len(),
        });
    }
    Ok(BASE64URL.encode(bytes))
}

#[cfg(test)]
mod tests;
