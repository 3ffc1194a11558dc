//! A JWT provider's configuration: the serde input type and its validation into a
//! [`Provider`], done once per configuration, never per request.
//!
//! Every problem is reported with its field path (`jwt_providers[0].algorithms[1]`) and
//! the expected and actual values; a secret's value never appears in a message.

use super::algorithm::Algorithm;
use super::claims::ClaimRules;
use super::crypto::VerifyingKey;
use super::crypto::hmac::HmacKey;
use super::implication::Implications;
use super::jwk::Jwks;
use super::keys::ProviderKeys;
use super::mapping::{ClaimMapping, Profile};
use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The default clock-skew leeway on `exp` and `nbf`.
pub const DEFAULT_LEEWAY_SECS: u64 = 5;
/// The largest leeway accepted: more would keep expired tokens alive.
pub const MAX_LEEWAY_SECS: u64 = 300;
/// The default longest token accepted.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The range of `max_token_bytes` accepted.
pub const TOKEN_BYTES_RANGE: std::ops::RangeInclusive<usize> = 256..=64 * 1024;

/// One provider as configured (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// A unique name: `[A-Za-z0-9_.-]+`, used in logs and to address its synced key set.
    pub name: String,
    /// The exact `iss` of its tokens; unique across providers.
    pub issuer: String,
    /// Accepted `aud` values (any-of); empty: `aud` is not checked.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Accepted `alg` values; empty: what the keys declare (asymmetric only), or HS256
    /// with a secret.
    #[serde(default)]
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(default = "default_leeway_secs")]
    pub leeway_secs: u64,
    /// Whether tokens without `exp` are refused.
    #[serde(default = "default_true")]
    pub require_exp: bool,
    /// Claims that must be present and not null.
    #[serde(default)]
    pub required_claims: Vec<String>,
    /// Accepted `azp` values; empty: `azp` is not checked.
    #[serde(default)]
    pub authorized_parties: Vec<String>,
    /// The `typ` tokens must declare (e.g. `at+jwt`, RFC 9068); none: not checked.
    #[serde(default)]
    pub typ: Option<String>,
    /// The longest token accepted, in bytes.
    #[serde(default = "default_max_token_bytes")]
    pub max_token_bytes: usize,
    /// The environment variable holding an HMAC secret (HS* tokens only).
    #[serde(default)]
    pub secret_env: Option<String>,
    /// A key set inline, for deployments without the control-plane.
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// Which claim shapes to read: `auto`, `clerk` or `oauth`.
    #[serde(default)]
    pub claims_profile: ProfileConfig,
    /// Scopes granted by a role or scope, e.g. `{"org:admin": ["keys:write"]}`; applied
    /// transitively.
    #[serde(default)]
    pub implied_scopes: BTreeMap<String, Vec<String>>,
}

/// The claim shapes a provider reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileConfig {
    /// Clerk and OAuth claims.
    #[default]
    Auto,
    /// Clerk's organization claims only.
    Clerk,
    /// OAuth claims only.
    Oauth,
}

fn default_leeway_secs() -> u64 {
    DEFAULT_LEEWAY_SECS
}

fn default_true() -> bool {
    true
}

fn default_max_token_bytes() -> usize {
    DEFAULT_MAX_TOKEN_BYTES
}

/// A validated provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Its name.
    pub name: String,
    /// What its tokens' registered claims must satisfy (its issuer among them).
    pub rules: ClaimRules,
    /// The allowed algorithms; `None`: what the keys declare.
    pub algorithms: Option<Vec<Algorithm>>,
    /// The `typ` its tokens must declare.
    pub typ: Option<String>,
    /// The longest token accepted.
    pub max_token_bytes: usize,
    /// Its keys.
    pub keys: ProviderKeys,
    /// How claims become an identity.
    pub mapping: ClaimMapping,
}

impl Provider {
    /// Validates `config` (at `path`), reading secrets through `env`; every problem is
    /// pushed to `problems`, and `None` returned if there was any.
    pub fn from_config(
        config: &ProviderConfig,
        path: &str,
        env: &impl Fn(&str) -> Option<String>,
        problems: &mut Vec<ConfigError>,
    ) -> Option<Provider> {
        let before = problems.len();
        let mut add = |field: &str, message: String| {
            problems.push(ConfigError {
                path: format!("{path}.{field}"),
                message,
            });
        };
        if config.name.is_empty()
            || !config
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            add(
                "name",
                format!("expected [A-Za-z0-9_.-]+, got {:?}", config.name),
            );
        }
        if config.issuer.is_empty() {
            add("issuer", "expected the tokens' exact iss, got \"\"".into());
        }
        for (field, values) in [
            ("audiences", &config.audiences),
            ("required_claims", &config.required_claims),
            ("authorized_parties", &config.authorized_parties),
        ] {
            for (i, value) in values.iter().enumerate() {
                if value.is_empty() {
                    add(
                        &format!("{field}[{i}]"),
                        "expected a non-empty string, got \"\"".into(),
                    );
                }
            }
        }
        if config.leeway_secs > MAX_LEEWAY_SECS {
            add(
                "leeway_secs",
                format!(
                    "expected at most {MAX_LEEWAY_SECS}, got {}",
                    config.leeway_secs
                ),
            );
        }
        if !TOKEN_BYTES_RANGE.contains(&config.max_token_bytes) {
            add(
                "max_token_bytes",
                format!(
                    "expected {} to {}, got {}",
                    TOKEN_BYTES_RANGE.start(),
                    TOKEN_BYTES_RANGE.end(),
                    config.max_token_bytes
                ),
            );
        }
        if config.typ.as_deref() == Some("") {
            add(
                "typ",
                "expected a media type such as at+jwt, got \"\"".into(),
            );
        }
        let algorithms = algorithms(config, &mut add);
        let keys = keys(config, algorithms.as_deref(), env, &mut add);
        let implications = implications(&config.implied_scopes, &mut add);
        if problems.len() > before {
            return None;
        }
        Some(Provider {
            name: config.name.clone(),
            rules: ClaimRules {
                issuer: config.issuer.clone(),
                audiences: config.audiences.clone(),
                authorized_parties: config.authorized_parties.clone(),
                leeway: Duration::from_secs(config.leeway_secs),
                require_exp: config.require_exp,
                required: config.required_claims.clone(),
            },
            algorithms,
            typ: config.typ.clone(),
            max_token_bytes: config.max_token_bytes,
            keys: keys?,
            mapping: ClaimMapping {
                profile: match config.claims_profile {
                    ProfileConfig::Auto => Profile::Auto,
                    ProfileConfig::Clerk => Profile::Clerk,
                    ProfileConfig::Oauth => Profile::OAuth,
                },
                implications,
            },
        })
    }
}

/// The allow-list: known names, HS* exactly when a secret is configured; HS256 by default
/// with a secret, `None` (from the keys) otherwise.
fn algorithms(
    config: &ProviderConfig,
    add: &mut impl FnMut(&str, String),
) -> Option<Vec<Algorithm>> {
    let with_secret = config.secret_env.is_some();
    if config.algorithms.is_empty() {
        return with_secret.then(|| vec![Algorithm::Hs256]);
    }
    let mut allowed = Vec::new();
    for (i, name) in config.algorithms.iter().enumerate() {
        let field = format!("algorithms[{i}]");
        match Algorithm::from_name(name) {
            None => add(
                &field,
                format!(
                    "expected one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA HS256 HS384 HS512, got {name:?}"
                ),
            ),
            Some(alg) if alg.is_symmetric() != with_secret => add(
                &field,
                if with_secret {
                    format!("expected an HS algorithm with secret_env, got {name}")
                } else {
                    format!("expected an asymmetric algorithm (HS* needs secret_env), got {name}")
                },
            ),
            Some(alg) => allowed.push(alg),
        }
    }
    Some(allowed)
}

/// The key source: a secret from `secret_env`, an inline key set, or one synced later.
fn keys(
    config: &ProviderConfig,
    algorithms: Option<&[Algorithm]>,
    env: &impl Fn(&str) -> Option<String>,
    add: &mut impl FnMut(&str, String),
) -> Option<ProviderKeys> {
    match (&config.secret_env, &config.jwks) {
        (Some(_), Some(_)) => {
            add(
                "secret_env",
                "expected either secret_env or jwks, got both".into(),
            );
            None
        }
        (Some(var), None) => {
            let Some(secret) = env(var) else {
                add(
                    "secret_env",
                    format!(
                        "expected environment variable {var} to be set (vm_config.environment_variables), got nothing"
                    ),
                );
                return None;
            };
            // RFC 7518 §3.2: a key at least as long as the hash output.
            let needed = algorithms
                .into_iter()
                .flatten()
                .map(|alg| alg.hash().output_len())
                .max()
                .unwrap_or(32);
            if secret.len() < needed {
                add(
                    "secret_env",
                    format!(
                        "expected a secret of at least {needed} bytes in {var}, got {}",
                        secret.len()
                    ),
                );
                return None;
            }
            let key = VerifyingKey::Hmac(Box::new(HmacKey::new(secret.as_bytes())));
            Some(ProviderKeys::Secret(key))
        }
        (None, Some(document)) => match Jwks::parse(document.to_string().as_bytes()) {
            Ok(jwks) => {
                let usable = algorithms.is_none_or(|algs| {
                    algs.iter()
                        .any(|&alg| jwks.keys().iter().any(|k| k.accepts(alg)))
                });
                if !usable {
                    add(
                        "jwks",
                        "expected a key for one of the configured algorithms, got none".into(),
                    );
                }
                Some(ProviderKeys::Inline(jwks))
            }
            Err(e) => {
                add("jwks", e.to_string());
                None
            }
        },
        (None, None) => Some(ProviderKeys::Synced(None)),
    }
}

/// The implication map, every name a header-safe token.
fn implications(
    direct: &BTreeMap<String, Vec<String>>,
    add: &mut impl FnMut(&str, String),
) -> Implications {
    let is_label = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| (b'!'..=b'~').contains(&b) && b != b'"' && b != b'\\')
    };
    for (key, values) in direct {
        if !is_label(key) {
            add(
                &format!("implied_scopes.{key}"),
                format!(
                    "expected visible ASCII without spaces, quotes or backslashes, got {key:?}"
                ),
            );
        }
        for (i, value) in values.iter().enumerate().filter(|(_, v)| !is_label(v)) {
            add(
                &format!("implied_scopes.{key}[{i}]"),
                format!(
                    "expected visible ASCII without spaces, quotes or backslashes, got {value:?}"
                ),
            );
        }
    }
    Implications::new(direct)
}

#[cfg(test)]
mod tests;
