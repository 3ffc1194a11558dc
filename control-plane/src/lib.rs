//! The Portcullis control-plane: owns API keys and their audit trail, and (later) pushes
//! key digests to every Envoy filter.
//!
//! [`run`] serves the API on a listener until a shutdown future completes; the binary and
//! the integration tests both call it, so tests exercise the real server.

pub mod api;
pub mod cli;
pub mod keys;
pub mod shutdown;
pub mod store;

use api::AppState;
use api::admin_auth::AdminToken;
use api::metrics::Metrics;
use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use store::{Store, UnixSecs};

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
    /// The time source (use [`system_clock`] outside tests).
    pub clock: Clock,
}

/// Serves the API on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish before returning.
pub async fn run(
    config: ServeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState {
        store: config.store,
        admin: Arc::new(config.admin_token),
        clock: config.clock,
        metrics: Arc::new(Metrics::default()),
    };
    let address = listener.local_addr()?;
    tracing::info!(%address, "control-plane listening");
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("control-plane stopped");
    Ok(())
}
