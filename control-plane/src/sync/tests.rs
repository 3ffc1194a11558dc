//! Unit tests of `sync.rs`: the entry mapping, whole-revision cutting, and delta pages
//! over a real SQLite store.

use super::*;
use crate::store::sqlite::SqliteStore;
use crate::store::{Actor, NewKey, OrgScope};

const NOW: i64 = 1_700_000_000;

fn key(enabled: bool, expires_at: Option<i64>, revoked_at: Option<i64>) -> KeyRecord {
    KeyRecord {
        id: "key_1".into(),
        org_id: "acme".into(),
        name: "k".into(),
        prefix: "sk_ab".into(),
        scopes: vec!["read".into()],
        roles: vec!["admin".into()],
        tier: Some("gold".into()),
        meta: serde_json::Map::new(),
        enabled,
        expires_at,
        created_at: NOW,
        updated_at: NOW,
        revoked_at,
    }
}

fn secret(retires_at: Option<i64>) -> Secret {
    Secret {
        digest: [0xab; 32],
        retires_at,
    }
}

#[test]
fn an_entry_carries_the_keys_fields_and_the_lowercase_hex_digest() {
    let e = entry(&key(true, None, None), &secret(None));
    assert_eq!(e.digest, "ab".repeat(32));
    assert_eq!((e.key_id.as_str(), e.org_id.as_str()), ("key_1", "acme"));
    assert_eq!(
        (e.scopes, e.roles),
        (vec!["read".into()], vec!["admin".into()])
    );
    assert_eq!(e.tier.as_deref(), Some("gold"));
    assert_eq!((e.status, e.expires_at), (KeyStatus::Active, None));
}

#[test]
fn revoked_wins_over_disabled_and_disabled_over_active() {
    let status = |k: KeyRecord| entry(&k, &secret(None)).status;
    assert_eq!(status(key(false, None, Some(NOW))), KeyStatus::Revoked);
    assert_eq!(status(key(true, None, Some(NOW))), KeyStatus::Revoked);
    assert_eq!(status(key(false, None, None)), KeyStatus::Disabled);
    assert_eq!(status(key(true, None, None)), KeyStatus::Active);
}

#[test]
fn a_secret_expires_at_the_earlier_of_key_expiry_and_rotation_grace() {
    let expiry = |k: Option<i64>, s: Option<i64>| entry(&key(true, k, None), &secret(s)).expires_at;
    assert_eq!(expiry(None, None), None);
    assert_eq!(expiry(Some(NOW + 9), None), Some(NOW + 9));
    assert_eq!(expiry(None, Some(NOW + 5)), Some(NOW + 5));
    assert_eq!(expiry(Some(NOW + 9), Some(NOW + 5)), Some(NOW + 5));
    assert_eq!(expiry(Some(NOW + 3), Some(NOW + 5)), Some(NOW + 3));
}

fn rows(revisions: &[u64]) -> Vec<Change> {
    revisions
        .iter()
        .zip(0u8..)
        .map(|(&revision, n)| Change {
            revision,
            digest: [n; 32],
        })
        .collect()
}

fn revisions(changes: &[Change]) -> Vec<u64> {
    changes.iter().map(|c| c.revision).collect()
}

#[test]
fn a_batch_short_of_the_limit_is_every_change() {
    let mut changes = rows(&[3, 3, 4]);
    assert_eq!(whole_revisions(&mut changes, 4), Reach::Everything);
    assert_eq!(revisions(&changes), [3, 3, 4]);
}

#[test]
fn a_full_batch_drops_its_last_revision_which_may_be_cut() {
    let mut changes = rows(&[3, 4, 4, 5]);
    assert_eq!(whole_revisions(&mut changes, 4), Reach::Through(4));
    assert_eq!(revisions(&changes), [3, 4, 4]);
    let mut changes = rows(&[3, 7, 9, 9]);
    assert_eq!(whole_revisions(&mut changes, 4), Reach::Through(8));
    assert_eq!(revisions(&changes), [3, 7]);
}

#[test]
fn a_full_batch_of_one_revision_asks_for_more() {
    let mut changes = rows(&[6, 6, 6]);
    assert_eq!(whole_revisions(&mut changes, 3), Reach::OneRevisionOrMore);
}

/// A store holding one key with digest `[1; 32]` rotated `rotations` times (each a
/// revision naming every secret so far) and then revoked.
fn store_with_rotations(rotations: u8) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("p.db")).unwrap();
    let admin = Actor("admin".into());
    let new = NewKey {
        record: key(true, None, None),
        digest: [1; 32],
    };
    store.create_key(new, &admin, NOW).unwrap();
    for n in 0..rotations {
        let rotation = crate::store::Rotation {
            digest: [n + 2; 32],
            prefix: "sk_cd".into(),
            grace_secs: 60,
        };
        store
            .rotate_key("key_1", &rotation, &OrgScope::All, &admin, NOW)
            .unwrap();
    }
    store
        .revoke_key("key_1", &OrgScope::All, &admin, NOW)
        .unwrap();
    (dir, store)
}

#[test]
fn a_delta_page_ends_on_a_whole_revision_and_a_revision_larger_than_a_page_comes_whole() {
    // Change rows per revision: 1 create 1, rotations 2, 3 and 4, 5 revoke 4.
    let (_dir, store) = store_with_rotations(3);
    let ask = |since, size| page(&store, &SyncRequest::new(Some(since), None).unwrap(), size);
    let reached = |since, size| {
        let page = ask(since, size).unwrap();
        (page.revision, page.entries.len())
    };
    assert_eq!(reached(1, 4), (2, 2), "revision 3 would be cut at 4 rows");
    assert_eq!(reached(2, 4), (3, 3));
    assert_eq!(reached(3, 4), (4, 4), "revision 4 alone fills the page");
    assert_eq!(
        reached(4, 1),
        (5, 4),
        "read whole although above the page size"
    );
    let last = ask(4, 4).unwrap();
    assert!(last.entries.iter().all(|e| e.status == KeyStatus::Revoked));
    let none = ask(5, 4).unwrap();
    assert!(
        SyncRequest::new(Some(5), None)
            .unwrap()
            .is_answered_by_nothing(&none)
    );
}

#[test]
fn a_new_sidecar_is_never_held_even_by_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("p.db")).unwrap();
    let request = SyncRequest::new(None, None).unwrap();
    let empty = page(&store, &request, 4).unwrap();
    assert_eq!((empty.revision, empty.reset), (0, true));
    assert!(!request.is_answered_by_nothing(&empty));
}

#[test]
fn a_sidecar_holding_the_empty_state_long_polls_from_revision_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("p.db")).unwrap();
    let request = SyncRequest::new(Some(0), None).unwrap();
    let nothing = page(&store, &request, 4).unwrap();
    assert_eq!((nothing.revision, nothing.reset), (0, false));
    assert!(request.is_answered_by_nothing(&nothing));
}
