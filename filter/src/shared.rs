//! Envoy shared data: where the syncer publishes API-key records for every worker, and how
//! a worker finds the record of a presented secret.
//!
//! Layout, chosen by measurement (`make bench-scale`): the records live in [`BUCKETS`]
//! fixed buckets, `portcullis/b/<4 hex>`, named by the first two bytes of the secret's
//! SHA-256, so a request costs one `get_shared_data` and a scan of a few records. Envoy
//! never frees a shared-data entry (a removed one is stored empty), so one entry per key
//! would keep every revoked or rotated-out secret for the life of the process; a bucket is
//! rewritten whole, Envoy frees the value it replaces, and memory follows the live keys
//! while the number of entries stays bounded.
//!
//! `portcullis/synced` holds the revision of the last complete sync, absent until the first
//! snapshot is applied; `portcullis/providers` the JWT providers. Only the syncer writes
//! these. The one thing workers write is brute-force protection's failure counts,
//! `portcullis/f/…`, which [`crate::failure_limit`] owns.

pub mod bucket;

use crate::host::Host;
pub use bucket::{Bucket, Record, StoredKey};

/// Prefix of every bucket's entry.
pub const BUCKET_PREFIX: &str = "portcullis/b/";
/// How many buckets there are: a power of two indexed by the digest's first two bytes.
pub const BUCKETS: u32 = 1 << 16;
/// The revision of the last complete sync; absent before the first.
pub const SYNCED: &str = "portcullis/synced";
/// The JWT providers synced from the control-plane: a JSON object from provider id to its
/// `ProviderConfig` (key set inline). Workers rebuild their verifier when it changes.
pub const PROVIDERS: &str = "portcullis/providers";
/// The shared queue (registered by the syncer) where workers post the unknown `kid`s
/// they meet, so the syncer asks the control-plane to refetch that key set.
pub const UNKNOWN_KID_QUEUE: &str = "portcullis/unknown_kid";

/// A SHA-256 digest of a secret.
pub type Digest = [u8; 32];

/// The bucket holding the record of `digest`.
pub fn bucket_of(digest: &Digest) -> u16 {
    let [a, b, ..] = *digest;
    u16::from_be_bytes([a, b])
}

/// The shared-data key of bucket `index`.
pub fn bucket_key(index: u16) -> String {
    let mut key = String::with_capacity(BUCKET_PREFIX.len() + 4);
    key.push_str(BUCKET_PREFIX);
    // Four hex digits by hand: `format!` would cost more on every request.
    for shift in [12, 8, 4, 0] {
        let nibble = u32::from((index >> shift) & 0xf);
        key.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
    key
}

/// The published record of the secret whose SHA-256 is `digest`: `Ok(None)` when no record
/// is published, `Err` when its bucket cannot be read (never treated as valid).
pub fn lookup(host: &impl Host, digest: &Digest) -> Result<Option<StoredKey>, bucket::Unreadable> {
    match host.shared(&bucket_key(bucket_of(digest))) {
        Some(bytes) => bucket::find(&bytes, digest),
        None => Ok(None),
    }
}

/// Publishes `entry` as the syncer would, for tests of the request path.
#[cfg(test)]
pub fn publish(host: &impl Host, digest: &Digest, entry: &crate::wire::KeyEntry) {
    let key = bucket_key(bucket_of(digest));
    let mut bucket = host
        .shared(&key)
        .map(|bytes| Bucket::decode(&bytes).unwrap())
        .unwrap_or_default();
    bucket.upsert(Record::new(*digest, entry, 1, i64::MAX));
    host.set_shared(&key, &bucket.encode()).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_named_by_the_digests_first_two_bytes_in_lowercase_hex() {
        let mut digest = [0u8; 32];
        digest[0] = 0xab;
        digest[1] = 0x0c;
        assert_eq!(bucket_of(&digest), 0xab0c);
        assert_eq!(bucket_key(bucket_of(&digest)), "portcullis/b/ab0c");
        assert_eq!(bucket_key(0), "portcullis/b/0000");
        assert_eq!(bucket_key(u16::MAX), "portcullis/b/ffff");
    }
}
