//! The verdict on a token that does not authenticate: one variant per failed check, each
//! mapping to one reply code. Messages name the check with the expected and actual values
//! and never contain the token.

use super::algorithm::Algorithm;
use super::claims::ClaimError;
use super::header::HeaderError;
use super::mapping::MappingError;
use super::quoted;
use super::token::TokenError;
use crate::decision::Code;
use std::fmt;

/// Why a token is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtRejection {
    /// Longer than the limit, checked before anything is decoded.
    #[error("jwt is {actual} bytes, longer than the {max}-byte limit")]
    TooLarge {
        /// The limit.
        max: usize,
        /// The token's length.
        actual: usize,
    },
    /// Not a well-formed compact JWS.
    #[error(transparent)]
    Malformed(#[from] TokenError),
    /// The header is refused (`none`, `crit`, nesting, `typ`).
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// `iss` names no configured provider.
    #[error("jwt `iss` is {}, expected one of {expected:?}", quoted(.actual))]
    UnknownIssuer {
        /// The configured issuers.
        expected: Vec<String>,
        /// The token's `iss`, if a string.
        actual: Option<String>,
    },
    /// The algorithm is not on the provider's allow-list.
    #[error("jwt alg {alg} is not allowed by provider {provider:?}, expected one of [{}]", Names(.allowed))]
    AlgorithmNotAllowed {
        /// The provider.
        provider: String,
        /// The token's `alg`.
        alg: Algorithm,
        /// The allowed algorithms.
        allowed: Vec<Algorithm>,
    },
    /// The provider's key set has not been synced yet: no token can be judged.
    #[error(
        "provider {provider:?} has no key set yet; it has not been synced from the control-plane"
    )]
    KeysNotLoaded {
        /// The provider.
        provider: String,
    },
    /// No key of the provider fits the token's `kid` and `alg`.
    #[error("provider {provider:?} has no {alg} key with kid {}", quoted(.kid))]
    NoKey {
        /// The provider.
        provider: String,
        /// The token's `alg`.
        alg: Algorithm,
        /// The token's `kid`, if any.
        kid: Option<String>,
    },
    /// The signature verifies with none of the keys tried.
    #[error("jwt signature does not verify with the {tried} {alg} key(s) of provider {provider:?} for kid {}", quoted(.kid))]
    BadSignature {
        /// The provider.
        provider: String,
        /// The token's `alg`.
        alg: Algorithm,
        /// The token's `kid`, if any.
        kid: Option<String>,
        /// How many keys were tried.
        tried: usize,
    },
    /// A registered claim fails its check.
    #[error(transparent)]
    Claims(#[from] ClaimError),
    /// The verified claims do not make an identity.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl JwtRejection {
    /// The reply code: `expired_credentials` for a token past `exp`, `not_ready` while a
    /// provider's keys have not arrived, `invalid_credentials` for everything else.
    pub fn code(&self) -> Code {
        match self {
            JwtRejection::Claims(ClaimError::Expired { .. }) => Code::ExpiredCredentials,
            JwtRejection::KeysNotLoaded { .. } => Code::NotReady,
            _ => Code::InvalidCredentials,
        }
    }
}

/// Algorithm names joined with `, `.
struct Names<'a>(&'a [Algorithm]);

impl fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, alg) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(alg.name())?;
        }
        Ok(())
    }
}
