//! ECDSA signatures for `ES256` (P-256, SHA-256) and `ES384` (P-384, SHA-384), RFC 7518
//! §3.4, through the RustCrypto `p256` and `p384` crates.
//!
//! A JWS carries `r || s` as two fixed-width big-endian integers, not DER. Both must be
//! non-zero and below the group order, which rejects "psychic signatures" (r = s = 0,
//! CVE-2022-21449). Public points are checked to lie on the curve when the JWK is parsed.

use p256::ecdsa::signature::Verifier;

/// Why EC key parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcKeyError {
    /// A coordinate is not the curve's full coordinate size (RFC 7518 §6.2.1.2).
    #[error("ec {crv} coordinate {name} is {actual} bytes, expected {expected}")]
    CoordinateLength {
        /// The curve.
        crv: &'static str,
        /// `x` or `y`.
        name: &'static str,
        /// Its decoded length.
        actual: usize,
        /// The curve's coordinate size.
        expected: usize,
    },
    /// `(x, y)` is not a point of the curve (or is the identity).
    #[error("ec {crv} point (x, y) is not on the curve")]
    NotOnCurve {
        /// The curve.
        crv: &'static str,
    },
}

/// Builds `VerifyingKey` from affine coordinates as an uncompressed SEC1 point.
fn sec1(crv: &'static str, size: usize, x: &[u8], y: &[u8]) -> Result<Vec<u8>, EcKeyError> {
    for (name, coordinate) in [("x", x), ("y", y)] {
        if coordinate.len() != size {
            return Err(EcKeyError::CoordinateLength {
                crv,
                name,
                actual: coordinate.len(),
                expected: size,
            });
        }
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    Ok(point)
}

/// A P-256 public key.
#[derive(Debug, Clone)]
pub struct P256Key(p256::ecdsa::VerifyingKey);

impl P256Key {
    /// The key at `(x, y)`, each 32 big-endian bytes, if the point is on the curve.
    pub fn new(x: &[u8], y: &[u8]) -> Result<P256Key, EcKeyError> {
        let point = sec1("P-256", 32, x, y)?;
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
            .map(P256Key)
            .map_err(|_| EcKeyError::NotOnCurve { crv: "P-256" })
    }

    /// Whether `signature` (64 bytes, `r || s`) signs `message` with ES256.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        p256::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| self.0.verify(message, &sig).is_ok())
    }
}

/// A P-384 public key.
#[derive(Debug, Clone)]
pub struct P384Key(p384::ecdsa::VerifyingKey);

impl P384Key {
    /// The key at `(x, y)`, each 48 big-endian bytes, if the point is on the curve.
    pub fn new(x: &[u8], y: &[u8]) -> Result<P384Key, EcKeyError> {
        let point = sec1("P-384", 48, x, y)?;
        p384::ecdsa::VerifyingKey::from_sec1_bytes(&point)
            .map(P384Key)
            .map_err(|_| EcKeyError::NotOnCurve { crv: "P-384" })
    }

    /// Whether `signature` (96 bytes, `r || s`) signs `message` with ES384.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        p384::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| self.0.verify(message, &sig).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn p256_pair() -> (p256::ecdsa::SigningKey, P256Key) {
        let signing = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let point = signing.verifying_key().to_sec1_point(false);
        let key = P256Key::new(point.x().unwrap(), point.y().unwrap()).unwrap();
        (signing, key)
    }

    #[test]
    fn an_es256_signature_verifies_and_a_tampered_one_does_not() {
        let (signing, key) = p256_pair();
        let sig: p256::ecdsa::Signature = signing.sign(b"message");
        let bytes = sig.to_bytes();
        assert!(key.verify(b"message", &bytes));
        assert!(!key.verify(b"messagE", &bytes));
        let mut tampered = bytes.to_vec();
        tampered[40] ^= 1;
        assert!(!key.verify(b"message", &tampered));
    }

    #[test]
    fn a_psychic_signature_of_zeros_is_rejected() {
        let (_, key) = p256_pair();
        assert!(!key.verify(b"anything", &[0u8; 64]));
        let (_, key384) = p384_pair();
        assert!(!key384.verify(b"anything", &[0u8; 96]));
    }

    #[test]
    fn a_der_or_short_signature_is_rejected() {
        let (signing, key) = p256_pair();
        let sig: p256::ecdsa::Signature = signing.sign(b"m");
        assert!(!key.verify(b"m", sig.to_der().as_bytes()));
        assert!(!key.verify(b"m", &sig.to_bytes()[..63]));
    }

    fn p384_pair() -> (p384::ecdsa::SigningKey, P384Key) {
        let signing = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        let point = signing.verifying_key().to_sec1_point(false);
        let key = P384Key::new(point.x().unwrap(), point.y().unwrap()).unwrap();
        (signing, key)
    }

    #[test]
    fn an_es384_signature_verifies() {
        let (signing, key) = p384_pair();
        let sig: p384::ecdsa::Signature = signing.sign(b"message");
        assert!(key.verify(b"message", &sig.to_bytes()));
    }

    #[test]
    fn a_point_off_the_curve_or_of_the_wrong_size_is_rejected() {
        let x = [1u8; 32];
        assert_eq!(
            P256Key::new(&x, &x).unwrap_err(),
            EcKeyError::NotOnCurve { crv: "P-256" }
        );
        assert!(matches!(
            P256Key::new(&[1u8; 31], &x),
            Err(EcKeyError::CoordinateLength { actual: 31, .. })
        ));
        assert!(P384Key::new(&[1u8; 48], &[2u8; 48]).is_err());
    }
}
