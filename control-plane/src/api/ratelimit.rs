//! `/v1/ratelimit/*`: the tiers and overrides rendered for Envoy, read at one revision.
//!
//! - `config`: envoyproxy/ratelimit YAML (domain `portcullis`), which `portcullis ratelimit
//!   serve` reads too;
//! - `local`: two Envoy `local_ratelimit` filters for one Envoy and no extra service.
//!
//! Both cover every org, so an org's admin key may not read them. The bootstrap admin token
//! may, and so may the sync token: `portcullis ratelimit serve --control-plane` follows
//! `config` with it, as the sidecars follow `/v1/sync`. Both answers are read-only and hold
//! nothing the sync token cannot already read (key ids and orgs, never a secret).
//!
//! Each answer names the revision it was rendered at in [`REVISION_HEADER`], so a follower
//! can ask `/v1/sync` for changes past it.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::sync_auth::SyncCaller;
use crate::ratelimit::tiers::{local, reference};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

/// The media type of the YAML rendering.
const YAML: &str = "text/yaml";

/// The response header holding the revision an export was rendered at.
pub const REVISION_HEADER: &str = "x-portcullis-revision";

/// Lets the sync or bootstrap admin token through; refuses an org admin's key (403) and
/// anything else (401).
fn require_reader(
    sync: Result<SyncCaller, ApiError>,
    admin: Result<Caller, ApiError>,
) -> Result<(), ApiError> {
    if sync.is_ok() {
        return Ok(());
    }
    admin?.check_is_bootstrap_admin("read the rate-limit configuration: it covers every org")
}

/// `GET /v1/ratelimit/config`: envoyproxy/ratelimit YAML.
#[utoipa::path(get, path = "/v1/ratelimit/config", tag = "ratelimit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "envoyproxy/ratelimit configuration, domain `portcullis`",
            content_type = "text/yaml", body = String,
            headers(("x-portcullis-revision" = u64,
                description = "The revision the configuration was rendered at"))),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "An org admin's key", body = ErrorBody)))]
pub async fn config(
    State(state): State<AppState>,
    sync: Result<SyncCaller, ApiError>,
    admin: Result<Caller, ApiError>,
) -> Result<impl IntoResponse, ApiError> {
    require_reader(sync, admin)?;
    let policy = state.with_store(|store| store.rate_limit_policy()).await?;
    let text = reference::yaml(&policy).map_err(|e| ApiError::Internal(e.to_string()))?;
    let revision = policy.revision.to_string();
    Ok((
        [
            (header::CONTENT_TYPE.as_str(), YAML.to_owned()),
            (REVISION_HEADER, revision),
        ],
        text,
    ))
}

/// `GET /v1/ratelimit/local`: Envoy `local_ratelimit` filters, as JSON.
#[utoipa::path(get, path = "/v1/ratelimit/local", tag = "ratelimit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{revision, before_auth, after_auth, \
            route_rate_limits}`: two `http_filters` entries, before and after the Portcullis \
            filter, and the route `rate_limits` that feed them (`before_auth` on \
            authentication endpoints, `after_auth` on every route)",
            body = Object,
            headers(("x-portcullis-revision" = u64,
                description = "The revision the filters were rendered at"))),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "An org admin's key", body = ErrorBody)))]
pub async fn local(
    State(state): State<AppState>,
    sync: Result<SyncCaller, ApiError>,
    admin: Result<Caller, ApiError>,
) -> Result<impl IntoResponse, ApiError> {
    require_reader(sync, admin)?;
    let policy = state.with_store(|store| store.rate_limit_policy()).await?;
    let revision = policy.revision.to_string();
    Ok((
        [(REVISION_HEADER, revision)],
        Json(local::fragment(&policy)),
    ))
}
