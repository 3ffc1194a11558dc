//! The `Store` trait: every piece of control-plane state, and the revision contract the
//! sync protocol relies on.
//!
//! Revision contract: every successful mutation (create, update, revoke, rotate) runs in one
//! transaction that (1) applies the change, (2) takes the next revision (strictly
//! increasing, never reused, starting at 1), (3) appends one change-log row per affected
//! secret digest at that revision, and (4) appends the audit event. Either all four happen
//! or none does: a failed call leaves nothing half-written.
//!
//! Providers follow the same contract without change-log rows: a provider mutation, or a
//! JWKS that differs from the stored one, takes the next revision and stamps it on the
//! provider's row (`revision`), and a deletion leaves the row as a tombstone, so
//! [`Store::providers_changed_since`] reads the current state of each provider changed
//! after a revision. Provider audit events have org `""` and name the provider in `key_id`.
//!
//! Tiers, org limits and key overrides (rate limits) follow it without change-log rows too:
//! each change takes the next revision and appends its audit event (tiers: org `""` and the
//! tier's name in `key_id`; orgs: the org and an empty `key_id`), so the revision also tells
//! when the rendered rate-limit configuration changed. A key's tier must name a stored tier
//! when it is set: the API checks with [`Store::check_key_tier`] just before the key's write
//! (the key writes themselves take any tier, as the sync tests' fixtures need). A tier that
//! unrevoked keys use cannot be deleted, nor can `default`.
//!
//! The store knows no HTTP and makes no authorization decisions: callers pass the org scope
//! they are allowed to see, and the store filters by it.

mod providers;
pub mod sqlite;
mod tiers;

pub use providers::{
    ClaimMapping, JwksFailure, JwksFetched, JwksSaved, JwksStatus, Provider, ProviderChange,
    ProviderPatch, ProviderRecord, ProviderState, RoleImplication,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub use tiers::{
    DEFAULT_TIER, KeyOverride, Limit, LimitUnit, OrgLimits, Rate, RateLimitPolicy, TierLimits,
    TierPut, TierRecord, UNLIMITED,
};

/// A SHA-256 digest of an API key secret.
pub type Digest = [u8; 32];

/// Seconds since the Unix epoch (UTC).
pub type UnixSecs = i64;

/// An API key as stored: metadata only, never the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// `key_` + base62; stable across rotation.
    pub id: String,
    /// The org the key belongs to.
    pub org_id: String,
    /// Human label.
    pub name: String,
    /// Display prefix of the current secret (`sk_AbCd`).
    pub prefix: String,
    /// Scopes the key grants.
    pub scopes: Vec<String>,
    /// Roles the key has (`admin` lets it manage its own org's keys).
    pub roles: Vec<String>,
    /// Rate-limit tier name, if any.
    pub tier: Option<String>,
    /// Free-form JSON object supplied by the operator.
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// A disabled key is rejected until enabled again.
    pub enabled: bool,
    /// When the key stops working, if ever.
    pub expires_at: Option<UnixSecs>,
    /// When it was created.
    pub created_at: UnixSecs,
    /// When it last changed.
    pub updated_at: UnixSecs,
    /// When it was revoked; a revoked key never works again.
    pub revoked_at: Option<UnixSecs>,
}

/// One secret of a key: its digest and, for a rotated-out secret, when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// SHA-256 of the secret.
    pub digest: Digest,
    /// `None` for the current secret; the end of the grace period for a rotated-out one.
    pub retires_at: Option<UnixSecs>,
}

/// A key to create. The id, secret digest and prefix are minted by `keys.rs`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKey {
    /// Fields of the record (`created_at`/`updated_at` are set by the store to `now`).
    pub record: KeyRecord,
    /// Digest of the secret shown once to the caller.
    pub digest: Digest,
}

/// A rotation: the new current secret, and how long the previous ones keep working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Digest of the new secret.
    pub digest: Digest,
    /// Display prefix of the new secret.
    pub prefix: String,
    /// Seconds the previous secrets keep working (0: they stop at once).
    pub grace_secs: u64,
}

/// Changes to a key; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyPatch {
    /// New name.
    pub name: Option<String>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// New roles.
    pub roles: Option<Vec<String>>,
    /// New tier (`Some(None)` clears it).
    pub tier: Option<Option<String>>,
    /// New expiry (`Some(None)` clears it).
    pub expires_at: Option<Option<UnixSecs>>,
    /// New meta object (replaces the old one).
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New per-key limit override (`Some(None)` removes it).
    pub rate_limit: Option<Option<Limit>>,
}

/// Who made a change, for the audit log: `admin` (the bootstrap token) or `key:<key id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor(pub String);

/// Which orgs a caller may see: every org (bootstrap admin) or one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    /// Every org.
    All,
    /// Only this org; other orgs' keys behave as if they did not exist.
    Only(String),
}

/// A page of results and the cursor of the next page (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, oldest first.
    pub items: Vec<T>,
    /// Opaque cursor to pass back for the next page.
    pub next_cursor: Option<String>,
}

/// How to list: an optional org filter (within the caller's scope), a page size (1..=1000)
/// and the cursor from the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// The caller's scope.
    pub scope: OrgScope,
    /// Narrow to one org (must be inside `scope` to match anything).
    pub org_id: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Monotonic id.
    pub id: i64,
    /// When.
    pub at: UnixSecs,
    /// Who (`admin` or `key:<id>`).
    pub actor: String,
    /// `key.create`, `key.update`, `key.revoke`, `key.rotate`.
    pub action: String,
    /// The org of the key acted on.
    pub org_id: String,
    /// The key acted on.
    pub key_id: String,
    /// The revision the change committed at.
    pub revision: u64,
}

/// What one change-log entry says about a secret digest at a revision; the sync endpoint
/// turns the latest entry per digest into an upsert (the key's current record) or a delete.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The revision it committed at.
    pub revision: u64,
    /// The secret it concerns.
    pub digest: Digest,
}

/// Store failures. `NotFound` is also what a caller gets for another org's key.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such key within the caller's scope.
    #[error("no key {0}")]
    NotFound(String),
    /// No such provider (or it was deleted).
    #[error("no provider {0}")]
    NoProvider(String),
    /// No tier by that name.
    #[error("no tier {0}")]
    NoTier(String),
    /// A key was given a tier that does not exist.
    #[error("unknown tier {0}")]
    UnknownTier(String),
    /// The key is revoked and cannot be changed or rotated.
    #[error("key {0} is revoked")]
    Revoked(String),
    /// A uniqueness constraint failed (for example a digest collision).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The cursor was not issued by this store.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The database failed; the detail is for the log only.
    #[error("database error: {0}")]
    Database(String),
}

/// All control-plane state. Implementations are synchronous; the HTTP layer calls them on
/// a blocking thread. `now` is passed in so tests control time.
pub trait Store: Send + Sync + 'static {
    /// Creates a key (revision bump, change row for its digest, audit `key.create`). The
    /// caller checks its tier with [`Store::check_key_tier`].
    fn create_key(
        &self,
        new: NewKey,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError>;
    /// A key by id, if it is inside `scope`.
    fn get_key(&self, id: &str, scope: &OrgScope) -> Result<KeyRecord, StoreError>;
    /// Keys inside the query's scope, oldest first.
    fn list_keys(&self, query: &ListQuery) -> Result<Page<KeyRecord>, StoreError>;
    /// Applies `patch` (revision bump, change rows for every live secret, audit `key.update`).
    /// The caller checks a new tier with [`Store::check_key_tier`].
    fn update_key(
        &self,
        id: &str,
        patch: &KeyPatch,
        scope: &OrgScope,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError>;
    /// Revokes at once (sets `revoked_at`; change rows for every secret; audit `key.revoke`).
    fn revoke_key(
        &self,
        id: &str,
        scope: &OrgScope,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError>;
    /// Makes the rotation's digest the current secret and retires the others at
    /// `now + grace_secs` (change rows for all; audit `key.rotate`).
    fn rotate_key(
        &self,
        id: &str,
        rotation: &Rotation,
        scope: &OrgScope,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError>;
    /// The key owning `digest` and that secret's state, whatever the key's status (admin
    /// authentication checks status and expiry itself).
    fn find_by_digest(&self, digest: &Digest) -> Result<Option<(KeyRecord, Secret)>, StoreError>;
    /// Audit events inside the query's scope, oldest first.
    fn audit(&self, query: &ListQuery) -> Result<Page<AuditEvent>, StoreError>;
    /// The latest committed revision (0 when nothing was ever written).
    fn revision(&self) -> Result<u64, StoreError>;
    /// Change-log entries with a revision above `since`, in revision order, at most `limit`.
    /// The sync endpoint reads the current state of each digest named.
    fn changes_since(&self, since: u64, limit: u32) -> Result<Vec<Change>, StoreError>;
    /// At most `limit` secrets, every one with its key whatever the key's status, in
    /// ascending digest (byte) order and strictly after `after` when given: one page of a
    /// snapshot. Pages read at different times may mix revisions; the sync endpoint covers
    /// that by re-sending later changes as deltas.
    fn snapshot_page(
        &self,
        after: Option<&Digest>,
        limit: u32,
    ) -> Result<Vec<(KeyRecord, Secret)>, StoreError>;
    /// Creates a provider (revision bump, audit `provider.create`); another live provider
    /// with the same issuer is a `Conflict`.
    fn create_provider(
        &self,
        id: &str,
        provider: &Provider,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<ProviderRecord, StoreError>;
    /// A live provider by id.
    fn get_provider(&self, id: &str) -> Result<ProviderRecord, StoreError>;
    /// Every live provider, oldest first.
    fn list_providers(&self) -> Result<Vec<ProviderRecord>, StoreError>;
    /// Applies `patch` (revision bump, audit `provider.update`); a new `jwks_uri` drops the
    /// stored JWKS and its fetch status.
    fn update_provider(
        &self,
        id: &str,
        patch: &ProviderPatch,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<ProviderRecord, StoreError>;
    /// Deletes a provider, leaving a tombstone for the sync (revision bump, audit
    /// `provider.delete`); its issuer may be used again.
    fn delete_provider(
        &self,
        id: &str,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<ProviderRecord, StoreError>;
    /// A live provider's last good JWKS and fetch status.
    fn jwks_status(&self, id: &str) -> Result<JwksStatus, StoreError>;
    /// Records a good fetch. A set that differs from the stored one is saved at the next
    /// revision (audit `provider.jwks` by `actor`); the same set only moves `fetched_at`.
    fn save_jwks(
        &self,
        id: &str,
        fetched: &JwksFetched,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<JwksSaved, StoreError>;
    /// Records a failed fetch; the JWKS and the revision stay. `false` when the provider was
    /// deleted or its settings changed since the fetch started (nothing written).
    fn record_jwks_failure(
        &self,
        id: &str,
        failure: &JwksFailure,
        now: UnixSecs,
    ) -> Result<bool, StoreError>;
    /// Every provider changed after `since`, in revision order: live ones with their
    /// current settings and JWKS, deleted ones as tombstones.
    fn providers_changed_since(&self, since: u64) -> Result<Vec<ProviderChange>, StoreError>;
    /// Every live provider with its JWKS, oldest first: the providers of a snapshot.
    fn provider_snapshot(&self) -> Result<Vec<ProviderState>, StoreError>;
    /// Every tier, by name.
    fn list_tiers(&self) -> Result<Vec<TierRecord>, StoreError>;
    /// A tier by name (`NoTier` when absent).
    fn get_tier(&self, name: &str) -> Result<TierRecord, StoreError>;
    /// Refuses a key's tier that is not stored (`UnknownTier`). A tier deleted between this
    /// check and the key's write would leave the key naming no tier, unlimited until it is
    /// moved: that takes a deletion racing the very request that assigns the tier, since
    /// [`Store::delete_tier`] refuses tiers unrevoked keys use.
    fn check_key_tier(&self, tier: &str) -> Result<(), StoreError> {
        match self.get_tier(tier) {
            Ok(_) => Ok(()),
            Err(StoreError::NoTier(name)) => Err(StoreError::UnknownTier(name)),
            Err(other) => Err(other),
        }
    }
    /// Creates or replaces a tier's limits (revision bump, audit `tier.create` or
    /// `tier.update`). Names are validated by the caller.
    fn put_tier(
        &self,
        name: &str,
        limits: &TierLimits,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<TierPut, StoreError>;
    /// Deletes a tier (revision bump, audit `tier.delete`). `default`, and a tier any
    /// unrevoked key uses, are a `Conflict`.
    fn delete_tier(
        &self,
        name: &str,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<TierRecord, StoreError>;
    /// An org's own limit and the tiers its live keys use.
    fn org_limits(&self, org_id: &str) -> Result<OrgLimits, StoreError>;
    /// Sets (`Some`) or removes (`None`) an org's own per-org limit (revision bump, audit
    /// `org.update`).
    fn set_org_limit(
        &self,
        org_id: &str,
        limit: Option<Limit>,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<OrgLimits, StoreError>;
    /// The per-key overrides of those of `ids` that have one.
    fn key_limits(&self, ids: &[String]) -> Result<BTreeMap<String, Limit>, StoreError>;
    /// Tiers and overrides at one revision: what the rate-limit renderings read.
    fn rate_limit_policy(&self) -> Result<RateLimitPolicy, StoreError>;
}
