//! `GET /v1/sync` (the syncers' long-poll) and `GET /v1/sidecars` (who has applied what).
//!
//! `/v1/sync` takes the sync token ([`SyncCaller`]) and the sidecar's name in
//! `x-portcullis-sidecar`; the page itself comes from `sync.rs`. When that page would say
//! "no change" and `wait` is above 0, the request is held until a change commits on this
//! replica, `wait` (at most [`MAX_WAIT_SECS`]) passes, or the server shuts down, and then
//! answered with the page as it is at that moment.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Params;
use crate::api::sync_auth::{SyncCaller, SyncToken};
use crate::store::OrgScope;
use crate::sync::revision_feed::RevisionFeed;
use crate::sync::sidecars::{SidecarName, Sidecars};
use crate::sync::{self, SyncRequest};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use portcullis::wire::{MAX_WAIT_SECS, SIDECAR_HEADER, SyncPage};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// What the sync routes share.
#[derive(Clone)]
pub struct SyncState {
    /// The sync token's digest.
    pub token: Arc<SyncToken>,
    /// Wakes held long-polls when a change commits.
    pub feed: RevisionFeed,
    /// The syncers heard from (per replica, since start).
    pub sidecars: Arc<Sidecars>,
    /// Entries per page ([`sync::PAGE_SIZE`] outside tests).
    pub page_size: u32,
}

/// `GET /v1/sync` query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncParams {
    /// The revision the sidecar has applied (absent when new: it gets a snapshot); with
    /// `cursor`, the snapshot's revision.
    pub since: Option<u64>,
    /// Seconds to hold the request when nothing changed, clamped to 60 (default 0).
    pub wait: Option<u64>,
    /// The previous snapshot page's `cursor`.
    pub cursor: Option<String>,
}

/// The `x-portcullis-sidecar` header: who is asking.
pub struct Sidecar(SidecarName);

impl<S: Send + Sync> FromRequestParts<S> for Sidecar {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let value = parts.headers.get(SIDECAR_HEADER).ok_or_else(|| {
            ApiError::InvalidRequest(format!(
                "send the header {SIDECAR_HEADER}: <Envoy node id>, so the sidecar's progress \
                 can be shown"
            ))
        })?;
        Ok(Self(SidecarName::parse(value.as_bytes())?))
    }
}

/// `GET /v1/sync`: the next page for a sidecar, held up to `wait` when nothing changed.
#[utoipa::path(get, path = "/v1/sync", tag = "sync", params(SyncParams,
        ("x-portcullis-sidecar" = String, Header, description = "The sidecar's name (Envoy node id), 1 to 128 visible ASCII characters")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A `SyncPage` of `portcullis::wire`: `revision`, `reset`, `entries`, `cursor`", body = Object),
        (status = 400, description = "Bad `since`, `wait`, `cursor` or sidecar header", body = ErrorBody),
        (status = 401, description = "Neither the sync token nor the admin token", body = ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    _caller: SyncCaller,
    Sidecar(sidecar): Sidecar,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Params(params): Params<SyncParams>,
) -> Result<Json<SyncPage>, ApiError> {
    let request = SyncRequest::new(params.since, params.cursor.as_deref())?;
    let wait = Duration::from_secs(params.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    state
        .sync
        .sidecars
        .record(&sidecar, request.applied_revision(), state.now(), address);
    let mut page = read_page(&state, &request).await?;
    if !wait.is_zero() && request.is_answered_by_nothing(&page) {
        let _held = state.metrics.hold_long_poll();
        state
            .sync
            .feed
            .wait_past(request.since.unwrap_or_default(), wait)
            .await;
        page = read_page(&state, &request).await?;
    }
    state.metrics.count_sync_page(request.is_snapshot(&page));
    Ok(Json(page))
}

async fn read_page(state: &AppState, request: &SyncRequest) -> Result<SyncPage, ApiError> {
    let (request, page_size) = (request.clone(), state.sync.page_size);
    let page = tokio::task::spawn_blocking({
        let store = Arc::clone(&state.store);
        move || sync::page(store.as_ref(), &request, page_size)
    })
    .await??;
    Ok(page)
}

/// One sidecar as `/v1/sidecars` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SidecarView {
    /// The name it sends in `x-portcullis-sidecar`.
    pub sidecar: String,
    /// The revision it reported as applied (its `since`; 0 until its first snapshot).
    pub applied_revision: u64,
    /// Revisions it is behind this replica's store (0 if it reports one ahead).
    pub lag: u64,
    /// When it last asked, Unix seconds.
    pub last_seen: i64,
    /// The address it asked from.
    pub address: String,
}

/// `GET /v1/sidecars` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct SidecarList {
    /// The store's revision now.
    pub revision: u64,
    /// Every sidecar this replica has heard from since it started, by name (`items`, like
    /// every other list the API returns).
    pub items: Vec<SidecarView>,
}

/// `GET /v1/sidecars`: the syncers this replica has heard from and their lag. The list is
/// per replica and starts empty on every restart.
#[utoipa::path(get, path = "/v1/sidecars", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sidecars", body = SidecarList),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody)))]
pub async fn sidecars(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SidecarList>, ApiError> {
    // Sidecars serve every org: an org admin must not learn the fleet's layout.
    if caller.scope != OrgScope::All {
        return Err(ApiError::Forbidden(
            "only the bootstrap admin token may list sidecars: they serve every org".to_owned(),
        ));
    }
    let revision = state.with_store(|store| store.revision()).await?;
    let items = state
        .sync
        .sidecars
        .list()
        .into_iter()
        .map(|s| SidecarView {
            lag: revision.saturating_sub(s.applied_revision),
            sidecar: s.name,
            applied_revision: s.applied_revision,
            last_seen: s.last_seen,
            address: s.address.to_string(),
        })
        .collect();
    Ok(Json(SidecarList { revision, items }))
}
