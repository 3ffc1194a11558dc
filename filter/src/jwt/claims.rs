//! The registered claims every provider checks (RFC 7519 §4.1): `exp` and `nbf` with
//! leeway, `iss` exactly, `aud` any-of, `azp` from an allow-list, and the claims a
//! provider requires.
//!
//! Time is the caller's `now` (Unix seconds); nothing here reads a clock. A NumericDate
//! may be fractional (RFC 7519 §2): `exp` is rounded down and `nbf` up, so rounding never
//! lengthens a token's life.

use super::json::type_name;
use super::{clip, quoted};
use serde_json::{Map, Value};
use std::time::Duration;

/// What a provider requires of the registered claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules {
    /// `iss` must equal this exactly.
    pub issuer: String,
    /// `aud` must name one of these; no check when empty.
    pub audiences: Vec<String>,
    /// `azp` must be one of these; no check when empty.
    pub authorized_parties: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Whether a token without `exp` is refused.
    pub require_exp: bool,
    /// Claims that must be present and not null.
    pub required: Vec<String>,
}

/// Why a token's claims are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// Past `exp` + leeway: the only claim failure that means "expired".
    #[error("jwt `exp` {exp} is before now {now} (leeway {leeway_secs}s)")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The time of the check.
        now: i64,
        /// The provider's leeway.
        leeway_secs: u64,
    },
    /// Before `nbf` − leeway.
    #[error("jwt `nbf` {nbf} is after now {now} (leeway {leeway_secs}s)")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time of the check.
        now: i64,
        /// The provider's leeway.
        leeway_secs: u64,
    },
    /// `iss` is not the provider's issuer.
    #[error("jwt `iss` is {}, expected {expected:?}", quoted(.actual))]
    Issuer {
        /// The provider's issuer.
        expected: String,
        /// The token's `iss`, if any.
        actual: Option<String>,
    },
    /// `aud` names none of the provider's audiences.
    #[error("jwt `aud` is {actual:?}, expected one of {expected:?}")]
    Audience {
        /// The provider's audiences.
        expected: Vec<String>,
        /// The token's audiences.
        actual: Vec<String>,
    },
    /// `azp` is missing or not allowed.
    #[error("jwt `azp` is {}, expected one of {expected:?}", quoted(.actual))]
    AuthorizedParty {
        /// The allowed parties.
        expected: Vec<String>,
        /// The token's `azp`, if any.
        actual: Option<String>,
    },
    /// A required claim is absent or null (`exp` when the provider requires it).
    #[error("jwt has no `{name}` claim, which the provider requires")]
    Missing {
        /// The claim.
        name: String,
    },
    /// A registered claim of the wrong JSON type.
    #[error("jwt `{name}` is {actual}, expected {expected}")]
    Type {
        /// The claim.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        actual: &'static str,
    },
}

impl ClaimRules {
    /// Checks `claims` at `now`; on success, the token's `exp` (for caching).
    pub fn check(&self, claims: &Map<String, Value>, now: i64) -> Result<Option<i64>, ClaimError> {
        let leeway_secs = self.leeway.as_secs();
        let leeway = i64::try_from(leeway_secs).unwrap_or(i64::MAX);
        let exp = numeric_date(claims, "exp", f64::floor)?;
        match exp {
            Some(exp) if now >= exp.saturating_add(leeway) => {
                return Err(ClaimError::Expired {
                    exp,
                    now,
                    leeway_secs,
                });
            }
            None if self.require_exp => {
                return Err(ClaimError::Missing { name: "exp".into() });
            }
            _ => {}
        }
        if let Some(nbf) = numeric_date(claims, "nbf", f64::ceil)?
            && now < nbf.saturating_sub(leeway)
        {
            return Err(ClaimError::NotYetValid {
                nbf,
                now,
                leeway_secs,
            });
        }
        let iss = string(claims, "iss")?;
        if iss != Some(self.issuer.as_str()) {
            return Err(ClaimError::Issuer {
                expected: self.issuer.clone(),
                actual: iss.map(clip),
            });
        }
        self.check_audience(claims)?;
        if !self.authorized_parties.is_empty() {
            let azp = string(claims, "azp")?;
            if !azp.is_some_and(|azp| self.authorized_parties.iter().any(|p| p == azp)) {
                return Err(ClaimError::AuthorizedParty {
                    expected: self.authorized_parties.clone(),
                    actual: azp.map(clip),
                });
            }
        }
        if let Some(name) = self
            .required
            .iter()
            .find(|name| claims.get(*name).is_none_or(Value::is_null))
        {
            return Err(ClaimError::Missing { name: name.clone() });
        }
        Ok(exp)
    }

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3); one must match.
    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), ClaimError> {
        if self.audiences.is_empty() {
            return Ok(());
        }
        let not_strings = |actual| ClaimError::Type {
            name: "aud",
            expected: "a string or an array of strings",
            actual,
        };
        let actual: Vec<&str> = match claims.get("aud") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds
                .iter()
                .map(|a| a.as_str().ok_or_else(|| not_strings(type_name(a))))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(not_strings(type_name(other))),
        };
        if actual.iter().any(|a| self.audiences.iter().any(|e| e == a)) {
            return Ok(());
        }
        Err(ClaimError::Audience {
            expected: self.audiences.clone(),
            actual: actual.into_iter().take(8).map(clip).collect(),
        })
    }
}

/// A NumericDate claim in whole seconds, rounded by `round` when fractional.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
    round: fn(f64) -> f64,
) -> Result<Option<i64>, ClaimError> {
    let number = match claims.get(name) {
        None => return Ok(None),
        Some(Value::Number(number)) => number,
        Some(other) => {
            return Err(ClaimError::Type {
                name,
                expected: "a number of seconds",
                actual: type_name(other),
            });
        }
    };
    let seconds = match (number.as_i64(), number.as_u64(), number.as_f64()) {
        (Some(i), _, _) => i,
        (None, Some(_), _) => i64::MAX,
        // `as` saturates, so huge or tiny dates stay ordered.
        (None, None, Some(f)) => round(f) as i64,
        (None, None, None) => i64::MAX,
    };
    Ok(Some(seconds))
}

/// An optional string claim.
fn string<'c>(
    claims: &'c Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'c str>, ClaimError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ClaimError::Type {
            name,
            expected: "a string",
            actual: type_name(other),
        }),
    }
}

#[cfg(test)]
mod tests;
