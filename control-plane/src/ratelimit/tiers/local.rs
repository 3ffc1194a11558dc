//! Tiers as two Envoy `local_ratelimit` HTTP filters, for one Envoy with no rate-limit
//! service: `before_auth` goes before the Portcullis filter and counts per client address,
//! `after_auth` goes after it and counts per key and per org from the identity headers it
//! set (it strips client-sent `x-auth-*` first, so they cannot be forged).
//!
//! The filters hold the limits; the routes say what is counted. The fragment carries the
//! route `rate_limits` too ([`route_rate_limits`]): `after_auth` on every route, `before_auth`
//! also on the routes that are authentication endpoints, so the per-IP limit applies where
//! credentials are tried and nowhere else. The same actions feed Envoy's global `ratelimit`
//! filter, so one route table serves both forms.
//!
//! Each filter has one `descriptors` entry per [`super::Rule`]. An entry with no value is
//! dynamic: Envoy keeps a token bucket per distinct value, at most
//! [`MAX_DYNAMIC_DESCRIPTORS`] per entry, evicting the least recently used (an evicted value
//! starts a full bucket again). An entry with a value is matched before any dynamic one,
//! which is what makes an override beat its tier. A limit of N per unit is a bucket of N
//! tokens refilled at N per unit: the same rate as the rate-limit service's fixed window,
//! with bursts of at most N.
//!
//! Settings, as Envoy's v3 API defines them (`LocalRateLimit`):
//! - `filter_enabled` and `filter_enforced` at 100%: both default to 0%, which would count
//!   nothing; runtime keys `portcullis.ratelimit.<name>.enabled|enforced` can lower them;
//! - no default `token_bucket`: a request no descriptor matches (no identity headers, say on
//!   a public route) is neither limited nor given rate-limit headers;
//! - `local_rate_limit_per_downstream_connection: false`: buckets are per Envoy process,
//!   shared by all workers, not per connection;
//! - `enable_x_ratelimit_headers: DRAFT_VERSION_03`: `x-ratelimit-limit`, `-remaining` and
//!   `-reset` (seconds until a token is back) on every counted response;
//! - `stage` 0 and 1, the stages the same descriptors have with the rate-limit service.
//!
//! Unlimited is a bucket of `u32::MAX` tokens refilled every second, so that an unlimited
//! override still matches (and so still beats its tier's dynamic entry).

use super::{KEY_ID, ORG_ID, Rule, Stage, TIER, rules};
use crate::store::{Limit, RateLimitPolicy};
use portcullis::identity::{KEY_ID_HEADER, ORG_HEADER, TIER_HEADER};
use serde_json::{Value, json};

/// The distinct values Envoy keeps a bucket for, per dynamic descriptor entry.
pub const MAX_DYNAMIC_DESCRIPTORS: u32 = 10_000;

/// The filter's type URL.
const TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

/// The two filters of `policy` and the route actions that feed them:
/// `{"revision", "before_auth", "after_auth", "route_rate_limits"}`, each filter an
/// `http_filters` entry (`name`, `typed_config`).
pub fn fragment(policy: &RateLimitPolicy) -> Value {
    let rules = rules(policy);
    json!({
        "revision": policy.revision,
        "before_auth": filter(Stage::BeforeAuth, &rules),
        "after_auth": filter(Stage::AfterAuth, &rules),
        "route_rate_limits": {
            "before_auth": route_rate_limits(Stage::BeforeAuth),
            "after_auth": route_rate_limits(Stage::AfterAuth),
        },
    })
}

/// A route's `rate_limits` entries for one stage: stage 0 `(remote_address)`; stage 1
/// `(tier, key_id)` and `(tier, org_id)` from the identity headers, the tier skipped when
/// absent (keys without a tier and JWTs send none). An entry whose other header is absent
/// (a static token has no key id) makes no descriptor, so nothing is counted for it.
pub fn route_rate_limits(stage: Stage) -> Value {
    let number = stage.number();
    match stage {
        Stage::BeforeAuth => json!([{"stage": number, "actions": [{"remote_address": {}}]}]),
        Stage::AfterAuth => {
            let tier = json!({"request_headers": {
                "header_name": TIER_HEADER, "descriptor_key": TIER, "skip_if_absent": true}});
            let header = |header_name: &str, descriptor_key: &str| {
                json!({"request_headers": {
                    "header_name": header_name, "descriptor_key": descriptor_key}})
            };
            json!([
                {"stage": number, "actions": [tier, header(KEY_ID_HEADER, KEY_ID)]},
                {"stage": number, "actions": [tier, header(ORG_HEADER, ORG_ID)]},
            ])
        }
    }
}

fn filter(stage: Stage, rules: &[Rule]) -> Value {
    let name = match stage {
        Stage::BeforeAuth => "ip",
        Stage::AfterAuth => "identity",
    };
    let percent = |what: &str| {
        json!({
            "runtime_key": format!("portcullis.ratelimit.{name}.{what}"),
            "default_value": {"numerator": 100, "denominator": "HUNDRED"},
        })
    };
    let descriptors: Vec<Value> = rules
        .iter()
        .filter(|rule| rule.stage == stage)
        .map(|rule| {
            let entries: Vec<Value> = rule
                .entries
                .iter()
                .map(|e| json!({"key": e.key, "value": e.value.as_deref().unwrap_or("")}))
                .collect();
            json!({"entries": entries, "token_bucket": bucket(rule.limit)})
        })
        .collect();
    json!({
        "name": format!("portcullis.ratelimit.{name}"),
        "typed_config": {
            "@type": TYPE_URL,
            "stat_prefix": format!("portcullis_ratelimit_{name}"),
            "stage": stage.number(),
            "filter_enabled": percent("enabled"),
            "filter_enforced": percent("enforced"),
            "local_rate_limit_per_downstream_connection": false,
            "enable_x_ratelimit_headers": "DRAFT_VERSION_03",
            "max_dynamic_descriptors": MAX_DYNAMIC_DESCRIPTORS,
            "descriptors": descriptors,
        },
    })
}

/// The token bucket of one limit.
fn bucket(limit: Limit) -> Value {
    let (tokens, interval_secs) = match limit {
        Limit::PerUnit(rate) => (rate.requests_per_unit, rate.unit.secs()),
        Limit::Unlimited => (u32::MAX, 1),
    };
    json!({
        "max_tokens": tokens,
        "tokens_per_fill": tokens,
        "fill_interval": format!("{interval_secs}s"),
    })
}

#[cfg(test)]
mod tests;
