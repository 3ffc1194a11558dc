//! Rate-limit response headers, returned in `response_headers_to_add` so Envoy's ratelimit
//! filter adds them to the client's response: to the 429 it sends when over the limit, and to
//! the upstream's response when not.
//!
//! Two families, both describing the descriptor that decided the answer (the first over its
//! limit, else the one with the least remaining):
//! - `X-RateLimit-Limit: 10, 10;w=60`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (seconds):
//!   draft-polli-ratelimit-headers-03, the form Envoy's own `enable_x_ratelimit_headers:
//!   DRAFT_VERSION_03` writes (leave that option off, or the headers come twice);
//! - `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy:
//!   10;w=60`: the IETF httpapi draft's fields, and the names envoyproxy/ratelimit uses when
//!   its response headers are enabled;
//! - `Retry-After` (RFC 9110 §10.2.3, seconds) on an over-limit answer only: when every
//!   over-limit counter has reset. Envoy's `enable_x_ratelimit_headers` does not write it, so
//!   [`retry_after`] is added even when Envoy writes the `X-RateLimit-*` family itself.

use super::window::Unit;
use envoy_types::pb::envoy::config::core::v3::HeaderValue;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::{Code, DescriptorStatus};

/// `X-RateLimit-Limit`.
pub const X_LIMIT: &str = "x-ratelimit-limit";
/// `X-RateLimit-Remaining`.
pub const X_REMAINING: &str = "x-ratelimit-remaining";
/// `X-RateLimit-Reset`.
pub const X_RESET: &str = "x-ratelimit-reset";
/// `RateLimit-Limit`.
pub const LIMIT: &str = "ratelimit-limit";
/// `RateLimit-Remaining`.
pub const REMAINING: &str = "ratelimit-remaining";
/// `RateLimit-Reset`.
pub const RESET: &str = "ratelimit-reset";
/// `RateLimit-Policy`.
pub const POLICY: &str = "ratelimit-policy";
/// `Retry-After`.
pub const RETRY_AFTER: &str = "retry-after";

/// `Retry-After` for an answer whose `statuses` hold an over-limit descriptor: the seconds
/// until the last of them resets, at least 1; `None` when none is over its limit.
pub fn retry_after(statuses: &[DescriptorStatus]) -> Option<HeaderValue> {
    let secs = statuses
        .iter()
        .filter(|s| s.code == Code::OverLimit as i32)
        .map(|s| s.duration_until_reset.as_ref().map_or(0, |d| d.seconds))
        .max()?;
    Some(HeaderValue {
        key: RETRY_AFTER.to_owned(),
        value: secs.max(1).to_string(),
        raw_value: Vec::new(),
    })
}

/// The headers describing `statuses`; none when no descriptor had a counted limit.
pub fn for_statuses(statuses: &[DescriptorStatus]) -> Vec<HeaderValue> {
    let counted = statuses.iter().filter(|s| s.current_limit.is_some());
    let deciding = statuses
        .iter()
        .find(|s| s.code == Code::OverLimit as i32 && s.current_limit.is_some())
        .or_else(|| counted.min_by_key(|s| s.limit_remaining));
    let Some(status) = deciding else {
        return Vec::new();
    };
    let Some(limit) = &status.current_limit else {
        return Vec::new();
    };
    let window = Unit::from_proto(limit.unit).map_or(0, Unit::secs);
    let reset = status
        .duration_until_reset
        .as_ref()
        .map_or(0, |d| d.seconds);
    let count = limit.requests_per_unit;
    let mut policy = format!("{count};w={window}");
    if !limit.name.is_empty() {
        policy.push_str(&format!(";name=\"{}\"", limit.name.replace('"', "")));
    }
    let remaining = status.limit_remaining.to_string();
    let reset = reset.to_string();
    [
        (X_LIMIT, format!("{count}, {policy}")),
        (X_REMAINING, remaining.clone()),
        (X_RESET, reset.clone()),
        (LIMIT, count.to_string()),
        (REMAINING, remaining),
        (RESET, reset),
        (POLICY, policy),
    ]
    .into_iter()
    .map(|(key, value)| HeaderValue {
        key: key.to_owned(),
        value,
        raw_value: Vec::new(),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::RateLimit;
    use envoy_types::pb::google::protobuf::Duration;

    fn status(code: Code, count: u32, unit: Unit, remaining: u32, reset: i64) -> DescriptorStatus {
        DescriptorStatus {
            code: code as i32,
            current_limit: Some(RateLimit {
                name: String::new(),
                requests_per_unit: count,
                unit: unit.to_proto() as i32,
            }),
            limit_remaining: remaining,
            duration_until_reset: Some(Duration {
                seconds: reset,
                nanos: 0,
            }),
            quota: None,
        }
    }

    fn get<'h>(headers: &'h [HeaderValue], key: &str) -> &'h str {
        headers
            .iter()
            .find(|h| h.key == key)
            .map(|h| h.value.as_str())
            .unwrap_or_else(|| panic!("no {key} in {headers:?}"))
    }

    #[test]
    fn the_descriptor_with_least_remaining_is_described() {
        let headers = for_statuses(&[
            status(Code::Ok, 100, Unit::Hour, 40, 1200),
            status(Code::Ok, 10, Unit::Minute, 3, 17),
        ]);
        assert_eq!(get(&headers, X_LIMIT), "10, 10;w=60");
        assert_eq!(get(&headers, X_REMAINING), "3");
        assert_eq!(get(&headers, X_RESET), "17");
        assert_eq!(get(&headers, LIMIT), "10");
        assert_eq!(get(&headers, REMAINING), "3");
        assert_eq!(get(&headers, RESET), "17");
        assert_eq!(get(&headers, POLICY), "10;w=60");
    }

    #[test]
    fn an_over_limit_descriptor_is_described_before_any_other() {
        let headers = for_statuses(&[
            status(Code::Ok, 5, Unit::Second, 0, 1),
            status(Code::OverLimit, 100, Unit::Day, 0, 3600),
        ]);
        assert_eq!(get(&headers, X_LIMIT), "100, 100;w=86400");
        assert_eq!(get(&headers, X_RESET), "3600");
    }

    #[test]
    fn a_named_limit_names_its_policy() {
        let mut named = status(Code::Ok, 10, Unit::Minute, 9, 60);
        if let Some(limit) = &mut named.current_limit {
            limit.name = "per_key".to_owned();
        }
        let headers = for_statuses(&[named]);
        assert_eq!(get(&headers, POLICY), "10;w=60;name=\"per_key\"");
    }

    #[test]
    fn retry_after_waits_for_the_last_over_limit_counter_to_reset() {
        let statuses = [
            status(Code::OverLimit, 5, Unit::Second, 0, 1),
            status(Code::Ok, 10, Unit::Day, 3, 80_000),
            status(Code::OverLimit, 100, Unit::Minute, 0, 42),
        ];
        let header = retry_after(&statuses).unwrap();
        assert_eq!(
            (header.key.as_str(), header.value.as_str()),
            ("retry-after", "42")
        );
        let just_now = [status(Code::OverLimit, 5, Unit::Second, 0, 0)];
        assert_eq!(retry_after(&just_now).unwrap().value, "1");
        assert!(retry_after(&statuses[1..2]).is_none());
    }

    #[test]
    fn no_counted_limit_means_no_headers() {
        let unlimited = DescriptorStatus {
            code: Code::Ok as i32,
            limit_remaining: u32::MAX,
            ..DescriptorStatus::default()
        };
        assert!(for_statuses(&[unlimited]).is_empty());
        assert!(for_statuses(&[]).is_empty());
    }
}
