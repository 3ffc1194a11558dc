//! Long-lived shared secrets the control-plane checks, the bootstrap admin token and the
//! sync token: kept only as SHA-256 digests, compared in constant time, refused at start-up
//! when too short to resist guessing or impossible to send as a Bearer token; and the one
//! way a request's credential is read, exactly as the filter reads it.

use crate::api::error::ApiError;
use crate::keys;
use axum::http::request::Parts;
use portcullis::credentials::{self, API_KEY_HEADER, AUTHORIZATION_HEADER};
use subtle::ConstantTimeEq;

/// The shortest shared token accepted.
pub const MIN_TOKEN_CHARS: usize = 32;

/// A shared token, kept only as its SHA-256 digest.
pub struct SharedToken {
    digest: [u8; 32],
}

/// Why a shared token was refused at start-up; `name` says which token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Too short to resist guessing.
    #[error("the {name} must be at least {MIN_TOKEN_CHARS} characters, got {chars}")]
    TooShort {
        /// Which token.
        name: &'static str,
        /// Its length.
        chars: usize,
    },
    /// Not sendable as a Bearer token, so no client could ever present it.
    #[error("the {name} may hold only A-Z, a-z, 0-9 and -._~+/ (RFC 6750 b64token)")]
    NotSendable {
        /// Which token.
        name: &'static str,
    },
}

impl SharedToken {
    /// Checks `token`'s length and shape and keeps its digest; `name` goes in the error.
    pub fn new(name: &'static str, token: &str) -> Result<Self, TokenError> {
        let chars = token.chars().count();
        if chars < MIN_TOKEN_CHARS {
            return Err(TokenError::TooShort { name, chars });
        }
        if !credentials::is_b64token(token.as_bytes()) {
            return Err(TokenError::NotSendable { name });
        }
        Ok(Self {
            digest: keys::digest(token),
        })
    }

    /// Constant-time comparison of digests: equal lengths always, so neither the length nor
    /// a matching prefix of the token is revealed by timing.
    pub fn matches(&self, presented: &str) -> bool {
        keys::digest(presented).ct_eq(&self.digest).into()
    }
}

/// The request's credential, read as the filter reads it (`X-API-Key`, then
/// `Authorization: Bearer`), so a token in the wrong header fails the same way everywhere.
pub fn presented(parts: &Parts) -> Result<String, ApiError> {
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
    Ok(credential.token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_shorter_than_32_characters_is_refused_by_name() {
        let refused = SharedToken::new("sync token", &"s".repeat(31)).err();
        assert!(matches!(
            refused,
            Some(TokenError::TooShort {
                name: "sync token",
                chars: 31
            })
        ));
    }

    #[test]
    fn a_token_no_client_could_send_is_refused() {
        let token = format!("{} with spaces", "a".repeat(32));
        assert!(matches!(
            SharedToken::new("admin token", &token),
            Err(TokenError::NotSendable { .. })
        ));
    }

    #[test]
    fn only_the_exact_token_matches() {
        let token = "0123456789abcdefghijklmnopqrstuv";
        let shared = SharedToken::new("admin token", token).unwrap();
        assert!(shared.matches(token));
        assert!(!shared.matches("0123456789abcdefghijklmnopqrstuw"));
        assert!(!shared.matches(&token[..31]));
    }
}
