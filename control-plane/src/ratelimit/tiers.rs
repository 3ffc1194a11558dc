//! Rate-limit tiers and overrides as Envoy sees them: the [`Rule`]s every rendering shares,
//! and what an org's callers get ([`effective_limits`]). Validation of what operators send is
//! in [`validation`]; the renderings are [`reference`] (envoyproxy/ratelimit YAML and the
//! in-memory configuration `portcullis ratelimit serve` runs) and [`local`] (Envoy
//! `local_ratelimit` filters, one Envoy and no extra service).
//!
//! Descriptors, domain [`DOMAIN`], as Envoy's rate-limit actions build them:
//! - stage 0, before authentication: `(remote_address=<client ip>)`, limited by the `default`
//!   tier's per-IP limit (no tier is known before the credential is checked);
//! - stage 1, after the filter set its identity headers: `(tier=<x-auth-tier>,
//!   key_id=<x-auth-key-id>)` and `(tier=<x-auth-tier>, org_id=<x-auth-org>)`. The tier
//!   entry is skipped when `x-auth-tier` is absent (keys without a tier, JWT callers): those
//!   descriptors are `(key_id)` and `(org_id)` alone, limited by the `default` tier.
//!
//! Each limit counts per value (`key_id` with no value: one counter per key). A per-key
//! override is a `key_id=<id>` entry beside its tier's key-only one, a per-org override an
//! `org_id=<org>` entry beside every tier's; both renderings pick a value entry over a
//! key-only one. Per-org counters are per (tier, org): an org whose callers are in two tiers
//! has two counters, each with its own limit.

pub mod local;
pub mod reference;
pub mod validation;

use crate::store::{DEFAULT_TIER, Limit, OrgLimits, RateLimitPolicy, TierLimits};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The rate-limit domain of every descriptor.
pub const DOMAIN: &str = "portcullis";
/// Descriptor key of the client address (Envoy's `remote_address` action).
pub const REMOTE_ADDRESS: &str = "remote_address";
/// Descriptor key of the tier, from `x-auth-tier`.
pub const TIER: &str = "tier";
/// Descriptor key of the API key id, from `x-auth-key-id`.
pub const KEY_ID: &str = "key_id";
/// Descriptor key of the org, from `x-auth-org`.
pub const ORG_ID: &str = "org_id";

/// Why a tier, its name or a limit was refused.
#[derive(Debug, thiserror::Error)]
pub enum TierError {
    /// A field failed validation; `field` is its JSON path (`per_key.unit`).
    #[error("`{field}` {reason}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong with it, with expected and actual values.
        reason: String,
    },
}

/// Where in Envoy's filter chain a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Stage 0: before the Portcullis filter, every request, by client address.
    BeforeAuth,
    /// Stage 1: after it, by the identity headers it set.
    AfterAuth,
}

impl Stage {
    /// The stage number Envoy's rate-limit filters and route actions use.
    pub fn number(self) -> u32 {
        match self {
            Self::BeforeAuth => 0,
            Self::AfterAuth => 1,
        }
    }
}

/// One descriptor entry to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The descriptor key.
    pub key: &'static str,
    /// The value; `None` matches any value and counts each value on its own.
    pub value: Option<String>,
}

/// One limit on one descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Which rate-limit filter counts it.
    pub stage: Stage,
    /// The descriptor, outermost entry first (one or two entries).
    pub entries: Vec<Entry>,
    /// The limit.
    pub limit: Limit,
}

fn any(key: &'static str) -> Entry {
    Entry { key, value: None }
}

fn exactly(key: &'static str, value: &str) -> Entry {
    Entry {
        key,
        value: Some(value.to_owned()),
    }
}

/// Every rule of `policy`, in a fixed order: the per-IP rule; the rules for callers without
/// a tier (default limits, then their overrides); then each tier by name with its key rule,
/// key overrides, org rule and org overrides. An override of a key whose tier no longer
/// exists is left out: the store refuses to delete a tier unrevoked keys use.
pub fn rules(policy: &RateLimitPolicy) -> Vec<Rule> {
    let default = policy.default_tier();
    let rule = |entries: Vec<Entry>, limit: Limit| Rule {
        stage: Stage::AfterAuth,
        entries,
        limit,
    };
    let mut rules = vec![Rule {
        stage: Stage::BeforeAuth,
        entries: vec![any(REMOTE_ADDRESS)],
        limit: default.per_ip,
    }];
    // Keys without a tier send no `tier` entry: the top level, with the default's limits.
    rules.push(rule(vec![any(KEY_ID)], default.per_key));
    for key in policy.key_overrides.iter().filter(|k| k.tier.is_none()) {
        rules.push(rule(vec![exactly(KEY_ID, &key.key_id)], key.limit));
    }
    rules.push(rule(vec![any(ORG_ID)], default.per_org));
    for (org, limit) in &policy.org_overrides {
        rules.push(rule(vec![exactly(ORG_ID, org)], *limit));
    }
    for (name, tier) in &policy.tiers {
        let under = |entry: Entry| vec![exactly(TIER, name), entry];
        rules.push(rule(under(any(KEY_ID)), tier.per_key));
        let keys = policy.key_overrides.iter();
        for key in keys.filter(|k| k.tier.as_deref() == Some(name.as_str())) {
            rules.push(rule(under(exactly(KEY_ID, &key.key_id)), key.limit));
        }
        rules.push(rule(under(any(ORG_ID)), tier.per_org));
        for (org, limit) in &policy.org_overrides {
            rules.push(rule(under(exactly(ORG_ID, org)), *limit));
        }
    }
    rules
}

/// What applies to an org's callers in one tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EffectiveLimits {
    /// The tier (`default` also stands for keys without a tier and JWT callers).
    pub tier: String,
    /// Per key of the org in this tier, unless the key has its own `rate_limit`.
    pub per_key: Limit,
    /// For the org's callers in this tier together: the org's own limit if it has one.
    pub per_org: Limit,
}

/// The limits of `org`'s callers in `default` and in every tier its unrevoked keys use.
pub fn effective_limits(
    org: &OrgLimits,
    tiers: &BTreeMap<String, TierLimits>,
) -> Vec<EffectiveLimits> {
    let mut names: Vec<&str> = org.tiers_in_use.iter().map(String::as_str).collect();
    names.push(DEFAULT_TIER);
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let tier = tiers.get(name)?;
            Some(EffectiveLimits {
                tier: name.to_owned(),
                per_key: tier.per_key,
                per_org: org.rate_limit.unwrap_or(tier.per_org),
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
