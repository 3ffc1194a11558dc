//! JWT verification: compact JWS tokens from OIDC issuers, Clerk and OAuth servers,
//! checked against each provider's keys and rules, and turned into a normalised identity.
//!
//! Plain Rust with no proxy-wasm: the filter calls it per request, the control-plane
//! natively (JWKS validation, the offline token explainer). Nothing here reads a clock;
//! the time of the check is always passed in.

pub mod algorithm;
pub mod base64url;
pub mod crypto;
pub mod header;
pub mod json;
pub mod token;

/// The longest untrusted value (an `alg`, a claim) quoted in a message.
const MAX_QUOTED: usize = 64;

/// `value` cut to [`MAX_QUOTED`] characters, for quoting untrusted input in messages.
pub(crate) fn clip(value: &str) -> String {
    value.chars().take(MAX_QUOTED).collect()
}
