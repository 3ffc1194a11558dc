//! Liveness and readiness probes.
//!
//! `/healthz` says only that the process serves HTTP; `/readyz` also asks the store, so a
//! load balancer stops sending traffic to a replica whose database does not answer.

use crate::api::AppState;
use crate::api::error::ApiError;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` on success (failures use the error body).
    pub status: &'static str,
    /// The latest committed revision (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process serves HTTP", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        revision: None,
    })
}

/// `GET /readyz`: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 503, description = "The store does not answer", body = crate::api::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // Not ready is 503 (take this replica out of rotation), not 500.
    let revision = state
        .with_store(|store| store.revision())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(Health {
        status: "ok",
        revision: Some(revision),
    }))
}
