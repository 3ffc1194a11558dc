//! JWT verification: compact JWS tokens from OIDC issuers, Clerk and OAuth servers,
//! checked against each provider's keys and rules, and turned into a normalised identity.
//!
//! Plain Rust with no proxy-wasm: the filter calls it per request, the control-plane
//! natively (JWKS validation, the offline token explainer). Nothing here reads a clock;
//! the time of the check is always passed in.
//!
//! The integration surface: [`Providers::from_configs`] validates the `ProviderConfig`s
//! once; [`Jwks::parse`] turns a key-set document into ready keys (in the filter once per
//! change, and in the control-plane to validate a fetch); [`Providers::install_jwks`]
//! swaps a provider's synced keys; [`Providers::verify`] turns a token into a
//! [`JwtIdentity`] or a [`JwtRejection`], whose [`JwtRejection::code`] is the reply code.
//! A worker keeps a [`TokenCache`] in front of it:
//!
//! ```
//! use portcullis::jwt::{JwtIdentity, JwtRejection, Providers, TokenCache, TokenKey};
//!
//! fn authenticate(
//!     providers: &Providers,
//!     cache: &mut TokenCache<JwtIdentity>,
//!     token: &str,
//!     now: i64,
//! ) -> Result<JwtIdentity, JwtRejection> {
//!     let key = TokenKey::of(token);
//!     if let Some(identity) = cache.get(&key, now, providers.generation()) {
//!         return Ok(identity.clone());
//!     }
//!     let identity = providers.verify(token, now)?;
//!     let exp = identity.expires_at;
//!     cache.insert(key, identity.clone(), exp, now, providers.generation());
//!     Ok(identity)
//! }
//!
//! let rejected = authenticate(&Providers::default(), &mut TokenCache::default(), "a.b.c", 0);
//! assert!(rejected.is_err());
//! ```

pub mod algorithm;
pub mod base64url;
pub mod claim_headers;
pub mod claims;
pub mod crypto;
pub mod header;
pub mod identity;
pub mod implication;
pub mod json;
pub mod jwk;
pub mod jwks_cache;
pub mod keys;
pub mod mapping;
pub mod provider;
pub mod rejection;
pub mod token;
pub mod token_cache;
pub mod verifier;

#[cfg(test)]
pub(crate) mod testkit;

pub use identity::JwtIdentity;
pub use jwk::{Jwks, JwksError};
pub use provider::ProviderConfig;
pub use rejection::JwtRejection;
pub use token_cache::{TokenCache, TokenKey};
pub use verifier::Providers;

/// The longest untrusted value (an `alg`, a claim) quoted in a message.
const MAX_QUOTED: usize = 64;

/// `value` cut to [`MAX_QUOTED`] characters, for quoting untrusted input in messages.
pub(crate) fn clip(value: &str) -> String {
    value.chars().take(MAX_QUOTED).collect()
}

/// An optional untrusted value for a message: quoted, or `absent`.
pub(crate) fn quoted(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(|| "absent".to_owned(), |v| format!("{v:?}"))
}
