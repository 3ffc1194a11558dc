//! The request path: route rule → zero-auth or credential → verification → authorization.
//!
//! [`decide`] is the one place a request is allowed or denied; it reads the request, the
//! configuration and (for API keys) the host's clock and shared data, so every rule is
//! unit-tested here without Envoy.

use crate::api_key::{self, KeyRejection};
use crate::config::{Config, Mode};
use crate::credentials::{self, ExtractError, Sources};
use crate::failure_limit::{Blocked, Client};
use crate::host::Host;
use crate::identity::Identity;
use crate::jwt::jwks_cache::JwksCache;
use crate::jwt::rejection::JwtRejection;
use crate::policy::{Access, Unmet};
use std::borrow::Cow;
use std::net::IpAddr;

/// The response code of a denial: the `code` of the JSON reply, the
/// `portcullis.denied.<code>` counter and the access-log decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 400: malformed credential headers.
    InvalidRequest,
    /// 401: a route that needs a credential got none.
    MissingCredentials,
    /// 401: the credential is not valid.
    InvalidCredentials,
    /// 401: the API key is past its expiry (or its rotation grace).
    ExpiredCredentials,
    /// 401: the API key was revoked.
    RevokedCredentials,
    /// 503: API keys are enabled but nothing was synced from the control-plane yet.
    NotReady,
    /// 401: zero-auth mode, and the peer is outside the trusted networks.
    UntrustedNetwork,
    /// 403: the credential lacks a required scope.
    InsufficientScope,
    /// 403: the credential's role is not allowed on the route.
    Forbidden,
    /// 429: too many failed credentials from this client (brute-force protection).
    RateLimited,
}

impl Code {
    /// Every code, for registering counters.
    pub const ALL: [Code; 10] = [
        Code::InvalidRequest,
        Code::MissingCredentials,
        Code::InvalidCredentials,
        Code::ExpiredCredentials,
        Code::RevokedCredentials,
        Code::NotReady,
        Code::UntrustedNetwork,
        Code::InsufficientScope,
        Code::Forbidden,
        Code::RateLimited,
    ];

    /// The code as it appears in replies, counters and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "invalid_request",
            Code::MissingCredentials => "missing_credentials",
            Code::InvalidCredentials => "invalid_credentials",
            Code::ExpiredCredentials => "expired_credentials",
            Code::RevokedCredentials => "revoked_credentials",
            Code::NotReady => "not_ready",
            Code::UntrustedNetwork => "untrusted_network",
            Code::InsufficientScope => "insufficient_scope",
            Code::Forbidden => "forbidden",
            Code::RateLimited => "rate_limited",
        }
    }
}

/// Why a request is denied. The message is safe for the log and never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The credential headers are malformed.
    #[error(transparent)]
    InvalidRequest(#[from] ExtractError),
    /// No credential on a route that requires one.
    #[error("no credential presented; the route requires one")]
    MissingCredentials,
    /// The credential matches nothing configured.
    #[error("the presented credential matches no configured token")]
    InvalidCredentials,
    /// Zero-auth mode and an untrusted peer.
    #[error("zero-auth trusts only its trusted networks; peer {peer} is outside them")]
    UntrustedNetwork {
        /// The peer address, or `unknown`.
        peer: String,
    },
    /// The API key does not authenticate.
    #[error(transparent)]
    ApiKey(#[from] KeyRejection),
    /// The JWT does not authenticate.
    #[error(transparent)]
    Jwt(#[from] JwtRejection),
    /// The identity does not meet the route's requirement.
    #[error(transparent)]
    Unmet(#[from] Unmet),
    /// The client failed too many credentials in this window; nothing it presents is checked.
    #[error(
        "the client reached {} failed credentials per {}s; refused for {}s",
        .0.limit, .0.window_secs, .0.retry_after_secs
    )]
    RateLimited(Blocked),
}

impl Denial {
    /// The response code this denial maps to.
    pub fn code(&self) -> Code {
        match self {
            Denial::InvalidRequest(_) => Code::InvalidRequest,
            Denial::MissingCredentials => Code::MissingCredentials,
            Denial::InvalidCredentials => Code::InvalidCredentials,
            Denial::UntrustedNetwork { .. } => Code::UntrustedNetwork,
            Denial::ApiKey(KeyRejection::Revoked { .. }) => Code::RevokedCredentials,
            Denial::ApiKey(KeyRejection::Expired { .. }) => Code::ExpiredCredentials,
            Denial::ApiKey(KeyRejection::NotReady) => Code::NotReady,
            Denial::ApiKey(_) => Code::InvalidCredentials,
            Denial::Jwt(rejection) => rejection.code(),
            Denial::Unmet(Unmet::Scopes { .. }) => Code::InsufficientScope,
            Denial::Unmet(Unmet::Role { .. }) => Code::Forbidden,
            Denial::RateLimited(_) => Code::RateLimited,
        }
    }
}

/// What happens to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'c> {
    /// A public route: let through, nothing checked, no identity.
    Public,
    /// An optional route without a credential: let through with no identity.
    Anonymous,
    /// Authenticated and authorized.
    Allowed {
        /// Who the request is: borrowed from the configuration (static tokens, zero-auth)
        /// or built from an API key's record.
        identity: Cow<'c, Identity>,
        /// Credential headers to remove before the upstream (`hide_credentials`).
        hide: Sources,
    },
    /// The whoami path: answered by the filter with the caller's identity.
    Whoami {
        /// Who the caller is.
        identity: Cow<'c, Identity>,
    },
    /// Answered by the filter.
    Denied(Denial),
}

impl Decision<'_> {
    /// The decision as the access log shows it: `public`, `anonymous`, `allowed` or the
    /// denial code.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Public => "public",
            Decision::Anonymous => "anonymous",
            Decision::Allowed { .. } => "allowed",
            Decision::Whoami { .. } => "whoami",
            Decision::Denied(denial) => denial.code().as_str(),
        }
    }
}

/// What [`decide`] reads of a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'h> {
    /// `:method`.
    pub method: &'h str,
    /// `:path`, query string included.
    pub path: &'h str,
    /// Every request header (client `x-auth-*` headers already removed or ignored).
    pub headers: &'h [(String, Vec<u8>)],
    /// The downstream peer, when the configuration needs it ([`Config::needs_peer`]).
    pub peer: Option<IpAddr>,
}

impl<'h> Request<'h> {
    /// A request read from its header list, pseudo-headers included. A missing or
    /// non-UTF-8 `:method`/`:path` reads as empty, which no rule but the fallback matches.
    pub fn new(headers: &'h [(String, Vec<u8>)], peer: Option<IpAddr>) -> Self {
        let pseudo = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| std::str::from_utf8(v).ok())
                .unwrap_or_default()
        };
        Request {
            method: pseudo(":method"),
            path: pseudo(":path"),
            headers,
            peer,
        }
    }
}

/// Decides `request` under `config`; `host` gives API-key records, failure counts and the
/// time, `jwt` the worker's JWT verifier when JWTs are enabled. Counting a failure is the
/// caller's next step ([`crate::failure_limit::counts`]): deciding only reads.
pub fn decide<'c>(
    config: &'c Config,
    request: &Request<'_>,
    host: &impl Host,
    jwt: Option<&mut JwksCache>,
) -> Decision<'c> {
    let path = request.path.split('?').next().unwrap_or_default();
    let whoami = config.whoami_path.as_deref() == Some(path);
    let route = config.policy.route_for(request.method, request.path);
    if route.access == Access::Public && !whoami {
        return Decision::Public;
    }
    if let Mode::ZeroAuth { trusted, identity } = &config.mode {
        if trusted.contains(request.peer) {
            let identity = Cow::Borrowed(&**identity);
            return if whoami {
                Decision::Whoami { identity }
            } else {
                Decision::Allowed {
                    identity,
                    hide: Sources::default(),
                }
            };
        }
        let peer = request
            .peer
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        return Decision::Denied(Denial::UntrustedNetwork { peer });
    }
    let credential = match credentials::extract(request.headers) {
        Ok(Some(credential)) => credential,
        Ok(None) if route.access == Access::Optional && !whoami => return Decision::Anonymous,
        Ok(None) => return Decision::Denied(Denial::MissingCredentials),
        Err(malformed) => return Decision::Denied(malformed.into()),
    };
    // Before any verification: a blocked client learns nothing, and costs no signature check.
    if let (Some(limit), Some(peer)) = (&config.failure_limit, request.peer)
        && let Some(blocked) = limit.blocked(host, Client::of(peer))
    {
        return Decision::Denied(Denial::RateLimited(blocked));
    }
    let token = credential.token;
    let identity = if config.api_keys && token.starts_with(api_key::PREFIX) {
        match api_key::verify(token, host) {
            Ok(identity) => Cow::Owned(identity),
            Err(rejection) => return Decision::Denied(rejection.into()),
        }
    } else if let Some(jwt) = jwt.filter(|_| credential.sources.authorization && is_jwt(token)) {
        match jwt.verify(token, host) {
            Ok(verified) => Cow::Owned(Identity::jwt(verified)),
            Err(rejection) => return Decision::Denied(rejection.into()),
        }
    } else {
        match config.tokens.verify(token) {
            Some(identity) => Cow::Borrowed(identity),
            None => return Decision::Denied(Denial::InvalidCredentials),
        }
    };
    if whoami {
        return Decision::Whoami { identity };
    }
    if let Err(unmet) = route.requirement.check(&identity) {
        return Decision::Denied(unmet.into());
    }
    let hide = if config.hide_credentials {
        credential.sources
    } else {
        Sources::default()
    };
    Decision::Allowed { identity, hide }
}

/// Whether a Bearer value has a JWT's shape: three dot-separated segments (a static token
/// never holds two dots and an API key none).
fn is_jwt(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

#[cfg(test)]
mod failure_limit_tests;
#[cfg(test)]
mod jwt_tests;
#[cfg(test)]
mod tests;
