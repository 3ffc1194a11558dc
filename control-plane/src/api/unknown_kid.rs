//! `POST /v1/sync/unknown-kid`: a syncer reports that a token named a `kid` its provider's
//! key set lacks (a key rotation, usually), and the JWKS fetcher refetches that provider's
//! set at once — at most once per `min_kid_refresh_secs` — instead of at its next refresh.
//! The new set then reaches every sidecar by sync like any change.

use crate::api::AppState;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::sync_auth::SyncCaller;
use crate::jwks::RefreshDecision;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis::wire::UnknownKid;
use serde::Serialize;
use utoipa::ToSchema;

/// What the fetcher made of a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnknownKidAnswer {
    /// `scheduled`, `known_kid`, `rate_limited` or `unknown_provider`.
    pub decision: &'static str,
    /// With `rate_limited`: seconds until a refetch may start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<i64>,
}

/// Asks for a refetch of the provider's key set.
#[utoipa::path(
    post,
    path = "/v1/sync/unknown-kid",
    tag = "sync",
    request_body(content = Object, description = "`{\"provider\": id, \"kid\": kid}`"),
    responses(
        (status = 202, description = "What the fetcher decided", body = UnknownKidAnswer),
        (status = 401, description = "No valid sync or admin token", body = ErrorBody),
        (status = 422, description = "Malformed report", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    _caller: SyncCaller,
    State(state): State<AppState>,
    Json(report): Json<UnknownKid>,
) -> Result<(StatusCode, Json<UnknownKidAnswer>), ApiError> {
    let decision = state.jwks.request_refresh(&report.provider, &report.kid);
    let (decision, retry_after_secs) = match decision {
        RefreshDecision::Scheduled => ("scheduled", None),
        RefreshDecision::KnownKid => ("known_kid", None),
        RefreshDecision::RateLimited { retry_after_secs } => {
            ("rate_limited", Some(retry_after_secs))
        }
        RefreshDecision::UnknownProvider => ("unknown_provider", None),
    };
    if decision == "scheduled" {
        tracing::info!(provider = %report.provider, kid = %report.kid, "unknown kid reported: refetching the key set");
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(UnknownKidAnswer {
            decision,
            retry_after_secs,
        }),
    ))
}
