//! Conformance cases for providers: CRUD with audit and revisions, issuer uniqueness, JWKS
//! saves that bump the revision only on change, stale fetches, and what the sync reads.

use std::collections::BTreeMap;

use portcullis_control_plane::store::{
    Actor, ClaimMapping, JwksFailure, JwksFetched, JwksSaved, Provider, ProviderChange,
    ProviderPatch, Store, StoreError,
};

use super::{NOW, Open, admin, all_audit, create};

const JWKS_A: &str = r#"{"keys":[{"kid":"a","kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#;
const JWKS_B: &str = r#"{"keys":[{"kid":"b","kty":"OKP","crv":"Ed25519","x":"BBBB"}]}"#;

fn fetcher() -> Actor {
    Actor("jwks-fetcher".to_owned())
}

fn provider(issuer: &str) -> Provider {
    Provider {
        issuer: issuer.to_owned(),
        jwks_uri: None,
        audiences: vec!["api".to_owned()],
        algorithms: vec![],
        leeway_secs: 5,
        required_claims: vec!["sub".to_owned()],
        authorized_parties: vec![],
        typ: None,
        max_token_bytes: 8192,
        claim_mapping: ClaimMapping::Auto,
        role_implications: BTreeMap::new(),
    }
}

fn fetched(settings_revision: u64, jwks: &str, next: i64) -> JwksFetched {
    JwksFetched {
        settings_revision,
        jwks: jwks.to_owned(),
        next_refresh_at: next,
    }
}

/// (action, org, subject, revision) of every audit event.
fn audit_summary(store: &dyn Store) -> Vec<(String, String, String, u64)> {
    all_audit(store)
        .into_iter()
        .map(|e| (e.action, e.org_id, e.key_id, e.revision))
        .collect()
}

pub(crate) fn provider_changes_are_audited_and_each_takes_the_next_revision(open: Open<'_>) {
    let store = open();
    let created = store
        .create_provider("prv_1", &provider("https://a.example"), &admin(), NOW)
        .expect("create");
    assert_eq!(
        (
            created.revision,
            created.settings_revision,
            created.created_at
        ),
        (1, 1, NOW)
    );
    assert_eq!(store.get_provider("prv_1").expect("get"), created);
    assert_eq!(
        store.list_providers().expect("list"),
        std::slice::from_ref(&created)
    );
    let patch = ProviderPatch {
        audiences: Some(vec!["other".to_owned()]),
        typ: Some(Some("JWT".to_owned())),
        ..ProviderPatch::default()
    };
    let updated = store
        .update_provider("prv_1", &patch, &admin(), NOW + 5)
        .expect("update");
    let mut expected = created.provider.clone();
    expected.audiences = vec!["other".to_owned()];
    expected.typ = Some("JWT".to_owned());
    assert_eq!(updated.provider, expected, "only the patched fields change");
    assert_eq!(
        (
            updated.updated_at,
            updated.settings_revision,
            updated.revision
        ),
        (NOW + 5, 2, 2)
    );
    assert_eq!(store.get_provider("prv_1").expect("get"), updated);
    let deleted = store
        .delete_provider("prv_1", &admin(), NOW + 9)
        .expect("delete");
    assert_eq!(deleted.revision, 3);
    for gone in [
        store.get_provider("prv_1").map(|_| ()),
        store.jwks_status("prv_1").map(|_| ()),
        store
            .update_provider("prv_1", &patch, &admin(), NOW + 10)
            .map(|_| ()),
        store
            .delete_provider("prv_1", &admin(), NOW + 10)
            .map(|_| ()),
    ] {
        assert!(
            matches!(gone, Err(StoreError::NoProvider(ref id)) if id == "prv_1"),
            "{gone:?}"
        );
    }
    assert_eq!(store.list_providers().expect("list"), []);
    assert_eq!(store.revision().expect("revision"), 3);
    let id = |action: &str, revision| {
        (
            action.to_owned(),
            String::new(),
            "prv_1".to_owned(),
            revision,
        )
    };
    assert_eq!(
        audit_summary(&*store),
        [
            id("provider.create", 1),
            id("provider.update", 2),
            id("provider.delete", 3)
        ]
    );
}

pub(crate) fn a_live_issuer_is_unique_and_a_deleted_ones_may_return(open: Open<'_>) {
    let store = open();
    store
        .create_provider("prv_1", &provider("https://a.example"), &admin(), NOW)
        .expect("create");
    let before = (store.revision().expect("revision"), all_audit(&*store));
    let duplicate = store.create_provider("prv_2", &provider("https://a.example"), &admin(), NOW);
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(ref m)) if m.contains("prv_1")),
        "{duplicate:?}"
    );
    assert_eq!(
        (store.revision().expect("revision"), all_audit(&*store)),
        before
    );
    store
        .create_provider("prv_3", &provider("https://a.example/"), &admin(), NOW)
        .expect("a trailing slash is another issuer");
    store
        .delete_provider("prv_1", &admin(), NOW)
        .expect("delete");
    store
        .create_provider("prv_2", &provider("https://a.example"), &admin(), NOW)
        .expect("the issuer is free again");
    let ids: Vec<String> = store
        .list_providers()
        .expect("list")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["prv_2", "prv_3"]);
}

pub(crate) fn a_jwks_takes_a_revision_only_when_it_differs(open: Open<'_>) {
    let store = open();
    store
        .create_provider("prv_1", &provider("https://a.example"), &admin(), NOW)
        .expect("create");
    let status = store.jwks_status("prv_1").expect("status");
    assert_eq!((status.jwks, status.fetched_at), (None, None));
    let saved = store.save_jwks("prv_1", &fetched(1, JWKS_A, NOW + 900), &fetcher(), NOW);
    assert_eq!(saved.expect("save"), JwksSaved::Changed(2));
    let saved = store.save_jwks(
        "prv_1",
        &fetched(1, JWKS_A, NOW + 1900),
        &fetcher(),
        NOW + 1000,
    );
    assert_eq!(saved.expect("save again"), JwksSaved::Unchanged);
    assert_eq!(
        store.revision().expect("revision"),
        2,
        "the same set takes no revision"
    );
    let status = store.jwks_status("prv_1").expect("status");
    assert_eq!(
        (
            status.jwks.as_deref(),
            status.fetched_at,
            status.next_refresh_at
        ),
        (Some(JWKS_A), Some(NOW + 1000), Some(NOW + 1900))
    );
    let failure = JwksFailure {
        settings_revision: 1,
        error: "GET https://a.example/jwks answered 500, expected 200".to_owned(),
        next_refresh_at: NOW + 1010,
    };
    for n in 1..=2 {
        assert!(
            store
                .record_jwks_failure("prv_1", &failure, NOW + 1000 + n)
                .expect("failure")
        );
    }
    let status = store.jwks_status("prv_1").expect("status");
    assert_eq!(
        status.jwks.as_deref(),
        Some(JWKS_A),
        "the last good set stays"
    );
    assert_eq!(
        (
            status.consecutive_failures,
            status.last_error_at,
            status.last_error.as_deref()
        ),
        (2, Some(NOW + 1002), Some(failure.error.as_str()))
    );
    assert_eq!(
        store.revision().expect("revision"),
        2,
        "a failure takes no revision"
    );
    let saved = store.save_jwks(
        "prv_1",
        &fetched(1, JWKS_B, NOW + 2000),
        &fetcher(),
        NOW + 1100,
    );
    assert_eq!(saved.expect("save new set"), JwksSaved::Changed(3));
    let status = store.jwks_status("prv_1").expect("status");
    assert_eq!(
        (
            status.jwks.as_deref(),
            status.consecutive_failures,
            status.last_error.is_some()
        ),
        (Some(JWKS_B), 0, true),
        "a success resets the streak and keeps the last error for operators"
    );
    assert_eq!(store.get_provider("prv_1").expect("get").revision, 3);
    let actions: Vec<(String, String)> = all_audit(&*store)
        .into_iter()
        .map(|e| (e.action, e.actor))
        .collect();
    let jwks = ("provider.jwks".to_owned(), "jwks-fetcher".to_owned());
    assert_eq!(actions[1..], [jwks.clone(), jwks]);
}

pub(crate) fn a_fetch_under_old_settings_or_for_a_deleted_provider_is_not_saved(open: Open<'_>) {
    let store = open();
    store
        .create_provider("prv_1", &provider("https://a.example"), &admin(), NOW)
        .expect("create");
    store
        .save_jwks("prv_1", &fetched(1, JWKS_A, NOW), &fetcher(), NOW)
        .expect("save");
    let audiences = ProviderPatch {
        audiences: Some(vec![]),
        ..ProviderPatch::default()
    };
    let updated = store
        .update_provider("prv_1", &audiences, &admin(), NOW)
        .expect("update audiences");
    assert_eq!(updated.settings_revision, 3);
    let status = store.jwks_status("prv_1").expect("status");
    assert_eq!(
        status.jwks.as_deref(),
        Some(JWKS_A),
        "the JWKS does not depend on audiences"
    );
    let revision = store.revision().expect("revision");
    let stale = store.save_jwks("prv_1", &fetched(1, JWKS_B, NOW), &fetcher(), NOW);
    assert_eq!(stale.expect("stale save"), JwksSaved::Superseded);
    let failure = JwksFailure {
        settings_revision: 1,
        error: "stale".to_owned(),
        next_refresh_at: NOW,
    };
    assert!(
        !store
            .record_jwks_failure("prv_1", &failure, NOW)
            .expect("stale failure")
    );
    assert_eq!(store.revision().expect("revision"), revision);
    assert_eq!(store.jwks_status("prv_1").expect("status").last_error, None);
    let new_source = ProviderPatch {
        jwks_uri: Some(Some("https://keys.a.example/jwks".to_owned())),
        ..ProviderPatch::default()
    };
    store
        .update_provider("prv_1", &new_source, &admin(), NOW)
        .expect("update jwks_uri");
    let status = store.jwks_status("prv_1").expect("status");
    assert_eq!(
        (status.jwks, status.fetched_at),
        (None, None),
        "a new source drops the old set"
    );
    store
        .delete_provider("prv_1", &admin(), NOW)
        .expect("delete");
    let settings_revision = store.revision().expect("revision") - 1;
    let gone = store.save_jwks(
        "prv_1",
        &fetched(settings_revision, JWKS_B, NOW),
        &fetcher(),
        NOW,
    );
    assert_eq!(gone.expect("save after delete"), JwksSaved::Superseded);
}

pub(crate) fn the_sync_reads_current_providers_and_tombstones_changed_after_a_revision(
    open: Open<'_>,
) {
    {
        let store = open();
        store
            .create_provider("prv_a", &provider("https://a.example"), &admin(), NOW)
            .expect("create a");
        store
            .create_provider("prv_b", &provider("https://b.example"), &admin(), NOW)
            .expect("create b");
        create(&*store, "key_a", "org_1", 1, NOW);
        store
            .save_jwks("prv_a", &fetched(1, JWKS_A, NOW), &fetcher(), NOW)
            .expect("save");
        store
            .delete_provider("prv_b", &admin(), NOW)
            .expect("delete b");
    }
    // Reopened: everything the sync reads survives a restart.
    let store = open();
    let summary = |since| -> Vec<(String, u64, Option<String>)> {
        store
            .providers_changed_since(since)
            .expect("changed since")
            .into_iter()
            .map(|change| match change {
                ProviderChange::Upsert(state) => {
                    (state.record.id, state.record.revision, state.jwks)
                }
                ProviderChange::Delete {
                    id,
                    issuer,
                    revision,
                } => {
                    assert_eq!(issuer, "https://b.example");
                    (id, revision, None)
                }
            })
            .collect()
    };
    let a = ("prv_a".to_owned(), 4, Some(JWKS_A.to_owned()));
    let b = ("prv_b".to_owned(), 5, None);
    assert_eq!(summary(0), [a.clone(), b.clone()]);
    assert_eq!(
        summary(3),
        [a.clone(), b.clone()],
        "a key change is not a provider change"
    );
    assert_eq!(summary(4), [b]);
    assert_eq!(summary(5), []);
    assert!(matches!(
        &store.providers_changed_since(0).expect("changed")[1],
        ProviderChange::Delete { .. }
    ));
    let snapshot = store.provider_snapshot().expect("snapshot");
    assert_eq!(snapshot.len(), 1);
    assert_eq!(
        (snapshot[0].record.id.as_str(), snapshot[0].jwks.as_deref()),
        ("prv_a", Some(JWKS_A))
    );
    assert_eq!(
        snapshot[0].record,
        store.get_provider("prv_a").expect("get")
    );
}
