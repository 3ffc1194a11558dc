//! `/v1/providers` handlers: extract, check with `providers.rs`, call the store, tell the
//! JWKS fetcher, answer.
//!
//! Providers are global (every org's tokens are verified with them), so only the bootstrap
//! admin token may read or change them; an org-admin key gets 403, as for `/v1/sidecars`.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Body, Id};
use crate::providers::{self, ProviderConfig};
use crate::store::{ClaimMapping, JwksStatus, ProviderPatch, ProviderRecord, RoleImplication};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `PATCH /v1/providers/{id}` body: absent fields stay as they are; `null` switches
/// `jwks_uri` back to discovery and clears `typ`, and is refused elsewhere.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProviderRequest {
    /// Refused: the issuer never changes (a new issuer is a new provider).
    #[serde(default, deserialize_with = "present")]
    pub issuer: Option<String>,
    /// New JWKS URL; `null`: use OIDC discovery. A change drops the stored JWKS.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub jwks_uri: Option<Option<String>>,
    /// New audiences (replace the old ones).
    #[serde(default, deserialize_with = "present")]
    pub audiences: Option<Vec<String>>,
    /// New algorithms.
    #[serde(default, deserialize_with = "present")]
    pub algorithms: Option<Vec<String>>,
    /// New leeway, 0 to 300.
    #[serde(default, deserialize_with = "present")]
    pub leeway_secs: Option<u64>,
    /// New required claims.
    #[serde(default, deserialize_with = "present")]
    pub required_claims: Option<Vec<String>>,
    /// New `azp` allow-list.
    #[serde(default, deserialize_with = "present")]
    pub authorized_parties: Option<Vec<String>>,
    /// New `typ`; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub typ: Option<Option<String>>,
    /// New token size limit, 1024 to 65536.
    #[serde(default, deserialize_with = "present")]
    pub max_token_bytes: Option<u64>,
    /// New claim mapping.
    #[serde(default, deserialize_with = "present")]
    pub claim_mapping: Option<ClaimMapping>,
    /// New role implications (replace the old ones).
    #[serde(default, deserialize_with = "present")]
    pub role_implications: Option<BTreeMap<String, RoleImplication>>,
}

/// A field that may be absent but, when present, must not be `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field where absent (`None`) and `null` (`Some(None)`) mean different things.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A provider as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    /// `prv_` + 16 hex characters.
    pub id: String,
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// The configured JWKS URL; `null`: OIDC discovery.
    pub jwks_uri: Option<String>,
    /// Accepted `aud` values (any one); empty: not checked.
    pub audiences: Vec<String>,
    /// Accepted `alg` values; empty: whatever each key declares, asymmetric only.
    pub algorithms: Vec<String>,
    /// Leeway on `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Claims every token must carry.
    pub required_claims: Vec<String>,
    /// Accepted `azp` values; empty: not checked.
    pub authorized_parties: Vec<String>,
    /// The required JOSE `typ`, if any.
    pub typ: Option<String>,
    /// Longer tokens are refused.
    pub max_token_bytes: u64,
    /// Where org, roles and scopes come from.
    pub claim_mapping: ClaimMapping,
    /// Role → implied scopes and roles.
    pub role_implications: BTreeMap<String, RoleImplication>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last settings change, Unix seconds.
    pub updated_at: i64,
    /// The revision of its last change of settings or JWKS.
    pub revision: u64,
}

impl From<ProviderRecord> for ProviderView {
    fn from(r: ProviderRecord) -> Self {
        let p = r.provider;
        Self {
            id: r.id,
            issuer: p.issuer,
            jwks_uri: p.jwks_uri,
            audiences: p.audiences,
            algorithms: p.algorithms,
            leeway_secs: p.leeway_secs,
            required_claims: p.required_claims,
            authorized_parties: p.authorized_parties,
            typ: p.typ,
            max_token_bytes: p.max_token_bytes,
            claim_mapping: p.claim_mapping,
            role_implications: p.role_implications,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revision: r.revision,
        }
    }
}

/// Every provider, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    /// The providers.
    pub items: Vec<ProviderView>,
}

/// A provider's last good JWKS and how fetching it goes.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwksView {
    /// The provider.
    pub provider_id: String,
    /// The last good set, usable keys only (`{"keys": [...]}`); `null` until a fetch
    /// succeeds.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// When a fetch last succeeded, Unix seconds.
    pub fetched_at: Option<i64>,
    /// When the next fetch is planned, Unix seconds.
    pub next_refresh_at: Option<i64>,
    /// The latest failure, kept after a later success.
    pub last_error: Option<String>,
    /// When it happened, Unix seconds.
    pub last_error_at: Option<i64>,
    /// Failures since the last success (0: healthy).
    pub consecutive_failures: u32,
}

/// Providers serve every org: only the bootstrap admin manages them.
fn require_bootstrap_admin(caller: &Caller) -> Result<(), ApiError> {
    caller.check_is_bootstrap_admin("manage providers: they serve every org")
}

/// `POST /v1/providers`: add an OIDC provider; its JWKS is fetched at once.
#[utoipa::path(post, path = "/v1/providers", tag = "providers", request_body = ProviderConfig,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ProviderView),
        (status = 400, description = "Unparsable body", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 409, description = "A provider has this issuer already", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(config): Body<ProviderConfig>,
) -> Result<(StatusCode, Json<ProviderView>), ApiError> {
    require_bootstrap_admin(&caller)?;
    let provider = providers::check(config)?;
    let id = providers::mint_id()?;
    let now = state.now();
    let actor = caller.actor.clone();
    let record = state
        .mutate(move |store| store.create_provider(&id, &provider, &actor, now))
        .await?;
    state.jwks.providers_changed();
    tracing::info!(provider_id = %record.id, issuer = %record.provider.issuer, actor = %caller.actor.0, "provider created");
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// `GET /v1/providers`: every provider.
#[utoipa::path(get, path = "/v1/providers", tag = "providers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every provider, oldest first", body = ProviderList),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProviderList>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let records = state.with_store(|store| store.list_providers()).await?;
    Ok(Json(ProviderList {
        items: records.into_iter().map(ProviderView::from).collect(),
    }))
}

/// `GET /v1/providers/{id}`.
#[utoipa::path(get, path = "/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "Provider id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The provider", body = ProviderView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<ProviderView>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let record = state
        .with_store(move |store| store.get_provider(&id))
        .await?;
    Ok(Json(record.into()))
}

/// `PATCH /v1/providers/{id}`: change settings; the JWKS is refetched with them.
#[utoipa::path(patch, path = "/v1/providers/{id}", tag = "providers",
    request_body = UpdateProviderRequest,
    params(("id" = String, Path, description = "Provider id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated provider", body = ProviderView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(req): Body<UpdateProviderRequest>,
) -> Result<Json<ProviderView>, ApiError> {
    require_bootstrap_admin(&caller)?;
    if let Some(issuer) = req.issuer {
        return Err(ApiError::Validation(format!(
            "`issuer` cannot change (asked for {issuer:?}): create a provider for the new \
             issuer and delete this one"
        )));
    }
    let patch = ProviderPatch {
        jwks_uri: req.jwks_uri,
        audiences: req.audiences,
        algorithms: req.algorithms,
        leeway_secs: req.leeway_secs,
        required_claims: req.required_claims,
        authorized_parties: req.authorized_parties,
        typ: req.typ,
        max_token_bytes: req.max_token_bytes,
        claim_mapping: req.claim_mapping,
        role_implications: req.role_implications,
    };
    if patch == ProviderPatch::default() {
        return Err(ApiError::Validation(
            "the body changes nothing: set at least one field".to_owned(),
        ));
    }
    providers::check_patch(&patch)?;
    let now = state.now();
    let record = state
        .mutate(move |store| store.update_provider(&id, &patch, &caller.actor, now))
        .await?;
    state.jwks.providers_changed();
    tracing::info!(provider_id = %record.id, issuer = %record.provider.issuer, "provider updated");
    Ok(Json(record.into()))
}

/// `DELETE /v1/providers/{id}`: stop accepting its tokens; sidecars drop it on their next
/// sync.
#[utoipa::path(delete, path = "/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "Provider id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The deleted provider", body = ProviderView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<ProviderView>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let now = state.now();
    let record = state
        .mutate(move |store| store.delete_provider(&id, &caller.actor, now))
        .await?;
    state.jwks.providers_changed();
    tracing::info!(provider_id = %record.id, issuer = %record.provider.issuer, "provider deleted");
    Ok(Json(record.into()))
}

/// `GET /v1/providers/{id}/jwks`: the last good JWKS, when it was fetched, when the next
/// fetch is planned, and the last error.
#[utoipa::path(get, path = "/v1/providers/{id}/jwks", tag = "providers",
    params(("id" = String, Path, description = "Provider id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The JWKS and its fetch status", body = JwksView),
        (status = 403, description = "Not the bootstrap admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody)))]
pub async fn jwks(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<JwksView>, ApiError> {
    require_bootstrap_admin(&caller)?;
    let provider_id = id.clone();
    let status: JwksStatus = state
        .with_store(move |store| store.jwks_status(&id))
        .await?;
    let jwks = status
        .jwks
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| ApiError::Internal(format!("stored jwks is not JSON: {e}")))?;
    Ok(Json(JwksView {
        provider_id,
        jwks,
        fetched_at: status.fetched_at,
        next_refresh_at: status.next_refresh_at,
        last_error: status.last_error,
        last_error_at: status.last_error_at,
        consecutive_failures: status.consecutive_failures,
    }))
}
