//! Validation of every field an operator can set on a key, each error naming its field.
//!
//! Scopes, roles, tier and org id travel to the upstream in `x-auth-*` headers and into
//! rate-limit descriptors, so they are restricted to characters that are safe there.

use super::{KeyError, KeySpec};
use crate::store::{KeyPatch, UnixSecs};

/// The longest rotation grace: 30 days.
pub const MAX_GRACE_SECS: u64 = 30 * 24 * 60 * 60;
/// The longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The largest `meta` object, serialized.
pub const MAX_META_BYTES: usize = 8 * 1024;
/// The most scopes or roles on one key, and the longest one.
const MAX_LABELS: usize = 64;
const MAX_LABEL_CHARS: usize = 128;
/// The longest org id or tier name.
const MAX_ID_CHARS: usize = 64;

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> KeyError {
    KeyError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks every field of a key to create.
pub fn check_spec(spec: &KeySpec, now: UnixSecs) -> Result<(), KeyError> {
    check_name(&spec.name)?;
    check_identifier("org_id", &spec.org_id)?;
    check_labels("scopes", &spec.scopes)?;
    check_labels("roles", &spec.roles)?;
    if let Some(tier) = &spec.tier {
        check_identifier("tier", tier)?;
    }
    if let Some(at) = spec.expires_at {
        check_expiry(at, now)?;
    }
    check_meta(&spec.meta)?;
    Ok(())
}

/// Validates every field `patch` sets, by the same rules as [`create`]. A new expiry must
/// be in the future: to stop a key now, revoke or disable it.
pub fn check_patch(patch: &KeyPatch, now: UnixSecs) -> Result<(), KeyError> {
    if let Some(name) = &patch.name {
        check_name(name)?;
    }
    if let Some(scopes) = &patch.scopes {
        check_labels("scopes", scopes)?;
    }
    if let Some(roles) = &patch.roles {
        check_labels("roles", roles)?;
    }
    if let Some(Some(tier)) = &patch.tier {
        check_identifier("tier", tier)?;
    }
    if let Some(Some(at)) = patch.expires_at {
        check_expiry(at, now)?;
    }
    if let Some(meta) = &patch.meta {
        check_meta(meta)?;
    }
    Ok(())
}

/// Checks a rotation grace period: 0 (the old secret stops at once) up to 30 days.
pub fn check_grace(grace_secs: u64) -> Result<u64, KeyError> {
    if grace_secs > MAX_GRACE_SECS {
        return Err(invalid(
            "grace_secs",
            format!("must be at most {MAX_GRACE_SECS} (30 days), got {grace_secs}"),
        ));
    }
    Ok(grace_secs)
}

fn check_name(name: &str) -> Result<(), KeyError> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if chars > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters, got {chars}"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name", "must not contain control characters"));
    }
    Ok(())
}

/// Org ids and tiers: `[A-Za-z0-9_-]{1,64}`.
pub fn check_identifier(field: &str, value: &str) -> Result<(), KeyError> {
    if value.is_empty() || value.len() > MAX_ID_CHARS {
        return Err(invalid(
            field,
            format!(
                "must be 1 to {MAX_ID_CHARS} characters, got {}",
                value.len()
            ),
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(invalid(
            field,
            format!("may hold only A-Z, a-z, 0-9, `_` and `-`, found {bad:?}"),
        ));
    }
    Ok(())
}

/// Scopes and roles: visible ASCII without quotes or backslashes, since the filter joins
/// them into a header value the upstream splits on spaces.
fn check_labels(field: &str, labels: &[String]) -> Result<(), KeyError> {
    if labels.len() > MAX_LABELS {
        return Err(invalid(
            field,
            format!(
                "may hold at most {MAX_LABELS} entries, got {}",
                labels.len()
            ),
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if label.is_empty() || label.len() > MAX_LABEL_CHARS {
            return Err(invalid(
                at,
                format!(
                    "must be 1 to {MAX_LABEL_CHARS} characters, got {}",
                    label.len()
                ),
            ));
        }
        if let Some(bad) = label
            .chars()
            .find(|&c| !c.is_ascii_graphic() || c == '"' || c == '\'' || c == '\\')
        {
            return Err(invalid(
                at,
                format!("may hold only visible ASCII without quotes or backslashes, found {bad:?}"),
            ));
        }
    }
    Ok(())
}

fn check_expiry(at: UnixSecs, now: UnixSecs) -> Result<(), KeyError> {
    if at <= now {
        return Err(invalid(
            "expires_at",
            format!("must be in the future, got {at} which is not after now {now}"),
        ));
    }
    Ok(())
}

fn check_meta(meta: &serde_json::Map<String, serde_json::Value>) -> Result<(), KeyError> {
    // Serializing a map of JSON values cannot fail; an empty fallback would pass the size
    // check, which is then still correct for what gets stored.
    let size = serde_json::to_vec(meta)
        .map(|v| v.len())
        .unwrap_or_default();
    if size > MAX_META_BYTES {
        return Err(invalid(
            "meta",
            format!("must be at most {MAX_META_BYTES} bytes as JSON, got {size}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::{NOW, spec};

    fn field_of(err: KeyError) -> String {
        match err {
            KeyError::Invalid { field, .. } => field,
            KeyError::Random(e) => panic!("unexpected {e}"),
        }
    }
    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(KeySpec, &str)> = vec![
            (
                KeySpec {
                    name: "  ".into(),
                    ..spec()
                },
                "name",
            ),
            (
                KeySpec {
                    name: "x".repeat(201),
                    ..spec()
                },
                "name",
            ),
            (
                KeySpec {
                    org_id: "ac me".into(),
                    ..spec()
                },
                "org_id",
            ),
            (
                KeySpec {
                    org_id: "a".repeat(65),
                    ..spec()
                },
                "org_id",
            ),
            (
                KeySpec {
                    scopes: vec!["ok".into(), "a b".into()],
                    ..spec()
                },
                "scopes[1]",
            ),
            (
                KeySpec {
                    roles: vec!["q\"".into()],
                    ..spec()
                },
                "roles[0]",
            ),
            (
                KeySpec {
                    roles: vec!["back\\slash".into()],
                    ..spec()
                },
                "roles[0]",
            ),
            (
                KeySpec {
                    scopes: vec![String::new()],
                    ..spec()
                },
                "scopes[0]",
            ),
            (
                KeySpec {
                    tier: Some("g/old".into()),
                    ..spec()
                },
                "tier",
            ),
            (
                KeySpec {
                    expires_at: Some(NOW),
                    ..spec()
                },
                "expires_at",
            ),
        ];
        for (spec, field) in cases {
            assert_eq!(field_of(check_spec(&spec, NOW).unwrap_err()), field);
        }
    }

    #[test]
    fn meta_over_eight_kibibytes_is_refused() {
        let mut meta = serde_json::Map::new();
        meta.insert("blob".into(), "x".repeat(MAX_META_BYTES).into());
        let err = check_spec(&KeySpec { meta, ..spec() }, NOW).unwrap_err();
        assert_eq!(field_of(err), "meta");
    }

    #[test]
    fn a_patch_is_checked_by_the_same_rules() {
        let patch = KeyPatch {
            scopes: Some(vec!["tab\there".into()]),
            ..KeyPatch::default()
        };
        assert_eq!(field_of(check_patch(&patch, NOW).unwrap_err()), "scopes[0]");
        let clear = KeyPatch {
            tier: Some(None),
            expires_at: Some(None),
            ..KeyPatch::default()
        };
        assert!(check_patch(&clear, NOW).is_ok());
    }

    #[test]
    fn grace_is_bounded_by_thirty_days() {
        assert_eq!(check_grace(0).unwrap(), 0);
        assert_eq!(check_grace(MAX_GRACE_SECS).unwrap(), MAX_GRACE_SECS);
        assert_eq!(
            field_of(check_grace(MAX_GRACE_SECS + 1).unwrap_err()),
            "grace_secs"
        );
    }
}
