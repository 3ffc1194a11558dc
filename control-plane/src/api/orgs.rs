//! `/v1/orgs/{org_id}` handlers: an org's own rate limit and what applies to its callers.
//!
//! Orgs exist only as the `org_id` of keys (and of JWT callers), so any well-formed org id
//! can be read. The bootstrap admin reads and changes every org; an org admin reads its own
//! org (403 for another: it named that org itself, so refusing reveals nothing) and changes
//! none, since it could raise its own limit.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Body, Id};
use crate::keys::check_identifier;
use crate::ratelimit::tiers::validation::check_limit;
use crate::ratelimit::tiers::{EffectiveLimits, effective_limits};
use crate::store::{Limit, OrgLimits, Store, StoreError};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `PATCH /v1/orgs/{org_id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    /// The org's own per-org limit, replacing every tier's; `null` removes it. Required.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Limit>)]
    pub rate_limit: Option<Option<Value>>,
}

/// A field where absent (`None`) and `null` (`Some(None)`) mean different things.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An org's rate limits.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    /// The org.
    pub org_id: String,
    /// Its own per-org limit, replacing every tier's; `null`: each tier's applies.
    pub rate_limit: Option<Limit>,
    /// What its callers get in `default` and in every tier its unrevoked keys use. A key's
    /// own `rate_limit` (see the key) replaces `per_key` for that key.
    pub effective: Vec<EffectiveLimits>,
}

/// The view of `org`, with the tiers read in the same store call.
fn view(store: &dyn Store, org: OrgLimits) -> Result<OrgView, StoreError> {
    let tiers = store
        .list_tiers()?
        .into_iter()
        .map(|t| (t.name, t.limits))
        .collect();
    let effective = effective_limits(&org, &tiers);
    Ok(OrgView {
        org_id: org.org_id,
        rate_limit: org.rate_limit,
        effective,
    })
}

/// `GET /v1/orgs/{org_id}`.
#[utoipa::path(get, path = "/v1/orgs/{org_id}", tag = "ratelimit",
    params(("org_id" = String, Path, description = "Org id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The org's limits", body = OrgView),
        (status = 403, description = "An org admin asking for another org", body = ErrorBody),
        (status = 422, description = "Malformed org id", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(org_id): Id,
) -> Result<Json<OrgView>, ApiError> {
    check_identifier("org_id", &org_id)?;
    caller.check_may_read_org(&org_id)?;
    let org = state
        .with_store(move |store| view(store, store.org_limits(&org_id)?))
        .await?;
    Ok(Json(org))
}

/// `PATCH /v1/orgs/{org_id}`: set or remove the org's own per-org limit.
#[utoipa::path(patch, path = "/v1/orgs/{org_id}", tag = "ratelimit",
    request_body = UpdateOrgRequest,
    params(("org_id" = String, Path, description = "Org id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The org's limits", body = OrgView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(org_id): Id,
    Body(req): Body<UpdateOrgRequest>,
) -> Result<Json<OrgView>, ApiError> {
    check_identifier("org_id", &org_id)?;
    caller
        .check_is_bootstrap_admin("change an org's rate limit: an org admin could raise its own")?;
    let Some(limit) = req.rate_limit else {
        return Err(ApiError::Validation(
            "the body changes nothing: set `rate_limit` (a limit, or null to remove it)".to_owned(),
        ));
    };
    let limit = limit.map(|l| check_limit("rate_limit", &l)).transpose()?;
    let now = state.now();
    let actor = caller.actor.clone();
    let org = state
        .mutate(move |store| view(store, store.set_org_limit(&org_id, limit, &actor, now)?))
        .await?;
    tracing::info!(org_id = %org.org_id, rate_limit = ?org.rate_limit, actor = %caller.actor.0, "org rate limit set");
    Ok(Json(org))
}
