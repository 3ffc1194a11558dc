//! Provider domain rules: what an operator may configure for an OIDC issuer, checked into
//! the [`Provider`](crate::store::Provider) the store keeps and the filter verifies JWTs with. No SQL and no HTTP:
//! the API layer and the `--providers` file loader call these before the store.

pub mod config_file;
mod url_policy;
mod validation;

use crate::store::{ClaimMapping, RoleImplication};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub use url_policy::{check_fetch_url, is_loopback};
pub use validation::{check, check_patch};

/// Leeway on `exp` and `nbf` when none is configured.
pub const DEFAULT_LEEWAY_SECS: u64 = 5;
/// Token size limit when none is configured: 8 KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: u64 = 8 * 1024;

/// Why a provider or a change to it was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A field failed validation; `field` is its JSON path (`audiences[1]`).
    #[error("`{field}` {reason}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong with it, with expected and actual values.
        reason: String,
    },
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(getrandom::Error),
}

/// A provider as an operator writes it: the `POST /v1/providers` body and each entry of the
/// `--providers` file. [`check`] turns it into a [`Provider`](crate::store::Provider).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The exact `iss` of its tokens: an https URL (plain http only for a loopback host),
    /// without query or fragment. Unless `jwks_uri` is set, the JWKS location comes from
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// Fetch the JWKS here instead of using OIDC discovery.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Accepted `aud` values, any one suffices; empty: `aud` is not checked.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Accepted asymmetric `alg` values (RS256, PS256, ES256, EdDSA, …); empty: whatever
    /// each key declares.
    #[serde(default)]
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`, 0 to 300 (default 5).
    #[serde(default = "default_leeway_secs")]
    pub leeway_secs: u64,
    /// Claims every token must carry (`sub`, `org_id`, …).
    #[serde(default)]
    pub required_claims: Vec<String>,
    /// Accepted `azp` values; empty: `azp` is not checked.
    #[serde(default)]
    pub authorized_parties: Vec<String>,
    /// The required JOSE header `typ` (`JWT`, `at+jwt`), if any.
    #[serde(default)]
    pub typ: Option<String>,
    /// Longer tokens are refused unparsed, 1024 to 65536 (default 8192).
    #[serde(default = "default_max_token_bytes")]
    pub max_token_bytes: u64,
    /// Where org, roles and scopes come from: `auto` (default), `clerk` or `oauth`.
    #[serde(default)]
    pub claim_mapping: ClaimMapping,
    /// Role → the scopes and roles a token holding it also gets.
    #[serde(default)]
    pub role_implications: BTreeMap<String, RoleImplication>,
}

fn default_leeway_secs() -> u64 {
    DEFAULT_LEEWAY_SECS
}

fn default_max_token_bytes() -> u64 {
    DEFAULT_MAX_TOKEN_BYTES
}

/// A new provider id: `prv_` + 16 hex characters. Not secret.
pub fn mint_id() -> Result<String, ProviderError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(ProviderError::Random)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("prv_{hex}"))
}

/// The OIDC discovery document of `issuer`: the issuer without a trailing `/`, then
/// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_are_prv_and_sixteen_hex_characters() {
        let id = mint_id().unwrap();
        let tail = id.strip_prefix("prv_").unwrap();
        assert_eq!(tail.len(), 16);
        assert!(tail.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, mint_id().unwrap());
    }

    #[test]
    fn discovery_hangs_off_the_issuer_with_or_without_a_trailing_slash() {
        for issuer in ["https://idp.example/tenant", "https://idp.example/tenant/"] {
            assert_eq!(
                discovery_url(issuer),
                "https://idp.example/tenant/.well-known/openid-configuration"
            );
        }
    }

    #[test]
    fn omitted_fields_take_their_defaults() {
        let config: ProviderConfig =
            serde_json::from_str(r#"{"issuer": "https://idp.example"}"#).unwrap();
        let provider = check(config).unwrap();
        assert_eq!((provider.leeway_secs, provider.max_token_bytes), (5, 8192));
        assert_eq!(provider.claim_mapping, ClaimMapping::Auto);
        assert!(provider.jwks_uri.is_none() && provider.algorithms.is_empty());
    }
}
