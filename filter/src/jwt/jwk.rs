//! JSON Web Keys and key sets (RFC 7517), parsed once into ready-to-verify keys.
//!
//! The filter parses a provider's JWKS when it changes, never per request, and the
//! control-plane parses a fetched JWKS with the same code before pushing it. A key the
//! verifier cannot or must not use is skipped with its reason: an unknown `kty` (RFC 7517
//! §5), a key for encryption (`use`, `key_ops`), a symmetric `oct` key (secrets never come
//! from a JWKS), an unsupported curve, or malformed parameters (RSA below 2048 bits or
//! e ≠ 65537, EC points off the curve, coordinates of the wrong length, weak Ed25519
//! keys). A set with no usable key is an error, so a bad fetch never replaces good keys.

use super::algorithm::Algorithm;
use super::base64url::{self, Base64Error};
use super::clip;
use super::crypto::VerifyingKey;
use super::crypto::ec::{EcKeyError, P256Key, P384Key};
use super::crypto::eddsa::{Ed25519Key, Ed25519KeyError};
use super::crypto::rsa::{RsaKeyError, RsaPublicKey};
use super::json::{self, JsonError, type_name};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

/// The most keys a set may hold: parsing a key costs up to milliseconds in Wasm.
pub const MAX_KEYS: usize = 64;

/// One usable key.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// The key id, if the key has one.
    pub kid: Option<String>,
    /// The algorithm the key declares (`alg`), if any; it then verifies only that one.
    pub alg: Option<Algorithm>,
    /// The key itself.
    pub key: VerifyingKey,
}

impl Jwk {
    /// Whether this key may verify a token signed with `alg`: the key type must fit, and
    /// the key's own `alg`, when it declares one, must be `alg`.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.key.supports(alg) && self.alg.is_none_or(|own| own == alg)
    }

    /// The algorithm the key is for when no allow-list is configured: its `alg`, or the
    /// usual one for its type (RS256, ES256, ES384, EdDSA).
    pub fn default_algorithm(&self) -> Option<Algorithm> {
        self.alg.or(match &self.key {
            VerifyingKey::Rsa(_) => Some(Algorithm::Rs256),
            VerifyingKey::P256(_) => Some(Algorithm::Es256),
            VerifyingKey::P384(_) => Some(Algorithm::Es384),
            VerifyingKey::Ed25519(_) => Some(Algorithm::EdDsa),
            VerifyingKey::Hmac(_) => None,
        })
    }
}

/// A parsed key set: its usable keys, indexed by `kid`, and the keys it skipped.
#[derive(Debug, Clone)]
pub struct Jwks {
    keys: Vec<Jwk>,
    by_kid: HashMap<String, Vec<usize>>,
    skipped: Vec<SkippedKey>,
}

/// A key left out of a set, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keys[{index}]{}: {issue}", kid.as_ref().map(|k| format!(" (kid {k:?})")).unwrap_or_default())]
pub struct SkippedKey {
    /// Its position in `keys`.
    pub index: usize,
    /// Its `kid`, if readable.
    pub kid: Option<String>,
    /// Why it is not used.
    pub issue: KeyIssue,
}

/// Why a key is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyIssue {
    /// Not a JSON object.
    #[error("expected a JSON object, got {actual}")]
    NotObject {
        /// The JSON type found.
        actual: &'static str,
    },
    /// A required member is missing, or a member has the wrong JSON type.
    #[error("expected {name} to be {expected}, got {actual}")]
    Member {
        /// The member.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        actual: &'static str,
    },
    /// A key type this verifier does not know (RFC 7517 §5: ignored).
    #[error("kty {kty:?} is not supported, expected RSA, EC or OKP")]
    UnknownKeyType {
        /// The `kty`.
        kty: String,
    },
    /// A symmetric key: HMAC secrets come only from the provider's configuration.
    #[error("kty \"oct\" (a shared secret) is never accepted from a key set")]
    Symmetric,
    /// A curve this verifier does not support.
    #[error("crv {crv:?} is not supported for kty {kty}, expected {expected}")]
    UnsupportedCurve {
        /// The key type.
        kty: &'static str,
        /// The `crv`.
        crv: String,
        /// The curves supported.
        expected: &'static str,
    },
    /// `use` is not `sig`.
    #[error("use is {actual:?}, expected \"sig\"")]
    NotForSignatures {
        /// The `use`.
        actual: String,
    },
    /// `key_ops` does not include `verify`.
    #[error("key_ops {actual:?} does not include \"verify\"")]
    NoVerifyOperation {
        /// The `key_ops`.
        actual: Vec<String>,
    },
    /// The key's `alg` is unknown, or does not fit its type.
    #[error("alg {alg:?} is not a supported signature algorithm for kty {kty}")]
    Algorithm {
        /// The key type.
        kty: &'static str,
        /// The `alg`.
        alg: String,
    },
    /// A parameter is not strict base64url.
    #[error("{name} is not base64url: {source}")]
    Base64 {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it.
        source: Base64Error,
    },
    /// RSA parameters refused.
    #[error(transparent)]
    Rsa(#[from] RsaKeyError),
    /// EC parameters refused.
    #[error(transparent)]
    Ec(#[from] EcKeyError),
    /// Ed25519 parameters refused.
    #[error(transparent)]
    Ed25519(#[from] Ed25519KeyError),
}

/// Why bytes are not a usable key set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not a JSON object with unique member names.
    #[error("jwks: {0}")]
    Json(#[from] JsonError),
    /// No `keys` array.
    #[error("jwks: expected a keys array, got {actual}")]
    Keys {
        /// What `keys` is.
        actual: &'static str,
    },
    /// More keys than [`MAX_KEYS`].
    #[error("jwks: expected at most {MAX_KEYS} keys, got {actual}")]
    TooManyKeys {
        /// How many keys the set has.
        actual: usize,
    },
    /// Not one key is usable.
    #[error("jwks: expected at least one usable signing key, got none{}", Skipped(.skipped))]
    NoUsableKey {
        /// Every key, with its reason.
        skipped: Vec<SkippedKey>,
    },
}

/// `; keys[0]: …; keys[1]: …` for a message.
struct Skipped<'a>(&'a [SkippedKey]);

impl fmt::Display for Skipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|s| write!(f, "; {s}"))
    }
}

impl Jwks {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn parse(bytes: &[u8]) -> Result<Jwks, JwksError> {
        let document = json::parse_object(bytes)?;
        let entries = match document.get("keys") {
            Some(Value::Array(entries)) => entries,
            other => {
                return Err(JwksError::Keys {
                    actual: other.map_or("nothing", type_name),
                });
            }
        };
        if entries.len() > MAX_KEYS {
            return Err(JwksError::TooManyKeys {
                actual: entries.len(),
            });
        }
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match parse_key(entry) {
                Ok(jwk) => keys.push(jwk),
                Err(issue) => skipped.push(SkippedKey {
                    index,
                    kid: entry.get("kid").and_then(Value::as_str).map(clip),
                    issue,
                }),
            }
        }
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey { skipped });
        }
        let mut by_kid: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = &key.kid {
                by_kid.entry(kid.clone()).or_default().push(i);
            }
        }
        Ok(Jwks {
            keys,
            by_kid,
            skipped,
        })
    }

    /// Every usable key, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The usable keys with this `kid`.
    pub fn with_kid<'s>(&'s self, kid: &str) -> impl Iterator<Item = &'s Jwk> + 's {
        let indexes = self.by_kid.get(kid).map(Vec::as_slice).unwrap_or_default();
        indexes.iter().filter_map(|&i| self.keys.get(i))
    }

    /// The keys left out, with their reasons, for the log.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }
}

/// One JWK into a usable key.
fn parse_key(entry: &Value) -> Result<Jwk, KeyIssue> {
    let Value::Object(jwk) = entry else {
        return Err(KeyIssue::NotObject {
            actual: type_name(entry),
        });
    };
    let kty = string(jwk, "kty")?.ok_or(KeyIssue::Member {
        name: "kty",
        expected: "a string",
        actual: "nothing",
    })?;
    if let Some(usage) = string(jwk, "use")?
        && usage != "sig"
    {
        return Err(KeyIssue::NotForSignatures {
            actual: clip(usage),
        });
    }
    check_key_ops(jwk)?;
    let kid = string(jwk, "kid")?.map(str::to_owned);
    let (kty, key) = match kty {
        "RSA" => ("RSA", rsa(jwk)?),
        "EC" => ("EC", ec(jwk)?),
        "OKP" => ("OKP", okp(jwk)?),
        "oct" => return Err(KeyIssue::Symmetric),
        other => return Err(KeyIssue::UnknownKeyType { kty: clip(other) }),
    };
    let alg = match string(jwk, "alg")? {
        None => None,
        Some(name) => Some(
            Algorithm::from_name(name)
                .filter(|&alg| key.supports(alg))
                .ok_or_else(|| KeyIssue::Algorithm {
                    kty,
                    alg: clip(name),
                })?,
        ),
    };
    Ok(Jwk { kid, alg, key })
}

fn check_key_ops(jwk: &Map<String, Value>) -> Result<(), KeyIssue> {
    let Some(ops) = jwk.get("key_ops") else {
        return Ok(());
    };
    let not_strings = || KeyIssue::Member {
        name: "key_ops",
        expected: "an array of strings",
        actual: type_name(ops),
    };
    let ops: Vec<String> = ops
        .as_array()
        .ok_or_else(not_strings)?
        .iter()
        .map(|op| op.as_str().map(clip))
        .collect::<Option<_>>()
        .ok_or_else(not_strings)?;
    if ops.iter().any(|op| op == "verify") {
        Ok(())
    } else {
        Err(KeyIssue::NoVerifyOperation { actual: ops })
    }
}

fn rsa(jwk: &Map<String, Value>) -> Result<VerifyingKey, KeyIssue> {
    let key = RsaPublicKey::new(&bytes(jwk, "n")?, &bytes(jwk, "e")?)?;
    Ok(VerifyingKey::Rsa(key))
}

fn ec(jwk: &Map<String, Value>) -> Result<VerifyingKey, KeyIssue> {
    let (x, y) = (bytes(jwk, "x")?, bytes(jwk, "y")?);
    match curve(jwk)? {
        "P-256" => Ok(VerifyingKey::P256(P256Key::new(&x, &y)?)),
        "P-384" => Ok(VerifyingKey::P384(P384Key::new(&x, &y)?)),
        other => Err(KeyIssue::UnsupportedCurve {
            kty: "EC",
            crv: clip(other),
            expected: "P-256 or P-384",
        }),
    }
}

fn okp(jwk: &Map<String, Value>) -> Result<VerifyingKey, KeyIssue> {
    match curve(jwk)? {
        "Ed25519" => Ok(VerifyingKey::Ed25519(Ed25519Key::new(&bytes(jwk, "x")?)?)),
        other => Err(KeyIssue::UnsupportedCurve {
            kty: "OKP",
            crv: clip(other),
            expected: "Ed25519",
        }),
    }
}

fn curve(jwk: &Map<String, Value>) -> Result<&str, KeyIssue> {
    string(jwk, "crv")?.ok_or(KeyIssue::Member {
        name: "crv",
        expected: "a string",
        actual: "nothing",
    })
}

/// A required base64url parameter, decoded.
fn bytes(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyIssue> {
    let text = string(jwk, name)?.ok_or(KeyIssue::Member {
        name,
        expected: "a base64url string",
        actual: "nothing",
    })?;
    base64url::decode(text.as_bytes()).map_err(|source| KeyIssue::Base64 { name, source })
}

/// An optional string member.
fn string<'j>(
    jwk: &'j Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'j str>, KeyIssue> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(KeyIssue::Member {
            name,
            expected: "a string",
            actual: type_name(other),
        }),
    }
}

#[cfg(test)]
mod tests;
