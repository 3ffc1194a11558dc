//! Conformance cases for key records: create, read, list, scope, update and revoke.

use portcullis_control_plane::store::{KeyPatch, KeyRecord, OrgScope, Rotation, Store, StoreError};

use super::{NOW, Open, admin, create, digest, new_key, only, query};

/// Follows cursors to the end, returning each page's ids.
fn key_pages(
    store: &dyn Store,
    scope: OrgScope,
    org_id: Option<&str>,
    limit: u32,
) -> Vec<Vec<String>> {
    let (mut pages, mut cursor) = (Vec::new(), None);
    loop {
        let page = store
            .list_keys(&query(scope.clone(), org_id, limit, cursor))
            .expect("list keys");
        pages.push(page.items.iter().map(|k| k.id.clone()).collect());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
    }
}

pub(crate) fn created_key_reads_back_with_timestamps_set_by_the_store(open: Open<'_>) {
    let store = open();
    let mut new = new_key("key_a", "org_1", 1);
    new.record.revoked_at = Some(5);
    let created = store
        .create_key(new.clone(), &admin(), NOW)
        .expect("create");
    let expected = KeyRecord {
        created_at: NOW,
        updated_at: NOW,
        revoked_at: None,
        ..new.record
    };
    assert_eq!(created, expected);
    assert_eq!(
        store
            .get_key("key_a", &OrgScope::All)
            .expect("get as admin"),
        expected
    );
    assert_eq!(
        store.get_key("key_a", &only("org_1")).expect("get in org"),
        expected
    );
    let missing = store.get_key("key_zz", &OrgScope::All);
    assert!(
        matches!(&missing, Err(StoreError::NotFound(id)) if id == "key_zz"),
        "{missing:?}"
    );
    let (found, secret) = store
        .find_by_digest(&digest(1))
        .expect("find")
        .expect("digest is known");
    assert_eq!(
        (found, secret.digest, secret.retires_at),
        (expected, digest(1), None)
    );
    assert_eq!(
        store.find_by_digest(&digest(99)).expect("find unknown"),
        None
    );
}

pub(crate) fn keys_list_oldest_first_in_pages_across_orgs(open: Open<'_>) {
    let store = open();
    // Created out of id order, with ties on created_at broken by id.
    for (id, org, n, at) in [
        ("key_e", "org_1", 1, NOW + 2),
        ("key_b", "org_2", 2, NOW),
        ("key_d", "org_1", 3, NOW + 1),
        ("key_a", "org_1", 4, NOW + 1),
        ("key_c", "org_2", 5, NOW + 3),
        ("key_f", "org_1", 6, NOW),
        ("key_g", "org_2", 7, NOW + 3),
    ] {
        create(&*store, id, org, n, at);
    }
    let ids = |pages: Vec<Vec<String>>| pages.into_iter().map(|p| p.join(",")).collect::<Vec<_>>();
    assert_eq!(
        ids(key_pages(&*store, OrgScope::All, None, 3)),
        ["key_b,key_f,key_a", "key_d,key_e,key_c", "key_g"]
    );
    // A page ending exactly on the last row has no next cursor.
    assert_eq!(
        ids(key_pages(&*store, OrgScope::All, None, 7)),
        ["key_b,key_f,key_a,key_d,key_e,key_c,key_g"]
    );
    assert_eq!(
        ids(key_pages(&*store, OrgScope::All, Some("org_1"), 2)),
        ["key_f,key_a", "key_d,key_e"]
    );
    assert_eq!(
        ids(key_pages(&*store, only("org_2"), None, 2)),
        ["key_b,key_c", "key_g"]
    );
    assert_eq!(
        ids(key_pages(&*store, only("org_2"), Some("org_2"), 5)),
        ["key_b,key_c,key_g"]
    );
    // An org outside the caller's scope is an empty page, not an error.
    assert_eq!(
        ids(key_pages(&*store, only("org_2"), Some("org_1"), 5)),
        [""]
    );
    assert_eq!(
        ids(key_pages(&*store, OrgScope::All, Some("org_9"), 5)),
        [""]
    );
}

pub(crate) fn malformed_cursors_are_rejected(open: Open<'_>) {
    let store = open();
    create(&*store, "key_a", "org_1", 1, NOW);
    for cursor in ["not-a-cursor", "zz", "00"] {
        let q = query(OrgScope::All, None, 10, Some(cursor.to_owned()));
        assert!(
            matches!(store.list_keys(&q), Err(StoreError::InvalidCursor)),
            "keys accepted {cursor:?}"
        );
        assert!(
            matches!(store.audit(&q), Err(StoreError::InvalidCursor)),
            "audit accepted {cursor:?}"
        );
    }
}

pub(crate) fn another_orgs_key_is_not_found_for_any_operation(open: Open<'_>) {
    let store = open();
    let key = create(&*store, "key_a", "org_1", 1, NOW);
    let foreign = only("org_2");
    let not_found = |result: Result<KeyRecord, StoreError>| match result {
        Err(StoreError::NotFound(id)) => id == "key_a",
        _ => false,
    };
    assert!(not_found(store.get_key("key_a", &foreign)));
    assert!(not_found(store.update_key(
        "key_a",
        &KeyPatch::default(),
        &foreign,
        &admin(),
        NOW + 1
    )));
    assert!(not_found(store.revoke_key(
        "key_a",
        &foreign,
        &admin(),
        NOW + 1
    )));
    assert!(not_found(store.rotate_key(
        "key_a",
        &Rotation {
            digest: digest(2),
            prefix: "sk_02".to_owned(),
            grace_secs: 60
        },
        &foreign,
        &admin(),
        NOW + 1
    )));
    assert_eq!(
        store.get_key("key_a", &OrgScope::All).expect("unchanged"),
        key
    );
    assert_eq!(store.find_by_digest(&digest(2)).expect("find"), None);
}

pub(crate) fn update_changes_only_the_patched_fields_and_some_none_clears(open: Open<'_>) {
    let store = open();
    let before = create(&*store, "key_a", "org_1", 1, NOW);
    let patch = KeyPatch {
        name: Some("renamed".to_owned()),
        enabled: Some(false),
        ..KeyPatch::default()
    };
    let renamed = store
        .update_key("key_a", &patch, &only("org_1"), &admin(), NOW + 10)
        .expect("rename");
    let expected = KeyRecord {
        name: "renamed".to_owned(),
        enabled: false,
        updated_at: NOW + 10,
        ..before.clone()
    };
    assert_eq!(renamed, expected);
    let clear = KeyPatch {
        tier: Some(None),
        expires_at: Some(None),
        scopes: Some(vec![]),
        roles: Some(vec!["reader".to_owned()]),
        meta: Some(serde_json::Map::new()),
        ..KeyPatch::default()
    };
    let cleared = store
        .update_key("key_a", &clear, &OrgScope::All, &admin(), NOW + 20)
        .expect("clear");
    let expected = KeyRecord {
        tier: None,
        expires_at: None,
        scopes: vec![],
        roles: vec!["reader".to_owned()],
        meta: serde_json::Map::new(),
        updated_at: NOW + 20,
        ..expected
    };
    assert_eq!(cleared, expected);
    assert_eq!(
        store.get_key("key_a", &OrgScope::All).expect("get"),
        expected
    );
}

pub(crate) fn revoked_key_keeps_its_record_and_refuses_every_mutation(open: Open<'_>) {
    let store = open();
    create(&*store, "key_a", "org_1", 1, NOW);
    let revoked = store
        .revoke_key("key_a", &only("org_1"), &admin(), NOW + 5)
        .expect("revoke");
    assert_eq!(
        (revoked.revoked_at, revoked.updated_at),
        (Some(NOW + 5), NOW + 5)
    );
    let is_revoked = |result: Result<KeyRecord, StoreError>| match result {
        Err(StoreError::Revoked(id)) => id == "key_a",
        _ => false,
    };
    assert!(is_revoked(store.update_key(
        "key_a",
        &KeyPatch::default(),
        &OrgScope::All,
        &admin(),
        NOW + 6
    )));
    assert!(is_revoked(store.revoke_key(
        "key_a",
        &OrgScope::All,
        &admin(),
        NOW + 6
    )));
    assert!(is_revoked(store.rotate_key(
        "key_a",
        &Rotation {
            digest: digest(2),
            prefix: "sk_02".to_owned(),
            grace_secs: 0
        },
        &OrgScope::All,
        &admin(),
        NOW + 6
    )));
    assert_eq!(
        store
            .get_key("key_a", &OrgScope::All)
            .expect("still readable"),
        revoked
    );
    // Admin authentication must still find it, to refuse it.
    let (found, _) = store
        .find_by_digest(&digest(1))
        .expect("find")
        .expect("known digest");
    assert_eq!(found, revoked);
}
