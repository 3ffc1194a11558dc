//! The Portcullis control-plane: owns API keys, OIDC providers and their audit trail,
//! fetches each provider's JWKS, and serves key digests to every Envoy filter's syncer
//! (`GET /v1/sync`).
//!
//! [`run`] serves the API on a listener until a shutdown future completes; the binary and
//! the integration tests both call it, so tests exercise the real server. The same binary
//! also runs the rate-limit service Envoy calls ([`ratelimit`], `portcullis ratelimit serve`),
//! renders the control-plane's rate-limit tiers for it and for Envoy ([`ratelimit::tiers`]),
//! and explains JWTs offline with the filter's verifier ([`jwt_verify`], `portcullis jwt verify`).

pub mod api;
pub mod cli;
pub mod jwks;
pub mod jwt_verify;
pub mod keys;
pub mod providers;
pub mod ratelimit;
pub mod shutdown;
pub mod store;
pub mod sync;

use anyhow::Context as _;
use api::AppState;
use api::admin_auth::AdminToken;
use api::metrics::Metrics;
use api::sync::SyncState;
use api::sync_auth::SyncToken;
use jwks::{FetchSettings, Fetcher};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use store::{Store, UnixSecs};
use sync::revision_feed::RevisionFeed;
use sync::sidecars::Sidecars;

/// A source of the current time in Unix seconds, injected so tests can move it.
pub type Clock = Arc<dyn Fn() -> UnixSecs + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// Everything `run` needs besides the listener.
pub struct ServeConfig {
    /// All persistent state, already opened and migrated.
    pub store: Arc<dyn Store>,
    /// The bootstrap admin token.
    pub admin_token: AdminToken,
    /// The token the sidecars' syncers present to `GET /v1/sync`.
    pub sync_token: SyncToken,
    /// Entries per sync page ([`sync::PAGE_SIZE`] outside tests).
    pub sync_page_size: u32,
    /// The time source (use [`system_clock`] outside tests).
    pub clock: Clock,
    /// A JSON file of providers to upsert by issuer before serving (`--providers`).
    pub providers_file: Option<PathBuf>,
    /// Timeouts, limits and schedule of the JWKS fetcher.
    pub jwks: FetchSettings,
}

/// Applies the providers file (if any), starts the JWKS fetcher and serves the API on
/// `listener` until `shutdown` completes; then stops accepting, answers held long-polls at
/// once, stops the fetcher and lets in-flight requests finish before returning.
pub async fn run(
    config: ServeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Some(path) = &config.providers_file {
        let providers = providers::config_file::load(path)?;
        let (store, now) = (Arc::clone(&config.store), (config.clock)());
        let done = tokio::task::spawn_blocking(move || {
            providers::config_file::upsert(store.as_ref(), providers, now)
        })
        .await??;
        tracing::info!(file = %path.display(), created = done.created, updated = done.updated,
            unchanged = done.unchanged, "providers file applied");
    }
    let revision = {
        let store = Arc::clone(&config.store);
        tokio::task::spawn_blocking(move || store.revision()).await??
    };
    let feed = RevisionFeed::new(revision);
    let (stop_fetcher, fetcher_stopped) = tokio::sync::watch::channel(false);
    let (fetcher, fetcher_task) = Fetcher::start(
        Arc::clone(&config.store),
        Arc::clone(&config.clock),
        feed.clone(),
        config.jwks,
        async move {
            let mut stopped = fetcher_stopped;
            // An error means the sender is gone, which is a stop too.
            let _ = stopped.wait_for(|stop| *stop).await;
        },
    )
    .context("cannot start the jwks fetcher")?;
    let state = AppState {
        store: config.store,
        admin: Arc::new(config.admin_token),
        clock: config.clock,
        jwks: fetcher,
        metrics: Arc::new(Metrics::default()),
        sync: SyncState {
            token: Arc::new(config.sync_token),
            feed: feed.clone(),
            sidecars: Arc::new(Sidecars::default()),
            page_size: config.sync_page_size,
        },
    };
    let address = listener.local_addr()?;
    tracing::info!(%address, revision, "control-plane listening");
    // The peer address is what `/v1/sidecars` shows for each syncer.
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            feed.close();
            stop_fetcher.send_replace(true);
        })
        .await?;
    fetcher_task.await?;
    tracing::info!("control-plane stopped");
    Ok(())
}
