//! One provider's fetch loop: fetch, record the outcome, sleep until the next refresh (or a
//! retry, or a wake-up for an unknown `kid`), repeat until aborted.
//!
//! The loop fetches with the settings it was started with; when they change the
//! [`super::Fetcher`] aborts it and starts another, and the store refuses to save what a
//! stale loop fetched (its `settings_revision` no longer matches).

use super::backoff::random_unit;
use super::discovery;
use super::http_client::HttpClient;
use super::key_set::{NormalizedJwks, usable_keys};
use super::{ACTOR, FetchError, FetchSettings};
use crate::Clock;
use crate::providers::check_fetch_url;
use crate::store::{
    Actor, JwksFailure, JwksFetched, JwksSaved, Provider, ProviderRecord, Store, StoreError,
    UnixSecs,
};
use crate::sync::revision_feed::RevisionFeed;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// What every provider loop uses.
pub(super) struct Context {
    /// Where sets and failures are recorded.
    pub store: Arc<dyn Store>,
    /// Timestamps and the `kid` rate limit.
    pub clock: Clock,
    /// Timeouts, limits and schedule.
    pub settings: FetchSettings,
    /// The HTTP client, shared.
    pub client: HttpClient,
    /// Woken when a saved set takes a revision, so held long-polls answer at once.
    pub feed: RevisionFeed,
}

/// What a provider loop shares with the [`super::Fetcher`] handle.
#[derive(Debug)]
pub(super) struct Slot {
    /// Wakes the loop for an early fetch.
    pub wake: Notify,
    state: Mutex<SlotState>,
}

/// The loop's view of its provider, read by `request_refresh`.
#[derive(Debug)]
pub(super) struct SlotState {
    /// The `kid`s of the last good set.
    pub known_kids: BTreeSet<String>,
    /// When the last fetch started (or an early one was granted).
    pub last_attempt_at: Option<UnixSecs>,
}

impl Slot {
    /// A slot that starts from the stored set's `kid`s.
    pub fn new(known_kids: BTreeSet<String>) -> Self {
        Self {
            wake: Notify::new(),
            state: Mutex::new(SlotState {
                known_kids,
                last_attempt_at: None,
            }),
        }
    }

    /// The shared state; a panic elsewhere cannot leave it inconsistent (plain fields).
    pub fn state(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Fetches `record`'s JWKS now and then forever; abort the task to stop it.
pub(super) async fn run(ctx: Arc<Context>, record: ProviderRecord, slot: Arc<Slot>) {
    let mut failures: u32 = 0;
    loop {
        slot.state().last_attempt_at = Some((ctx.clock)());
        let outcome = match fetch(&ctx, &record.provider).await {
            Ok((set, freshness)) => {
                let delay = ctx.settings.refresh.refresh_after(freshness);
                // Known before the commit, so no one who reads the saved set can ask for a
                // refetch of its keys; if the save fails, the backoff retries anyway.
                slot.state().known_kids = set.kids();
                save(&ctx, &record, &set, delay).await.map(|()| delay)
            }
            Err(err) => Err(err.to_string()),
        };
        let delay = match outcome {
            Ok(delay) => {
                failures = 0;
                delay
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let delay = ctx.settings.backoff.delay(failures, random_unit());
                tracing::warn!(provider_id = %record.id, issuer = %record.provider.issuer,
                    failures, retry_in_ms = delay.as_millis(), %error,
                    "jwks fetch failed; the last good set stays");
                record_failure(&ctx, &record, error, delay).await;
                delay
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = slot.wake.notified() => {}
        }
    }
}

/// Discovery (unless `jwks_uri` is set), the JWKS, and its usable keys.
async fn fetch(
    ctx: &Context,
    provider: &Provider,
) -> Result<(NormalizedJwks, Option<Duration>), FetchError> {
    let url = match &provider.jwks_uri {
        // Checked when configured; checked again so no path fetches an unchecked URL.
        Some(uri) => check_fetch_url(uri).map_err(|reason| FetchError::Request {
            url: uri.clone(),
            detail: reason,
        })?,
        None => discovery::jwks_uri(&ctx.client, &provider.issuer).await?,
    };
    let fetched = ctx.client.get(&url).await?;
    let set = usable_keys(&fetched.body).map_err(|source| FetchError::Jwks {
        url: url.to_string(),
        source,
    })?;
    Ok((set, fetched.freshness))
}

/// Records a good set; a changed one wakes the long-polls. A store failure is returned as
/// a failure of this attempt, so it is retried with backoff.
async fn save(
    ctx: &Context,
    record: &ProviderRecord,
    set: &NormalizedJwks,
    delay: Duration,
) -> Result<(), String> {
    let now = (ctx.clock)();
    let fetched = JwksFetched {
        settings_revision: record.settings_revision,
        jwks: set.to_json(),
        next_refresh_at: after(now, delay),
    };
    let id = record.id.clone();
    let saved = blocking(ctx, move |store| {
        store.save_jwks(&id, &fetched, &Actor(ACTOR.to_owned()), now)
    })
    .await
    .map_err(|e| format!("cannot save the fetched jwks: {e}"))?;
    match saved {
        JwksSaved::Changed(revision) => {
            ctx.feed.publish(revision);
            for left_out in &set.rejected {
                tracing::warn!(provider_id = %record.id, index = left_out.index,
                    defect = %left_out.defect, "jwks key left out");
            }
            tracing::info!(provider_id = %record.id, revision, keys = set.keys.len(),
                kids = ?set.kids(), "jwks changed");
        }
        JwksSaved::Unchanged => {
            tracing::debug!(provider_id = %record.id, "jwks unchanged");
        }
        JwksSaved::Superseded => {
            tracing::debug!(provider_id = %record.id, "provider changed during the fetch");
        }
    }
    Ok(())
}

async fn record_failure(ctx: &Context, record: &ProviderRecord, error: String, delay: Duration) {
    let now = (ctx.clock)();
    let failure = JwksFailure {
        settings_revision: record.settings_revision,
        error,
        next_refresh_at: after(now, delay),
    };
    let id = record.id.clone();
    if let Err(err) = blocking(ctx, move |store| {
        store.record_jwks_failure(&id, &failure, now)
    })
    .await
    {
        tracing::warn!(provider_id = %record.id, %err, "cannot record the jwks failure");
    }
}

/// `now` plus `delay` rounded up to whole seconds.
fn after(now: UnixSecs, delay: Duration) -> UnixSecs {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Runs a store call on a blocking thread (the store is synchronous).
async fn blocking<T: Send + 'static>(
    ctx: &Context,
    call: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = Arc::clone(&ctx.store);
    tokio::task::spawn_blocking(move || call(store.as_ref()))
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_refresh_rounds_up_to_whole_seconds() {
        assert_eq!(after(100, Duration::from_secs(60)), 160);
        assert_eq!(after(100, Duration::from_millis(1500)), 102);
        assert_eq!(after(i64::MAX - 1, Duration::from_secs(60)), i64::MAX);
    }
}
