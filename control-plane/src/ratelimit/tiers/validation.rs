//! Validation of tier names and limits as operators send them, each error naming its field.
//!
//! Limits arrive as raw JSON so a mistake gets a message naming the exact field
//! (`per_key.unit`) with expected and actual values, rather than serde's "did not match any
//! variant".

use super::TierError;
use crate::store::{Limit, LimitUnit, TierLimits, UNLIMITED};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The longest tier name.
const MAX_NAME_CHARS: usize = 32;

/// `PUT /v1/tiers/{name}` body: all three limits, each `{"requests_per_unit": N, "unit":
/// "second|minute|hour|day"}` or `"unlimited"`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// Per client IP, before authentication (only the `default` tier's applies).
    #[schema(value_type = Limit)]
    pub per_ip: Value,
    /// Per API key in the tier.
    #[schema(value_type = Limit)]
    pub per_key: Value,
    /// Per org, over the org's callers in the tier.
    #[schema(value_type = Limit)]
    pub per_org: Value,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> TierError {
    TierError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A new tier's name: `[a-z0-9_-]{1,32}`, so it is safe in a descriptor, a header value and
/// a statistics name alike.
pub fn check_name(name: &str) -> Result<(), TierError> {
    let chars = name.chars().count();
    if !(1..=MAX_NAME_CHARS).contains(&chars) {
        return Err(invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters, got {chars}"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        return Err(invalid(
            "name",
            format!("may hold only a-z, 0-9, `_` and `-`, found {bad:?} in {name:?}"),
        ));
    }
    Ok(())
}

/// Checks a tier's three limits.
pub fn check_tier(config: &TierConfig) -> Result<TierLimits, TierError> {
    Ok(TierLimits {
        per_ip: check_limit("per_ip", &config.per_ip)?,
        per_key: check_limit("per_key", &config.per_key)?,
        per_org: check_limit("per_org", &config.per_org)?,
    })
}

fn shape(field: &str, got: &Value) -> TierError {
    invalid(
        field,
        format!(
            "must be {{\"requests_per_unit\": N, \"unit\": \"second|minute|hour|day\"}} or \
             \"{UNLIMITED}\", got {got}"
        ),
    )
}

/// Checks one limit: a positive count per second, minute, hour or day, or `"unlimited"`.
pub fn check_limit(field: &str, value: &Value) -> Result<Limit, TierError> {
    let fields = match value {
        Value::String(word) if word == UNLIMITED => return Ok(Limit::Unlimited),
        Value::Object(fields) => fields,
        other => return Err(shape(field, other)),
    };
    if let Some(extra) = fields
        .keys()
        .find(|k| *k != "requests_per_unit" && *k != "unit")
    {
        return Err(invalid(
            format!("{field}.{extra}"),
            "is not a field of a limit: expected only requests_per_unit and unit",
        ));
    }
    let count_field = format!("{field}.requests_per_unit");
    let count = match fields.get("requests_per_unit") {
        None => return Err(invalid(count_field, "is missing")),
        Some(count) => count,
    };
    let requests_per_unit = count
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            invalid(
                &count_field,
                format!("must be a whole number from 1 to {}, got {count}", u32::MAX),
            )
        })?;
    let unit = check_unit(&format!("{field}.unit"), fields.get("unit"))?;
    Ok(Limit::per(requests_per_unit, unit))
}

fn check_unit(field: &str, value: Option<&Value>) -> Result<LimitUnit, TierError> {
    let names = LimitUnit::ALL.map(LimitUnit::name).join(", ");
    let Some(value) = value else {
        return Err(invalid(
            field,
            format!("is missing: expected one of {names}"),
        ));
    };
    LimitUnit::ALL
        .into_iter()
        .find(|unit| value.as_str() == Some(unit.name()))
        .ok_or_else(|| invalid(field, format!("must be one of {names}, got {value}")))
}

/// Reads a limit as the CLI writes it: `120/minute` or `unlimited`, checked by the same
/// rules as the JSON form.
pub fn parse_limit(field: &str, text: &str) -> Result<Limit, TierError> {
    if text == UNLIMITED {
        return Ok(Limit::Unlimited);
    }
    let Some((count, unit)) = text.split_once('/') else {
        return Err(invalid(
            field,
            format!("must be N/unit (like 120/minute) or {UNLIMITED}, got {text:?}"),
        ));
    };
    let count = count.parse::<u64>().map_err(|_| {
        invalid(
            field,
            format!("must start with a whole number, like 120/minute, got {text:?}"),
        )
    })?;
    let json = serde_json::json!({"requests_per_unit": count, "unit": unit});
    check_limit(field, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(err: TierError) -> String {
        match err {
            TierError::Invalid { field, .. } => field,
        }
    }

    #[test]
    fn every_unit_and_unlimited_are_accepted() {
        for unit in LimitUnit::ALL {
            let json = json!({"requests_per_unit": 7, "unit": unit.name()});
            assert_eq!(check_limit("l", &json).unwrap(), Limit::per(7, unit));
        }
        assert_eq!(
            check_limit("l", &json!("unlimited")).unwrap(),
            Limit::Unlimited
        );
        let max = json!({"requests_per_unit": u32::MAX, "unit": "day"});
        assert_eq!(
            check_limit("l", &max).unwrap(),
            Limit::per(u32::MAX, LimitUnit::Day)
        );
    }

    #[test]
    fn each_bad_limit_names_its_field() {
        let cases = [
            (
                json!({"requests_per_unit": 0, "unit": "minute"}),
                "per_key.requests_per_unit",
            ),
            (
                json!({"requests_per_unit": -1, "unit": "minute"}),
                "per_key.requests_per_unit",
            ),
            (
                json!({"requests_per_unit": 1.5, "unit": "minute"}),
                "per_key.requests_per_unit",
            ),
            (
                json!({"requests_per_unit": "9", "unit": "minute"}),
                "per_key.requests_per_unit",
            ),
            (
                json!({"requests_per_unit": u64::from(u32::MAX) + 1, "unit": "minute"}),
                "per_key.requests_per_unit",
            ),
            (json!({"unit": "minute"}), "per_key.requests_per_unit"),
            (
                json!({"requests_per_unit": 5, "unit": "week"}),
                "per_key.unit",
            ),
            (
                json!({"requests_per_unit": 5, "unit": "MINUTE"}),
                "per_key.unit",
            ),
            (json!({"requests_per_unit": 5}), "per_key.unit"),
            (
                json!({"requests_per_unit": 5, "unit": "second", "burst": 9}),
                "per_key.burst",
            ),
            (json!("Unlimited"), "per_key"),
            (json!(60), "per_key"),
            (json!(null), "per_key"),
        ];
        for (value, field) in cases {
            let err = check_limit("per_key", &value).unwrap_err();
            assert_eq!(field_of(err), field, "{value}");
        }
    }

    #[test]
    fn messages_give_expected_and_actual_values() {
        let err = check_limit("per_org", &json!({"requests_per_unit": 5, "unit": "week"}));
        assert_eq!(
            err.unwrap_err().to_string(),
            "`per_org.unit` must be one of second, minute, hour, day, got \"week\""
        );
        let err = check_limit("per_org", &json!({"requests_per_unit": 0, "unit": "day"}));
        assert_eq!(
            err.unwrap_err().to_string(),
            "`per_org.requests_per_unit` must be a whole number from 1 to 4294967295, got 0"
        );
    }

    #[test]
    fn a_tier_checks_its_three_limits_in_order() {
        let config = TierConfig {
            per_ip: json!("unlimited"),
            per_key: json!({"requests_per_unit": 10, "unit": "second"}),
            per_org: json!({"requests_per_unit": 0, "unit": "second"}),
        };
        assert_eq!(
            field_of(check_tier(&config).unwrap_err()),
            "per_org.requests_per_unit"
        );
    }

    #[test]
    fn tier_names_are_lowercase_digits_underscore_and_dash_up_to_32() {
        for good in ["default", "gold", "free-2", "a_b", &"x".repeat(32)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Gold", "gold plus", "gold/x", "é", &"x".repeat(33)] {
            assert_eq!(field_of(check_name(bad).unwrap_err()), "name", "{bad:?}");
        }
    }

    #[test]
    fn the_cli_form_is_count_slash_unit_or_unlimited() {
        assert_eq!(
            parse_limit("--rate-limit", "120/minute").unwrap(),
            Limit::per(120, LimitUnit::Minute)
        );
        assert_eq!(
            parse_limit("--rate-limit", "unlimited").unwrap(),
            Limit::Unlimited
        );
        for bad in ["120", "x/minute", "0/minute", "5/fortnight", "-1/second"] {
            assert!(parse_limit("--rate-limit", bad).is_err(), "{bad}");
        }
    }
}
