//! Envoy shared data: the keys under which the syncer publishes API-key secrets to every
//! worker, and the compact encoding of one secret's record.
//!
//! Layout: one entry per secret digest, `portcullis/k/<64 hex>`, read with a single
//! `get_shared_data` per API-key request; and `portcullis/synced`, the revision of the
//! last complete sync, absent until the first snapshot is applied. Only the syncer writes.
//! Envoy never frees a removed entry (it stores an empty value), so an empty value reads as
//! absent; keys are revoked by overwriting their record, not by removing it.

use crate::wire::{KeyEntry, KeyStatus};

/// Prefix of every secret's entry.
pub const KEY_PREFIX: &str = "portcullis/k/";
/// The revision of the last complete sync; absent before the first.
pub const SYNCED: &str = "portcullis/synced";

/// Encoding version; a record of another version reads as malformed.
const VERSION: u8 = 1;

/// The shared-data key of the secret whose SHA-256 is `digest`.
pub fn key_for(digest: &[u8; 32]) -> String {
    let mut key = String::with_capacity(KEY_PREFIX.len() + 64);
    key.push_str(KEY_PREFIX);
    for byte in digest {
        // Two hex digits; `{:02x}` through `fmt` would cost more on every request.
        for nibble in [byte >> 4, byte & 0xf] {
            key.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    key
}

/// One secret's record as a worker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Whether the key may be used.
    pub status: KeyStatus,
    /// Unix seconds after which the secret no longer works.
    pub expires_at: Option<i64>,
    /// The key's id.
    pub key_id: String,
    /// The key's org.
    pub org_id: String,
    /// Rate-limit tier, if any.
    pub tier: Option<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Roles held.
    pub roles: Vec<String>,
}

/// The record of `entry`: version, status, expiry, then length-prefixed strings (key id,
/// org, tier, space-joined scopes, space-joined roles). Scopes and roles never hold spaces
/// (the control-plane validates them), so joining them is lossless.
pub fn encode(entry: &KeyEntry) -> Vec<u8> {
    let status = match entry.status {
        KeyStatus::Active => 0,
        KeyStatus::Disabled => 1,
        KeyStatus::Revoked => 2,
    };
    let mut out = vec![VERSION, status, u8::from(entry.expires_at.is_some())];
    out.extend_from_slice(&entry.expires_at.unwrap_or(0).to_le_bytes());
    let tier = entry.tier.as_deref().unwrap_or("");
    let scopes = entry.scopes.join(" ");
    let roles = entry.roles.join(" ");
    for text in [&entry.key_id[..], &entry.org_id, tier, &scopes, &roles] {
        // Fields longer than u16::MAX are cut: the control-plane's limits are far below.
        let bytes = text.as_bytes();
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(bytes.get(..usize::from(len)).unwrap_or(bytes));
    }
    out
}

/// Reads a record written by [`encode`]; `None` for an empty (removed) or malformed value.
pub fn decode(bytes: &[u8]) -> Option<StoredKey> {
    let mut reader = Reader(bytes);
    if reader.take(1)? != [VERSION] {
        return None;
    }
    let status = match reader.take(1)? {
        [0] => KeyStatus::Active,
        [1] => KeyStatus::Disabled,
        [2] => KeyStatus::Revoked,
        _ => return None,
    };
    let has_expiry = reader.take(1)? == [1];
    let expiry = i64::from_le_bytes(reader.take(8)?.try_into().ok()?);
    let key_id = reader.text()?;
    let org_id = reader.text()?;
    let tier = reader.text()?;
    let scopes = reader.text()?;
    let roles = reader.text()?;
    let words = |s: String| {
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    reader.0.is_empty().then(|| StoredKey {
        status,
        expires_at: has_expiry.then_some(expiry),
        key_id,
        org_id,
        tier: (!tier.is_empty()).then_some(tier),
        scopes: words(scopes),
        roles: words(roles),
    })
}

struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn text(&mut self) -> Option<String> {
        let len = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        String::from_utf8(self.take(usize::from(len))?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> KeyEntry {
        KeyEntry {
            digest: "00".repeat(32),
            key_id: "key_abc".into(),
            org_id: "acme".into(),
            scopes: vec!["reports:read".into(), "reports:write".into()],
            roles: vec!["admin".into()],
            tier: Some("gold".into()),
            expires_at: Some(1_900_000_000),
            status: KeyStatus::Active,
        }
    }

    #[test]
    fn a_record_decodes_to_what_was_encoded() {
        let stored = decode(&encode(&entry())).unwrap();
        assert_eq!(stored.key_id, "key_abc");
        assert_eq!(stored.org_id, "acme");
        assert_eq!(stored.tier.as_deref(), Some("gold"));
        assert_eq!(stored.scopes, ["reports:read", "reports:write"]);
        assert_eq!(stored.roles, ["admin"]);
        assert_eq!(stored.expires_at, Some(1_900_000_000));
        assert_eq!(stored.status, KeyStatus::Active);
    }

    #[test]
    fn empty_lists_tier_and_expiry_round_trip_as_absent() {
        let mut e = entry();
        e.scopes.clear();
        e.roles.clear();
        e.tier = None;
        e.expires_at = None;
        e.status = KeyStatus::Revoked;
        let stored = decode(&encode(&e)).unwrap();
        assert!(stored.scopes.is_empty() && stored.roles.is_empty());
        assert_eq!((stored.tier, stored.expires_at), (None, None));
        assert_eq!(stored.status, KeyStatus::Revoked);
    }

    #[test]
    fn empty_truncated_or_foreign_values_read_as_absent() {
        let bytes = encode(&entry());
        assert_eq!(decode(&[]), None, "a removed entry is empty");
        for cut in 1..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), None);
        let mut other_version = bytes;
        other_version[0] = 9;
        assert_eq!(decode(&other_version), None);
    }

    #[test]
    fn keys_are_namespaced_lowercase_hex_digests() {
        let key = key_for(&[0xab; 32]);
        assert_eq!(key, format!("portcullis/k/{}", "ab".repeat(32)));
    }
}
