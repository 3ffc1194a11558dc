//! The API key format, shared by the control-plane (which mints keys) and the filter (which
//! rejects malformed ones without a lookup).
//!
//! A key is `sk_` + 22 base62 characters of randomness (≥ 128 bits: 62^22 > 2^130) + a
//! 6-character base62 CRC32 of everything before it, the scheme GitHub uses for its tokens:
//! a mistyped or truncated key fails the checksum, so it costs no digest and no lookup.

/// Every API key starts with this.
pub const PREFIX: &str = "sk_";
/// Base62 characters of randomness.
pub const RANDOM_LEN: usize = 22;
/// Base62 characters of checksum (62^6 > 2^32).
pub const CHECKSUM_LEN: usize = 6;
/// The length of every key.
pub const KEY_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// Characters of the random part shown in listings and logs after the prefix (`sk_AbCd`).
pub const DISPLAY_LEN: usize = 4;

/// The base62 alphabet, in ASCII order.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The checksum of `body` (`sk_` + random part): CRC32 in base62, left-padded with `0`.
pub fn checksum(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        // `value % 62` is below 62, so the lookup always succeeds.
        *digit = BASE62.get((value % 62) as usize).copied().unwrap_or(b'0');
        value /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// A key from its random part, which must be [`RANDOM_LEN`] base62 characters.
pub fn compose(random: &str) -> String {
    let body = format!("{PREFIX}{random}");
    let sum = checksum(&body);
    body + &sum
}

/// Whether `token` has the shape of an API key: the prefix, the length, base62 only and a
/// matching checksum. Says nothing about whether the key exists.
pub fn is_well_formed(token: &str) -> bool {
    if token.len() != KEY_LEN || !token.starts_with(PREFIX) {
        return false;
    }
    let Some((body, sum)) = token.split_at_checked(KEY_LEN - CHECKSUM_LEN) else {
        return false;
    };
    let random = body.get(PREFIX.len()..).unwrap_or_default();
    random
        .bytes()
        .chain(sum.bytes())
        .all(|b| b.is_ascii_alphanumeric())
        && checksum(body) == sum
}

/// What listings and logs show of a key: the prefix and the first characters of its random
/// part, never enough to use it.
pub fn display_prefix(key: &str) -> &str {
    key.get(..PREFIX.len() + DISPLAY_LEN).unwrap_or(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "0123456789abcdefghijKL";

    #[test]
    fn a_composed_key_is_well_formed() {
        let key = compose(RANDOM);
        assert_eq!(key.len(), KEY_LEN);
        assert!(key.starts_with("sk_0123456789abcdefghijKL"));
        assert!(is_well_formed(&key));
    }

    #[test]
    fn the_checksum_is_base62_crc32_of_prefix_and_random_part() {
        let crc = crc32fast::hash(b"sk_0123456789abcdefghijKL");
        let mut expected = String::new();
        let mut v = crc;
        for _ in 0..CHECKSUM_LEN {
            expected.insert(0, char::from(BASE62[(v % 62) as usize]));
            v /= 62;
        }
        assert_eq!(checksum("sk_0123456789abcdefghijKL"), expected);
    }

    #[test]
    fn a_single_changed_character_fails_the_checksum() {
        let key = compose(RANDOM);
        for at in PREFIX.len()..KEY_LEN {
            let mut bytes = key.clone().into_bytes();
            bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
            let typo = String::from_utf8(bytes).unwrap();
            assert!(!is_well_formed(&typo), "{typo}");
        }
    }

    #[test]
    fn wrong_prefix_length_or_alphabet_is_malformed() {
        let key = compose(RANDOM);
        assert!(!is_well_formed(&key.replacen("sk_", "pk_", 1)));
        assert!(!is_well_formed(&key[..KEY_LEN - 1]));
        assert!(!is_well_formed(&format!("{key}0")));
        assert!(!is_well_formed(&compose("0123456789abcdefghij-_")));
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&format!("sk_{}", "é".repeat(14))));
        assert!(!is_well_formed(&format!("sk_{}x", "é".repeat(13) + "a")));
    }

    #[test]
    fn display_prefix_shows_four_random_characters() {
        assert_eq!(display_prefix(&compose(RANDOM)), "sk_0123");
        assert_eq!(display_prefix("sk"), "sk_");
    }
}
