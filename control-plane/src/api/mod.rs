//! The HTTP API: shared state and the router, one line per route.
//!
//! Every `/v1` handler takes a [`admin_auth::Caller`] — except `/v1/sync`, which takes a
//! [`sync_auth::SyncCaller`] — so none can run unauthenticated; the probes, `/metrics` and
//! `/openapi.json` are open.

pub mod admin_auth;
pub mod audit;
pub mod error;
pub mod extract;
pub mod health;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod orgs;
pub mod page;
pub mod providers;
pub mod ratelimit;
pub mod shared_token;
pub mod sync;
pub mod sync_auth;
pub mod tiers;
pub mod unknown_kid;

use crate::Clock;
use crate::jwks::Fetcher;
use crate::store::{Store, StoreError, UnixSecs};
use admin_auth::AdminToken;
use axum::Router;
use axum::routing::{get, post};
use error::ApiError;
use metrics::Metrics;
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// All persistent state.
    pub store: Arc<dyn Store>,
    /// The bootstrap admin token's digest.
    pub admin: Arc<AdminToken>,
    /// The time source; tests inject a manual one.
    pub clock: Clock,
    /// The JWKS fetcher: told of provider changes, asked for refetches on unknown `kid`s.
    pub jwks: Fetcher,
    /// Process counters.
    pub metrics: Arc<Metrics>,
    /// The sync token, the long-poll wake-ups and the sidecars seen.
    pub sync: sync::SyncState,
}

impl AppState {
    /// The current time from the injected clock.
    pub fn now(&self) -> UnixSecs {
        (self.clock)()
    }

    /// Runs a store call on a blocking thread: the store is synchronous (SQLite), and a
    /// slow query must not stall the async workers.
    pub async fn with_store<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || call(store.as_ref())).await??)
    }

    /// Runs a mutation like [`AppState::with_store`], then publishes the store's revision
    /// so long-polls held on this replica answer at once. The revision is read after the
    /// commit, so it is at least the mutation's own.
    pub async fn mutate<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (out, revision) = self
            .with_store(move |store| Ok((call(store)?, store.revision())))
            .await?;
        match revision {
            Ok(revision) => self.sync.feed.publish(revision),
            // The change is committed: do not fail the request. Held long-polls still see
            // it when their `wait` ends.
            Err(err) => tracing::warn!(%err, "cannot read the revision to wake long-polls"),
        }
        Ok(out)
    }
}

/// Every route of the control-plane.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route(
            "/v1/keys/{id}",
            get(keys::get).patch(keys::update).delete(keys::revoke),
        )
        .route("/v1/keys/{id}/rotate", post(keys::rotate))
        .route(
            "/v1/providers",
            post(providers::create).get(providers::list),
        )
        .route(
            "/v1/providers/{id}",
            get(providers::get)
                .patch(providers::update)
                .delete(providers::delete),
        )
        .route("/v1/providers/{id}/jwks", get(providers::jwks))
        .route("/v1/tiers", get(tiers::list))
        .route(
            "/v1/tiers/{name}",
            get(tiers::get).put(tiers::put).delete(tiers::delete),
        )
        .route("/v1/orgs/{org_id}", get(orgs::get).patch(orgs::update))
        .route("/v1/ratelimit/config", get(ratelimit::config))
        .route("/v1/ratelimit/local", get(ratelimit::local))
        .route("/v1/audit", get(audit::list))
        .route("/v1/sync", get(sync::sync))
        .route("/v1/sync/unknown-kid", post(unknown_kid::report))
        .route("/v1/sidecars", get(sync::sidecars))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
