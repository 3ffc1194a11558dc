//! HMAC signatures for `HS256/384/512` (RFC 7518 §3.2), only ever keyed by a provider's
//! configured shared secret, never by a JWK or a public key (RFC 8725 §2.1, §3.1).
//!
//! The secret is keyed into one HMAC state per hash when the provider is configured, and
//! each verification clones the state, so a request costs no key schedule. MACs are
//! compared in constant time.

use crate::jwt::algorithm::Algorithm;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};
use std::fmt;

/// A shared secret, keyed for each HMAC hash.
#[derive(Clone)]
pub struct HmacKey {
    sha256: Hmac<Sha256>,
    sha384: Hmac<Sha384>,
    sha512: Hmac<Sha512>,
    secret_len: usize,
}

impl HmacKey {
    /// The key for `secret` (any length: HMAC accepts every key; the configuration
    /// enforces the minimum of RFC 7518 §3.2).
    pub fn new(secret: &[u8]) -> HmacKey {
        HmacKey {
            sha256: keyed(secret),
            sha384: keyed(secret),
            sha512: keyed(secret),
            secret_len: secret.len(),
        }
    }

    /// The secret's length in bytes.
    pub fn secret_len(&self) -> usize {
        self.secret_len
    }

    /// Whether `signature` is the `alg` MAC of `message`.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match alg {
            Algorithm::Hs256 => check(self.sha256.clone(), message, signature),
            Algorithm::Hs384 => check(self.sha384.clone(), message, signature),
            Algorithm::Hs512 => check(self.sha512.clone(), message, signature),
            _ => false,
        }
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        write!(f, "HmacKey({} bytes)", self.secret_len)
    }
}

fn keyed<M: KeyInit>(secret: &[u8]) -> M {
    // HMAC accepts keys of every length, so this never takes the fallback.
    M::new_from_slice(secret).unwrap_or_else(|_| M::new(&Default::default()))
}

fn check<M: Mac>(mut mac: M, message: &[u8], signature: &[u8]) -> bool {
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(secret: &[u8], message: &[u8]) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        m.update(message);
        m.finalize().into_bytes().to_vec()
    }

    #[test]
    fn rfc_4231_case_2_verifies() {
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let tag: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&expected[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let key = HmacKey::new(b"Jefe");
        assert!(key.verify(Algorithm::Hs256, b"what do ya want for nothing?", &tag));
    }

    #[test]
    fn a_wrong_secret_truncated_tag_or_other_hash_is_rejected() {
        let key = HmacKey::new(&[1u8; 32]);
        let tag = mac(&[1u8; 32], b"m");
        assert!(key.verify(Algorithm::Hs256, b"m", &tag));
        assert!(!HmacKey::new(&[2u8; 32]).verify(Algorithm::Hs256, b"m", &tag));
        assert!(!key.verify(Algorithm::Hs256, b"m", &tag[..16]));
        assert!(!key.verify(Algorithm::Hs384, b"m", &tag));
        assert!(!key.verify(Algorithm::Rs256, b"m", &tag));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert_eq!(format!("{:?}", HmacKey::new(b"secret")), "HmacKey(6 bytes)");
    }
}
