//! API keys: the format, shared by the control-plane (which mints keys) and the filter
//! (which rejects malformed ones without a lookup), and the filter's check of a presented
//! key against the record the syncer published in shared data.
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

use crate::host::Host;
use crate::identity::{Identity, KeyIdentity};
use crate::shared;
use crate::static_token;
use crate::wire::KeyStatus;

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

/// Why a presented API key does not authenticate. Messages name the key id or display
/// prefix, never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejection {
    /// `sk_…` but not the key format: checked before any digest or lookup.
    #[error(
        "the credential starts with sk_ but is not a well-formed API key (length, alphabet or checksum)"
    )]
    Malformed,
    /// No published record for this secret.
    #[error("no API key has the secret {prefix}…")]
    Unknown {
        /// Display prefix of the presented key.
        prefix: String,
    },
    /// The key was revoked.
    #[error("API key {key_id} is revoked")]
    Revoked {
        /// The key's id.
        key_id: String,
    },
    /// The key is disabled.
    #[error("API key {key_id} is disabled")]
    Disabled {
        /// The key's id.
        key_id: String,
    },
    /// The key (or this rotated-out secret) is past its expiry.
    #[error("API key {key_id} expired at {expires_at}, now is {now}")]
    Expired {
        /// The key's id.
        key_id: String,
        /// When it expired (Unix seconds).
        expires_at: i64,
        /// The time of the check.
        now: i64,
    },
    /// The published record cannot be read: treated as invalid, never as valid.
    #[error("the published record of API key {prefix}… is unreadable")]
    Corrupt {
        /// Display prefix of the presented key.
        prefix: String,
    },
    /// Nothing was synced from the control-plane yet, so no key can be judged.
    #[error("API keys have not been synced from the control-plane yet")]
    NotReady,
}

/// The identity `token` (an `sk_…` credential) authenticates as: format and checksum, then
/// SHA-256, then the record published in its bucket ([`shared::lookup`]), then status and
/// expiry.
pub fn verify(token: &str, host: &impl Host) -> Result<Identity, KeyRejection> {
    if !is_well_formed(token) {
        return Err(KeyRejection::Malformed);
    }
    let prefix = || display_prefix(token).to_owned();
    let found = shared::lookup(host, &static_token::digest(token.as_bytes()))
        .map_err(|_| KeyRejection::Corrupt { prefix: prefix() })?;
    let Some(record) = found else {
        // A miss before the first sync says nothing about the key: fail closed, retryably.
        return Err(match host.shared(shared::SYNCED) {
            Some(_) => KeyRejection::Unknown { prefix: prefix() },
            None => KeyRejection::NotReady,
        });
    };
    let key_id = record.key_id.clone();
    match record.status {
        KeyStatus::Revoked => return Err(KeyRejection::Revoked { key_id }),
        KeyStatus::Disabled => return Err(KeyRejection::Disabled { key_id }),
        KeyStatus::Active => {}
    }
    let now = host.now();
    if let Some(expires_at) = record.expires_at.filter(|at| now >= *at) {
        return Err(KeyRejection::Expired {
            key_id,
            expires_at,
            now,
        });
    }
    let key = KeyIdentity {
        key_id,
        org_id: record.org_id,
        tier: record.tier,
    };
    Ok(Identity::api_key(key, record.roles, record.scopes))
}

#[cfg(test)]
mod tests;
