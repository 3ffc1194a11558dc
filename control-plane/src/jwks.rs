//! The JWKS fetcher: for each provider, OIDC discovery or its `jwks_uri`, a bounded HTTP
//! fetch, structural validation of the keys, `Cache-Control` refresh, and the last good set
//! kept through any failure.
//!
//! Invariants:
//! - the store holds only sets that parsed and kept at least one usable key; a failure of
//!   any kind (network, status, size, JSON, no usable key, discovery) is recorded as the
//!   provider's `last_error` and never replaces the stored set;
//! - a set that differs from the stored one takes a revision (so the sync pushes it); the
//!   same set refetched does not;
//! - a sidecar's unknown `kid` triggers at most one refetch per provider per
//!   [`FetchSettings::min_kid_refresh_secs`], however many sidecars ask.

mod backoff;
mod cache_control;
mod discovery;
mod fetcher;
mod http_client;
pub mod jwk;
pub mod key_set;
mod provider_task;

pub use backoff::Backoff;
pub use cache_control::RefreshBounds;
pub use fetcher::{Fetcher, RefreshDecision};
pub use key_set::{NormalizedJwks, usable_keys};

use std::time::Duration;

/// The audit actor of JWKS changes.
pub const ACTOR: &str = "jwks-fetcher";

/// How the fetcher talks to issuers and schedules itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchSettings {
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole response, body included.
    pub total_timeout: Duration,
    /// Largest body read, counted while it streams in.
    pub max_body_bytes: usize,
    /// When to refresh after a good fetch.
    pub refresh: RefreshBounds,
    /// When to retry after a failed one.
    pub backoff: Backoff,
    /// Least time between two fetches of one provider caused by unknown `kid`s.
    pub min_kid_refresh_secs: i64,
    /// How often the provider list is re-read even without a change notice (changes
    /// made through another replica).
    pub reconcile_every: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_body_bytes: 1024 * 1024,
            refresh: RefreshBounds::default(),
            backoff: Backoff::default(),
            min_kid_refresh_secs: 30,
            reconcile_every: Duration::from_secs(60),
        }
    }
}

/// Why a JWKS document yields no key to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// The body is not JSON.
    #[error("jwks is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object with a `keys` array (RFC 7517 §5).
    #[error("jwks is not a JSON object with a `keys` array")]
    NotAKeySet,
    /// Every key was left out.
    #[error("jwks has no usable key among {count}: {reasons}")]
    NoUsableKey {
        /// Keys in the document.
        count: usize,
        /// Why each was left out.
        reasons: String,
    },
}

/// Why one fetch of a provider's JWKS failed; the message is what operators see as the
/// provider's `last_error`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No response: DNS, connection, TLS, redirect refused, or the timeout.
    #[error("GET {url} failed: {detail}")]
    Request {
        /// The URL asked.
        url: String,
        /// The cause chain.
        detail: String,
    },
    /// A response other than 200.
    #[error("GET {url} answered {status}, expected 200")]
    Status {
        /// The URL asked.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The body is larger than allowed.
    #[error("GET {url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The discovery document is unusable.
    #[error("discovery {url}: {reason}")]
    Discovery {
        /// The discovery URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The JWKS yields no usable key.
    #[error("{url}: {source}")]
    Jwks {
        /// The JWKS URL.
        url: String,
        /// Why.
        source: JwksError,
    },
    /// The HTTP client cannot be built (TLS set-up): a start-up failure.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
