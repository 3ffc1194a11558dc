//! The sync protocol between the control-plane and the filter's syncer, defined once and
//! used by both sides.
//!
//! `GET /v1/sync?[since=REV&]wait=SECS[&cursor=C]`, with `Authorization: Bearer <sync
//! token>` and `x-portcullis-sidecar: <Envoy node id>`. The reply is a [`SyncPage`]:
//! - no `since` (a new sidecar) or a `since` the control-plane cannot serve a delta for
//!   (ahead of its revision) starts a snapshot, answered at once (never held): every page
//!   carries the revision read before the first; the first page has `reset: true`, later
//!   ones `reset: false`; `cursor` names the next page until the last page has
//!   `cursor: None`;
//! - otherwise the entries of every secret changed after `since`, whole revisions only, at
//!   most a bounded number per page (`cursor: None`; ask again with the new `revision`);
//! - no change within `wait` seconds: an empty page with `revision == since`.
//!
//! Providers (JWT issuers with their settings and key sets) travel beside the keys: a
//! snapshot's first page lists every provider (`reset: true` replaces the sidecar's set),
//! a delta the providers changed after `since`, each as its current state or a deletion.
//!
//! An entry is the secret's current state, so applying one twice, or out of order within a
//! page, is harmless. A snapshot page may already contain changes after its `revision`;
//! the deltas that follow re-send them.

use crate::jwt::provider::ProviderConfig;
use serde::{Deserialize, Serialize};

/// The path of the sync endpoint.
pub const SYNC_PATH: &str = "/v1/sync";
/// The header a syncer names itself with (its Envoy node id).
pub const SIDECAR_HEADER: &str = "x-portcullis-sidecar";
/// Where a syncer reports a `kid` its workers met in a token but not in the key set of
/// the provider named: `POST` an [`UnknownKid`] with the sync token, and the control-plane
/// refetches that provider's key set (rate-limited) so the new keys arrive by sync.
pub const UNKNOWN_KID_PATH: &str = "/v1/sync/unknown-kid";
/// The longest `wait` the control-plane honours.
pub const MAX_WAIT_SECS: u64 = 60;

/// One reply of the sync endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncPage {
    /// The revision the sidecar is at once it has applied this page (and, for a snapshot,
    /// every page after it).
    pub revision: u64,
    /// This page starts a snapshot: secrets the sidecar holds that the snapshot does not
    /// list by its last page must be dropped.
    pub reset: bool,
    /// The current state of each secret named.
    pub entries: Vec<KeyEntry>,
    /// More snapshot pages follow: ask again with `since=revision&cursor=<this>`.
    pub cursor: Option<String>,
    /// JWT providers: all of them on a reset page, those changed after `since` on a
    /// delta, none on other snapshot pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderEntry>,
}

/// A `kid` some worker could not find in a provider's key set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnknownKid {
    /// The provider's id (its name in the filter).
    pub provider: String,
    /// The `kid` of the token's header.
    pub kid: String,
}

/// One JWT provider's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    /// The provider's id in the control-plane (its name in the filter).
    pub id: String,
    /// The revision of its last change.
    pub revision: u64,
    /// Its settings with its last good key set inline (`jwks`; absent until the first
    /// fetch succeeds); `None` when it was deleted.
    pub config: Option<ProviderConfig>,
}

/// The state of one API-key secret, as the filter needs it to decide a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// SHA-256 of the secret, 64 lowercase hex characters.
    pub digest: String,
    /// The key's id (`key_…`), never secret.
    pub key_id: String,
    /// The key's org.
    pub org_id: String,
    /// Scopes the key grants.
    pub scopes: Vec<String>,
    /// Roles the key has.
    pub roles: Vec<String>,
    /// Rate-limit tier, if any.
    pub tier: Option<String>,
    /// Unix seconds after which this secret no longer works: the earlier of the key's
    /// expiry and the end of this secret's rotation grace.
    pub expires_at: Option<i64>,
    /// Unix seconds when the key was revoked; present exactly when `status` is `revoked`.
    /// Sidecars forget a revoked secret a retention period after this.
    pub revoked_at: Option<i64>,
    /// Whether the key may be used at all.
    pub status: KeyStatus,
}

/// Whether a key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Usable (subject to `expires_at`).
    Active,
    /// Switched off by an operator; may be enabled again.
    Disabled,
    /// Revoked for good.
    Revoked,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_round_trips_through_json() {
        let page = SyncPage {
            revision: 7,
            reset: true,
            entries: vec![KeyEntry {
                digest: "ab".repeat(32),
                key_id: "key_1".into(),
                org_id: "acme".into(),
                scopes: vec!["read".into()],
                roles: vec![],
                tier: Some("gold".into()),
                expires_at: None,
                revoked_at: Some(1_700_000_000),
                status: KeyStatus::Revoked,
            }],
            cursor: Some("c1".into()),
            providers: vec![],
        };
        let json = serde_json::to_string(&page).unwrap();
        assert!(json.contains(r#""status":"revoked""#));
        assert_eq!(serde_json::from_str::<SyncPage>(&json).unwrap(), page);
    }

    #[test]
    fn unknown_fields_are_refused_so_a_mismatched_control_plane_is_noticed() {
        let json = r#"{"revision":1,"reset":false,"entries":[],"cursor":null,"extra":1}"#;
        assert!(serde_json::from_str::<SyncPage>(json).is_err());
    }
}
