//! The rules every rendering shares, and an org's effective limits. [`policy`] is the
//! fixture the rendering tests use too.

use super::*;
use crate::store::{KeyOverride, LimitUnit};

/// `default` as migrated; `gold` with an unlimited org limit; `free` per second and hour. A
/// key without a tier and a gold key have overrides, and so does a key whose tier is gone;
/// org `acme` has its own limit.
pub(crate) fn policy() -> RateLimitPolicy {
    let tiers = [
        ("default", TierLimits::DEFAULT),
        (
            "gold",
            TierLimits {
                per_ip: Limit::per(1, LimitUnit::Second),
                per_key: Limit::per(1000, LimitUnit::Minute),
                per_org: Limit::Unlimited,
            },
        ),
        (
            "free",
            TierLimits {
                per_ip: Limit::Unlimited,
                per_key: Limit::per(10, LimitUnit::Second),
                per_org: Limit::per(100, LimitUnit::Hour),
            },
        ),
    ];
    let key = |id: &str, tier: Option<&str>, limit| KeyOverride {
        key_id: id.to_owned(),
        tier: tier.map(str::to_owned),
        limit,
    };
    RateLimitPolicy {
        revision: 42,
        tiers: tiers.map(|(n, t)| (n.to_owned(), t)).into_iter().collect(),
        key_overrides: vec![
            key("key_Ghost", Some("gone"), Limit::per(1, LimitUnit::Day)),
            key("key_Gold1", Some("gold"), Limit::Unlimited),
            key("key_NoTier", None, Limit::per(5, LimitUnit::Second)),
        ],
        org_overrides: [("acme".to_owned(), Limit::per(50, LimitUnit::Day))].into(),
    }
}

/// `(stage, "k=v/k", limit)` for compact comparisons; `*` marks any value.
fn summary(rules: &[Rule]) -> Vec<(u32, String, String)> {
    rules
        .iter()
        .map(|r| {
            let path: Vec<String> = r
                .entries
                .iter()
                .map(|e| format!("{}={}", e.key, e.value.as_deref().unwrap_or("*")))
                .collect();
            (r.stage.number(), path.join("/"), r.limit.to_string())
        })
        .collect()
}

fn row(stage: u32, path: &str, limit: &str) -> (u32, String, String) {
    (stage, path.to_owned(), limit.to_owned())
}

#[test]
fn every_rule_of_the_policy_in_order() {
    assert_eq!(
        summary(&rules(&policy())),
        vec![
            row(0, "remote_address=*", "60/minute"),
            row(1, "key_id=*", "120/minute"),
            row(1, "key_id=key_NoTier", "5/second"),
            row(1, "org_id=*", "300/minute"),
            row(1, "org_id=acme", "50/day"),
            row(1, "tier=default/key_id=*", "120/minute"),
            row(1, "tier=default/org_id=*", "300/minute"),
            row(1, "tier=default/org_id=acme", "50/day"),
            row(1, "tier=free/key_id=*", "10/second"),
            row(1, "tier=free/org_id=*", "100/hour"),
            row(1, "tier=free/org_id=acme", "50/day"),
            row(1, "tier=gold/key_id=*", "1000/minute"),
            row(1, "tier=gold/key_id=key_Gold1", "unlimited"),
            row(1, "tier=gold/org_id=*", "unlimited"),
            row(1, "tier=gold/org_id=acme", "50/day"),
        ]
    );
}

#[test]
fn only_the_default_tiers_per_ip_limit_counts_and_it_counts_before_auth() {
    let mut policy = policy();
    if let Some(default) = policy.tiers.get_mut("default") {
        default.per_ip = Limit::Unlimited;
    }
    let before: Vec<_> = rules(&policy)
        .into_iter()
        .filter(|r| r.stage == Stage::BeforeAuth)
        .collect();
    assert_eq!(
        summary(&before),
        vec![row(0, "remote_address=*", "unlimited")]
    );
}

#[test]
fn a_policy_without_overrides_has_four_rules_per_tier_and_three_more() {
    let mut policy = policy();
    policy.key_overrides.clear();
    policy.org_overrides.clear();
    // Per-IP, then key and org without a tier, then key and org in each of three tiers.
    assert_eq!(rules(&policy).len(), 3 + 2 * 3);
}

#[test]
fn effective_limits_cover_default_and_the_tiers_in_use_with_the_org_override() {
    let policy = policy();
    let acme = OrgLimits {
        org_id: "acme".to_owned(),
        rate_limit: Some(Limit::per(50, LimitUnit::Day)),
        tiers_in_use: vec!["gold".to_owned(), "gone".to_owned()],
    };
    let got = effective_limits(&acme, &policy.tiers);
    let expected = vec![
        EffectiveLimits {
            tier: "default".to_owned(),
            per_key: Limit::per(120, LimitUnit::Minute),
            per_org: Limit::per(50, LimitUnit::Day),
        },
        EffectiveLimits {
            tier: "gold".to_owned(),
            per_key: Limit::per(1000, LimitUnit::Minute),
            per_org: Limit::per(50, LimitUnit::Day),
        },
    ];
    assert_eq!(got, expected);
    let plain = OrgLimits {
        rate_limit: None,
        ..acme
    };
    let gold = &effective_limits(&plain, &policy.tiers)[1];
    assert_eq!(gold.per_org, Limit::Unlimited, "the tier's own org limit");
}
