//! Conformance cases for rate limits: tiers with audit and revisions, the `default` tier and
//! tiers in use kept, key and org overrides, and the policy the renderings read.

use portcullis_control_plane::store::{
    KeyOverride, KeyPatch, Limit, LimitUnit, OrgScope, Store, StoreError, TierLimits,
};

use super::{NOW, Open, admin, all_audit, create};

fn gold() -> TierLimits {
    TierLimits {
        per_ip: Limit::Unlimited,
        per_key: Limit::per(1000, LimitUnit::Minute),
        per_org: Limit::per(5, LimitUnit::Second),
    }
}

/// (action, org, subject, revision) of every audit event.
fn audit_summary(store: &dyn Store) -> Vec<(String, String, String, u64)> {
    all_audit(store)
        .into_iter()
        .map(|e| (e.action, e.org_id, e.key_id, e.revision))
        .collect()
}

fn event(action: &str, org: &str, subject: &str, revision: u64) -> (String, String, String, u64) {
    (action.into(), org.into(), subject.into(), revision)
}

pub(crate) fn tiers_are_put_read_and_deleted_with_audit_and_revisions(open: Open<'_>) {
    let store = open();
    let tiers = store.list_tiers().expect("list");
    assert_eq!(tiers.len(), 1, "a new store has the default tier only");
    assert_eq!(
        (tiers[0].name.as_str(), tiers[0].limits),
        ("default", TierLimits::DEFAULT)
    );

    let put = store
        .put_tier("gold", &gold(), &admin(), NOW)
        .expect("create");
    assert!(put.created);
    assert_eq!(
        (
            put.record.limits,
            put.record.created_at,
            put.record.updated_at
        ),
        (gold(), NOW, NOW)
    );
    let cheaper = TierLimits {
        per_key: Limit::per(10, LimitUnit::Hour),
        ..gold()
    };
    let put = store
        .put_tier("gold", &cheaper, &admin(), NOW + 5)
        .expect("update");
    assert!(!put.created);
    assert_eq!(
        (put.record.created_at, put.record.updated_at),
        (NOW, NOW + 5)
    );
    assert_eq!(store.get_tier("gold").expect("get"), put.record);
    let names: Vec<String> = store
        .list_tiers()
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["default", "gold"]);

    let deleted = store
        .delete_tier("gold", &admin(), NOW + 9)
        .expect("delete");
    assert_eq!(deleted, put.record);
    assert!(matches!(store.get_tier("gold"), Err(StoreError::NoTier(n)) if n == "gold"));
    assert!(matches!(
        store.delete_tier("gold", &admin(), NOW),
        Err(StoreError::NoTier(_))
    ));
    assert_eq!(store.revision().expect("revision"), 3);
    assert_eq!(
        audit_summary(&*store),
        vec![
            event("tier.create", "", "gold", 1),
            event("tier.update", "", "gold", 2),
            event("tier.delete", "", "gold", 3),
        ]
    );
}

pub(crate) fn default_and_tiers_unrevoked_keys_use_are_kept(open: Open<'_>) {
    let store = open();
    assert!(matches!(
        store.delete_tier("default", &admin(), NOW),
        Err(StoreError::Conflict(_))
    ));
    store.put_tier("gold", &gold(), &admin(), NOW).expect("put");
    assert!(matches!(
        store.check_key_tier("platinum"),
        Err(StoreError::UnknownTier(n)) if n == "platinum"
    ));
    store.check_key_tier("gold").expect("gold exists");
    create(&*store, "key_a", "org_1", 1, NOW);
    let to_gold = KeyPatch {
        tier: Some(Some("gold".to_owned())),
        ..KeyPatch::default()
    };
    store
        .update_key("key_a", &to_gold, &OrgScope::All, &admin(), NOW)
        .expect("move to gold");
    let revision = store.revision().expect("revision");
    let err = store.delete_tier("gold", &admin(), NOW).unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("1 unrevoked key")),
        "{err}"
    );
    assert_eq!(
        store.revision().expect("revision"),
        revision,
        "nothing written"
    );
    store
        .revoke_key("key_a", &OrgScope::All, &admin(), NOW)
        .expect("revoke");
    store
        .delete_tier("gold", &admin(), NOW)
        .expect("a revoked key keeps no tier alive");
}

pub(crate) fn key_and_org_overrides_feed_the_policy_at_one_revision(open: Open<'_>) {
    let store = open();
    store.put_tier("gold", &gold(), &admin(), NOW).expect("put");
    for (id, n) in [("key_a", 1), ("key_b", 2), ("key_c", 3)] {
        create(&*store, id, "org_1", n, NOW);
    }
    let no_tier = KeyPatch {
        tier: Some(None),
        rate_limit: Some(Some(Limit::per(7, LimitUnit::Second))),
        ..KeyPatch::default()
    };
    store
        .update_key("key_a", &no_tier, &OrgScope::All, &admin(), NOW)
        .expect("override a");
    let gold_unlimited = KeyPatch {
        tier: Some(Some("gold".to_owned())),
        rate_limit: Some(Some(Limit::Unlimited)),
        ..KeyPatch::default()
    };
    for id in ["key_b", "key_c"] {
        store
            .update_key(id, &gold_unlimited, &OrgScope::All, &admin(), NOW)
            .expect("override");
    }
    store
        .revoke_key("key_c", &OrgScope::All, &admin(), NOW)
        .expect("revoke c");
    let ids = ["key_a", "key_b", "key_zz"].map(str::to_owned);
    let limits = store.key_limits(&ids).expect("key limits");
    assert_eq!(limits.len(), 2);
    assert_eq!(limits["key_a"], Limit::per(7, LimitUnit::Second));

    let org = store
        .set_org_limit("org_1", Some(Limit::per(9, LimitUnit::Day)), &admin(), NOW)
        .expect("org limit");
    assert_eq!(org.rate_limit, Some(Limit::per(9, LimitUnit::Day)));
    assert_eq!(org.tiers_in_use, ["default", "gold"], "key_a has no tier");
    let org_revision = store.revision().expect("revision");
    assert_eq!(
        audit_summary(&*store).last(),
        Some(&event("org.update", "org_1", "", org_revision))
    );

    let policy = store.rate_limit_policy().expect("policy");
    assert_eq!(policy.revision, org_revision);
    assert_eq!(policy.tiers.len(), 2);
    assert_eq!(policy.tiers["gold"], gold());
    assert_eq!(
        policy.key_overrides,
        vec![
            KeyOverride {
                key_id: "key_a".to_owned(),
                tier: None,
                limit: Limit::per(7, LimitUnit::Second),
            },
            KeyOverride {
                key_id: "key_b".to_owned(),
                tier: Some("gold".to_owned()),
                limit: Limit::Unlimited,
            },
        ],
        "a revoked key's override is left out"
    );
    assert_eq!(
        policy.org_overrides.get("org_1"),
        Some(&Limit::per(9, LimitUnit::Day))
    );

    let clear = KeyPatch {
        rate_limit: Some(None),
        ..KeyPatch::default()
    };
    store
        .update_key("key_a", &clear, &OrgScope::All, &admin(), NOW)
        .expect("clear a");
    let org = store
        .set_org_limit("org_1", None, &admin(), NOW)
        .expect("clear org");
    assert_eq!(org.rate_limit, None);
    let policy = store.rate_limit_policy().expect("policy");
    assert_eq!(policy.key_overrides.len(), 1);
    assert!(policy.org_overrides.is_empty());
    assert_eq!(
        store
            .org_limits("org_nobody")
            .expect("an org without keys")
            .tiers_in_use,
        Vec::<String>::new()
    );
}
