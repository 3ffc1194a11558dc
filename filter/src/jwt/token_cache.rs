//! Verified tokens, remembered per worker so a repeated token costs a SHA-256 and a map
//! lookup instead of a signature verification (≈ 60 µs for RS256 in Wasm).
//!
//! Invariants:
//! - Only verified tokens are stored, keyed by the SHA-256 of the exact token bytes. The
//!   provider is not part of the key because it is a function of the token and the
//!   configuration, and a new configuration builds a new cache.
//! - An entry never outlives the token's `exp`: it is dropped at `exp`, so the verifier's
//!   leeway applies afresh (and a token already past `exp` is not stored).
//! - The whole cache is dropped when the key generation changes (any provider's key set
//!   was replaced), so a verdict made with a removed key does not survive it.
//! - At most `capacity` entries, least recently used evicted first. Time is the caller's.
//!
//! Memory, by construction: each entry is one allocation holding the 32-byte key, `V`, the
//! `exp` and two list pointers, plus a table slot (a pointer and a control byte). For a
//! typical identity (`V` = [`super::JwtIdentity`] with a subject, an org, a role, two
//! permissions and four scopes) that is about 640 bytes on a 64-bit host, so the default
//! 1024 entries hold about 0.65 MiB per worker; Wasm's 32-bit pointers and lengths make
//! it smaller. The `memory_of_a_full_default_cache` test computes it.

use hashlink::LruCache;
use sha2::{Digest, Sha256};

/// Entries kept when the configuration says nothing.
pub const DEFAULT_CAPACITY: usize = 1024;

/// The cache key: SHA-256 of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// The key of `token`: computed once per request, used for the lookup and the insert.
    pub fn of(token: &str) -> TokenKey {
        TokenKey(Sha256::digest(token.as_bytes()).into())
    }
}

/// A bounded LRU of verified tokens and what they verified to (`V`: the caller's
/// identity type, so a hit needs no rebuilding).
#[derive(Debug)]
pub struct TokenCache<V> {
    entries: LruCache<TokenKey, Entry<V>>,
    generation: u64,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: Option<i64>,
}

impl<V> TokenCache<V> {
    /// A cache of at most `capacity` tokens; 0 disables caching.
    pub fn new(capacity: usize) -> TokenCache<V> {
        TokenCache {
            entries: LruCache::new(capacity),
            generation: 0,
        }
    }

    /// The cached value of `key` at `now`, if verified under key `generation` and not
    /// past its `exp`; marks it most recently used.
    pub fn get(&mut self, key: &TokenKey, now: i64, generation: u64) -> Option<&V> {
        self.sync_generation(generation);
        let expired = self
            .entries
            .peek(key)?
            .expires_at
            .is_some_and(|exp| now >= exp);
        if expired {
            self.entries.remove(key);
            return None;
        }
        self.entries.get(key).map(|entry| &entry.value)
    }

    /// Remembers that `key` verified to `value` under key `generation`, until `expires_at`
    /// (the token's `exp`, `None` if it has none). A token at or past `exp` is not stored.
    pub fn insert(
        &mut self,
        key: TokenKey,
        value: V,
        expires_at: Option<i64>,
        now: i64,
        generation: u64,
    ) {
        self.sync_generation(generation);
        if self.entries.capacity() == 0 || expires_at.is_some_and(|exp| now >= exp) {
            return;
        }
        self.entries.insert(key, Entry { value, expires_at });
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops everything when the key generation moved on.
    fn sync_generation(&mut self, generation: u64) {
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
    }
}

impl<V> Default for TokenCache<V> {
    fn default() -> Self {
        TokenCache::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests;
