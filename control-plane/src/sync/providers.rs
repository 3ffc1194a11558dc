//! The wire form of a JWT provider: the control-plane's stored settings and last good key
//! set, as the filter's own `ProviderConfig` (so the filter validates them like its inline
//! providers).

use crate::store::{ClaimMapping, ProviderChange, ProviderState};
use portcullis::jwt::provider::{ProfileConfig, ProviderConfig};
use portcullis::wire::ProviderEntry;

/// The entry of a provider changed (or deleted) after some revision.
pub fn change_entry(change: &ProviderChange) -> ProviderEntry {
    match change {
        ProviderChange::Upsert(state) => entry(state),
        ProviderChange::Delete { id, revision, .. } => ProviderEntry {
            id: id.clone(),
            revision: *revision,
            config: None,
        },
    }
}

/// The entry of a live provider: its settings with its key set inline.
pub fn entry(state: &ProviderState) -> ProviderEntry {
    let record = &state.record;
    let provider = &record.provider;
    // Role implications name roles and scopes alike; the filter applies them transitively
    // over one namespace, so an implied role brings its own implications too.
    let implied_scopes = provider
        .role_implications
        .iter()
        .map(|(role, implies)| {
            let names = implies.scopes.iter().chain(&implies.roles).cloned();
            (role.clone(), names.collect())
        })
        .collect();
    let config = ProviderConfig {
        name: record.id.clone(),
        issuer: provider.issuer.clone(),
        audiences: provider.audiences.clone(),
        algorithms: provider.algorithms.clone(),
        leeway_secs: provider.leeway_secs,
        require_exp: true,
        required_claims: provider.required_claims.clone(),
        authorized_parties: provider.authorized_parties.clone(),
        typ: provider.typ.clone(),
        max_token_bytes: usize::try_from(provider.max_token_bytes).unwrap_or(usize::MAX),
        secret_env: None,
        // Stored normalized and valid; a value that no longer parses sends no keys, so the
        // filter fails closed (`not_ready`) instead of trusting anything.
        jwks: state
            .jwks
            .as_deref()
            .and_then(|jwks| serde_json::from_str(jwks).ok()),
        claims_profile: match provider.claim_mapping {
            ClaimMapping::Auto => ProfileConfig::Auto,
            ClaimMapping::Clerk => ProfileConfig::Clerk,
            ClaimMapping::Oauth => ProfileConfig::Oauth,
        },
        implied_scopes,
    };
    ProviderEntry {
        id: record.id.clone(),
        revision: record.revision,
        config: Some(config),
    }
}
