//! Conformance cases for secrets and the revision contract: rotation, the change log,
//! all-or-nothing mutations, and persistence across reopening.

use portcullis_control_plane::store::{KeyPatch, KeyRecord, OrgScope, Rotation, Store, StoreError};

use super::{NOW, Open, admin, all_audit, changes, create, digest, new_key, only};

pub(crate) fn rotation_retires_old_secrets_at_the_end_of_the_grace(open: Open<'_>) {
    let store = open();
    let before = create(&*store, "key_a", "org_1", 1, NOW);
    let rotated = store
        .rotate_key(
            "key_a",
            &Rotation {
                digest: digest(2),
                prefix: "sk_02".to_owned(),
                grace_secs: 3600,
            },
            &only("org_1"),
            &admin(),
            NOW + 10,
        )
        .expect("rotate");
    assert_eq!(
        rotated,
        KeyRecord {
            prefix: "sk_02".to_owned(),
            updated_at: NOW + 10,
            ..before
        }
    );
    let retires = |n: u8| {
        store
            .find_by_digest(&digest(n))
            .expect("find")
            .map(|(key, s)| (key.id, s.retires_at))
    };
    assert_eq!(
        retires(1),
        Some(("key_a".to_owned(), Some(NOW + 10 + 3600)))
    );
    assert_eq!(retires(2), Some(("key_a".to_owned(), None)));
    // A second rotation never extends an earlier grace, but shortens it when it ends sooner.
    store
        .rotate_key(
            "key_a",
            &Rotation {
                digest: digest(3),
                prefix: "sk_03".to_owned(),
                grace_secs: 7200,
            },
            &OrgScope::All,
            &admin(),
            NOW + 20,
        )
        .expect("rotate again");
    assert_eq!(
        retires(1),
        Some(("key_a".to_owned(), Some(NOW + 10 + 3600)))
    );
    assert_eq!(
        retires(2),
        Some(("key_a".to_owned(), Some(NOW + 20 + 7200)))
    );
    store
        .rotate_key(
            "key_a",
            &Rotation {
                digest: digest(4),
                prefix: "sk_04".to_owned(),
                grace_secs: 0,
            },
            &OrgScope::All,
            &admin(),
            NOW + 30,
        )
        .expect("rotate, no grace");
    assert_eq!(retires(1), Some(("key_a".to_owned(), Some(NOW + 30))));
    assert_eq!(retires(3), Some(("key_a".to_owned(), Some(NOW + 30))));
    assert_eq!(retires(4), Some(("key_a".to_owned(), None)));
}

pub(crate) fn each_mutation_takes_the_next_revision_and_logs_its_digests(open: Open<'_>) {
    let store = open();
    assert_eq!(
        (store.revision().expect("revision"), changes(&*store, 0)),
        (0, vec![])
    );
    create(&*store, "key_a", "org_1", 1, NOW);
    create(&*store, "key_b", "org_1", 9, NOW);
    assert_eq!(store.revision().expect("revision"), 2);
    store
        .rotate_key(
            "key_a",
            &Rotation {
                digest: digest(2),
                prefix: "sk_02".to_owned(),
                grace_secs: 60,
            },
            &OrgScope::All,
            &admin(),
            NOW,
        )
        .expect("rotate");
    store
        .update_key(
            "key_a",
            &KeyPatch::default(),
            &OrgScope::All,
            &admin(),
            NOW + 30,
        )
        .expect("update in grace");
    store
        .update_key(
            "key_a",
            &KeyPatch::default(),
            &OrgScope::All,
            &admin(),
            NOW + 60,
        )
        .expect("update after grace");
    store
        .revoke_key("key_a", &OrgScope::All, &admin(), NOW + 90)
        .expect("revoke");
    assert_eq!(store.revision().expect("revision"), 6);
    assert_eq!(
        changes(&*store, 0),
        [
            (1, 1),
            (2, 9),
            (3, 1),
            (3, 2),
            (4, 1),
            (4, 2),
            (5, 2),
            (6, 1),
            (6, 2)
        ]
    );
    assert_eq!(changes(&*store, 4), [(5, 2), (6, 1), (6, 2)]);
    assert_eq!(changes(&*store, 6), []);
    let limited = store.changes_since(2, 3).expect("limited changes");
    assert_eq!(
        limited
            .iter()
            .map(|c| (c.revision, c.digest[0]))
            .collect::<Vec<_>>(),
        [(3, 1), (3, 2), (4, 1)]
    );
    let revisions: Vec<u64> = all_audit(&*store).iter().map(|e| e.revision).collect();
    assert_eq!(revisions, [1, 2, 3, 4, 5, 6]);
}

pub(crate) fn failed_mutations_change_neither_revision_nor_changes_nor_audit(open: Open<'_>) {
    let store = open();
    create(&*store, "key_a", "org_1", 1, NOW);
    create(&*store, "key_b", "org_2", 2, NOW);
    store
        .revoke_key("key_b", &OrgScope::All, &admin(), NOW)
        .expect("revoke");
    let snapshot = |store: &dyn Store| {
        (
            store.revision().expect("revision"),
            changes(store, 0),
            all_audit(store),
        )
    };
    let before = snapshot(&*store);
    let dup_digest = store.create_key(new_key("key_c", "org_1", 1), &admin(), NOW + 1);
    assert!(
        matches!(dup_digest, Err(StoreError::Conflict(_))),
        "{dup_digest:?}"
    );
    assert!(
        matches!(
            store.get_key("key_c", &OrgScope::All),
            Err(StoreError::NotFound(_))
        ),
        "no half-written key"
    );
    let dup_id = store.create_key(new_key("key_a", "org_1", 3), &admin(), NOW + 1);
    assert!(matches!(dup_id, Err(StoreError::Conflict(_))), "{dup_id:?}");
    assert_eq!(store.find_by_digest(&digest(3)).expect("find"), None);
    let rotate_dup = store.rotate_key(
        "key_a",
        &Rotation {
            digest: digest(2),
            prefix: "sk_02".to_owned(),
            grace_secs: 60,
        },
        &OrgScope::All,
        &admin(),
        NOW + 1,
    );
    assert!(
        matches!(rotate_dup, Err(StoreError::Conflict(_))),
        "{rotate_dup:?}"
    );
    let missing = store.update_key(
        "key_zz",
        &KeyPatch::default(),
        &OrgScope::All,
        &admin(),
        NOW + 1,
    );
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    let revoked = store.update_key(
        "key_b",
        &KeyPatch::default(),
        &OrgScope::All,
        &admin(),
        NOW + 1,
    );
    assert!(
        matches!(revoked, Err(StoreError::Revoked(_))),
        "{revoked:?}"
    );
    assert_eq!(snapshot(&*store), before);
    let key_a = store.get_key("key_a", &OrgScope::All).expect("key_a");
    assert_eq!((key_a.prefix.as_str(), key_a.updated_at), ("sk_01", NOW));
    assert_eq!(
        store
            .find_by_digest(&digest(1))
            .expect("find")
            .map(|(_, s)| s.retires_at),
        Some(None)
    );
}

pub(crate) fn data_survives_reopening_the_database(open: Open<'_>) {
    let (key, events, log) = {
        let store = open();
        create(&*store, "key_a", "org_1", 1, NOW);
        let key = store
            .rotate_key(
                "key_a",
                &Rotation {
                    digest: digest(2),
                    prefix: "sk_02".to_owned(),
                    grace_secs: 60,
                },
                &OrgScope::All,
                &admin(),
                NOW + 1,
            )
            .expect("rotate");
        (key, all_audit(&*store), changes(&*store, 0))
    };
    let store = open();
    assert_eq!(
        store
            .get_key("key_a", &OrgScope::All)
            .expect("get after reopen"),
        key
    );
    assert_eq!(store.revision().expect("revision"), 2);
    assert_eq!((all_audit(&*store), changes(&*store, 0)), (events, log));
    let (_, old) = store
        .find_by_digest(&digest(1))
        .expect("find")
        .expect("old secret kept");
    assert_eq!(old.retires_at, Some(NOW + 61));
    // The next revision continues from the stored one, never reusing it.
    store
        .revoke_key("key_a", &OrgScope::All, &admin(), NOW + 2)
        .expect("revoke");
    assert_eq!(store.revision().expect("revision"), 3);
}
