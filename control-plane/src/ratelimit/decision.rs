//! The decision for one request, without I/O: which limit applies to each descriptor
//! (matching, limit overrides, `unlimited`, `replaces`), how many hits each adds, and, once
//! Redis has counted, each descriptor's status and the overall code.
//!
//! A descriptor over its limit makes the whole request OVER_LIMIT, unless its rule is in
//! shadow mode: then it is counted and reported (remaining 0) but answered OK.

use super::config::Quota;
use super::matcher::{Matcher, Rule};
use super::metrics::{Metrics, NEAR_LIMIT_RATIO, RuleCounters};
use super::window::{Unit, Window};
use crate::store::UnixSecs;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::service::ratelimit::v3::RateLimitRequest;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::{
    Code, DescriptorStatus, RateLimit as ProtoRateLimit,
};
use envoy_types::pb::google::protobuf::Duration as ProtoDuration;
use std::borrow::Cow;
use std::collections::HashSet;

/// What applies to one descriptor of a request.
#[derive(Debug, Clone)]
pub enum Selected<'m> {
    /// No rule matches, or the matched rule was replaced: OK, not counted.
    NoLimit,
    /// An `unlimited` rule: OK, never counted in Redis.
    Unlimited,
    /// A limit to count in Redis.
    Limited {
        /// The configured rule, or one made from the request's limit override.
        rule: Cow<'m, Rule>,
        /// Hits allowed per window.
        requests_per_unit: u32,
        /// The window.
        unit: Unit,
    },
}

/// Selects the limit of each descriptor of `request`, in order, applying `replaces`: a
/// limited rule whose `name` another matched rule replaces is dropped for this request.
///
/// A descriptor's own `limit` override (set by Envoy's route configuration) wins over the
/// configuration, as in the reference, though only for a configured domain; it is counted
/// under the rule label `{domain}.limit_override` and never in shadow mode.
pub fn select<'m>(
    matcher: &'m Matcher,
    metrics: &Metrics,
    request: &RateLimitRequest,
) -> Vec<Selected<'m>> {
    let domain = &request.domain;
    let rules: Vec<Option<Cow<'m, Rule>>> = request
        .descriptors
        .iter()
        .map(|descriptor| {
            if !matcher.has_domain(domain) {
                return None;
            }
            // An override with a unit no version defines is ignored, not obeyed.
            let overridden = descriptor
                .limit
                .as_ref()
                .and_then(|limit| override_rule(domain, limit, metrics));
            match overridden {
                Some(rule) => Some(Cow::Owned(rule)),
                None => matcher.find(domain, &descriptor.entries).map(Cow::Borrowed),
            }
        })
        .collect();
    let replaced: HashSet<&str> = rules
        .iter()
        .flatten()
        .flat_map(|rule| rule.replaces.iter().map(String::as_str))
        .collect();
    rules
        .iter()
        .map(|rule| match rule {
            None => Selected::NoLimit,
            Some(rule) => match rule.quota {
                Quota::Unlimited => Selected::Unlimited,
                _ if rule
                    .name
                    .as_deref()
                    .is_some_and(|name| replaced.contains(name)) =>
                {
                    Selected::NoLimit
                }
                Quota::Limited {
                    requests_per_unit,
                    unit,
                } => Selected::Limited {
                    rule: rule.clone(),
                    requests_per_unit,
                    unit,
                },
            },
        })
        .collect()
}

fn override_rule(
    domain: &str,
    limit: &envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::RateLimitOverride,
    metrics: &Metrics,
) -> Option<Rule> {
    let unit = Unit::from_proto(limit.unit)?;
    let path = format!("{domain}.limit_override");
    Some(Rule {
        quota: Quota::Limited {
            requests_per_unit: limit.requests_per_unit,
            unit,
        },
        name: None,
        replaces: Vec::new(),
        shadow_mode: false,
        counters: metrics.rule(&path),
        path,
    })
}

/// The hits one descriptor adds: its own `hits_addend` when set (0 reads without counting),
/// else the request's, where 0 means unset and so 1.
pub fn hits_addend(request: &RateLimitRequest, descriptor: &RateLimitDescriptor) -> u64 {
    match &descriptor.hits_addend {
        Some(own) => own.value,
        None => u64::from(request.hits_addend.max(1)),
    }
}

/// The status of a descriptor with no limit.
pub fn no_limit_status() -> DescriptorStatus {
    DescriptorStatus {
        code: Code::Ok as i32,
        ..DescriptorStatus::default()
    }
}

/// The status of a descriptor under an `unlimited` rule: OK with `u32::MAX` remaining.
pub fn unlimited_status() -> DescriptorStatus {
    DescriptorStatus {
        code: Code::Ok as i32,
        limit_remaining: u32::MAX,
        ..DescriptorStatus::default()
    }
}

/// The limit as the protocol reports it.
pub fn current_limit(rule: &Rule, requests_per_unit: u32, unit: Unit) -> ProtoRateLimit {
    ProtoRateLimit {
        name: rule.name.clone().unwrap_or_default(),
        requests_per_unit,
        unit: unit.to_proto() as i32,
    }
}

/// Judges one counted descriptor: `after` is the window's count including this request's
/// `hits`. Updates the rule's counters.
pub fn judge(
    rule: &Rule,
    requests_per_unit: u32,
    window: Window,
    hits: u64,
    after: u64,
    now: UnixSecs,
) -> DescriptorStatus {
    let limit = u64::from(requests_per_unit);
    let before = after.saturating_sub(hits);
    // Rounded down: with a limit of 10 the 9th hit is the first near it.
    let near_threshold = (limit as f64 * NEAR_LIMIT_RATIO).floor() as u64;
    let counters = &rule.counters;
    RuleCounters::add(&counters.hits, hits);
    let (code, remaining) = if after > limit {
        // Only the hits past the limit are over it; those before it may be near it.
        let over = after - before.max(limit);
        RuleCounters::add(&counters.over_limit, over);
        RuleCounters::add(&counters.within_limit, hits - over);
        if before < limit {
            RuleCounters::add(&counters.near_limit, limit - near_threshold.max(before));
        }
        if rule.shadow_mode {
            RuleCounters::add(&counters.shadow_mode, over);
            (Code::Ok, 0)
        } else {
            (Code::OverLimit, 0)
        }
    } else {
        RuleCounters::add(&counters.within_limit, hits);
        if after > near_threshold {
            RuleCounters::add(&counters.near_limit, after - near_threshold.max(before));
        }
        (Code::Ok, u32::try_from(limit - after).unwrap_or(u32::MAX))
    };
    DescriptorStatus {
        code: code as i32,
        current_limit: Some(current_limit(rule, requests_per_unit, window.unit)),
        limit_remaining: remaining,
        duration_until_reset: Some(ProtoDuration {
            seconds: window.secs_until_reset(now),
            nanos: 0,
        }),
        quota: None,
    }
}

/// OVER_LIMIT when any descriptor is over its limit, else OK.
pub fn overall(statuses: &[DescriptorStatus]) -> Code {
    if statuses.iter().any(|s| s.code == Code::OverLimit as i32) {
        Code::OverLimit
    } else {
        Code::Ok
    }
}

#[cfg(test)]
mod tests;
