//! `ApiError`: the one place an error becomes a status, a body and headers.
//!
//! Bodies have the filter's shape, `{"error", "code", "message", "retryable"}`, so a client
//! handles the edge and the control-plane alike. Domain errors convert in with `From`, so
//! handlers use `?`. A 5xx body is generic; its detail goes to the log.

use crate::keys::KeyError;
use crate::providers::ProviderError;
use crate::ratelimit::tiers::TierError;
use crate::store::StoreError;
use crate::sync::SyncError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The realm named in `WWW-Authenticate` (RFC 6750 §3).
const REALM: &str = "portcullis";

/// Everything the API can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be parsed (bad JSON, bad query string, bad cursor).
    #[error("{0}")]
    InvalidRequest(String),
    /// The request parsed but a field is invalid; the message names it.
    #[error("{0}")]
    Validation(String),
    /// No credential was sent.
    #[error("send Authorization: Bearer <token> or X-API-Key")]
    MissingCredentials,
    /// A credential was sent but does not authenticate; `code` says why, as the filter does.
    #[error("{message}")]
    BadCredentials {
        /// `invalid_credentials`, `expired_credentials` or `revoked_credentials`.
        code: &'static str,
        /// Safe to show: never echoes the credential.
        message: &'static str,
    },
    /// The route exists but not with this method.
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such resource within the caller's orgs.
    #[error("{0}")]
    NotFound(String),
    /// The key is revoked; it can be read but never changed again.
    #[error("{0}")]
    KeyRevoked(String),
    /// A uniqueness conflict.
    #[error("{0}")]
    Conflict(String),
    /// A server-side failure; the detail is logged, never sent.
    #[error("{0}")]
    Internal(String),
    /// A dependency (the store) does not answer; the detail is logged, never sent.
    #[error("{0}")]
    Unavailable(String),
}

/// The error body every non-2xx response carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The class: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `unprocessable` or `internal`.
    pub error: &'static str,
    /// The precise reason, stable for programs (`validation_failed`, `key_revoked`, …).
    pub code: &'static str,
    /// For people; names the offending field.
    pub message: String,
    /// Whether repeating the same request may succeed.
    pub retryable: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, code) = match &self {
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "bad_request", "invalid_request"),
            Self::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "validation_failed",
            ),
            Self::MissingCredentials => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing_credentials",
            ),
            Self::BadCredentials { code, .. } => (StatusCode::UNAUTHORIZED, "unauthorized", *code),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "bad_request",
                "method_not_allowed",
            ),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "not_found"),
            Self::KeyRevoked(_) => (StatusCode::CONFLICT, "conflict", "key_revoked"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "conflict"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "not_ready"),
        };
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "internal error; see the control-plane log".to_owned()
            }
            Self::Unavailable(detail) => {
                tracing::warn!(%detail, "not ready");
                "the store does not answer; see the control-plane log".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error,
            code,
            message,
            retryable: status.is_server_error(),
        };
        let mut response = (status, Json(body)).into_response();
        // RFC 6750 §3: a 401 names the scheme; `invalid_token` only when one was presented.
        let challenge = match self {
            Self::MissingCredentials => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::BadCredentials { .. } => {
                Some(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""))
            }
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(id) => Self::NotFound(format!("no key `{id}`")),
            StoreError::NoProvider(id) => Self::NotFound(format!("no provider `{id}`")),
            StoreError::NoTier(name) => Self::NotFound(format!("no tier `{name}`")),
            StoreError::UnknownTier(name) => Self::Validation(format!(
                "`tier` names no tier: `{name}` (create it first: PUT /v1/tiers/{name})"
            )),
            StoreError::Revoked(id) => Self::KeyRevoked(format!(
                "key `{id}` is revoked and cannot be changed, rotated or revoked again"
            )),
            StoreError::Conflict(detail) => Self::Conflict(detail),
            StoreError::InvalidCursor => {
                Self::InvalidRequest("`cursor` was not issued by this server".to_owned())
            }
            StoreError::Database(detail) => Self::Internal(format!("store: {detail}")),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::InvalidCursor(message) | SyncError::InvalidSidecar(message) => {
                Self::InvalidRequest(message)
            }
            SyncError::Store(err) => err.into(),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(err: KeyError) -> Self {
        match err {
            KeyError::Invalid { .. } => Self::Validation(err.to_string()),
            KeyError::Random(_) => Self::Internal(err.to_string()),
        }
    }
}

impl From<TierError> for ApiError {
    fn from(err: TierError) -> Self {
        Self::Validation(err.to_string())
    }
}

impl From<ProviderError> for ApiError {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::Invalid { .. } => Self::Validation(err.to_string()),
            ProviderError::Random(_) => Self::Internal(err.to_string()),
        }
    }
}

/// The inner message of an axum rejection, which for JSON bodies and query strings is
/// `path: problem` (from `serde_path_to_error`), so it names the field.
fn detail(err: &dyn std::error::Error) -> String {
    err.source()
        .map_or_else(|| err.to_string(), ToString::to_string)
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match &rejection {
            // Well-formed JSON of the wrong shape: a wrong type, a missing or unknown field.
            JsonRejection::JsonDataError(e) => {
                Self::Validation(format!("invalid body: {}", detail(e)))
            }
            JsonRejection::JsonSyntaxError(e) => {
                Self::InvalidRequest(format!("body is not valid JSON: {}", detail(e)))
            }
            JsonRejection::MissingJsonContentType(_) => Self::InvalidRequest(
                "expected the header content-type: application/json".to_owned(),
            ),
            other => Self::InvalidRequest(format!("cannot read the body: {}", detail(other))),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::InvalidRequest(format!("invalid query string: {}", detail(&rejection)))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::InvalidRequest(format!("invalid path: {}", detail(&rejection)))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Internal(format!("store task failed: {err}"))
    }
}
