//! RSA signatures for `RS256/384/512` (RSASSA-PKCS1-v1_5, RFC 7518 §3.3) and
//! `PS256/384/512` (RSASSA-PSS, RFC 7518 §3.5), verified with the dedicated exponent-65537
//! arithmetic of [`super::montgomery`].
//!
//! PKCS #1 v1.5 builds the whole expected encoding (RFC 8017 §9.2, with the DigestInfo
//! prefix) and compares it byte for byte, so no parser can be fooled by trailing data
//! (Bleichenbacher 2006). PSS follows EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with MGF1 over the
//! same hash and a salt as long as the hash, as RFC 7518 §3.5 requires.

use super::digest;
use super::montgomery::{MAX_BITS, Modulus};
use crate::jwt::algorithm::{Algorithm, Family, Hash};

/// The smallest modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
pub const MIN_BITS: usize = 2048;
/// The only public exponent supported: every mainstream issuer uses it.
pub const EXPONENT: u32 = 65537;

/// Why RSA key parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaKeyError {
    /// `e` is not 65537.
    #[error("rsa exponent is {actual}, expected {EXPONENT}")]
    Exponent {
        /// The exponent, in decimal, or its size when larger than 64 bits.
        actual: String,
    },
    /// The modulus is too short, too long, or even.
    #[error(
        "rsa modulus is {bits} bits{parity}, expected an odd modulus of {MIN_BITS} to {MAX_BITS} bits"
    )]
    Modulus {
        /// Its length in bits.
        bits: usize,
        /// `", even"` when it is even.
        parity: &'static str,
    },
}

/// An RSA public key ready to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    modulus: Modulus,
}

impl RsaPublicKey {
    /// The key with modulus `n` and exponent `e`, both big-endian.
    pub fn new(n: &[u8], e: &[u8]) -> Result<RsaPublicKey, RsaKeyError> {
        let e = e.get(e.iter().position(|&b| b != 0).unwrap_or(e.len())..);
        let e = e.unwrap_or_default();
        if e != EXPONENT.to_be_bytes().get(1..).unwrap_or_default() {
            let actual = if e.len() <= 8 {
                e.iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                    .to_string()
            } else {
                format!("a {}-bit number", e.len() * 8)
            };
            return Err(RsaKeyError::Exponent { actual });
        }
        let modulus = Modulus::new(n).filter(|m| m.bits() >= MIN_BITS);
        modulus
            .map(|modulus| RsaPublicKey { modulus })
            .ok_or_else(|| {
                let significant = n.iter().skip_while(|&&b| b == 0).count();
                let top = n.iter().find(|&&b| b != 0).copied().unwrap_or(0);
                RsaKeyError::Modulus {
                    bits: (significant * 8).saturating_sub(top.leading_zeros() as usize),
                    parity: if n.last().is_some_and(|b| b & 1 == 1) {
                        ""
                    } else {
                        ", even"
                    },
                }
            })
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.modulus.bits()
    }

    /// Whether `signature` is a valid `alg` signature of `message`; `alg` must be an RSA
    /// algorithm (any other is simply not verified).
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        let Some(encoded) = self.modulus.pow_65537(signature) else {
            return false;
        };
        let hash = alg.hash();
        match alg.family() {
            Family::RsaPkcs1 => pkcs1_encoding(hash, message, encoded.len()) == Some(encoded),
            Family::RsaPss => pss_verify(hash, message, &encoded, self.modulus.bits()),
            _ => false,
        }
    }
}

/// The ASN.1 DigestInfo prefix of each hash (RFC 8017 §9.2, note 1).
fn digest_info_prefix(hash: Hash) -> &'static [u8] {
    match hash {
        Hash::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        Hash::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        Hash::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// EMSA-PKCS1-v1_5-ENCODE (RFC 8017 §9.2): `00 01 FF… 00 DigestInfo`, `len` bytes.
fn pkcs1_encoding(hash: Hash, message: &[u8], len: usize) -> Option<Vec<u8>> {
    let prefix = digest_info_prefix(hash);
    let digest = digest(hash, &[message]);
    let padding = len.checked_sub(prefix.len() + digest.len() + 3)?;
    if padding < 8 {
        return None;
    }
    let mut em = Vec::with_capacity(len);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(2 + padding, 0xff);
    em.push(0x00);
    em.extend_from_slice(prefix);
    em.extend_from_slice(&digest);
    Some(em)
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of the `k`-byte `encoded` value of a `mod_bits`
/// modulus, with MGF1 over `hash` and a salt of the hash's length.
fn pss_verify(hash: Hash, message: &[u8], encoded: &[u8], mod_bits: usize) -> bool {
    let h_len = hash.output_len();
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    // I2OSP(m, emLen) fails when m needs the extra leading byte (RFC 8017 §8.1.2 2c).
    let Some((leading, em)) = encoded.split_at_checked(encoded.len() - em_len) else {
        return false;
    };
    if leading.iter().any(|&b| b != 0) || em_len < 2 * h_len + 2 {
        return false;
    }
    let Some((masked_db, rest)) = em.split_at_checked(em_len - h_len - 1) else {
        return false;
    };
    let (Some((h, trailer)), Some(&first)) = (rest.split_at_checked(h_len), masked_db.first())
    else {
        return false;
    };
    let top_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8 >> top_bits;
    if trailer != [0xbc] || first & !top_mask != 0 {
        return false;
    }
    let mut db = mgf1(hash, h, masked_db.len());
    for (d, m) in db.iter_mut().zip(masked_db) {
        *d ^= m;
    }
    if let Some(b) = db.first_mut() {
        *b &= top_mask;
    }
    // DB = PS (zeros) || 0x01 || salt, with the salt as long as the hash.
    let Some((padding, salt)) = db.split_at_checked(db.len() - h_len) else {
        return false;
    };
    let Some((&one, zeros)) = padding.split_last() else {
        return false;
    };
    if one != 0x01 || zeros.iter().any(|&b| b != 0) {
        return false;
    }
    let m_hash = digest(hash, &[message]);
    digest(hash, &[&[0u8; 8], &m_hash, salt]) == h
}

/// MGF1 (RFC 8017 §B.2.1): `len` bytes of `hash(seed || counter)` blocks.
fn mgf1(hash: Hash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut mask = Vec::with_capacity(len + hash.output_len());
    let mut counter = 0u32;
    while mask.len() < len {
        mask.extend_from_slice(&digest(hash, &[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    mask.truncate(len);
    mask
}

#[cfg(test)]
mod tests;
