//! Provider records as the store keeps them: an OIDC issuer's verification settings, the
//! last good JWKS fetched for it, and the fetch status shown to operators.
//!
//! A provider is global (no org): only the bootstrap admin manages it. Its settings are
//! what the filter verifies a JWT with; its JWKS is the normalized set of usable public keys
//! (`{"keys": [...]}`), written only by the JWKS fetcher.

use super::UnixSecs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the filter reads org, roles and scopes out of a verified token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimMapping {
    /// Decide per token: Clerk's claims when present, else the OAuth ones.
    #[default]
    Auto,
    /// Clerk session tokens (`org_id`, `org_role`, `org_permissions`, or the `o` object).
    Clerk,
    /// OAuth 2.0 access tokens (RFC 9068: `scope` or `scp`, `roles`).
    Oauth,
}

/// What holding one role also grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleImplication {
    /// Scopes a token with the role also has.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Roles a token with the role also has.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A provider's validated verification settings, stored as JSON. Fields added later must
/// have serde defaults so older rows still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// The exact `iss` of its tokens; also the OIDC discovery base.
    pub issuer: String,
    /// Where the JWKS is fetched; `None`: from OIDC discovery.
    pub jwks_uri: Option<String>,
    /// Accepted `aud` values (any one suffices); empty: `aud` is not checked.
    pub audiences: Vec<String>,
    /// Accepted `alg` values; empty: whatever each key declares, asymmetric only.
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Claims every token must carry.
    pub required_claims: Vec<String>,
    /// Accepted `azp` values; empty: `azp` is not checked.
    pub authorized_parties: Vec<String>,
    /// The required JOSE header `typ`, if any.
    pub typ: Option<String>,
    /// Longer tokens are refused before any parsing.
    pub max_token_bytes: u64,
    /// Where org, roles and scopes come from.
    pub claim_mapping: ClaimMapping,
    /// Role → the scopes and roles it implies.
    pub role_implications: BTreeMap<String, RoleImplication>,
}

/// A stored provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRecord {
    /// `prv_` + 16 hex characters.
    pub id: String,
    /// Its settings.
    #[serde(flatten)]
    pub provider: Provider,
    /// When it was created.
    pub created_at: UnixSecs,
    /// When its settings last changed.
    pub updated_at: UnixSecs,
    /// The revision of its settings' last change: a JWKS fetched under older settings is
    /// not saved (see [`JwksFetched::settings_revision`]).
    pub settings_revision: u64,
    /// The revision of its last change of settings or JWKS: what the sync compares with.
    pub revision: u64,
}

/// Changes to a provider; `None` leaves a field as it is. The issuer never changes: a new
/// issuer is a new provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderPatch {
    /// New JWKS location (`Some(None)`: OIDC discovery). Changing it drops the stored JWKS,
    /// which came from the old one.
    pub jwks_uri: Option<Option<String>>,
    /// New audiences.
    pub audiences: Option<Vec<String>>,
    /// New algorithms.
    pub algorithms: Option<Vec<String>>,
    /// New leeway.
    pub leeway_secs: Option<u64>,
    /// New required claims.
    pub required_claims: Option<Vec<String>>,
    /// New `azp` allow-list.
    pub authorized_parties: Option<Vec<String>>,
    /// New `typ` (`Some(None)` clears it).
    pub typ: Option<Option<String>>,
    /// New token size limit.
    pub max_token_bytes: Option<u64>,
    /// New claim mapping.
    pub claim_mapping: Option<ClaimMapping>,
    /// New role implications (replace the old ones).
    pub role_implications: Option<BTreeMap<String, RoleImplication>>,
}

impl ProviderPatch {
    /// A patch setting every field to `provider`'s (its issuer aside).
    pub fn replacing_with(provider: Provider) -> Self {
        Self {
            jwks_uri: Some(provider.jwks_uri),
            audiences: Some(provider.audiences),
            algorithms: Some(provider.algorithms),
            leeway_secs: Some(provider.leeway_secs),
            required_claims: Some(provider.required_claims),
            authorized_parties: Some(provider.authorized_parties),
            typ: Some(provider.typ),
            max_token_bytes: Some(provider.max_token_bytes),
            claim_mapping: Some(provider.claim_mapping),
            role_implications: Some(provider.role_implications),
        }
    }

    /// `provider` with this patch applied.
    pub fn apply(&self, provider: &Provider) -> Provider {
        let patch = self.clone();
        let old = provider.clone();
        Provider {
            issuer: old.issuer,
            jwks_uri: patch.jwks_uri.unwrap_or(old.jwks_uri),
            audiences: patch.audiences.unwrap_or(old.audiences),
            algorithms: patch.algorithms.unwrap_or(old.algorithms),
            leeway_secs: patch.leeway_secs.unwrap_or(old.leeway_secs),
            required_claims: patch.required_claims.unwrap_or(old.required_claims),
            authorized_parties: patch.authorized_parties.unwrap_or(old.authorized_parties),
            typ: patch.typ.unwrap_or(old.typ),
            max_token_bytes: patch.max_token_bytes.unwrap_or(old.max_token_bytes),
            claim_mapping: patch.claim_mapping.unwrap_or(old.claim_mapping),
            role_implications: patch.role_implications.unwrap_or(old.role_implications),
        }
    }
}

/// The JWKS side of a provider: the last good set and how fetching it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwksStatus {
    /// The last good normalized JWKS (`{"keys": [...]}`), `None` until a fetch succeeds.
    pub jwks: Option<String>,
    /// When a fetch last succeeded.
    pub fetched_at: Option<UnixSecs>,
    /// When the fetcher plans its next attempt.
    pub next_refresh_at: Option<UnixSecs>,
    /// The latest failure, kept after a later success.
    pub last_error: Option<String>,
    /// When that failure happened.
    pub last_error_at: Option<UnixSecs>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
}

/// A good fetch to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksFetched {
    /// The provider's `settings_revision` when the fetch started; if its settings changed
    /// since, the set may come from a source it no longer names, and is not saved.
    pub settings_revision: u64,
    /// The normalized JWKS.
    pub jwks: String,
    /// When the fetcher plans the next refresh.
    pub next_refresh_at: UnixSecs,
}

/// A failed fetch to record; the last good JWKS stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksFailure {
    /// As in [`JwksFetched::settings_revision`].
    pub settings_revision: u64,
    /// Why it failed, for operators.
    pub error: String,
    /// When the fetcher retries.
    pub next_refresh_at: UnixSecs,
}

/// What saving a good fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksSaved {
    /// The set differs from the stored one: saved at this new revision (audited).
    Changed(u64),
    /// The same set as stored: only the fetch time moved; no revision.
    Unchanged,
    /// The provider was deleted or its settings changed since the fetch started: nothing
    /// was written.
    Superseded,
}

/// A live provider as the sync pushes it: settings and last good JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderState {
    /// The provider.
    pub record: ProviderRecord,
    /// Its last good normalized JWKS (`{"keys": [...]}`), if any fetch succeeded.
    pub jwks: Option<String>,
}

/// What the sync must apply for one provider changed after some revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderChange {
    /// Created or changed: its current state (boxed: it is much larger than a tombstone).
    Upsert(Box<ProviderState>),
    /// Deleted at `revision`: sidecars drop its settings and JWKS.
    Delete {
        /// The deleted provider.
        id: String,
        /// Its issuer, whose tokens are no longer accepted.
        issuer: String,
        /// The revision of the deletion.
        revision: u64,
    },
}
