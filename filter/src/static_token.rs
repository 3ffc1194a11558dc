//! Static tokens: shared secrets bound to a fixed identity (a local admin token, a CI
//! service token), held only as SHA-256 digests.
//!
//! The presented token is hashed and compared against every digest in constant time, so
//! neither the comparison nor the loop reveals how much of a token was right.

use crate::identity::Identity;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A SHA-256 digest of a token.
pub type TokenDigest = [u8; 32];

/// The SHA-256 digest of `token`.
pub fn digest(token: &[u8]) -> TokenDigest {
    Sha256::digest(token).into()
}

/// The configured tokens and the identities they grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticTokens {
    entries: Vec<(TokenDigest, Identity)>,
}

impl StaticTokens {
    /// Tokens from `(digest, identity)` pairs; digests are unique (config validation).
    pub fn new(entries: Vec<(TokenDigest, Identity)>) -> Self {
        StaticTokens { entries }
    }

    /// The identity `token` grants, if it is one of the configured tokens.
    pub fn verify(&self, token: &str) -> Option<&Identity> {
        let presented = digest(token.as_bytes());
        let mut granted = None;
        // No early exit: every digest is compared whatever matched.
        for (known, identity) in &self.entries {
            if bool::from(known.ct_eq(&presented)) {
                granted = Some(identity);
            }
        }
        granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Method;

    fn identity(subject: &str) -> Identity {
        Identity::new(
            Method::StaticToken,
            subject.into(),
            vec!["admin".into()],
            vec![],
        )
    }

    fn tokens() -> StaticTokens {
        StaticTokens::new(vec![
            (digest(b"first-token"), identity("first")),
            (digest(b"second-token"), identity("second")),
        ])
    }

    #[test]
    fn a_configured_token_grants_its_identity() {
        assert_eq!(
            tokens().verify("second-token").map(|i| i.subject.as_str()),
            Some("second")
        );
    }

    #[test]
    fn an_unknown_or_truncated_token_grants_nothing() {
        assert_eq!(tokens().verify("second-toke"), None);
        assert_eq!(tokens().verify(""), None);
    }

    #[test]
    fn digest_is_sha256() {
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = digest(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }
}
