//! The `jwt` section of the plugin configuration: inline providers, whether providers
//! synced from the control-plane are used, the verified-token cache and claim headers.

use super::ConfigError;
use crate::jwt::claim_headers::{ClaimHeader, ClaimHeaderConfig};
use crate::jwt::provider::ProviderConfig;
use crate::jwt::token_cache::DEFAULT_CAPACITY;
use crate::jwt::verifier::Providers;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The largest verified-token cache accepted per worker.
const MAX_CACHE_SIZE: usize = 1 << 20;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct JwtConfig {
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    providers: Vec<ProviderConfig>,
    #[serde(default = "default_cache_size")]
    cache_size: usize,
    #[serde(default)]
    claim_headers: Vec<ClaimHeaderConfig>,
}

fn default_cache_size() -> usize {
    DEFAULT_CAPACITY
}

/// Validated JWT settings: what each worker builds its verifier from.
#[derive(Clone, PartialEq)]
pub struct JwtSettings {
    /// Providers configured in the filter itself (with their key sets or secrets).
    pub providers: Vec<ProviderConfig>,
    /// The values of the inline providers' `secret_env` variables, read at configure time
    /// so a rebuild (when synced providers change) needs no environment.
    pub secrets: BTreeMap<String, String>,
    /// Verified tokens cached per worker.
    pub cache_size: usize,
    /// Claim → header mappings.
    pub claim_headers: Vec<ClaimHeader>,
}

/// The secrets are left out so a `{:?}` can never log them.
impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("providers", &self.providers.len())
            .field("secrets", &"<redacted>")
            .field("cache_size", &self.cache_size)
            .field("claim_headers", &self.claim_headers)
            .finish()
    }
}

impl JwtSettings {
    /// Builds a verifier from the inline providers plus `synced` ones; `synced` providers
    /// whose name or issuer an inline one already has are left out (and reported).
    pub fn verifier(&self, synced: Vec<ProviderConfig>) -> (Providers, Vec<ConfigError>) {
        let mut problems = Vec::new();
        let mut configs = self.providers.clone();
        for config in synced {
            let clash = configs
                .iter()
                .any(|c| c.name == config.name || c.issuer == config.issuer);
            if clash {
                problems.push(ConfigError {
                    path: format!("synced provider {:?}", config.name),
                    message: format!(
                        "expected a name and issuer of its own, got issuer {:?} which the filter's configuration already has",
                        config.issuer
                    ),
                });
                continue;
            }
            // Each synced provider alone first, so one the filter refuses leaves the others.
            let env = |name: &str| self.secrets.get(name).cloned();
            match Providers::from_configs(std::slice::from_ref(&config), "synced", env) {
                Ok(_) => configs.push(config),
                Err(mut refused) => problems.append(&mut refused),
            }
        }
        let env = |name: &str| self.secrets.get(name).cloned();
        let mut providers = match Providers::from_configs(&configs, "jwt.providers", env) {
            Ok(providers) => providers,
            Err(mut refused) => {
                problems.append(&mut refused);
                Providers::default()
            }
        };
        providers.set_claim_headers(self.claim_headers.clone());
        (providers, problems)
    }
}

/// Validates the `jwt` section; `None` when JWTs are not enabled.
pub(super) fn jwt(
    input: &JwtConfig,
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigError>,
) -> Option<JwtSettings> {
    if !input.enabled {
        if !input.providers.is_empty() {
            problems.push(ConfigError {
                path: "jwt.enabled".into(),
                message: "expected true when jwt.providers are configured, got false".into(),
            });
        }
        return None;
    }
    if input.cache_size > MAX_CACHE_SIZE {
        problems.push(ConfigError {
            path: "jwt.cache_size".into(),
            message: format!("expected 0 to {MAX_CACHE_SIZE}, got {}", input.cache_size),
        });
    }
    if let Err(mut refused) = Providers::from_configs(&input.providers, "jwt.providers", env) {
        problems.append(&mut refused);
    }
    let secrets = input
        .providers
        .iter()
        .filter_map(|p| p.secret_env.as_ref())
        .filter_map(|name| Some((name.clone(), env(name)?)))
        .collect();
    let claim_headers =
        ClaimHeader::from_configs(&input.claim_headers, "jwt.claim_headers", problems);
    Some(JwtSettings {
        providers: input.providers.clone(),
        secrets,
        cache_size: input.cache_size,
        claim_headers,
    })
}
