//! `/v1/keys` handlers: extract, check with `keys.rs`, call the store, answer.
//!
//! The secret appears in exactly two responses, create and rotate; listings and reads carry
//! the display prefix only, and no response ever carries a digest. Revoking a revoked key
//! is 409 `key_revoked`: the first revoke's time and audit entry stay the only ones.
//!
//! A key's `tier` and `rate_limit` decide how much it may send, so only the bootstrap admin
//! sets them: an org admin could otherwise raise its own keys' limits (403 naming the field).
//! An org admin's new keys have no tier, which is the `default` tier.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Body, Id, Params};
use crate::api::metrics::KeyEvent;
use crate::api::page::ListParams;
use crate::keys::{self, KeySpec};
use crate::ratelimit::tiers::validation::check_limit;
use crate::store::{KeyPatch, KeyRecord, Limit, Rotation, Store, StoreError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `POST /v1/keys` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// Human label, 1 to 200 characters.
    pub name: String,
    /// Owning org, `[A-Za-z0-9_-]{1,64}`.
    pub org_id: String,
    /// Scopes: visible ASCII without spaces, quotes or backslashes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Roles, same characters as scopes; `admin` may manage its org's keys.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Rate-limit tier: an existing tier's name (bootstrap admin only); absent: `default`.
    #[serde(default)]
    pub tier: Option<String>,
    /// Expiry in Unix seconds; must be in the future.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// A JSON object of at most 8 KiB.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
}

/// `PATCH /v1/keys/{id}` body: absent fields stay as they are; `null` clears `tier`,
/// `expires_at` and `rate_limit` and is refused elsewhere.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyRequest {
    /// New name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    /// New scopes (replace the old ones).
    #[serde(default, deserialize_with = "present")]
    pub scopes: Option<Vec<String>>,
    /// New roles (replace the old ones).
    #[serde(default, deserialize_with = "present")]
    pub roles: Option<Vec<String>>,
    /// New tier, an existing tier's name; `null` clears it (the `default` tier). Bootstrap
    /// admin only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    /// New expiry in Unix seconds (future); `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub expires_at: Option<Option<i64>>,
    /// New meta object (replaces the old one).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Map<String, Value>>,
    /// Enable or disable the key.
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<bool>,
    /// The key's own per-key limit, replacing its tier's; `null` removes it. Bootstrap
    /// admin only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Limit>)]
    pub rate_limit: Option<Option<Value>>,
}

/// `POST /v1/keys/{id}/rotate` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyRequest {
    /// How long the old secret keeps working, 0 to 2592000 (30 days).
    pub grace_secs: u64,
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

/// A key as the API shows it: never the secret, never a digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// `key_` + 16 base62 characters; stable across rotation.
    pub id: String,
    /// Display prefix of the current secret (`sk_AbCd`).
    pub prefix: String,
    /// Human label.
    pub name: String,
    /// Owning org.
    pub org_id: String,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Roles held.
    pub roles: Vec<String>,
    /// Rate-limit tier; `null`: the `default` tier.
    pub tier: Option<String>,
    /// Its own per-key limit, replacing its tier's; `null`: the tier's applies.
    pub rate_limit: Option<Limit>,
    /// Operator metadata.
    #[schema(value_type = Object)]
    pub meta: Map<String, Value>,
    /// A disabled key is refused until enabled.
    pub enabled: bool,
    /// Expiry, Unix seconds.
    pub expires_at: Option<i64>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
    /// Revocation time, Unix seconds; a revoked key never works again.
    pub revoked_at: Option<i64>,
}

impl KeyView {
    fn new(r: KeyRecord, rate_limit: Option<Limit>) -> Self {
        Self {
            id: r.id,
            prefix: r.prefix,
            name: r.name,
            org_id: r.org_id,
            scopes: r.scopes,
            roles: r.roles,
            tier: r.tier,
            rate_limit,
            meta: r.meta,
            enabled: r.enabled,
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// The view of one key, with its override (read in the same store call as the key).
fn view(store: &dyn Store, record: KeyRecord) -> Result<KeyView, StoreError> {
    let limit = store.key_limits(std::slice::from_ref(&record.id))?;
    let rate_limit = limit.get(&record.id).copied();
    Ok(KeyView::new(record, rate_limit))
}

/// The views of a page of keys: one more query for the whole page.
fn views(store: &dyn Store, records: Vec<KeyRecord>) -> Result<Vec<KeyView>, StoreError> {
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let limits = store.key_limits(&ids)?;
    Ok(records
        .into_iter()
        .map(|r| {
            let rate_limit = limits.get(&r.id).copied();
            KeyView::new(r, rate_limit)
        })
        .collect())
}

/// Refuses `tier` or `rate_limit` from anyone but the bootstrap admin.
fn check_may_set_limits(caller: &Caller, field: &str) -> Result<(), ApiError> {
    caller.check_is_bootstrap_admin(&format!(
        "set `{field}`: it decides the key's rate limits, which an org admin could raise"
    ))
}

/// A key with its secret: the create and rotate responses, the only time it is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyWithSecret {
    /// The secret (`sk_…`); store it now, it is never shown again.
    pub key: String,
    /// The key's record.
    #[serde(flatten)]
    pub record: KeyView,
}

/// A page of keys, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyPage {
    /// The keys.
    pub items: Vec<KeyView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /v1/keys`: mint a key.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = KeyWithSecret),
        (status = 400, description = "Unparsable body", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Not an admin of that org, or an org admin set `tier`",
            body = ErrorBody),
        (status = 422, description = "Invalid field, or `tier` names no tier", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<CreateKeyRequest>,
) -> Result<(StatusCode, Json<KeyWithSecret>), ApiError> {
    caller.check_may_create_in(&req.org_id)?;
    if req.tier.is_some() {
        check_may_set_limits(&caller, "tier")?;
    }
    let spec = KeySpec {
        name: req.name,
        org_id: req.org_id,
        scopes: req.scopes,
        roles: req.roles,
        tier: req.tier,
        expires_at: req.expires_at,
        meta: req.meta,
    };
    let now = state.now();
    let (new, minted) = keys::create(spec, now)?;
    let actor = caller.actor.clone();
    let record = state
        .mutate(move |store| {
            if let Some(tier) = &new.record.tier {
                store.check_key_tier(tier)?;
            }
            store.create_key(new, &actor, now)
        })
        .await?;
    state.metrics.count(KeyEvent::Created);
    tracing::info!(key_id = %record.id, prefix = %record.prefix, org_id = %record.org_id, actor = %caller.actor.0, "key created");
    let body = KeyWithSecret {
        key: minted.secret,
        record: KeyView::new(record, None),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /v1/keys`: list keys in the caller's orgs.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of keys", body = KeyPage),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<ListParams>,
) -> Result<Json<KeyPage>, ApiError> {
    let query = params.into_query(&caller)?;
    let (items, next_cursor) = state
        .with_store(move |store| {
            let page = store.list_keys(&query)?;
            Ok((views(store, page.items)?, page.next_cursor))
        })
        .await?;
    Ok(Json(KeyPage { items, next_cursor }))
}

/// `GET /v1/keys/{id}`.
#[utoipa::path(get, path = "/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key", body = KeyView),
        (status = 404, description = "No such key in the caller's orgs", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<KeyView>, ApiError> {
    let key = state
        .with_store(move |store| view(store, store.get_key(&id, &caller.scope)?))
        .await?;
    Ok(Json(key))
}

/// `PATCH /v1/keys/{id}`: change metadata; the secret stays.
#[utoipa::path(patch, path = "/v1/keys/{id}", tag = "keys", request_body = UpdateKeyRequest,
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated key", body = KeyView),
        (status = 403, description = "An org admin set `tier` or `rate_limit`", body = ErrorBody),
        (status = 404, description = "No such key in the caller's orgs", body = ErrorBody),
        (status = 409, description = "The key is revoked", body = ErrorBody),
        (status = 422, description = "Invalid field, or `tier` names no tier", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(req): Body<UpdateKeyRequest>,
) -> Result<Json<KeyView>, ApiError> {
    for (field, set) in [
        ("tier", req.tier.is_some()),
        ("rate_limit", req.rate_limit.is_some()),
    ] {
        if set {
            check_may_set_limits(&caller, field)?;
        }
    }
    let rate_limit = req
        .rate_limit
        .map(|limit| limit.map(|l| check_limit("rate_limit", &l)).transpose())
        .transpose()?;
    let patch = KeyPatch {
        name: req.name,
        scopes: req.scopes,
        roles: req.roles,
        tier: req.tier,
        expires_at: req.expires_at,
        meta: req.meta,
        enabled: req.enabled,
        rate_limit,
    };
    if patch == KeyPatch::default() {
        return Err(ApiError::Validation(
            "the body changes nothing: set at least one field".to_owned(),
        ));
    }
    let now = state.now();
    keys::check_patch(&patch, now)?;
    let key = state
        .mutate(move |store| {
            if let Some(Some(tier)) = &patch.tier {
                store.check_key_tier(tier)?;
            }
            let record = store.update_key(&id, &patch, &caller.scope, &caller.actor, now)?;
            view(store, record)
        })
        .await?;
    state.metrics.count(KeyEvent::Updated);
    tracing::info!(key_id = %key.id, prefix = %key.prefix, "key updated");
    Ok(Json(key))
}

/// `DELETE /v1/keys/{id}`: revoke at once. Revoking again is 409 `key_revoked`.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked key", body = KeyView),
        (status = 404, description = "No such key in the caller's orgs", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<KeyView>, ApiError> {
    let now = state.now();
    let key = state
        .mutate(move |store| {
            view(
                store,
                store.revoke_key(&id, &caller.scope, &caller.actor, now)?,
            )
        })
        .await?;
    state.metrics.count(KeyEvent::Revoked);
    tracing::info!(key_id = %key.id, prefix = %key.prefix, "key revoked");
    Ok(Json(key))
}

/// `POST /v1/keys/{id}/rotate`: a new secret; the old ones work until the grace ends.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "keys", request_body = RotateKeyRequest,
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key and its new secret, shown only now", body = KeyWithSecret),
        (status = 404, description = "No such key in the caller's orgs", body = ErrorBody),
        (status = 409, description = "The key is revoked", body = ErrorBody),
        (status = 422, description = "Invalid grace", body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(req): Body<RotateKeyRequest>,
) -> Result<Json<KeyWithSecret>, ApiError> {
    let grace_secs = keys::check_grace(req.grace_secs)?;
    let minted = keys::mint_secret()?;
    let rotation = Rotation {
        digest: minted.digest,
        prefix: minted.prefix.clone(),
        grace_secs,
    };
    let now = state.now();
    let record = state
        .mutate(move |store| {
            let record = store.rotate_key(&id, &rotation, &caller.scope, &caller.actor, now)?;
            view(store, record)
        })
        .await?;
    state.metrics.count(KeyEvent::Rotated);
    tracing::info!(key_id = %record.id, prefix = %record.prefix, grace_secs, "key rotated");
    Ok(Json(KeyWithSecret {
        key: minted.secret,
        record,
    }))
}
