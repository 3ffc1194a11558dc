//! Conformance cases for the audit log.

use portcullis_control_plane::store::{Actor, KeyPatch, OrgScope, Rotation};

use super::{NOW, Open, admin, all_audit, create, digest, new_key, only, query};

pub(crate) fn audit_events_record_each_change_and_paginate_within_scope(open: Open<'_>) {
    let store = open();
    let org_admin = Actor("key:key_admin".to_owned());
    store
        .create_key(new_key("key_a", "org_1", 1), &org_admin, NOW)
        .expect("create a");
    create(&*store, "key_b", "org_2", 2, NOW + 1);
    store
        .rotate_key(
            "key_a",
            &Rotation {
                digest: digest(3),
                prefix: "sk_03".to_owned(),
                grace_secs: 0,
            },
            &only("org_1"),
            &org_admin,
            NOW + 2,
        )
        .expect("rotate");
    store
        .update_key(
            "key_b",
            &KeyPatch::default(),
            &OrgScope::All,
            &admin(),
            NOW + 3,
        )
        .expect("update");
    store
        .revoke_key("key_a", &only("org_1"), &org_admin, NOW + 4)
        .expect("revoke");
    let events = all_audit(&*store);
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.at,
                e.actor.as_str(),
                e.action.as_str(),
                e.org_id.as_str(),
                e.key_id.as_str(),
                e.revision,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (NOW, "key:key_admin", "key.create", "org_1", "key_a", 1),
            (NOW + 1, "admin", "key.create", "org_2", "key_b", 2),
            (NOW + 2, "key:key_admin", "key.rotate", "org_1", "key_a", 3),
            (NOW + 3, "admin", "key.update", "org_2", "key_b", 4),
            (NOW + 4, "key:key_admin", "key.revoke", "org_1", "key_a", 5),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    let first = store
        .audit(&query(OrgScope::All, None, 2, None))
        .expect("page 1");
    let second = store
        .audit(&query(OrgScope::All, None, 2, first.next_cursor.clone()))
        .expect("page 2");
    let third = store
        .audit(&query(OrgScope::All, None, 2, second.next_cursor.clone()))
        .expect("page 3");
    assert_eq!([first.items, second.items, third.items].concat(), events);
    assert_eq!(third.next_cursor, None);
    let in_org = |scope: OrgScope, org: Option<&str>| -> Vec<u64> {
        let page = store
            .audit(&query(scope, org, 10, None))
            .expect("audit in scope");
        page.items.iter().map(|e| e.revision).collect()
    };
    assert_eq!(in_org(only("org_1"), None), [1, 3, 5]);
    assert_eq!(in_org(OrgScope::All, Some("org_2")), [2, 4]);
    assert_eq!(in_org(only("org_1"), Some("org_2")), Vec::<u64>::new());
}
