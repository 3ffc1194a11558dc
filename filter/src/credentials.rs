//! Finds the credential a request presents, in a fixed priority: `X-API-Key`, then
//! `Authorization: Bearer` (RFC 6750 §2.1).
//!
//! Presenting two credentials that disagree is a malformed request, never a choice this
//! filter makes on the client's behalf.

/// Header carrying an API key (or any token) directly.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Header carrying `Bearer <token>`.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// A presented credential and the headers it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'h> {
    /// The token; checked against RFC 6750's `b64token` grammar, so it is ASCII.
    pub token: &'h str,
    /// The headers that carried it (both when both carried the same value).
    pub sources: Sources,
}

/// Which credential headers a request used; `hide_credentials` removes exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sources {
    /// `X-API-Key` carried the credential.
    pub api_key: bool,
    /// `Authorization: Bearer` carried the credential.
    pub authorization: bool,
}

impl Sources {
    /// The header names, for removal.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.api_key, API_KEY_HEADER),
            (self.authorization, AUTHORIZATION_HEADER),
        ]
        .into_iter()
        .filter_map(|(used, name)| used.then_some(name))
    }
}

/// Why the credential headers are malformed (400 `invalid_request`). The messages go to
/// the client, so they never contain the header values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// RFC 6750 §3.1: more than one `Authorization` header. Envoy joins repeated
    /// `Authorization` headers into one comma-separated value, and a comma is never part of
    /// a token, so a comma-joined value is reported as this too.
    #[error("the request has more than one authorization header")]
    DuplicateAuthorization,
    /// More than one `X-API-Key` header.
    #[error("the request has more than one x-api-key header")]
    DuplicateApiKey,
    /// `X-API-Key` and the Bearer token carry different credentials.
    #[error("x-api-key and authorization carry different credentials; send one")]
    Conflicting,
    /// `Authorization: Bearer` with nothing after the scheme.
    #[error("authorization uses the bearer scheme but carries no token")]
    EmptyBearer,
    /// A value outside RFC 6750's `b64token` grammar (or empty).
    #[error("{0} is not a well-formed token (RFC 6750 §2.1)")]
    Malformed(&'static str),
}

/// The request's credential, `None` when it presents none (a non-Bearer `Authorization`,
/// such as Basic, is not a credential this filter reads).
pub fn extract<'h>(
    headers: &'h [(String, Vec<u8>)],
) -> Result<Option<Credential<'h>>, ExtractError> {
    let mut api_key: Option<&[u8]> = None;
    let mut authorization: Option<&[u8]> = None;
    for (name, value) in headers {
        let (slot, duplicate) = match name.as_str() {
            API_KEY_HEADER => (&mut api_key, ExtractError::DuplicateApiKey),
            AUTHORIZATION_HEADER => (&mut authorization, ExtractError::DuplicateAuthorization),
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(duplicate);
        }
    }
    let from_key = api_key.map(|v| token(v, API_KEY_HEADER)).transpose()?;
    let from_bearer = authorization.map(bearer).transpose()?.flatten();
    let credential = match (from_key, from_bearer) {
        (Some(key), Some(bearer)) if key != bearer => return Err(ExtractError::Conflicting),
        (Some(token), bearer) => Credential {
            token,
            sources: Sources {
                api_key: true,
                authorization: bearer.is_some(),
            },
        },
        (None, Some(token)) => Credential {
            token,
            sources: Sources {
                api_key: false,
                authorization: true,
            },
        },
        (None, None) => return Ok(None),
    };
    Ok(Some(credential))
}

/// The token of a Bearer `Authorization` value; `None` for another scheme. The scheme is
/// case-insensitive (RFC 9110 §11.1); one or more spaces follow it (RFC 6750 §2.1).
fn bearer(value: &[u8]) -> Result<Option<&str>, ExtractError> {
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(at) => value.split_at(at),
        None => (value, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Ok(None);
    }
    let rest = trim_leading_spaces(rest);
    if rest.is_empty() {
        return Err(ExtractError::EmptyBearer);
    }
    if rest.contains(&b',') {
        return Err(ExtractError::DuplicateAuthorization);
    }
    token(rest, AUTHORIZATION_HEADER).map(Some)
}

fn trim_leading_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// Whether `value` matches `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="` (RFC 6750 §2.1), the shape of every token this filter accepts.
pub fn is_b64token(value: &[u8]) -> bool {
    let body_len = value.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let (body, _padding) = value.split_at(body_len);
    !body.is_empty()
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// `value` as a token, if it is a `b64token` (and so ASCII).
fn token<'v>(value: &'v [u8], header: &'static str) -> Result<&'v str, ExtractError> {
    match std::str::from_utf8(value) {
        Ok(token) if is_b64token(value) => Ok(token),
        _ => Err(ExtractError::Malformed(header)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.to_vec()))
            .collect()
    }

    fn token_of(pairs: &[(&str, &[u8])]) -> Result<Option<String>, ExtractError> {
        extract(&headers(pairs)).map(|c| c.map(|c| c.token.to_owned()))
    }

    #[test]
    fn no_credential_headers_is_no_credential() {
        assert_eq!(token_of(&[("host", b"example")]), Ok(None));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for value in [
            &b"Bearer abc"[..],
            b"bearer abc",
            b"BEARER abc",
            b"bEaReR   abc",
        ] {
            assert_eq!(
                token_of(&[("authorization", value)]),
                Ok(Some("abc".into()))
            );
        }
    }

    #[test]
    fn other_authorization_schemes_are_not_credentials() {
        assert_eq!(
            token_of(&[("authorization", b"Basic dXNlcjpwYXNz")]),
            Ok(None)
        );
        assert_eq!(token_of(&[("authorization", b"Bearerabc")]), Ok(None));
    }

    #[test]
    fn bearer_without_token_is_invalid_request() {
        assert_eq!(
            token_of(&[("authorization", b"Bearer")]),
            Err(ExtractError::EmptyBearer)
        );
        assert_eq!(
            token_of(&[("authorization", b"Bearer   ")]),
            Err(ExtractError::EmptyBearer)
        );
    }

    #[test]
    fn b64token_allows_its_alphabet_and_trailing_padding() {
        let value = b"Bearer aZ09-._~+/==";
        assert_eq!(
            token_of(&[("authorization", value)]),
            Ok(Some("aZ09-._~+/==".into()))
        );
    }

    #[test]
    fn characters_outside_b64token_are_malformed() {
        for value in [
            &b"Bearer a b"[..],
            b"Bearer ===",
            b"Bearer a=b",
            b"Bearer \xff",
        ] {
            assert_eq!(
                token_of(&[("authorization", value)]),
                Err(ExtractError::Malformed(AUTHORIZATION_HEADER)),
                "{value:?}"
            );
        }
        assert_eq!(
            token_of(&[("x-api-key", b"")]),
            Err(ExtractError::Malformed(API_KEY_HEADER))
        );
    }

    #[test]
    fn x_api_key_comes_before_bearer() {
        let pairs = headers(&[("authorization", b"Basic x"), ("x-api-key", b"key")]);
        let c = extract(&pairs).unwrap().unwrap();
        assert_eq!(c.token, "key");
        assert_eq!(c.sources.names().collect::<Vec<_>>(), ["x-api-key"]);
    }

    #[test]
    fn the_same_credential_in_both_headers_is_accepted_and_both_are_sources() {
        let pairs = headers(&[("x-api-key", b"k"), ("authorization", b"Bearer k")]);
        let c = extract(&pairs).unwrap().unwrap();
        assert_eq!(
            c.sources.names().collect::<Vec<_>>(),
            ["x-api-key", "authorization"]
        );
    }

    #[test]
    fn different_credentials_in_both_headers_is_invalid_request() {
        let pairs: &[(&str, &[u8])] = &[("x-api-key", b"k1"), ("authorization", b"Bearer k2")];
        assert_eq!(token_of(pairs), Err(ExtractError::Conflicting));
    }

    #[test]
    fn a_comma_joined_authorization_value_is_a_duplicate_header() {
        let joined: &[(&str, &[u8])] = &[("authorization", b"Bearer a,Bearer b")];
        assert_eq!(token_of(joined), Err(ExtractError::DuplicateAuthorization));
    }

    #[test]
    fn duplicate_headers_are_invalid_request() {
        let two_auth: &[(&str, &[u8])] = &[
            ("authorization", b"Bearer a"),
            ("authorization", b"Bearer a"),
        ];
        assert_eq!(
            token_of(two_auth),
            Err(ExtractError::DuplicateAuthorization)
        );
        let two_keys: &[(&str, &[u8])] = &[("x-api-key", b"a"), ("x-api-key", b"b")];
        assert_eq!(token_of(two_keys), Err(ExtractError::DuplicateApiKey));
    }

    #[test]
    fn error_messages_never_contain_the_header_value() {
        let secret = b"Bearer s3cr3t,value";
        let err = token_of(&[("authorization", secret)]).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
