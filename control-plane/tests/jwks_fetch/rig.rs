//! `Rig`: a SQLite store in a temporary directory, a running [`Fetcher`] with a manual
//! clock, and the revision feed it publishes to.

use portcullis_control_plane::Clock;
use portcullis_control_plane::jwks::{FetchSettings, Fetcher, RefreshDecision};
use portcullis_control_plane::providers::{self, ProviderConfig};
use portcullis_control_plane::store::sqlite::SqliteStore;
use portcullis_control_plane::store::{Actor, JwksStatus, Store};
use portcullis_control_plane::sync::revision_feed::RevisionFeed;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::DEADLINE;
use super::support::START;

/// A store, a running fetcher, a manual clock and the revision feed.
pub struct Rig {
    pub store: Arc<SqliteStore>,
    pub fetcher: Fetcher,
    pub feed: RevisionFeed,
    now: Arc<AtomicI64>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start(settings: FetchSettings) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("portcullis.db")).unwrap());
        let now = Arc::new(AtomicI64::new(START));
        let clock_now = Arc::clone(&now);
        let clock: Clock = Arc::new(move || clock_now.load(Ordering::SeqCst));
        let feed = RevisionFeed::new(0);
        let (stop, stopped) = oneshot::channel::<()>();
        let (fetcher, task) = Fetcher::start(
            Arc::clone(&store) as Arc<dyn Store>,
            clock,
            feed.clone(),
            settings,
            async {
                let _ = stopped.await;
            },
        )
        .unwrap();
        Rig {
            store,
            fetcher,
            feed,
            now,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Creates a provider for `config` and tells the fetcher; returns its id.
    pub fn create(&self, config: Value) -> String {
        let config: ProviderConfig = serde_json::from_value(config).unwrap();
        let provider = providers::check(config).unwrap();
        let id = providers::mint_id().unwrap();
        let actor = Actor("admin".to_owned());
        self.store
            .create_provider(&id, &provider, &actor, self.now())
            .unwrap();
        self.fetcher.providers_changed();
        id
    }

    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn revision(&self) -> u64 {
        self.store.revision().unwrap()
    }

    /// Polls the provider's JWKS status until `done` holds.
    pub async fn status_when(&self, id: &str, done: impl Fn(&JwksStatus) -> bool) -> JwksStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let status = self.store.jwks_status(id).unwrap();
            if done(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "still {status:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Lets the `kid` rate limit pass, then asks for a refetch as a sidecar would.
    pub fn force_refetch(&self, id: &str) {
        self.advance(30);
        let decision = self.fetcher.request_refresh(id, "kid-nobody-has");
        assert_eq!(decision, RefreshDecision::Scheduled);
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(DEADLINE, self.task.take().unwrap())
            .await
            .expect("the fetcher stops promptly")
            .unwrap();
    }
}
