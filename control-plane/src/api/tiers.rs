//! `/v1/tiers` handlers: extract, check with `ratelimit::tiers`, call the store, answer.
//!
//! Tiers set every org's rate limits, so only the bootstrap admin token reads or changes
//! them; an org admin reads what applies to its own org at `GET /v1/orgs/{org_id}`.
//! `PUT` creates or replaces a tier whole. A new tier's name must be `[a-z0-9_-]{1,32}`; a
//! tier the migration made from an older key's tier keeps its name and can still be changed
//! and deleted.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Body, Id};
use crate::ratelimit::tiers::validation::{TierConfig, check_name, check_tier};
use crate::store::{Limit, TierRecord};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// A tier as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    /// Its name.
    pub name: String,
    /// Per client IP, before authentication (only the `default` tier's applies).
    pub per_ip: Limit,
    /// Per API key in the tier, unless the key has its own `rate_limit`.
    pub per_key: Limit,
    /// Per org, over the org's callers in the tier, unless the org has its own `rate_limit`.
    pub per_org: Limit,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
}

impl From<TierRecord> for TierView {
    fn from(t: TierRecord) -> Self {
        Self {
            name: t.name,
            per_ip: t.limits.per_ip,
            per_key: t.limits.per_key,
            per_org: t.limits.per_org,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// Every tier, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierList {
    /// The tiers.
    pub items: Vec<TierView>,
}

fn require_bootstrap_admin(caller: &Caller) -> Result<(), ApiError> {
    caller.check_is_bootstrap_admin("manage tiers: they set every org's rate limits")
}

/// `GET /v1/tiers`.
#[utoipa::path(get, path = "/v1/tiers", tag = "ratelimit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every tier, by name", body = TierList),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TierList>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let tiers = state.with_store(|store| store.list_tiers()).await?;
    Ok(Json(TierList {
        items: tiers.into_iter().map(TierView::from).collect(),
    }))
}

/// `GET /v1/tiers/{name}`.
#[utoipa::path(get, path = "/v1/tiers/{name}", tag = "ratelimit",
    params(("name" = String, Path, description = "Tier name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tier", body = TierView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 404, description = "No such tier", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(name): Id,
) -> Result<Json<TierView>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let tier = state.with_store(move |store| store.get_tier(&name)).await?;
    Ok(Json(tier.into()))
}

/// `PUT /v1/tiers/{name}`: create a tier or replace its limits.
#[utoipa::path(put, path = "/v1/tiers/{name}", tag = "ratelimit", request_body = TierConfig,
    params(("name" = String, Path, description = "Tier name, `[a-z0-9_-]{1,32}` for a new tier")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = TierView),
        (status = 201, description = "Created", body = TierView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 422, description = "Invalid name or limit", body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Id(name): Id,
    Body(config): Body<TierConfig>,
) -> Result<(StatusCode, Json<TierView>), ApiError> {
    require_bootstrap_admin(&caller)?;
    let limits = check_tier(&config)?;
    if let Err(err) = check_name(&name) {
        // Only a new tier's name is checked: older names stay manageable.
        let lookup = name.clone();
        match state.with_store(move |store| store.get_tier(&lookup)).await {
            Ok(_) => {}
            Err(ApiError::NotFound(_)) => return Err(err.into()),
            Err(other) => return Err(other),
        }
    }
    let now = state.now();
    let actor = caller.actor.clone();
    let put = state
        .mutate(move |store| store.put_tier(&name, &limits, &actor, now))
        .await?;
    tracing::info!(tier = %put.record.name, created = put.created, actor = %caller.actor.0, "tier saved");
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(put.record.into())))
}

/// `DELETE /v1/tiers/{name}`: `default`, and a tier unrevoked keys use, are kept (409).
#[utoipa::path(delete, path = "/v1/tiers/{name}", tag = "ratelimit",
    params(("name" = String, Path, description = "Tier name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The deleted tier", body = TierView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 404, description = "No such tier", body = ErrorBody),
        (status = 409, description = "`default`, or used by unrevoked keys", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(name): Id,
) -> Result<Json<TierView>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let now = state.now();
    let actor = caller.actor.clone();
    let tier = state
        .mutate(move |store| store.delete_tier(&name, &actor, now))
        .await?;
    tracing::info!(tier = %tier.name, actor = %caller.actor.0, "tier deleted");
    Ok(Json(tier.into()))
}
