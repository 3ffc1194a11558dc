//! The `Store` conformance suite: every backend must pass the same cases.
//!
//! Each case takes an `Open` function that opens the backend under test; calling it again
//! opens the same database, which the persistence case relies on. A backend joins the suite
//! with one `conformance!` line naming its fixture. Time is always a fixed `now`.

// A test crate root resolves modules beside itself; the cases live in a directory of
// their own so `tests/` holds one file per test target.
#[path = "store_conformance/audit.rs"]
mod audit;
#[path = "store_conformance/keys.rs"]
mod keys;
#[path = "store_conformance/providers.rs"]
mod providers;
#[path = "store_conformance/revisions.rs"]
mod revisions;
#[path = "store_conformance/snapshots.rs"]
mod snapshots;
#[path = "store_conformance/tiers.rs"]
mod tiers;

use portcullis_control_plane::store::sqlite::SqliteStore;
use portcullis_control_plane::store::{
    Actor, AuditEvent, Digest, KeyRecord, ListQuery, NewKey, OrgScope, Store,
};

/// Opens the store under test; every call opens the same database.
type Open<'a> = &'a dyn Fn() -> Box<dyn Store>;

/// The fixed clock every case starts from.
const NOW: i64 = 1_700_000_000;

/// Runs `case` against a SQLite file in a fresh temporary directory.
fn on_sqlite(case: fn(Open<'_>)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("portcullis.db");
    case(&|| Box::new(SqliteStore::open(&path).expect("open sqlite store")));
}

/// One `#[test]` per case, named after it, running on `$fixture`.
macro_rules! conformance {
    ($backend:ident, $fixture:ident) => {
        mod $backend {
            conformance!(@cases $fixture:
                keys::created_key_reads_back_with_timestamps_set_by_the_store,
                keys::keys_list_oldest_first_in_pages_across_orgs,
                keys::malformed_cursors_are_rejected,
                keys::another_orgs_key_is_not_found_for_any_operation,
                keys::update_changes_only_the_patched_fields_and_some_none_clears,
                keys::revoked_key_keeps_its_record_and_refuses_every_mutation,
                revisions::rotation_retires_old_secrets_at_the_end_of_the_grace,
                revisions::each_mutation_takes_the_next_revision_and_logs_its_digests,
                revisions::failed_mutations_change_neither_revision_nor_changes_nor_audit,
                revisions::data_survives_reopening_the_database,
                snapshots::snapshot_pages_list_every_secret_in_digest_order_after_the_cursor,
                audit::audit_events_record_each_change_and_paginate_within_scope,
                providers::provider_changes_are_audited_and_each_takes_the_next_revision,
                providers::a_live_issuer_is_unique_and_a_deleted_ones_may_return,
                providers::a_jwks_takes_a_revision_only_when_it_differs,
                providers::a_fetch_under_old_settings_or_for_a_deleted_provider_is_not_saved,
                providers::the_sync_reads_current_providers_and_tombstones_changed_after_a_revision,
                tiers::tiers_are_put_read_and_deleted_with_audit_and_revisions,
                tiers::default_and_tiers_unrevoked_keys_use_are_kept,
                tiers::key_and_org_overrides_feed_the_policy_at_one_revision,
            );
        }
    };
    (@cases $fixture:ident: $($module:ident::$case:ident),* $(,)?) => {
        $(#[test] fn $case() { super::$fixture(super::$module::$case) })*
    };
}

conformance!(sqlite, on_sqlite);

/// The bootstrap admin token's actor.
fn admin() -> Actor {
    Actor("admin".to_owned())
}

/// The scope of a caller confined to `org`.
fn only(org: &str) -> OrgScope {
    OrgScope::Only(org.to_owned())
}

/// A distinct fake digest per `n`; `changes` reports it back as `n`.
fn digest(n: u8) -> Digest {
    [n; 32]
}

/// A key with every optional field set, so patches have something to clear.
fn new_key(id: &str, org: &str, n: u8) -> NewKey {
    let mut meta = serde_json::Map::new();
    meta.insert("team".to_owned(), serde_json::json!("billing"));
    NewKey {
        record: KeyRecord {
            id: id.to_owned(),
            org_id: org.to_owned(),
            name: format!("{id} name"),
            prefix: format!("sk_{n:02}"),
            scopes: vec!["read".to_owned(), "write".to_owned()],
            roles: vec!["admin".to_owned()],
            tier: Some("gold".to_owned()),
            meta,
            enabled: true,
            expires_at: Some(NOW + 86_400),
            created_at: 0,
            updated_at: 0,
            revoked_at: None,
        },
        digest: digest(n),
    }
}

/// Creates `new_key(id, org, n)` as admin at `now`.
fn create(store: &dyn Store, id: &str, org: &str, n: u8, now: i64) -> KeyRecord {
    store
        .create_key(new_key(id, org, n), &admin(), now)
        .expect("create key")
}

/// A listing query.
fn query(scope: OrgScope, org_id: Option<&str>, limit: u32, cursor: Option<String>) -> ListQuery {
    ListQuery {
        scope,
        org_id: org_id.map(str::to_owned),
        limit,
        cursor,
    }
}

/// Every audit event, across orgs.
fn all_audit(store: &dyn Store) -> Vec<AuditEvent> {
    store
        .audit(&query(OrgScope::All, None, 1000, None))
        .expect("audit")
        .items
}

/// (revision, digest byte) pairs after `since`, for compact assertions.
fn changes(store: &dyn Store, since: u64) -> Vec<(u64, u8)> {
    let changes = store.changes_since(since, 1000).expect("changes");
    changes.iter().map(|c| (c.revision, c.digest[0])).collect()
}
