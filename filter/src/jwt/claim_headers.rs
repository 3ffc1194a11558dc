//! Claim → header mappings: verified claims the operator wants the upstream to see, such
//! as `email` → `x-auth-email` or `o.slg` → `x-auth-org-slug`.
//!
//! A claim is named by a dotted path into nested objects; strings, numbers and booleans
//! are sent as they are, arrays of them joined with `,`. A value that cannot travel in a
//! header (control characters, non-ASCII) or of another type is left out, never mangled.
//! Header names must start with `x-auth-`, so a client copy is always stripped first.

use crate::config::ConfigError;
use crate::identity::HEADER_PREFIX;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The headers the filter sets itself; a mapping may not replace them.
const RESERVED: [&str; 9] = [
    "x-auth-method",
    "x-auth-subject",
    "x-auth-role",
    "x-auth-scopes",
    "x-auth-key-id",
    "x-auth-org",
    "x-auth-tier",
    "x-auth-org-role",
    "x-auth-issuer",
];

/// One mapping as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimHeaderConfig {
    /// The claim's dotted path, e.g. `email` or `o.slg`.
    pub claim: String,
    /// The header to set, e.g. `x-auth-email`.
    pub header: String,
}

/// A validated mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimHeader {
    path: Vec<String>,
    header: String,
}

impl ClaimHeader {
    /// Validates `configs` (at `path`); every problem is pushed to `problems`.
    pub fn from_configs(
        configs: &[ClaimHeaderConfig],
        path: &str,
        problems: &mut Vec<ConfigError>,
    ) -> Vec<ClaimHeader> {
        let mut out: Vec<ClaimHeader> = Vec::new();
        for (i, config) in configs.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let header = &config.header;
            let is_token = header
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !header.starts_with(HEADER_PREFIX)
                || header.len() == HEADER_PREFIX.len()
                || !is_token
                || RESERVED.contains(&header.as_str())
                || out.iter().any(|c| c.header == *header)
            {
                problems.push(ConfigError {
                    path: format!("{at}.header"),
                    message: format!(
                        "expected a unique lowercase header name starting with {HEADER_PREFIX} and not one the filter sets, got {header:?}"
                    ),
                });
                continue;
            }
            let segments: Vec<String> = config.claim.split('.').map(str::to_owned).collect();
            if segments.iter().any(String::is_empty) {
                problems.push(ConfigError {
                    path: format!("{at}.claim"),
                    message: format!(
                        "expected a claim name or dotted path such as o.slg, got {:?}",
                        config.claim
                    ),
                });
                continue;
            }
            out.push(ClaimHeader {
                path: segments,
                header: header.clone(),
            });
        }
        out
    }

    /// The header and value this mapping takes from `claims`, if the claim is there and
    /// fits in a header.
    pub fn extract(&self, claims: &Map<String, Value>) -> Option<(String, String)> {
        let (first, rest) = self.path.split_first()?;
        let mut value = claims.get(first)?;
        for segment in rest {
            value = value.as_object()?.get(segment)?;
        }
        let text = match value {
            Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()?
                .join(","),
            other => scalar(other)?,
        };
        text.bytes()
            .all(|b| (b' '..=b'~').contains(&b))
            .then(|| (self.header.clone(), text))
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(claim: &str, header: &str) -> Result<ClaimHeader, Vec<ConfigError>> {
        let mut problems = Vec::new();
        let config = ClaimHeaderConfig {
            claim: claim.into(),
            header: header.into(),
        };
        let mut out = ClaimHeader::from_configs(&[config], "claim_headers", &mut problems);
        out.pop().ok_or(problems)
    }

    fn claims() -> Map<String, Value> {
        let value = json!({"email": "a@b.example", "o": {"slg": "acme", "n": 3},
            "groups": ["x", "y"], "mixed": ["x", {"no": 1}], "bad": "tab\there", "t": true});
        value.as_object().unwrap().clone()
    }

    #[test]
    fn strings_numbers_nested_paths_and_arrays_become_header_values() {
        let got = |claim: &str| mapping(claim, "x-auth-v").unwrap().extract(&claims());
        assert_eq!(got("email").unwrap().1, "a@b.example");
        assert_eq!(got("o.slg").unwrap().1, "acme");
        assert_eq!(got("o.n").unwrap().1, "3");
        assert_eq!(got("groups").unwrap().1, "x,y");
        assert_eq!(got("t").unwrap().1, "true");
    }

    #[test]
    fn missing_objects_mixed_arrays_and_unsafe_values_are_left_out() {
        let got = |claim: &str| mapping(claim, "x-auth-v").unwrap().extract(&claims());
        for claim in ["nope", "o", "o.nope", "email.x", "mixed", "bad"] {
            assert_eq!(got(claim), None, "{claim}");
        }
    }

    #[test]
    fn headers_outside_x_auth_or_set_by_the_filter_are_refused() {
        for header in [
            "authorization",
            "x-auth-",
            "x-auth-subject",
            "X-Auth-Email",
            "x-auth-a b",
        ] {
            let problems = mapping("email", header).unwrap_err();
            assert_eq!(problems[0].path, "claim_headers[0].header", "{header}");
        }
        assert_eq!(
            mapping("o..slg", "x-auth-v").unwrap_err()[0].path,
            "claim_headers[0].claim"
        );
    }
}
