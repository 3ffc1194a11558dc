//! [`Providers`]: every configured provider, and the one entry point that turns a bearer
//! token into a [`JwtIdentity`] or a [`JwtRejection`].
//!
//! Order of checks: the length (before anything is decoded), the compact form, the
//! header, then the provider chosen by the payload's `iss` (unverified, used only to pick
//! whose rules apply), its algorithm allow-list, its keys by `kid`, the signature, and
//! only then the claims and the identity. Nothing from the payload is trusted before the
//! signature verifies.

use super::claim_headers::ClaimHeader;
use super::clip;
use super::header;
use super::identity::JwtIdentity;
use super::jwk::Jwks;
use super::keys::{ProviderKeys, Unselectable};
use super::provider::{DEFAULT_MAX_TOKEN_BYTES, Provider, ProviderConfig};
use super::rejection::JwtRejection;
use super::token;
use crate::config::ConfigError;
use serde_json::Value;
use std::collections::HashMap;

/// The configured providers and their current keys.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    providers: Vec<Provider>,
    by_issuer: HashMap<String, usize>,
    max_token_bytes: usize,
    generation: u64,
    claim_headers: Vec<ClaimHeader>,
}

/// Why a key set cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// No provider has this name.
    #[error("no jwt provider is named {name:?}")]
    UnknownProvider {
        /// The name given.
        name: String,
    },
    /// The provider's keys come from its configuration, not from the control-plane.
    #[error("jwt provider {name:?} has its keys in its configuration (secret_env or jwks)")]
    ConfiguredKeys {
        /// The provider.
        name: String,
    },
}

impl Providers {
    /// Validates `configs` (the array at `path`), reading secrets through `env`. Names and
    /// issuers must be unique. Every problem is returned, each with its field path.
    pub fn from_configs(
        configs: &[ProviderConfig],
        path: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Providers, Vec<ConfigError>> {
        let mut problems = Vec::new();
        let mut providers = Providers::default();
        for (i, config) in configs.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let earlier = configs.get(..i).unwrap_or_default();
            if earlier.iter().any(|c| c.name == config.name) {
                problems.push(ConfigError {
                    path: format!("{at}.name"),
                    message: format!("expected a unique name, got {:?} again", config.name),
                });
            }
            if earlier.iter().any(|c| c.issuer == config.issuer) {
                problems.push(ConfigError {
                    path: format!("{at}.issuer"),
                    message: format!(
                        "expected a unique issuer (tokens are matched to providers by iss), got {:?} again",
                        config.issuer
                    ),
                });
            }
            if let Some(provider) = Provider::from_config(config, &at, &env, &mut problems) {
                providers.add(provider);
            }
        }
        if problems.is_empty() {
            Ok(providers)
        } else {
            Err(problems)
        }
    }

    fn add(&mut self, provider: Provider) {
        self.max_token_bytes = self.max_token_bytes.max(provider.max_token_bytes);
        self.by_issuer
            .insert(provider.rules.issuer.clone(), self.providers.len());
        self.providers.push(provider);
    }

    /// Whether no provider is configured.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The providers whose key sets come from the control-plane, by name.
    pub fn synced(&self) -> impl Iterator<Item = &str> {
        self.providers
            .iter()
            .filter(|p| matches!(p.keys, ProviderKeys::Synced(_)))
            .map(|p| p.name.as_str())
    }

    /// Installs a synced key set (parsed once with [`Jwks::parse`]) for provider `name`.
    /// Bumps [`generation`](Self::generation), so cached verdicts made with the old keys
    /// are dropped.
    pub fn install_jwks(&mut self, name: &str, jwks: Jwks) -> Result<(), InstallError> {
        let provider = self
            .providers
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| InstallError::UnknownProvider {
                name: name.to_owned(),
            })?;
        match &mut provider.keys {
            ProviderKeys::Synced(keys) => *keys = Some(jwks),
            ProviderKeys::Secret(_) | ProviderKeys::Inline(_) => {
                return Err(InstallError::ConfiguredKeys {
                    name: name.to_owned(),
                });
            }
        }
        self.generation += 1;
        Ok(())
    }

    /// Sets the claim → header mappings applied to every verified token.
    pub fn set_claim_headers(&mut self, mappings: Vec<ClaimHeader>) {
        self.claim_headers = mappings;
    }

    /// Counts key-set changes: a token cache filled at another generation is stale.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Verifies `token` at `now` (Unix seconds) and returns the identity it establishes.
    pub fn verify(&self, token: &str, now: i64) -> Result<JwtIdentity, JwtRejection> {
        // The largest limit first, before any decoding; with no provider yet (all synced
        // later), the default, so the answer is the unknown issuer rather than the size.
        check_length(token, self.max_token_bytes.max(DEFAULT_MAX_TOKEN_BYTES))?;
        let compact = token::parse(token)?;
        let header = header::parse(&compact.header)?;
        let provider = self.provider_for(compact.claims.get("iss"))?;
        check_length(token, provider.max_token_bytes)?;
        if let Some(typ) = &provider.typ {
            header::check_type(&header, typ)?;
        }
        if matches!(provider.keys, ProviderKeys::Synced(None)) {
            return Err(JwtRejection::KeysNotLoaded {
                provider: provider.name.clone(),
            });
        }
        let alg = header.alg;
        let allowed = match &provider.algorithms {
            Some(list) => list.contains(&alg),
            None => provider.keys.allows_by_default(alg),
        };
        if !allowed {
            return Err(JwtRejection::AlgorithmNotAllowed {
                provider: provider.name.clone(),
                alg,
                allowed: provider
                    .algorithms
                    .clone()
                    .unwrap_or_else(|| provider.keys.default_algorithms()),
            });
        }
        let kid = header.kid;
        let keys = provider
            .keys
            .select(alg, kid.as_deref())
            .map_err(|e| match e {
                Unselectable::NotLoaded => JwtRejection::KeysNotLoaded {
                    provider: provider.name.clone(),
                },
                Unselectable::NoKey => JwtRejection::NoKey {
                    provider: provider.name.clone(),
                    alg,
                    kid: kid.as_deref().map(clip),
                },
            })?;
        let message = compact.signing_input.as_bytes();
        if !keys
            .iter()
            .any(|key| key.verify(alg, message, &compact.signature))
        {
            return Err(JwtRejection::BadSignature {
                provider: provider.name.clone(),
                alg,
                kid: kid.as_deref().map(clip),
                tried: keys.len(),
            });
        }
        let expires_at = provider.rules.check(&compact.claims, now)?;
        let mut identity =
            provider
                .mapping
                .identity(&provider.name, &compact.claims, expires_at)?;
        identity.issuer.clone_from(&provider.rules.issuer);
        identity.claim_headers = self
            .claim_headers
            .iter()
            .filter_map(|mapping| mapping.extract(&compact.claims))
            .collect();
        Ok(identity)
    }

    /// The provider whose issuer is `iss` (unverified: it only picks the rules).
    fn provider_for(&self, iss: Option<&Value>) -> Result<&Provider, JwtRejection> {
        let iss = iss.and_then(Value::as_str);
        iss.and_then(|iss| self.by_issuer.get(iss))
            .and_then(|&i| self.providers.get(i))
            .ok_or_else(|| JwtRejection::UnknownIssuer {
                expected: self
                    .providers
                    .iter()
                    .map(|p| p.rules.issuer.clone())
                    .collect(),
                actual: iss.map(clip),
            })
    }
}

fn check_length(token: &str, max: usize) -> Result<(), JwtRejection> {
    if token.len() > max {
        return Err(JwtRejection::TooLarge {
            max,
            actual: token.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
