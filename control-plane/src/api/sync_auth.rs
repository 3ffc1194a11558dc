//! Authentication of the sync endpoint: the sync token the sidecars' syncers hold, or the
//! bootstrap admin token (for an operator's `curl`).
//!
//! Separate from admin authentication on purpose: the sync token sits in every Envoy's
//! configuration, so it may read key digests and state but never manage keys — the `/v1`
//! admin routes do not accept it — and an API key, even an org admin's, may not sync.

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::shared_token::{self, SharedToken, TokenError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The sync token (`PORTCULLIS_SYNC_TOKEN`), kept only as its digest.
pub struct SyncToken(SharedToken);

impl SyncToken {
    /// Checks the token's length and shape and keeps its digest.
    pub fn new(token: &str) -> Result<Self, TokenError> {
        SharedToken::new("sync token", token).map(Self)
    }

    /// Whether `presented` is the sync token (constant time).
    fn matches(&self, presented: &str) -> bool {
        self.0.matches(presented)
    }
}

/// Proof that a request to the sync endpoint presented the sync or the admin token.
#[derive(Debug)]
pub struct SyncCaller;

impl FromRequestParts<AppState> for SyncCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = shared_token::presented(parts)?;
        // Evaluate both comparisons, so timing does not tell which token was close.
        let is_sync = state.sync.token.matches(&token);
        let is_admin = state.admin.matches(&token);
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
