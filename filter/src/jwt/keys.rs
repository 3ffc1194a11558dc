//! Where a provider's keys come from, which algorithms they allow, and which keys may
//! verify a given token.
//!
//! A provider has either a shared secret (HS* only) or a key set (asymmetric only, inline
//! in the configuration or synced from the control-plane), never both, so an RSA public
//! key can never be used as an HMAC secret (RFC 8725 §2.1). A token's `kid` picks its
//! keys; with or without one, at most [`MAX_KEYS_WITHOUT_KID`] keys of its algorithm are
//! tried, so a token cannot make the filter try every key.

use super::algorithm::Algorithm;
use super::crypto::VerifyingKey;
use super::jwk::Jwks;

/// The most keys tried for one token.
pub const MAX_KEYS_WITHOUT_KID: usize = 4;

/// A provider's keys.
#[derive(Debug, Clone)]
pub enum ProviderKeys {
    /// A configured shared secret, for HS* only.
    Secret(VerifyingKey),
    /// A key set in the configuration.
    Inline(Jwks),
    /// A key set the control-plane pushes; `None` until the first arrives.
    Synced(Option<Jwks>),
}

/// Why no key can verify a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unselectable {
    /// The key set has not arrived yet.
    NotLoaded,
    /// No key fits the token's `kid` and `alg`.
    NoKey,
}

impl ProviderKeys {
    /// The key set, if the provider has one loaded.
    pub fn jwks(&self) -> Option<&Jwks> {
        match self {
            ProviderKeys::Inline(jwks) | ProviderKeys::Synced(Some(jwks)) => Some(jwks),
            ProviderKeys::Secret(_) | ProviderKeys::Synced(None) => None,
        }
    }

    /// Whether `alg` is allowed when the provider configures no algorithms: it is what
    /// some key declares (or the usual algorithm of a key that declares none).
    pub fn allows_by_default(&self, alg: Algorithm) -> bool {
        self.jwks().is_some_and(|jwks| {
            jwks.keys()
                .iter()
                .any(|k| k.default_algorithm() == Some(alg))
        })
    }

    /// The algorithms allowed by default, for messages.
    pub fn default_algorithms(&self) -> Vec<Algorithm> {
        let mut algs: Vec<Algorithm> = self
            .jwks()
            .into_iter()
            .flat_map(|jwks| jwks.keys().iter().filter_map(|k| k.default_algorithm()))
            .collect();
        algs.sort();
        algs.dedup();
        algs
    }

    /// The keys that may verify a token signed with `alg` naming `kid`.
    pub fn select(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Vec<&VerifyingKey>, Unselectable> {
        let jwks = match self {
            ProviderKeys::Secret(key) => {
                // One secret: `kid` names nothing to choose between.
                return if key.supports(alg) {
                    Ok(vec![key])
                } else {
                    Err(Unselectable::NoKey)
                };
            }
            ProviderKeys::Synced(None) => return Err(Unselectable::NotLoaded),
            ProviderKeys::Inline(jwks) | ProviderKeys::Synced(Some(jwks)) => jwks,
        };
        let keys: Vec<&VerifyingKey> = match kid {
            Some(kid) => jwks
                .with_kid(kid)
                .filter(|k| k.accepts(alg))
                .take(MAX_KEYS_WITHOUT_KID)
                .map(|k| &k.key)
                .collect(),
            None => jwks
                .keys()
                .iter()
                .filter(|k| k.accepts(alg))
                .take(MAX_KEYS_WITHOUT_KID)
                .map(|k| &k.key)
                .collect(),
        };
        if keys.is_empty() {
            Err(Unselectable::NoKey)
        } else {
            Ok(keys)
        }
    }
}
