//! `/v1/ratelimit/*`: the tiers and overrides rendered for Envoy, read at one revision.
//!
//! - `config`: envoyproxy/ratelimit YAML (domain `portcullis`), which `portcullis ratelimit
//!   serve` reads too;
//! - `local`: two Envoy `local_ratelimit` filters for one Envoy and no extra service.
//!
//! Both cover every org, so only the bootstrap admin token reads them.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::ratelimit::tiers::{local, reference};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

/// The media type of the YAML rendering.
const YAML: &str = "text/yaml";

fn require_bootstrap_admin(caller: &Caller) -> Result<(), ApiError> {
    caller.check_is_bootstrap_admin("read the rate-limit configuration: it covers every org")
}

/// `GET /v1/ratelimit/config`: envoyproxy/ratelimit YAML.
#[utoipa::path(get, path = "/v1/ratelimit/config", tag = "ratelimit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "envoyproxy/ratelimit configuration, domain `portcullis`",
            content_type = "text/yaml", body = String),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody)))]
pub async fn config(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    require_bootstrap_admin(&caller)?;
    let policy = state.with_store(|store| store.rate_limit_policy()).await?;
    let text = reference::yaml(&policy).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, YAML)], text))
}

/// `GET /v1/ratelimit/local`: Envoy `local_ratelimit` filters, as JSON.
#[utoipa::path(get, path = "/v1/ratelimit/local", tag = "ratelimit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{revision, before_auth, after_auth}`: two \
            `http_filters` entries, before and after the Portcullis filter",
            body = Object),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody)))]
pub async fn local(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let policy = state.with_store(|store| store.rate_limit_policy()).await?;
    Ok(Json(local::fragment(&policy)))
}
