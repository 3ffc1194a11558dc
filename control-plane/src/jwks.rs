//! JWKS validation: a provider's key set reduced to the public signature keys the filter
//! can verify with. The fetcher that downloads and schedules it comes next.

pub mod jwk;
pub mod key_set;

pub use key_set::{NormalizedJwks, usable_keys};

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
