//! `Fetcher`: the handle to the JWKS fetcher, and the supervisor that keeps one fetch loop
//! running per live provider.
//!
//! The supervisor re-reads the provider list when told (`providers_changed`, after every
//! API change), every [`FetchSettings::reconcile_every`] (changes made through another
//! replica), and at start. A loop whose provider was deleted is aborted; one whose settings
//! changed is replaced, and the new one fetches at once.

use super::key_set::stored_kids;
use super::provider_task::{self, Context, Slot};
use super::{FetchError, FetchSettings, http_client::HttpClient};
use crate::Clock;
use crate::store::{ProviderState, Store, StoreError, UnixSecs};
use crate::sync::revision_feed::RevisionFeed;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What `request_refresh` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// A fetch starts now.
    Scheduled,
    /// The last good set has that `kid` already: nothing to learn.
    KnownKid,
    /// A fetch started too recently; the next may start this many seconds from now.
    RateLimited {
        /// Seconds until a refetch is allowed.
        retry_after_secs: i64,
    },
    /// No live provider has that id (or the fetcher has not started it yet).
    UnknownProvider,
}

/// A handle to the running fetcher; cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: Arc<Context>,
    loops: Mutex<HashMap<String, Loop>>,
    changed: Notify,
}

/// A running provider loop.
struct Loop {
    settings_revision: u64,
    slot: Arc<Slot>,
    task: JoinHandle<()>,
}

impl Inner {
    fn loops(&self) -> MutexGuard<'_, HashMap<String, Loop>> {
        self.loops.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Fetcher {
    /// Starts the supervisor, which runs until `shutdown` completes and then stops every
    /// loop; await the returned handle to know it has.
    pub fn start(
        store: Arc<dyn Store>,
        clock: Clock,
        feed: RevisionFeed,
        settings: FetchSettings,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(Self, JoinHandle<()>), FetchError> {
        let ctx = Context {
            client: HttpClient::new(&settings)?,
            store,
            clock,
            settings,
            feed,
        };
        let inner = Arc::new(Inner {
            ctx: Arc::new(ctx),
            loops: Mutex::new(HashMap::new()),
            changed: Notify::new(),
        });
        let supervisor = tokio::spawn(supervise(Arc::clone(&inner), shutdown));
        Ok((Self { inner }, supervisor))
    }

    /// Tells the supervisor the providers changed; it re-reads them at once.
    pub fn providers_changed(&self) {
        self.inner.changed.notify_one();
    }

    /// Asks for an early refetch because a sidecar saw a token with `kid` that the last good
    /// set lacks (the issuer may have rotated). At most one such fetch per provider per
    /// [`FetchSettings::min_kid_refresh_secs`], counted from the last fetch of any kind.
    pub fn request_refresh(&self, provider_id: &str, kid: &str) -> RefreshDecision {
        let loops = self.inner.loops();
        let Some(running) = loops.get(provider_id) else {
            return RefreshDecision::UnknownProvider;
        };
        let mut state = running.slot.state();
        if state.known_kids.contains(kid) {
            return RefreshDecision::KnownKid;
        }
        let now: UnixSecs = (self.inner.ctx.clock)();
        let min = self.inner.ctx.settings.min_kid_refresh_secs;
        if let Some(at) = state.last_attempt_at
            && now.saturating_sub(at) < min
        {
            return RefreshDecision::RateLimited {
                retry_after_secs: min - now.saturating_sub(at),
            };
        }
        // Granted now, so concurrent askers are limited before the loop wakes.
        state.last_attempt_at = Some(now);
        running.slot.wake.notify_one();
        tracing::info!(provider_id, kid, "jwks refetch for an unknown kid");
        RefreshDecision::Scheduled
    }
}

async fn supervise(inner: Arc<Inner>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        if let Err(err) = reconcile(&inner).await {
            tracing::warn!(%err, "cannot read the providers; fetch loops unchanged");
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = inner.changed.notified() => {}
            () = tokio::time::sleep(inner.ctx.settings.reconcile_every) => {}
        }
    }
    for (_, running) in inner.loops().drain() {
        running.task.abort();
    }
    tracing::info!("jwks fetcher stopped");
}

/// Starts, replaces and stops loops so there is one per live provider, with its current
/// settings.
async fn reconcile(inner: &Inner) -> Result<(), StoreError> {
    let store = Arc::clone(&inner.ctx.store);
    let live: Vec<ProviderState> = tokio::task::spawn_blocking(move || store.provider_snapshot())
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))??;
    let mut loops = inner.loops();
    loops.retain(|id, running| {
        let keep = live
            .iter()
            .any(|p| p.record.id == *id && p.record.settings_revision == running.settings_revision);
        if !keep {
            running.task.abort();
        }
        keep
    });
    for state in live {
        if loops.contains_key(&state.record.id) {
            continue;
        }
        let slot = Arc::new(Slot::new(
            state.jwks.as_deref().map(stored_kids).unwrap_or_default(),
        ));
        let id = state.record.id.clone();
        tracing::info!(provider_id = %id, issuer = %state.record.provider.issuer, "jwks fetch loop started");
        let task = tokio::spawn(provider_task::run(
            Arc::clone(&inner.ctx),
            state.record.clone(),
            Arc::clone(&slot),
        ));
        loops.insert(
            id,
            Loop {
                settings_revision: state.record.settings_revision,
                slot,
                task,
            },
        );
    }
    Ok(())
}
