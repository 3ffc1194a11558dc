//! Rate-limit tiers and overrides as the store keeps them: a limit, a tier's three limits,
//! and the policy the renderings in [`crate::ratelimit::tiers`] turn into Envoy and
//! envoyproxy/ratelimit configuration.
//!
//! The `default` tier exists from the first migration on and can never be deleted: it holds
//! the per-IP limit, and it applies to keys without a tier and to callers without a key.

use super::UnixSecs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

/// The tier that always exists.
pub const DEFAULT_TIER: &str = "default";

/// The window of a limit. Envoy's units go further (week to year); tiers stop at a day, which
/// both the rate-limit service and `local_ratelimit` token buckets handle the same way.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    /// One second.
    Second,
    /// 60 seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds.
    Day,
}

impl LimitUnit {
    /// Every unit, shortest first.
    pub const ALL: [LimitUnit; 4] = [Self::Second, Self::Minute, Self::Hour, Self::Day];

    /// The lowercase name the API, the CLI and both Envoy formats use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// The window's length in seconds.
    pub fn secs(self) -> u64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
        }
    }
}

/// A count per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Requests allowed per unit, at least 1.
    pub requests_per_unit: u32,
    /// The window.
    pub unit: LimitUnit,
}

/// One limit: a [`Rate`], or never limited. In JSON, `{"requests_per_unit": 60, "unit":
/// "minute"}` or the string `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "LimitJson", try_from = "LimitJson")]
pub enum Limit {
    /// At most this many requests per unit.
    PerUnit(Rate),
    /// Never limited.
    Unlimited,
}

/// The JSON shape of a [`Limit`].
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum LimitJson {
    PerUnit(Rate),
    Word(String),
}

/// The word that stands for [`Limit::Unlimited`].
pub const UNLIMITED: &str = "unlimited";

impl From<Limit> for LimitJson {
    fn from(limit: Limit) -> Self {
        match limit {
            Limit::PerUnit(rate) => Self::PerUnit(rate),
            Limit::Unlimited => Self::Word(UNLIMITED.to_owned()),
        }
    }
}

impl TryFrom<LimitJson> for Limit {
    type Error = String;

    fn try_from(json: LimitJson) -> Result<Self, String> {
        match json {
            LimitJson::PerUnit(rate) => Ok(Self::PerUnit(rate)),
            LimitJson::Word(word) if word == UNLIMITED => Ok(Self::Unlimited),
            LimitJson::Word(word) => Err(format!("expected \"{UNLIMITED}\", got {word:?}")),
        }
    }
}

impl Limit {
    /// `count` requests per `unit`.
    pub const fn per(count: u32, unit: LimitUnit) -> Self {
        Self::PerUnit(Rate {
            requests_per_unit: count,
            unit,
        })
    }
}

impl std::fmt::Display for Limit {
    /// `120/minute` or `unlimited`, as the CLI reads and prints limits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PerUnit(rate) => write!(f, "{}/{}", rate.requests_per_unit, rate.unit.name()),
            Self::Unlimited => f.write_str(UNLIMITED),
        }
    }
}

impl utoipa::PartialSchema for Limit {
    fn schema() -> RefOr<Schema> {
        let unlimited = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([UNLIMITED]));
        OneOfBuilder::new()
            .item(Ref::from_schema_name(
                <Rate as utoipa::ToSchema>::name().into_owned(),
            ))
            .item(unlimited)
            .description(Some(
                "A count per unit (`{\"requests_per_unit\": 60, \"unit\": \"minute\"}`), or \
                 \"unlimited\"",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Limit {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("Rate".to_owned(), <Rate as utoipa::PartialSchema>::schema()));
        <Rate as utoipa::ToSchema>::schemas(schemas);
    }
}

/// A tier's three limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLimits {
    /// Per client IP, before authentication. Only the `default` tier's applies: no tier is
    /// known before the credential is checked.
    pub per_ip: Limit,
    /// Per API key in the tier.
    pub per_key: Limit,
    /// Per org, counted over the org's callers in the tier.
    pub per_org: Limit,
}

impl TierLimits {
    /// The `default` tier as the first migration creates it.
    pub const DEFAULT: TierLimits = TierLimits {
        per_ip: Limit::per(60, LimitUnit::Minute),
        per_key: Limit::per(120, LimitUnit::Minute),
        per_org: Limit::per(300, LimitUnit::Minute),
    };
}

/// A stored tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRecord {
    /// Its name: `[a-z0-9_-]{1,32}`, or a tier name keys carried before tiers existed.
    pub name: String,
    /// Its limits.
    pub limits: TierLimits,
    /// When it was created.
    pub created_at: UnixSecs,
    /// When its limits last changed.
    pub updated_at: UnixSecs,
}

/// What [`super::Store::put_tier`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierPut {
    /// The tier as stored now.
    pub record: TierRecord,
    /// Whether it was new.
    pub created: bool,
}

/// One org's rate-limit state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLimits {
    /// The org.
    pub org_id: String,
    /// Its own per-org limit, replacing every tier's; `None`: the tiers' apply.
    pub rate_limit: Option<Limit>,
    /// The tiers its live keys use, `default` for keys without one, by name.
    pub tiers_in_use: Vec<String>,
}

/// A live key's own per-key limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOverride {
    /// The key.
    pub key_id: String,
    /// Its tier; `None`: no tier (the `default` tier's limits, without a tier descriptor).
    pub tier: Option<String>,
    /// The limit replacing its tier's per-key limit.
    pub limit: Limit,
}

/// Everything the renderings need, read at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// The revision it was read at.
    pub revision: u64,
    /// Every tier by name, `default` included.
    pub tiers: BTreeMap<String, TierLimits>,
    /// Per-key overrides of live keys, by key id.
    pub key_overrides: Vec<KeyOverride>,
    /// Per-org overrides, by org.
    pub org_overrides: BTreeMap<String, Limit>,
}

impl RateLimitPolicy {
    /// The `default` tier. The store always has it; the built-in values only keep this total.
    pub fn default_tier(&self) -> TierLimits {
        self.tiers
            .get(DEFAULT_TIER)
            .copied()
            .unwrap_or(TierLimits::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_rate_object_or_the_word_unlimited_in_json() {
        let rate = Limit::per(60, LimitUnit::Minute);
        let json = serde_json::to_value(rate).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"requests_per_unit": 60, "unit": "minute"})
        );
        assert_eq!(serde_json::from_value::<Limit>(json).unwrap(), rate);
        assert_eq!(
            serde_json::to_value(Limit::Unlimited).unwrap(),
            serde_json::json!("unlimited")
        );
        assert_eq!(
            serde_json::from_str::<Limit>("\"unlimited\"").unwrap(),
            Limit::Unlimited
        );
        assert!(serde_json::from_str::<Limit>("\"endless\"").is_err());
    }

    #[test]
    fn limits_print_as_count_slash_unit() {
        assert_eq!(Limit::per(5, LimitUnit::Day).to_string(), "5/day");
        assert_eq!(Limit::Unlimited.to_string(), "unlimited");
    }
}
