//! Claims → [`JwtIdentity`]: subject, organization, role, permissions and scopes from the
//! claim shapes issuers actually send.
//!
//! - Clerk v1: `org_id`, `org_role` (`org:admin`), `org_permissions` (array).
//! - Clerk v2: `o: {id, rol, per, fpm}` with top-level `fea`. `rol` becomes `org:<rol>`.
//!   With `fpm` and `fea`, permissions are decoded as Clerk documents it: the i-th number
//!   of `fpm` is a bitmask over `per` (least significant bit = first entry) for the i-th
//!   feature of `fea`, giving `org:<feature>:<permission>`, the v1 spelling. Without them,
//!   the `per` entries are the permissions. `per`, `fpm` and `fea` may each be a
//!   comma-separated string or an array.
//! - OAuth / RFC 9068: `scope` (space-delimited, RFC 8693 §4.2), `scp` (string or array),
//!   `client_id`, `roles` (RFC 9068 §2.2.3.1).
//!
//! Every value ends up in an identity header or a route check, so each must be visible
//! ASCII without spaces, quotes or backslashes (RFC 6749 §3.3 scope tokens); a token with
//! any other value is refused rather than silently trimmed.

use super::clip;
use super::identity::JwtIdentity;
use super::implication::Implications;
use super::json::type_name;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Which claim shapes a provider reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Clerk and OAuth claims alike.
    #[default]
    Auto,
    /// Clerk's organization claims only.
    Clerk,
    /// OAuth scope, client and role claims only.
    OAuth,
}

/// How a provider turns claims into an identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimMapping {
    /// The claim shapes read.
    pub profile: Profile,
    /// Scopes implied by roles and scopes.
    pub implications: Implications,
}

/// Why verified claims do not make an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Neither `sub` nor `client_id`.
    #[error("jwt has neither `sub` nor `client_id`, expected a subject")]
    NoSubject,
    /// A claim of the wrong JSON type.
    #[error("jwt `{name}` is {actual}, expected {expected}")]
    Type {
        /// The claim.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        actual: &'static str,
    },
    /// A value that cannot travel in a header or scope list.
    #[error(
        "jwt `{name}` value {value:?} is not visible ASCII without spaces, quotes or backslashes"
    )]
    Value {
        /// The claim.
        name: &'static str,
        /// The value, clipped.
        value: String,
    },
}

impl ClaimMapping {
    /// The identity `claims` establish for `provider`, expiring at `expires_at`.
    pub fn identity(
        &self,
        provider: &str,
        claims: &Map<String, Value>,
        expires_at: Option<i64>,
    ) -> Result<JwtIdentity, MappingError> {
        let oauth = self.profile != Profile::Clerk;
        let clerk = self.profile != Profile::OAuth;
        let client_id = if oauth {
            text(claims, "client_id")?
        } else {
            None
        };
        let subject = text(claims, "sub")?
            .or_else(|| client_id.clone())
            .ok_or(MappingError::NoSubject)?;
        let mut org = Org::default();
        if clerk {
            org = match claims.get("o") {
                Some(o) => clerk_v2(o, claims)?,
                None => clerk_v1(claims)?,
            };
        }
        let mut roles: BTreeSet<String> = org.role.iter().cloned().collect();
        let mut scopes = BTreeSet::new();
        if oauth {
            roles.extend(list(claims, "roles", ' ')?);
            scopes.extend(list(claims, "scope", ' ')?);
            scopes.extend(list(claims, "scp", ' ')?);
        }
        scopes.extend(org.permissions.iter().cloned());
        let implied = self
            .implications
            .implied(roles.iter().chain(&scopes).map(String::as_str));
        let implied: Vec<String> = implied.into_iter().map(str::to_owned).collect();
        scopes.extend(implied);
        Ok(JwtIdentity {
            provider: provider.to_owned(),
            subject,
            client_id,
            org_id: org.id,
            org_role: org.role,
            roles: roles.into_iter().collect(),
            permissions: org.permissions.into_iter().collect(),
            scopes: scopes.into_iter().collect(),
            expires_at,
            // The verifier fills these in: they come from the provider, not the claims.
            issuer: String::new(),
            claim_headers: Vec::new(),
        })
    }
}

/// What Clerk's organization claims say.
#[derive(Default)]
struct Org {
    id: Option<String>,
    role: Option<String>,
    permissions: BTreeSet<String>,
}

fn clerk_v1(claims: &Map<String, Value>) -> Result<Org, MappingError> {
    Ok(Org {
        id: text(claims, "org_id")?,
        role: text(claims, "org_role")?.map(|role| org_role(&role)),
        permissions: list(claims, "org_permissions", ',')?.into_iter().collect(),
    })
}

fn clerk_v2(o: &Value, claims: &Map<String, Value>) -> Result<Org, MappingError> {
    let Value::Object(o) = o else {
        return Err(MappingError::Type {
            name: "o",
            expected: "an object",
            actual: type_name(o),
        });
    };
    let per = list(o, "per", ',')?;
    let fpm = list(o, "fpm", ',')?;
    let fea = list(claims, "fea", ',')?;
    let permissions = if fpm.is_empty() || fea.is_empty() {
        per.into_iter().collect()
    } else {
        decode_fpm(&per, &fpm, &fea)?
    };
    Ok(Org {
        id: text(o, "id")?,
        role: text(o, "rol")?.map(|role| org_role(&role)),
        permissions,
    })
}

/// `org:<feature>:<permission>` for each bit set in each feature's mask.
fn decode_fpm(
    per: &[String],
    fpm: &[String],
    fea: &[String],
) -> Result<BTreeSet<String>, MappingError> {
    let mut permissions = BTreeSet::new();
    for (feature, mask) in fea.iter().zip(fpm) {
        let mask: u64 = mask.parse().map_err(|_| MappingError::Value {
            name: "o.fpm",
            value: clip(mask),
        })?;
        // `o:dashboard` → `dashboard`; the scope prefix says who has the feature.
        let name = feature.split_once(':').map_or(feature.as_str(), |(_, f)| f);
        for (bit, permission) in per.iter().enumerate().take(64) {
            if mask >> bit & 1 == 1 {
                permissions.insert(format!("org:{name}:{permission}"));
            }
        }
    }
    Ok(permissions)
}

/// Clerk v1 roles already read `org:admin`; v2 sends `admin`.
fn org_role(role: &str) -> String {
    if role.starts_with("org:") {
        role.to_owned()
    } else {
        format!("org:{role}")
    }
}

/// An optional string claim that must be a header-safe token.
fn text(claims: &Map<String, Value>, name: &'static str) -> Result<Option<String>, MappingError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => checked(name, value).map(Some),
        Some(other) => Err(MappingError::Type {
            name,
            expected: "a string",
            actual: type_name(other),
        }),
    }
}

/// A list claim: a string split on `separator` (and spaces), or an array of strings or
/// numbers; empty entries are dropped.
fn list(
    claims: &Map<String, Value>,
    name: &'static str,
    separator: char,
) -> Result<Vec<String>, MappingError> {
    let type_error = |actual| MappingError::Type {
        name,
        expected: "a string or an array of strings",
        actual,
    };
    let items: Vec<String> = match claims.get(name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(joined)) => joined.split([separator, ' ']).map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(type_error(type_name(other))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(type_error(type_name(other))),
    };
    items
        .into_iter()
        .filter(|item| !item.is_empty())
        .map(|item| checked(name, &item))
        .collect()
}

/// `value`, if it is visible ASCII without quotes or backslashes.
fn checked(name: &'static str, value: &str) -> Result<String, MappingError> {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| (b'!'..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if safe {
        Ok(value.to_owned())
    } else {
        Err(MappingError::Value {
            name,
            value: clip(value),
        })
    }
}

#[cfg(test)]
mod tests;
