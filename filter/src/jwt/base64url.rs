//! Strict base64url decoding (RFC 7515 §2, RFC 4648 §5): the URL-safe alphabet, no
//! padding, no whitespace, and canonical encodings only.
//!
//! A canonical encoding leaves the unused low bits of its last character zero, so every
//! byte string has exactly one encoding and a token cannot be altered without changing
//! the bytes it decodes to.

/// Why a string is not strict base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// A character outside `A-Z a-z 0-9 - _` (padding and whitespace included).
    #[error("expected base64url characters, got byte 0x{byte:02x} at offset {offset}")]
    Character {
        /// The offending byte.
        byte: u8,
        /// Its offset in the encoded text.
        offset: usize,
    },
    /// A length no encoding has (4n + 1 characters).
    #[error("expected a base64url length that is not 1 more than a multiple of 4, got {len}")]
    Length {
        /// The encoded length.
        len: usize,
    },
    /// The last character carries non-zero unused bits.
    #[error("expected canonical base64url, got non-zero trailing bits in the last character")]
    NonCanonical,
}

/// The 6-bit value of a base64url character, or `None`.
fn value(byte: u8) -> Option<u32> {
    let v = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes `text`, rejecting anything but a canonical unpadded base64url encoding.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let len = text.len();
    if len % 4 == 1 {
        return Err(Base64Error::Length { len });
    }
    let mut out = Vec::with_capacity(len / 4 * 3 + 2);
    let mut chunks = text.chunks_exact(4);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let [_, a, b, c] = sextets(chunk, n * 4)?.to_be_bytes();
        out.extend_from_slice(&[a, b, c]);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        // 2 characters carry 12 bits for 1 byte, 3 carry 18 bits for 2 bytes.
        let bits = sextets(tail, len - tail.len())?;
        let (bytes, unused) = if tail.len() == 2 { (1, 4) } else { (2, 2) };
        if bits & ((1 << unused) - 1) != 0 {
            return Err(Base64Error::NonCanonical);
        }
        let aligned = bits << (6 * (4 - tail.len()));
        out.extend(aligned.to_be_bytes().into_iter().skip(1).take(bytes));
    }
    Ok(out)
}

/// The characters of `chunk` (at most 4) packed into the low bits of a `u32`.
fn sextets(chunk: &[u8], start: usize) -> Result<u32, Base64Error> {
    let mut bits = 0u32;
    for (i, &byte) in chunk.iter().enumerate() {
        let v = value(byte).ok_or(Base64Error::Character {
            byte,
            offset: start + i,
        })?;
        bits = (bits << 6) | v;
    }
    Ok(bits)
}

/// Encodes `bytes` as unpadded base64url, to mint tokens in tests.
#[cfg(test)]
pub(crate) fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut buf = [0u8; 4];
        for (slot, &b) in buf.iter_mut().skip(1).zip(chunk) {
            *slot = b;
        }
        let bits = u32::from_be_bytes(buf);
        for i in 0..=chunk.len() {
            let sextet = (bits >> (18 - 6 * i)) & 63;
            let c = ALPHABET.get(sextet as usize).copied().unwrap_or(b'A');
            out.push(char::from(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4648_vectors_round_trip_without_padding() {
        let vectors = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn url_safe_characters_decode_and_standard_ones_are_rejected() {
        assert_eq!(decode(b"-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
        assert!(matches!(
            decode(b"+/+/"),
            Err(Base64Error::Character { byte: b'+', .. })
        ));
    }

    #[test]
    fn padding_and_whitespace_are_rejected() {
        assert!(decode(b"Zg==").is_err());
        assert!(decode(b"Zm9v ").is_err());
        assert!(decode(b"Zm\n9v").is_err());
    }

    #[test]
    fn a_length_of_four_n_plus_one_is_rejected() {
        assert_eq!(decode(b"Zm9vY"), Err(Base64Error::Length { len: 5 }));
    }

    #[test]
    fn non_zero_trailing_bits_are_rejected() {
        // "Zh" and "Zm9" decode to the same bytes as "Zg" and "Zm8" with stray low bits.
        assert_eq!(decode(b"Zh"), Err(Base64Error::NonCanonical));
        assert_eq!(decode(b"Zm9"), Err(Base64Error::NonCanonical));
    }

    #[test]
    fn every_byte_string_up_to_three_bytes_round_trips() {
        for a in 0..=255u8 {
            for b in [0u8, 1, 127, 255] {
                let bytes = [a, b, a ^ b];
                for n in 0..=3 {
                    let encoded = encode(&bytes[..n]);
                    assert_eq!(decode(encoded.as_bytes()).unwrap(), &bytes[..n]);
                }
            }
        }
    }
}
