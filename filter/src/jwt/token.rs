//! The compact JWS serialization (RFC 7515 §7.1): exactly three strict base64url
//! segments, `header.payload.signature`, whose header and payload are JSON objects
//! (RFC 7519 §7.2) with unique member names.
//!
//! Parsing checks form only; nothing here is trusted until the signature over
//! [`Compact::signing_input`] verifies.

use super::base64url::{self, Base64Error};
use super::json::{self, JsonError};
use serde_json::{Map, Value};
use std::fmt;

/// A token split and decoded, not yet verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Compact<'t> {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims set.
    pub claims: Map<String, Value>,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// `header.payload` exactly as presented: the bytes the signature covers.
    pub signing_input: &'t str,
}

/// A segment of a compact token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The first segment, the JOSE header.
    Header,
    /// The second segment, the claims set.
    Payload,
    /// The third segment, the signature.
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why a token is not a well-formed compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three segments (a JWE has five; RFC 7516 is not accepted).
    #[error("expected a compact jwt of 3 dot-separated segments, got {count}")]
    Segments {
        /// How many segments the token has.
        count: usize,
    },
    /// A segment is not strict base64url.
    #[error("jwt {segment}: {source}")]
    Base64 {
        /// The segment.
        segment: Segment,
        /// What is wrong with it.
        source: Base64Error,
    },
    /// The header or payload is not a JSON object with unique member names.
    #[error("jwt {segment}: {source}")]
    Json {
        /// The segment.
        segment: Segment,
        /// What is wrong with it.
        source: JsonError,
    },
}

/// Splits and decodes `token`; the caller has already bounded its length.
pub fn parse(token: &str) -> Result<Compact<'_>, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Segments {
            count: token.split('.').count(),
        });
    };
    let signing_input = token
        .get(..header.len() + 1 + payload.len())
        .unwrap_or_default();
    Ok(Compact {
        header: object(Segment::Header, header)?,
        claims: object(Segment::Payload, payload)?,
        signature: decode(Segment::Signature, signature)?,
        signing_input,
    })
}

fn decode(segment: Segment, text: &str) -> Result<Vec<u8>, TokenError> {
    base64url::decode(text.as_bytes()).map_err(|source| TokenError::Base64 { segment, source })
}

fn object(segment: Segment, text: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = decode(segment, text)?;
    json::parse_object(&bytes).map_err(|source| TokenError::Json { segment, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::base64url::encode;

    fn token(header: &str, payload: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            encode(header.as_bytes()),
            encode(payload.as_bytes()),
            encode(signature)
        )
    }

    #[test]
    fn a_well_formed_token_splits_into_header_claims_and_signature() {
        let t = token(r#"{"alg":"RS256"}"#, r#"{"sub":"u1"}"#, b"sig");
        let compact = parse(&t).unwrap();
        assert_eq!(compact.header["alg"], "RS256");
        assert_eq!(compact.claims["sub"], "u1");
        assert_eq!(compact.signature, b"sig");
        assert_eq!(compact.signing_input, t.rsplit_once('.').unwrap().0);
    }

    #[test]
    fn two_or_four_or_five_segments_are_rejected() {
        for t in ["a.b", "a.b.c.d", "a.b.c.d.e", ""] {
            assert!(matches!(parse(t), Err(TokenError::Segments { .. })), "{t}");
        }
    }

    #[test]
    fn a_padded_signature_is_rejected() {
        let t = token(r#"{"alg":"RS256"}"#, "{}", b"s") + "==";
        assert!(matches!(
            parse(&t),
            Err(TokenError::Base64 {
                segment: Segment::Signature,
                ..
            })
        ));
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_rejected() {
        let t = token(r#"{"alg":"RS256"}"#, "[]", b"s");
        assert!(matches!(
            parse(&t),
            Err(TokenError::Json {
                segment: Segment::Payload,
                ..
            })
        ));
    }

    #[test]
    fn a_header_with_a_duplicate_member_is_rejected() {
        let t = token(r#"{"alg":"RS256","alg":"HS256"}"#, "{}", b"s");
        assert!(matches!(
            parse(&t),
            Err(TokenError::Json {
                segment: Segment::Header,
                source: JsonError::Duplicate { .. }
            })
        ));
    }
}
