//! Authentication of the sync endpoint: the sync token the sidecars' syncers hold, or the
//! bootstrap admin token (for an operator's `curl`).
//!
//! Separate from admin authentication on purpose: the sync token sits in every Envoy's
//! configuration, so it may read key digests and state but never manage keys — the `/v1`
//! admin routes do not accept it — and an API key, even an org admin's, may not sync.

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::keys;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis::credentials::{self, API_KEY_HEADER, AUTHORIZATION_HEADER};
use subtle::ConstantTimeEq;

/// The shortest sync token accepted.
pub const MIN_SYNC_TOKEN_CHARS: usize = 32;

/// The sync token, kept only as its SHA-256 digest.
pub struct SyncToken {
    digest: [u8; 32],
}

/// Why the sync token was refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SyncTokenError {
    /// Too short to resist guessing.
    #[error("the sync token must be at least {MIN_SYNC_TOKEN_CHARS} characters, got {0}")]
    TooShort(usize),
    /// Not sendable as a Bearer token, so no syncer could ever present it.
    #[error("the sync token may hold only A-Z, a-z, 0-9 and -._~+/ (RFC 6750 b64token)")]
    NotSendable,
}

impl SyncToken {
    /// Checks the token's length and shape and keeps its digest.
    pub fn new(token: &str) -> Result<Self, SyncTokenError> {
        let chars = token.chars().count();
        if chars < MIN_SYNC_TOKEN_CHARS {
            return Err(SyncTokenError::TooShort(chars));
        }
        if !credentials::is_b64token(token.as_bytes()) {
            return Err(SyncTokenError::NotSendable);
        }
        Ok(Self {
            digest: keys::digest(token),
        })
    }

    /// Constant-time comparison of digests, as for the admin token.
    fn matches(&self, presented: &str) -> bool {
        keys::digest(presented).ct_eq(&self.digest).into()
    }
}

/// Proof that a request to the sync endpoint presented the sync or the admin token.
#[derive(Debug)]
pub struct SyncCaller;

impl FromRequestParts<AppState> for SyncCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Read as the filter and admin authentication read credentials, so a token in the
        // wrong header fails the same way everywhere.
        let headers: Vec<(String, Vec<u8>)> = [API_KEY_HEADER, AUTHORIZATION_HEADER]
            .into_iter()
            .flat_map(|name| {
                parts
                    .headers
                    .get_all(name)
                    .iter()
                    .map(move |v| (name.to_owned(), v.as_bytes().to_vec()))
            })
            .collect();
        let credential = credentials::extract(&headers)
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?
            .ok_or(ApiError::MissingCredentials)?;
        // Evaluate both comparisons, so timing does not tell which token was close.
        let is_sync = state.sync.token.matches(credential.token);
        let is_admin = state.admin.matches(credential.token);
        if is_sync | is_admin {
            Ok(Self)
        } else {
            Err(ApiError::BadCredentials {
                code: "invalid_credentials",
                message: "the sync endpoint accepts only the sync token or the admin token",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_token_shorter_than_32_characters_is_refused() {
        assert!(matches!(
            SyncToken::new(&"s".repeat(31)),
            Err(SyncTokenError::TooShort(31))
        ));
    }

    #[test]
    fn a_sync_token_no_syncer_could_send_is_refused() {
        let token = format!("{}\"quoted\"", "s".repeat(32));
        assert!(matches!(
            SyncToken::new(&token),
            Err(SyncTokenError::NotSendable)
        ));
    }

    #[test]
    fn only_the_exact_sync_token_matches() {
        let token = "sync-0123456789abcdefghijklmnopqrs";
        let sync = SyncToken::new(token).unwrap();
        assert!(sync.matches(token));
        assert!(!sync.matches("sync-0123456789abcdefghijklmnopqrt"));
        assert!(!sync.matches(&token[..32]));
    }
}
