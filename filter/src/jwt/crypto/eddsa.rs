//! Ed25519 signatures for `EdDSA` (RFC 8037 §3.1), through `ed25519-dalek`.
//!
//! Verification is strict: non-canonical `S`, small-order `R` and small-order public keys
//! are rejected, so a signature has one valid form and weak keys sign nothing.

/// Why Ed25519 key parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ed25519KeyError {
    /// `x` is not 32 bytes.
    #[error("okp Ed25519 x is {actual} bytes, expected 32")]
    Length {
        /// Its decoded length.
        actual: usize,
    },
    /// `x` is not the encoding of a curve point, or is a weak (small-order) key.
    #[error("okp Ed25519 x is not a valid public key (not a point, or of small order)")]
    Invalid,
}

/// An Ed25519 public key.
#[derive(Debug, Clone)]
pub struct Ed25519Key(ed25519_dalek::VerifyingKey);

impl Ed25519Key {
    /// The key encoded as `x` (32 bytes, RFC 8032 §5.1.2).
    pub fn new(x: &[u8]) -> Result<Ed25519Key, Ed25519KeyError> {
        let bytes: &[u8; 32] = x
            .try_into()
            .map_err(|_| Ed25519KeyError::Length { actual: x.len() })?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Ed25519KeyError::Invalid)?;
        if key.is_weak() {
            return Err(Ed25519KeyError::Invalid);
        }
        Ok(Ed25519Key(key))
    }

    /// Whether `signature` (64 bytes) signs `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|sig| self.0.verify_strict(message, &sig).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;

    fn pair() -> (ed25519_dalek::SigningKey, Ed25519Key) {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        let key = Ed25519Key::new(signing.verifying_key().as_bytes()).unwrap();
        (signing, key)
    }

    #[test]
    fn an_ed25519_signature_verifies_and_a_tampered_one_does_not() {
        let (signing, key) = pair();
        let sig = signing.sign(b"message").to_bytes();
        assert!(key.verify(b"message", &sig));
        assert!(!key.verify(b"messagf", &sig));
        for i in 0..64 {
            let mut tampered = sig;
            tampered[i] ^= 0x10;
            assert!(!key.verify(b"message", &tampered), "byte {i}");
        }
    }

    #[test]
    fn a_signature_of_the_wrong_length_is_rejected() {
        let (signing, key) = pair();
        let sig = signing.sign(b"m").to_bytes();
        assert!(!key.verify(b"m", &sig[..63]));
        assert!(!key.verify(b"m", &[]));
    }

    #[test]
    fn a_small_order_or_short_key_is_rejected() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            Ed25519Key::new(&identity).unwrap_err(),
            Ed25519KeyError::Invalid
        );
        assert_eq!(
            Ed25519Key::new(&[0u8; 31]).unwrap_err(),
            Ed25519KeyError::Length { actual: 31 }
        );
    }
}
