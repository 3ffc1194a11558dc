//! Signature verification for every supported algorithm, behind one [`VerifyingKey`].
//!
//! A key verifies only the algorithms of its own family: an RSA key never verifies an
//! HMAC or ECDSA signature, whatever the token's header says (RFC 8725 §2.1).

pub mod ec;
pub mod eddsa;
pub mod hmac;
pub mod montgomery;
pub mod rsa;

use super::algorithm::{Algorithm, Family, Hash};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A key ready to verify signatures, parsed once when its JWKS or secret is loaded.
#[derive(Debug, Clone)]
pub enum VerifyingKey {
    /// An RSA public key (RS* and PS*).
    Rsa(rsa::RsaPublicKey),
    /// A P-256 public key (ES256).
    P256(ec::P256Key),
    /// A P-384 public key (ES384).
    P384(ec::P384Key),
    /// An Ed25519 public key (EdDSA).
    Ed25519(eddsa::Ed25519Key),
    /// A shared secret (HS*), from the provider's configuration only.
    Hmac(Box<hmac::HmacKey>),
}

impl VerifyingKey {
    /// Whether this key can verify `alg` at all.
    pub fn supports(&self, alg: Algorithm) -> bool {
        matches!(
            (self, alg.family()),
            (VerifyingKey::Rsa(_), Family::RsaPkcs1 | Family::RsaPss)
                | (VerifyingKey::P256(_), Family::P256)
                | (VerifyingKey::P384(_), Family::P384)
                | (VerifyingKey::Ed25519(_), Family::Ed25519)
                | (VerifyingKey::Hmac(_), Family::Hmac)
        )
    }

    /// Whether `signature` is a valid `alg` signature of `message` under this key. An
    /// algorithm the key does not support never verifies.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.supports(alg) {
            return false;
        }
        match self {
            VerifyingKey::Rsa(key) => key.verify(alg, message, signature),
            VerifyingKey::P256(key) => key.verify(message, signature),
            VerifyingKey::P384(key) => key.verify(message, signature),
            VerifyingKey::Ed25519(key) => key.verify(message, signature),
            VerifyingKey::Hmac(key) => key.verify(alg, message, signature),
        }
    }
}

/// The `hash` of the concatenation of `parts`.
pub(crate) fn digest(hash: Hash, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut hasher = D::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().to_vec()
    }
    match hash {
        Hash::Sha256 => run::<Sha256>(parts),
        Hash::Sha384 => run::<Sha384>(parts),
        Hash::Sha512 => run::<Sha512>(parts),
    }
}
