//! Fixed windows and the Redis cache keys that count them.
//!
//! A limit of N per unit allows N hits in each window `[start, start + unit)`, where `start`
//! is the current Unix time truncated to a multiple of the unit's length, as
//! envoyproxy/ratelimit does. A counter's key names the domain, every entry of the request's
//! descriptor and the window start, so each distinct value gets its own counter and a new
//! window starts from zero without deleting anything: the old key simply expires.
//!
//! Key shape (the reference service's, so an operator reading Redis recognises it and the two
//! services can share counters): `{prefix}{domain}_{key1}_{value1}_{key2}_{value2}_{start}`,
//! for example `edge_remote_address_10.0.0.1_1800000000`.

use crate::store::UnixSecs;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::rate_limit::Unit as ProtoUnit;
use std::fmt;
use std::str::FromStr;

/// The length of a fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// One second.
    Second,
    /// 60 seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds (a UTC day).
    Day,
    /// 7 days.
    Week,
    /// 30 days, as the reference service counts a month.
    Month,
    /// 365 days, as the reference service counts a year.
    Year,
}

impl Unit {
    /// Every unit, shortest first.
    pub const ALL: [Unit; 7] = [
        Unit::Second,
        Unit::Minute,
        Unit::Hour,
        Unit::Day,
        Unit::Week,
        Unit::Month,
        Unit::Year,
    ];

    /// The window's length in seconds.
    pub fn secs(self) -> i64 {
        match self {
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3_600,
            Unit::Day => 86_400,
            Unit::Week => 7 * 86_400,
            Unit::Month => 30 * 86_400,
            Unit::Year => 365 * 86_400,
        }
    }

    /// The lowercase name used in configuration files.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    /// The unit as the RLS protocol's `RateLimit.Unit`.
    pub fn to_proto(self) -> ProtoUnit {
        match self {
            Unit::Second => ProtoUnit::Second,
            Unit::Minute => ProtoUnit::Minute,
            Unit::Hour => ProtoUnit::Hour,
            Unit::Day => ProtoUnit::Day,
            Unit::Week => ProtoUnit::Week,
            Unit::Month => ProtoUnit::Month,
            Unit::Year => ProtoUnit::Year,
        }
    }

    /// The unit of a protocol `RateLimit.Unit` (also the numbering of
    /// `envoy.type.v3.RateLimitUnit`, which a descriptor's limit override uses); `None` for
    /// `UNKNOWN` and numbers no version defines.
    pub fn from_proto(value: i32) -> Option<Unit> {
        match ProtoUnit::try_from(value).ok()? {
            ProtoUnit::Unknown => None,
            ProtoUnit::Second => Some(Unit::Second),
            ProtoUnit::Minute => Some(Unit::Minute),
            ProtoUnit::Hour => Some(Unit::Hour),
            ProtoUnit::Day => Some(Unit::Day),
            ProtoUnit::Week => Some(Unit::Week),
            ProtoUnit::Month => Some(Unit::Month),
            ProtoUnit::Year => Some(Unit::Year),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A unit name that is not one of [`Unit::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown unit {0:?}: expected one of second, minute, hour, day, week, month, year")]
pub struct UnknownUnit(pub String);

impl FromStr for Unit {
    type Err = UnknownUnit;

    /// Case-insensitive, as the reference service reads units.
    fn from_str(text: &str) -> Result<Unit, UnknownUnit> {
        Unit::ALL
            .into_iter()
            .find(|unit| unit.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownUnit(text.to_owned()))
    }
}

/// The window of `unit` that contains `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first second of the window, a multiple of the unit's length.
    pub start: UnixSecs,
    /// The window's length.
    pub unit: Unit,
}

impl Window {
    /// The window of `unit` that contains `now`.
    pub fn containing(now: UnixSecs, unit: Unit) -> Window {
        Window {
            start: now - now.rem_euclid(unit.secs()),
            unit,
        }
    }

    /// Seconds from `now` until the next window starts: between 1 and the unit's length.
    pub fn secs_until_reset(&self, now: UnixSecs) -> i64 {
        self.start + self.unit.secs() - now
    }

    /// How long Redis keeps the counter: one unit, which outlives the window it counts.
    pub fn expire_secs(&self) -> i64 {
        self.unit.secs()
    }

    /// The Redis key counting `entries` of `domain` in this window.
    pub fn cache_key(&self, prefix: &str, domain: &str, entries: &[Entry]) -> String {
        let length = prefix.len()
            + domain.len()
            + entries
                .iter()
                .map(|e| e.key.len() + e.value.len() + 2)
                .sum::<usize>()
            + 21;
        let mut key = String::with_capacity(length);
        key.push_str(prefix);
        key.push_str(domain);
        key.push('_');
        for entry in entries {
            key.push_str(&entry.key);
            key.push('_');
            key.push_str(&entry.value);
            key.push('_');
        }
        key.push_str(&self.start.to_string());
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: &str) -> Entry {
        Entry {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn window_start_is_now_truncated_to_the_unit() {
        let now = 1_800_000_123;
        assert_eq!(Window::containing(now, Unit::Second).start, now);
        assert_eq!(Window::containing(now, Unit::Minute).start, 1_800_000_120);
        assert_eq!(Window::containing(now, Unit::Hour).start, 1_800_000_000);
        assert_eq!(Window::containing(now, Unit::Day).start, 1_799_971_200);
    }

    #[test]
    fn reset_counts_down_to_the_next_window_and_never_reaches_zero() {
        let minute = Window::containing(1_800_000_120, Unit::Minute);
        assert_eq!(minute.secs_until_reset(1_800_000_120), 60);
        assert_eq!(minute.secs_until_reset(1_800_000_179), 1);
        assert_eq!(Window::containing(5, Unit::Second).secs_until_reset(5), 1);
        let day = Window::containing(1_800_000_123, Unit::Day);
        assert_eq!(day.secs_until_reset(1_800_000_123), 86_400 - 28_923);
    }

    #[test]
    fn windows_of_one_unit_share_a_key_and_the_next_window_does_not() {
        let entries = [entry("remote_address", "10.0.0.1")];
        let first = Window::containing(1_800_000_120, Unit::Minute);
        let same = Window::containing(1_800_000_179, Unit::Minute);
        let next = Window::containing(1_800_000_180, Unit::Minute);
        assert_eq!(
            first.cache_key("", "edge", &entries),
            same.cache_key("", "edge", &entries)
        );
        assert_ne!(
            first.cache_key("", "edge", &entries),
            next.cache_key("", "edge", &entries)
        );
    }

    #[test]
    fn cache_key_names_domain_every_entry_and_window_start() {
        let window = Window::containing(1_800_000_123, Unit::Minute);
        let entries = [entry("tier", "free"), entry("key_id", "k_123")];
        assert_eq!(
            window.cache_key("", "portcullis", &entries),
            "portcullis_tier_free_key_id_k_123_1800000120"
        );
        assert_eq!(
            window.cache_key("rl:", "portcullis", &entries[..1]),
            "rl:portcullis_tier_free_1800000120"
        );
    }

    #[test]
    fn each_value_of_a_key_gets_its_own_counter() {
        let window = Window::containing(1_800_000_000, Unit::Hour);
        let a = window.cache_key("", "edge", &[entry("remote_address", "10.0.0.1")]);
        let b = window.cache_key("", "edge", &[entry("remote_address", "10.0.0.2")]);
        assert_ne!(a, b);
    }

    #[test]
    fn counters_expire_one_unit_after_they_are_touched() {
        assert_eq!(Window::containing(0, Unit::Hour).expire_secs(), 3_600);
        assert_eq!(Window::containing(0, Unit::Second).expire_secs(), 1);
    }

    #[test]
    fn units_parse_case_insensitively_and_unknown_units_are_named() {
        assert_eq!("MINUTE".parse(), Ok(Unit::Minute));
        assert_eq!("second".parse(), Ok(Unit::Second));
        let err = "fortnight".parse::<Unit>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown unit \"fortnight\": expected one of second, minute, hour, day, week, month, year"
        );
    }

    #[test]
    fn units_round_trip_through_the_protocol_numbering() {
        for unit in Unit::ALL {
            assert_eq!(Unit::from_proto(unit.to_proto() as i32), Some(unit));
        }
        assert_eq!(Unit::from_proto(0), None);
        assert_eq!(Unit::from_proto(99), None);
    }
}
