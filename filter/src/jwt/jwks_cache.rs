//! Each worker's JWT state: the verifier built from the inline providers and those the
//! syncer publishes (`portcullis/providers`), and the verified-token cache.
//!
//! Invariants:
//! - the verifier is rebuilt only when the published value changes (its bytes differ),
//!   checked once per root tick and, at most once a second, when a token names an issuer
//!   or `kid` the worker does not know — so new keys work on their first token;
//! - every rebuild moves the generation on, which empties the token cache: a token never
//!   outlives the key set that verified it, nor its own `exp`.

use super::identity::JwtIdentity;
use super::provider::ProviderConfig;
use super::rejection::JwtRejection;
use super::token_cache::{TokenCache, TokenKey};
use super::verifier::Providers;
use crate::config::{ConfigError, JwtSettings};
use crate::host::Host;
use crate::shared;
use crate::wire::UnknownKid;
use std::collections::BTreeMap;

/// A worker's verifier and token cache.
#[derive(Debug)]
pub struct JwksCache {
    settings: JwtSettings,
    /// The published providers value the verifier was built from.
    published: Option<Vec<u8>>,
    providers: Providers,
    generation: u64,
    tokens: TokenCache<JwtIdentity>,
    /// When an unknown issuer or `kid` last made it look at shared data.
    looked_at: i64,
    /// A `kid` still unknown after that look, for the glue to report.
    unknown_kid: Option<UnknownKid>,
}

impl JwksCache {
    /// The state of a worker configured with `settings`, before anything was synced.
    pub fn new(settings: &JwtSettings) -> Self {
        let (providers, _) = settings.verifier(Vec::new());
        JwksCache {
            settings: settings.clone(),
            published: None,
            providers,
            generation: 0,
            tokens: TokenCache::new(settings.cache_size),
            looked_at: i64::MIN,
            unknown_kid: None,
        }
    }

    /// Rebuilds the verifier if the published providers changed; returns the problems of
    /// the providers it had to leave out (for the log), empty when nothing changed.
    pub fn refresh(&mut self, host: &impl Host) -> Vec<ConfigError> {
        let published = host.shared(shared::PROVIDERS);
        if published == self.published {
            return Vec::new();
        }
        let synced: Vec<ProviderConfig> = match published.as_deref().map(serde_json::from_slice) {
            Some(Ok(map)) => BTreeMap::<String, ProviderConfig>::into_values(map).collect(),
            Some(Err(e)) => {
                self.published = published;
                return vec![ConfigError {
                    path: shared::PROVIDERS.to_owned(),
                    message: format!("expected the syncer's providers, got unreadable JSON: {e}"),
                }];
            }
            None => Vec::new(),
        };
        let (providers, problems) = self.settings.verifier(synced);
        self.providers = providers;
        self.published = published;
        self.generation += 1;
        problems
    }

    /// The identity `token` verifies to at the host's time: from the cache, or verified
    /// and cached until its `exp`.
    pub fn verify(&mut self, token: &str, host: &impl Host) -> Result<JwtIdentity, JwtRejection> {
        let now = host.now();
        let key = TokenKey::of(token);
        if let Some(identity) = self.tokens.get(&key, now, self.generation) {
            return Ok(identity.clone());
        }
        let mut verdict = self.providers.verify(token, now);
        let unknown = matches!(
            verdict,
            Err(JwtRejection::UnknownIssuer { .. }
                | JwtRejection::NoKey { .. }
                | JwtRejection::KeysNotLoaded { .. })
        );
        if unknown && now > self.looked_at {
            self.looked_at = now;
            let before = self.generation;
            self.refresh(host);
            if self.generation != before {
                verdict = self.providers.verify(token, now);
            }
            // Still unknown after looking: the control-plane may not have the new keys yet.
            if let Err(JwtRejection::NoKey {
                provider,
                kid: Some(kid),
                ..
            }) = &verdict
            {
                self.unknown_kid = Some(UnknownKid {
                    provider: provider.clone(),
                    kid: kid.clone(),
                });
            }
        }
        if let Ok(identity) = &verdict {
            let expires_at = identity.expires_at;
            self.tokens
                .insert(key, identity.clone(), expires_at, now, self.generation);
        }
        verdict
    }
}

impl JwksCache {
    /// The unknown `kid` met since the last call, at most one a second: the glue hands it
    /// to the syncer, which reports it to the control-plane.
    pub fn take_unknown_kid(&mut self) -> Option<UnknownKid> {
        self.unknown_kid.take()
    }
}

#[cfg(test)]
mod tests;
