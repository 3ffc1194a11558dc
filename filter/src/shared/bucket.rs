//! The encoding of one bucket: every published record whose secret's digest starts with the
//! bucket's two bytes.
//!
//! `[version]` then, per record: digest (32 bytes), generation (u32), drop-at (i64), body
//! length (u16), body — integers little-endian. The body is what a worker needs: status,
//! expiry, then length-prefixed strings (key id, org, tier, space-joined scopes,
//! space-joined roles). Scopes and roles never hold spaces (the control-plane validates
//! them), so joining them is lossless. Generation and drop-at are the syncer's
//! bookkeeping (which snapshot wrote a record; when it may be forgotten); workers skip them.

use super::Digest;
use crate::wire::{KeyEntry, KeyStatus};

/// Encoding version; a bucket of another version reads as unreadable.
const VERSION: u8 = 2;
/// Bytes before a record's body: digest, generation, drop-at, body length.
const HEADER_LEN: usize = 32 + 4 + 8 + 2;

/// A bucket whose bytes do not follow this encoding: the record it may hold is treated as
/// invalid, never as valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

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

/// One secret's record as the syncer handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// SHA-256 of the secret.
    pub digest: Digest,
    /// The snapshot generation that wrote it; a reset drops records of older generations.
    pub generation: u32,
    /// Unix seconds from which the record may be forgotten (`i64::MAX`: never).
    pub drop_at: i64,
    body: Vec<u8>,
}

impl Record {
    /// The record of `entry`, whose secret's SHA-256 is `digest`.
    pub fn new(digest: Digest, entry: &KeyEntry, generation: u32, drop_at: i64) -> Self {
        let status = match entry.status {
            KeyStatus::Active => 0,
            KeyStatus::Disabled => 1,
            KeyStatus::Revoked => 2,
        };
        let mut body = vec![status, u8::from(entry.expires_at.is_some())];
        body.extend_from_slice(&entry.expires_at.unwrap_or(0).to_le_bytes());
        let tier = entry.tier.as_deref().unwrap_or("");
        let scopes = entry.scopes.join(" ");
        let roles = entry.roles.join(" ");
        for text in [&entry.key_id[..], &entry.org_id, tier, &scopes, &roles] {
            // Fields longer than u16::MAX are cut: the control-plane's limits are far below.
            let bytes = text.as_bytes();
            let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
            body.extend_from_slice(&len.to_le_bytes());
            body.extend_from_slice(bytes.get(..usize::from(len)).unwrap_or(bytes));
        }
        Record {
            digest,
            generation,
            drop_at,
            body,
        }
    }
}

/// The records of one bucket, in no particular order, one per digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    records: Vec<Record>,
}

impl Bucket {
    /// Reads a bucket written by [`Bucket::encode`]; an empty value is an empty bucket.
    pub fn decode(bytes: &[u8]) -> Result<Bucket, Unreadable> {
        let mut records = Vec::new();
        for raw in raw_records(bytes)? {
            let raw = raw?;
            records.push(Record {
                digest: raw.digest,
                generation: raw.generation,
                drop_at: raw.drop_at,
                body: raw.body.to_vec(),
            });
        }
        Ok(Bucket { records })
    }

    /// The bucket's bytes; empty when it holds no record (Envoy's "removed").
    pub fn encode(&self) -> Vec<u8> {
        if self.records.is_empty() {
            return Vec::new();
        }
        let size = self
            .records
            .iter()
            .map(|r| HEADER_LEN + r.body.len())
            .sum::<usize>();
        let mut out = Vec::with_capacity(1 + size);
        out.push(VERSION);
        for record in &self.records {
            out.extend_from_slice(&record.digest);
            out.extend_from_slice(&record.generation.to_le_bytes());
            out.extend_from_slice(&record.drop_at.to_le_bytes());
            let len = u16::try_from(record.body.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(record.body.get(..usize::from(len)).unwrap_or(&record.body));
        }
        out
    }

    /// Adds `record`, replacing the record of the same digest.
    pub fn upsert(&mut self, record: Record) {
        match self.records.iter_mut().find(|r| r.digest == record.digest) {
            Some(slot) => *slot = record,
            None => self.records.push(record),
        }
    }

    /// Keeps only the records `keep` accepts; returns how many it dropped.
    pub fn retain(&mut self, keep: impl Fn(&Record) -> bool) -> usize {
        let before = self.records.len();
        self.records.retain(keep);
        before - self.records.len()
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the bucket holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The record of `digest` in the bucket `bytes`, read without copying the others.
pub fn find(bytes: &[u8], digest: &Digest) -> Result<Option<StoredKey>, Unreadable> {
    for raw in raw_records(bytes)? {
        let raw = raw?;
        // Not constant-time, and need not be: the digest is of the presented secret, and
        // where a lookup stops reveals nothing about any other secret.
        if raw.digest == *digest {
            return decode_body(raw.body).map(Some);
        }
    }
    Ok(None)
}

/// A record as it lies in a bucket's bytes.
struct RawRecord<'b> {
    digest: Digest,
    generation: u32,
    drop_at: i64,
    body: &'b [u8],
}

/// The records of `bytes`, each `Err` once the bytes stop following the encoding.
fn raw_records(
    bytes: &[u8],
) -> Result<impl Iterator<Item = Result<RawRecord<'_>, Unreadable>>, Unreadable> {
    let mut reader = Reader(bytes);
    if !bytes.is_empty() && reader.take(1) != Some(&[VERSION][..]) {
        return Err(Unreadable);
    }
    Ok(std::iter::from_fn(move || {
        if reader.0.is_empty() {
            return None;
        }
        let raw = (|| {
            let digest = reader.take(32)?.try_into().ok()?;
            let generation = u32::from_le_bytes(reader.take(4)?.try_into().ok()?);
            let drop_at = i64::from_le_bytes(reader.take(8)?.try_into().ok()?);
            let len = u16::from_le_bytes(reader.take(2)?.try_into().ok()?);
            let body = reader.take(usize::from(len))?;
            Some(RawRecord {
                digest,
                generation,
                drop_at,
                body,
            })
        })();
        if raw.is_none() {
            // Stop after the first error: the rest cannot be framed.
            reader.0 = &[];
        }
        Some(raw.ok_or(Unreadable))
    }))
}

/// A worker's view of a record's body.
fn decode_body(body: &[u8]) -> Result<StoredKey, Unreadable> {
    let mut reader = Reader(body);
    let stored = (|| {
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
        let words = |s: &str| {
            s.split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let scopes = words(reader.text()?);
        let roles = words(reader.text()?);
        reader.0.is_empty().then(|| StoredKey {
            status,
            expires_at: has_expiry.then_some(expiry),
            key_id: key_id.to_owned(),
            org_id: org_id.to_owned(),
            tier: (!tier.is_empty()).then(|| tier.to_owned()),
            scopes,
            roles,
        })
    })();
    stored.ok_or(Unreadable)
}

struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn text(&mut self) -> Option<&'b str> {
        let len = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        std::str::from_utf8(self.take(usize::from(len))?).ok()
    }
}

#[cfg(test)]
mod tests;
