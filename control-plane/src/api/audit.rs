//! `GET /v1/audit`: every change, with actor, action, key and time, in the caller's orgs.

use crate::api::AppState;
use crate::api::admin_auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Params;
use crate::api::page::ListParams;
use crate::store::AuditEvent;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Monotonic id.
    pub id: i64,
    /// When, in Unix seconds.
    pub at: i64,
    /// `admin` (the bootstrap token) or `key:<key id>`.
    pub actor: String,
    /// `key.create`, `key.update`, `key.revoke`, `key.rotate`, `provider.*`, `tier.create`,
    /// `tier.update`, `tier.delete` or `org.update`.
    pub action: String,
    /// The org of the key or org acted on; empty for providers and tiers, which serve every
    /// org (so only the bootstrap admin sees their events).
    pub org_id: String,
    /// The key, provider or tier acted on; empty for an org.
    pub key_id: String,
    /// The revision the change committed at.
    pub revision: u64,
}

impl From<AuditEvent> for AuditView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            org_id: e.org_id,
            key_id: e.key_id,
            revision: e.revision,
        }
    }
}

/// A page of audit events, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The events.
    pub items: Vec<AuditView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/audit`.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit events", body = AuditPage),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<ListParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let query = params.into_query(&caller)?;
    let page = state.with_store(move |store| store.audit(&query)).await?;
    Ok(Json(AuditPage {
        items: page.items.into_iter().map(AuditView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
