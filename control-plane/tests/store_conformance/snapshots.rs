//! Conformance cases for snapshot pages: every secret with its key, in digest order,
//! whatever the key's status.

use portcullis_control_plane::store::{OrgScope, Rotation, Secret, Store};

use super::{NOW, Open, admin, create, digest};

/// (digest byte, key id, retires_at, revoked) per row, for compact assertions.
fn page(store: &dyn Store, after: Option<u8>, limit: u32) -> Vec<(u8, String, Option<i64>, bool)> {
    store
        .snapshot_page(after.map(digest).as_ref(), limit)
        .expect("snapshot page")
        .into_iter()
        .map(|(key, Secret { digest, retires_at })| {
            (digest[0], key.id, retires_at, key.revoked_at.is_some())
        })
        .collect()
}

pub(crate) fn snapshot_pages_list_every_secret_in_digest_order_after_the_cursor(open: Open<'_>) {
    let store = open();
    assert_eq!(page(&*store, None, 10), [], "an empty store has no secrets");
    // Created out of digest order, so the order below comes from the digests.
    create(&*store, "key_c", "org_2", 9, NOW);
    create(&*store, "key_a", "org_1", 5, NOW);
    create(&*store, "key_b", "org_1", 1, NOW);
    store
        .rotate_key(
            "key_a",
            &Rotation {
                digest: digest(3),
                prefix: "sk_03".to_owned(),
                grace_secs: 60,
            },
            &OrgScope::All,
            &admin(),
            NOW,
        )
        .expect("rotate");
    store
        .revoke_key("key_c", &OrgScope::All, &admin(), NOW)
        .expect("revoke");
    let all = vec![
        (1, "key_b".to_owned(), None, false),
        (3, "key_a".to_owned(), None, false),
        (5, "key_a".to_owned(), Some(NOW + 60), false),
        (9, "key_c".to_owned(), None, true),
    ];
    assert_eq!(page(&*store, None, 10), all);
    assert_eq!(page(&*store, None, 2), all[..2]);
    assert_eq!(page(&*store, Some(3), 2), all[2..]);
    assert_eq!(
        page(&*store, Some(4), 10),
        all[2..],
        "the cursor need not be a stored digest"
    );
    assert_eq!(page(&*store, Some(9), 10), []);
    let (key, secret) = store
        .snapshot_page(None, 1)
        .expect("snapshot page")
        .remove(0);
    assert_eq!(
        Some((key, secret)),
        store.find_by_digest(&digest(1)).expect("find"),
        "a snapshot row is the same record a digest lookup returns"
    );
}
