//! Validation of every provider field an operator can set, each error naming its field.
//!
//! Only asymmetric algorithms are accepted: the keys come from a public JWKS URL, and a
//! symmetric algorithm would let anyone holding the published "key" mint tokens (RFC 8725
//! §3.1). Roles and scopes travel to the upstream in `x-auth-*` headers, so role
//! implications follow the key rules for them.

use super::{ProviderConfig, ProviderError, check_fetch_url};
use crate::store::{Provider, ProviderPatch, RoleImplication};
use std::collections::BTreeMap;

/// The asymmetric JWS algorithms of RFC 7518 §3.1 and RFC 8037 §3.1.
pub const ALGORITHMS: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];
/// The largest leeway: 5 minutes.
pub const MAX_LEEWAY_SECS: u64 = 300;
/// The token size limit's range.
pub const MIN_TOKEN_BYTES: u64 = 1024;
/// See [`MIN_TOKEN_BYTES`].
pub const MAX_TOKEN_BYTES: u64 = 64 * 1024;
/// The longest issuer or `jwks_uri`.
const MAX_URL_CHARS: usize = 2048;
/// The most entries in any list, and the longest entry.
const MAX_ENTRIES: usize = 64;
const MAX_VALUE_CHARS: usize = 256;
/// The longest role or scope, as for keys.
const MAX_LABEL_CHARS: usize = 128;
/// The longest `typ`.
const MAX_TYP_CHARS: usize = 64;

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ProviderError {
    ProviderError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks every field of a provider to create and returns it validated.
pub fn check(config: ProviderConfig) -> Result<Provider, ProviderError> {
    check_issuer(&config.issuer)?;
    if let Some(uri) = &config.jwks_uri {
        check_jwks_uri(uri)?;
    }
    check_values("audiences", &config.audiences)?;
    check_algorithms(&config.algorithms)?;
    check_leeway(config.leeway_secs)?;
    check_values("required_claims", &config.required_claims)?;
    check_values("authorized_parties", &config.authorized_parties)?;
    if let Some(typ) = &config.typ {
        check_typ(typ)?;
    }
    check_max_token_bytes(config.max_token_bytes)?;
    check_role_implications(&config.role_implications)?;
    Ok(Provider {
        issuer: config.issuer,
        jwks_uri: config.jwks_uri,
        audiences: config.audiences,
        algorithms: config.algorithms,
        leeway_secs: config.leeway_secs,
        required_claims: config.required_claims,
        authorized_parties: config.authorized_parties,
        typ: config.typ,
        max_token_bytes: config.max_token_bytes,
        claim_mapping: config.claim_mapping,
        role_implications: config.role_implications,
    })
}

/// Validates every field `patch` sets, by the same rules as [`check`].
pub fn check_patch(patch: &ProviderPatch) -> Result<(), ProviderError> {
    if let Some(Some(uri)) = &patch.jwks_uri {
        check_jwks_uri(uri)?;
    }
    if let Some(audiences) = &patch.audiences {
        check_values("audiences", audiences)?;
    }
    if let Some(algorithms) = &patch.algorithms {
        check_algorithms(algorithms)?;
    }
    if let Some(leeway) = patch.leeway_secs {
        check_leeway(leeway)?;
    }
    if let Some(claims) = &patch.required_claims {
        check_values("required_claims", claims)?;
    }
    if let Some(parties) = &patch.authorized_parties {
        check_values("authorized_parties", parties)?;
    }
    if let Some(Some(typ)) = &patch.typ {
        check_typ(typ)?;
    }
    if let Some(bytes) = patch.max_token_bytes {
        check_max_token_bytes(bytes)?;
    }
    if let Some(implications) = &patch.role_implications {
        check_role_implications(implications)?;
    }
    Ok(())
}

/// The issuer is compared byte for byte with each token's `iss` and with the discovery
/// document's `issuer` (OpenID Connect Discovery 1.0 §4.3), so it is kept exactly as given.
fn check_issuer(issuer: &str) -> Result<(), ProviderError> {
    check_url_length("issuer", issuer)?;
    let url = check_fetch_url(issuer).map_err(|reason| invalid("issuer", reason))?;
    if url.query().is_some() {
        return Err(invalid(
            "issuer",
            format!("must not have a query, got {issuer:?}"),
        ));
    }
    Ok(())
}

fn check_jwks_uri(uri: &str) -> Result<(), ProviderError> {
    check_url_length("jwks_uri", uri)?;
    check_fetch_url(uri)
        .map(|_| ())
        .map_err(|reason| invalid("jwks_uri", reason))
}

fn check_url_length(field: &str, url: &str) -> Result<(), ProviderError> {
    if url.len() > MAX_URL_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_URL_CHARS} bytes, got {}", url.len()),
        ));
    }
    Ok(())
}

/// Audiences, authorized parties and claim names: free text without control characters.
fn check_values(field: &str, values: &[String]) -> Result<(), ProviderError> {
    check_count(field, values.len())?;
    for (i, value) in values.iter().enumerate() {
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_VALUE_CHARS {
            return Err(invalid(
                format!("{field}[{i}]"),
                format!("must be 1 to {MAX_VALUE_CHARS} characters, got {chars}"),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(invalid(
                format!("{field}[{i}]"),
                "must not contain control characters",
            ));
        }
    }
    Ok(())
}

fn check_count(field: &str, count: usize) -> Result<(), ProviderError> {
    if count > MAX_ENTRIES {
        return Err(invalid(
            field,
            format!("may hold at most {MAX_ENTRIES} entries, got {count}"),
        ));
    }
    Ok(())
}

fn check_algorithms(algorithms: &[String]) -> Result<(), ProviderError> {
    for (i, alg) in algorithms.iter().enumerate() {
        if ALGORITHMS.contains(&alg.as_str()) {
            continue;
        }
        let reason = if alg.starts_with("HS") || alg == "none" {
            format!(
                "`{alg}` is not asymmetric: keys from a JWKS URL are public, so anyone could \
                 sign with them; expected one of {}",
                ALGORITHMS.join(", ")
            )
        } else {
            format!("expected one of {}, got `{alg}`", ALGORITHMS.join(", "))
        };
        return Err(invalid(format!("algorithms[{i}]"), reason));
    }
    Ok(())
}

fn check_leeway(leeway_secs: u64) -> Result<(), ProviderError> {
    if leeway_secs > MAX_LEEWAY_SECS {
        return Err(invalid(
            "leeway_secs",
            format!("must be at most {MAX_LEEWAY_SECS}, got {leeway_secs}"),
        ));
    }
    Ok(())
}

fn check_typ(typ: &str) -> Result<(), ProviderError> {
    if typ.is_empty() || typ.len() > MAX_TYP_CHARS || !typ.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "typ",
            format!("must be 1 to {MAX_TYP_CHARS} visible ASCII characters, got {typ:?}"),
        ));
    }
    Ok(())
}

fn check_max_token_bytes(bytes: u64) -> Result<(), ProviderError> {
    if !(MIN_TOKEN_BYTES..=MAX_TOKEN_BYTES).contains(&bytes) {
        return Err(invalid(
            "max_token_bytes",
            format!("must be {MIN_TOKEN_BYTES} to {MAX_TOKEN_BYTES}, got {bytes}"),
        ));
    }
    Ok(())
}

fn check_role_implications(
    implications: &BTreeMap<String, RoleImplication>,
) -> Result<(), ProviderError> {
    check_count("role_implications", implications.len())?;
    for (role, implied) in implications {
        let at = format!("role_implications.{role}");
        check_label(&at, role)?;
        for (kind, labels) in [("scopes", &implied.scopes), ("roles", &implied.roles)] {
            check_count(&format!("{at}.{kind}"), labels.len())?;
            for (i, label) in labels.iter().enumerate() {
                check_label(&format!("{at}.{kind}[{i}]"), label)?;
            }
        }
    }
    Ok(())
}

/// Roles and scopes, by the key rules: visible ASCII without quotes or backslashes, since
/// the filter joins them into a header value the upstream splits on spaces.
fn check_label(field: &str, label: &str) -> Result<(), ProviderError> {
    if label.is_empty() || label.len() > MAX_LABEL_CHARS {
        return Err(invalid(
            field,
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
            field,
            format!("may hold only visible ASCII without quotes or backslashes, found {bad:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
