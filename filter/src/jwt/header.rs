//! The JOSE header of a token (RFC 7515 §4.1): its algorithm, key id and type, and the
//! header members that are refused outright.
//!
//! Refused: `alg: none` in any casing (RFC 8725 §3.1); any `crit` (RFC 7515 §4.1.11: this
//! verifier understands no extension, so every critical one is unsupported); a nested JWT
//! (`cty: JWT`, RFC 7519 §5.2). Ignored, never used to find or fetch a key: `jwk`, `jku`,
//! `x5u`, `x5c`, `x5t` (RFC 8725 §3.10): keys come only from the provider's configuration.

use super::algorithm::Algorithm;
use super::json::type_name;
use super::{clip, quoted};
use serde_json::{Map, Value};

/// The header members the verifier acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The signature algorithm.
    pub alg: Algorithm,
    /// The key id, naming one key of the provider.
    pub kid: Option<String>,
    /// The declared type (`typ`), when present.
    pub typ: Option<String>,
}

/// Why a header is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// No `alg` member.
    #[error("jwt header has no alg, expected one of the provider's algorithms")]
    MissingAlg,
    /// `none` (in any casing): an unsecured JWT.
    #[error("jwt header alg is {actual:?}; unsecured jwts are never accepted")]
    NoneAlgorithm {
        /// The `alg` as presented.
        actual: String,
    },
    /// An `alg` this verifier does not implement.
    #[error("jwt header alg {actual:?} is not a supported algorithm")]
    UnknownAlgorithm {
        /// The `alg` as presented.
        actual: String,
    },
    /// A `crit` member: an extension that must be understood, and none is.
    #[error("jwt header has crit {actual}; no critical extension is supported")]
    Critical {
        /// The `crit` value, as JSON.
        actual: String,
    },
    /// `cty: JWT`: the payload is another token, which is not accepted.
    #[error("jwt header cty is {actual:?}; nested jwts are not accepted")]
    Nested {
        /// The `cty` as presented.
        actual: String,
    },
    /// A member of the wrong JSON type.
    #[error("jwt header {name} is {actual}, expected a string")]
    NotString {
        /// The member.
        name: &'static str,
        /// The JSON type found.
        actual: &'static str,
    },
    /// The provider requires a `typ` the token does not declare.
    #[error("jwt header typ is {}, expected {expected:?}", quoted(.actual))]
    Type {
        /// The provider's `typ`.
        expected: String,
        /// The token's `typ`, if any.
        actual: Option<String>,
    },
}

/// Reads the header members the verifier acts on, refusing `none`, `crit` and nesting.
pub fn parse(header: &Map<String, Value>) -> Result<Header, HeaderError> {
    let alg = string(header, "alg")?.ok_or(HeaderError::MissingAlg)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(HeaderError::NoneAlgorithm { actual: clip(alg) });
    }
    let alg = Algorithm::from_name(alg)
        .ok_or_else(|| HeaderError::UnknownAlgorithm { actual: clip(alg) })?;
    if let Some(crit) = header.get("crit") {
        return Err(HeaderError::Critical {
            actual: clip(&crit.to_string()),
        });
    }
    if let Some(cty) = string(header, "cty")?
        && media_type(cty) == "jwt"
    {
        return Err(HeaderError::Nested { actual: clip(cty) });
    }
    Ok(Header {
        alg,
        kid: string(header, "kid")?.map(str::to_owned),
        typ: string(header, "typ")?.map(str::to_owned),
    })
}

/// Checks the token's `typ` against the provider's `expected` one, compared as media types
/// (RFC 7515 §4.1.9): case-insensitive, with the `application/` prefix optional.
pub fn check_type(header: &Header, expected: &str) -> Result<(), HeaderError> {
    match &header.typ {
        Some(typ) if media_type(typ) == media_type(expected) => Ok(()),
        actual => Err(HeaderError::Type {
            expected: expected.to_owned(),
            actual: actual.as_deref().map(clip),
        }),
    }
}

/// `value` lowercased, without an `application/` prefix when no other `/` follows it.
fn media_type(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) if !rest.contains('/') => rest.to_owned(),
        _ => lower,
    }
}

fn string<'h>(
    header: &'h Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'h str>, HeaderError> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(HeaderError::NotString {
            name,
            actual: type_name(other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header(value: Value) -> Result<Header, HeaderError> {
        match value {
            Value::Object(map) => parse(&map),
            _ => unreachable!("test headers are objects"),
        }
    }

    #[test]
    fn alg_kid_and_typ_are_read() {
        let h = header(json!({"alg":"ES256","kid":"k1","typ":"JWT"})).unwrap();
        assert_eq!(h.alg, Algorithm::Es256);
        assert_eq!(h.kid.as_deref(), Some("k1"));
        assert_eq!(h.typ.as_deref(), Some("JWT"));
    }

    #[test]
    fn alg_none_is_rejected_in_every_casing() {
        for none in ["none", "None", "NONE", "nOnE"] {
            assert_eq!(
                header(json!({ "alg": none })),
                Err(HeaderError::NoneAlgorithm {
                    actual: none.into()
                })
            );
        }
    }

    #[test]
    fn a_missing_or_unknown_or_non_string_alg_is_rejected() {
        assert_eq!(header(json!({})), Err(HeaderError::MissingAlg));
        assert!(matches!(
            header(json!({"alg":"rs256"})),
            Err(HeaderError::UnknownAlgorithm { .. })
        ));
        assert!(matches!(
            header(json!({"alg":["RS256"]})),
            Err(HeaderError::NotString { name: "alg", .. })
        ));
    }

    #[test]
    fn any_crit_is_rejected() {
        for crit in [json!(["exp"]), json!([]), json!("b64")] {
            assert!(matches!(
                header(json!({"alg":"RS256","crit":crit})),
                Err(HeaderError::Critical { .. })
            ));
        }
    }

    #[test]
    fn a_nested_jwt_is_rejected() {
        for cty in ["JWT", "jwt", "application/JWT"] {
            assert!(matches!(
                header(json!({"alg":"RS256","cty":cty})),
                Err(HeaderError::Nested { .. })
            ));
        }
    }

    #[test]
    fn embedded_key_headers_are_ignored() {
        let h = header(json!({"alg":"RS256","jwk":{"kty":"oct"},"jku":"https://evil","x5c":[]}));
        assert_eq!(h.unwrap().kid, None);
    }

    #[test]
    fn typ_compares_as_a_media_type() {
        let h = header(json!({"alg":"RS256","typ":"application/AT+JWT"})).unwrap();
        assert_eq!(check_type(&h, "at+jwt"), Ok(()));
        let plain = header(json!({"alg":"RS256","typ":"JWT"})).unwrap();
        assert!(check_type(&plain, "at+jwt").is_err());
        let untyped = header(json!({"alg":"RS256"})).unwrap();
        assert_eq!(
            check_type(&untyped, "at+jwt"),
            Err(HeaderError::Type {
                expected: "at+jwt".into(),
                actual: None
            })
        );
    }
}
