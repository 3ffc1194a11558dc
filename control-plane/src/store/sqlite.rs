//! `SqliteStore`: the embedded default [`Store`], one SQLite file in WAL mode.
//!
//! One connection behind a mutex: SQLite serializes writers anyway, and a single connection
//! keeps every mutation's `BEGIN IMMEDIATE` transaction free of `SQLITE_BUSY` inside the
//! process. A second connection, on its own thread, checkpoints the WAL once a second, so
//! no request's commit pays for a checkpoint. The schema lives in `migrations/sqlite/`, applied on open (see [`migrate`]).
//! Queries are in [`reads`], mutations in [`writes`] (providers: `provider_rows` and
//! `providers`; rate limits: `tiers`); this file owns the connection and the transaction boundary of each
//! mutation.

mod cursor;
mod migrate;
mod provider_rows;
mod providers;
mod reads;
mod rows;
mod tiers;
mod writes;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::{
    Actor, AuditEvent, Change, Digest, JwksFailure, JwksFetched, JwksSaved, JwksStatus, KeyPatch,
    KeyRecord, Limit, ListQuery, NewKey, OrgLimits, OrgScope, Page, Provider, ProviderChange,
    ProviderPatch, ProviderRecord, ProviderState, RateLimitPolicy, Rotation, Secret, Store,
    StoreError, TierLimits, TierPut, TierRecord, UnixSecs,
};

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the checkpointer folds the WAL back into the database file.
const CHECKPOINT_PERIOD: Duration = Duration::from_secs(1);

/// The SQLite-backed [`Store`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Held, never sent on: dropping the store disconnects it, which stops the checkpointer.
    _checkpointer: mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to
    /// date; re-opening an up-to-date file applies nothing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(db_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
        // WAL lets readers (other processes, backups) run beside the writer.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "journal_mode is {mode}, expected wal"
            )));
        }
        // NORMAL is crash-safe in WAL mode; only the last commits can be lost on power loss.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(db_error)?;
        // SQLite's automatic checkpoint runs inside whichever commit crosses 1000 WAL pages
        // and fsyncs there: measured as a 10-15 ms key creation every ~80. The checkpointer
        // thread does it instead.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db_error)?;
        migrate::apply(&mut conn)?;
        let checkpointer = checkpointer(path)?;
        Ok(Self {
            conn: Mutex::new(conn),
            _checkpointer: checkpointer,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        // A panic mid-transaction dropped (rolled back) the transaction, but refuse to
        // guess: report it and let the operator restart.
        self.conn
            .lock()
            .map_err(|_| StoreError::Database("sqlite connection mutex poisoned".to_owned()))
    }

    /// Runs `mutation` in one `BEGIN IMMEDIATE` transaction: committed on `Ok`, rolled back
    /// (by dropping the transaction) on `Err`, so nothing is ever half-written.
    fn write<T>(
        &self,
        mutation: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let out = mutation(&tx)?;
        tx.commit().map_err(db_error)?;
        Ok(out)
    }
}

/// Starts the checkpointer on its own connection to `path`; it stops when the returned
/// sender is dropped. A PASSIVE checkpoint never waits for the writer, so commits go on
/// meanwhile.
fn checkpointer(path: &Path) -> Result<mpsc::Sender<()>, StoreError> {
    let conn = Connection::open(path).map_err(db_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".to_owned())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_PERIOD) {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                }
            }
        })
        .map_err(|e| StoreError::Database(format!("cannot start the checkpointer: {e}")))?;
    Ok(stop)
}

impl Store for SqliteStore {
    fn create_key(
        &self,
        new: NewKey,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError> {
        self.write(|conn| writes::create_key(conn, new, actor, now))
    }

    fn get_key(&self, id: &str, scope: &OrgScope) -> Result<KeyRecord, StoreError> {
        reads::key_in_scope(&*self.lock()?, id, scope)
    }

    fn list_keys(&self, query: &ListQuery) -> Result<Page<KeyRecord>, StoreError> {
        reads::list_keys(&*self.lock()?, query)
    }

    fn update_key(
        &self,
        id: &str,
        patch: &KeyPatch,
        scope: &OrgScope,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError> {
        self.write(|conn| writes::update_key(conn, id, patch, scope, actor, now))
    }

    fn revoke_key(
        &self,
        id: &str,
        scope: &OrgScope,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError> {
        self.write(|conn| writes::revoke_key(conn, id, scope, actor, now))
    }

    fn rotate_key(
        &self,
        id: &str,
        rotation: &Rotation,
        scope: &OrgScope,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<KeyRecord, StoreError> {
        self.write(|conn| writes::rotate_key(conn, id, rotation, scope, actor, now))
    }

    fn find_by_digest(&self, digest: &Digest) -> Result<Option<(KeyRecord, Secret)>, StoreError> {
        reads::find_by_digest(&*self.lock()?, digest)
    }

    fn audit(&self, query: &ListQuery) -> Result<Page<AuditEvent>, StoreError> {
        reads::list_audit(&*self.lock()?, query)
    }

    fn revision(&self) -> Result<u64, StoreError> {
        reads::revision(&*self.lock()?)
    }

    fn changes_since(&self, since: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        reads::changes_since(&*self.lock()?, since, limit)
    }

    fn snapshot_page(
        &self,
        after: Option<&Digest>,
        limit: u32,
    ) -> Result<Vec<(KeyRecord, Secret)>, StoreError> {
        reads::snapshot_page(&*self.lock()?, after, limit)
    }

    fn create_provider(
        &self,
        id: &str,
        provider: &Provider,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<ProviderRecord, StoreError> {
        self.write(|conn| providers::create_provider(conn, id, provider, actor, now))
    }

    fn get_provider(&self, id: &str) -> Result<ProviderRecord, StoreError> {
        provider_rows::live(&*self.lock()?, id).map(|row| row.record)
    }

    fn list_providers(&self) -> Result<Vec<ProviderRecord>, StoreError> {
        let rows = provider_rows::all_live(&*self.lock()?)?;
        Ok(rows.into_iter().map(|row| row.record).collect())
    }

    fn update_provider(
        &self,
        id: &str,
        patch: &ProviderPatch,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<ProviderRecord, StoreError> {
        self.write(|conn| providers::update_provider(conn, id, patch, actor, now))
    }

    fn delete_provider(
        &self,
        id: &str,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<ProviderRecord, StoreError> {
        self.write(|conn| providers::delete_provider(conn, id, actor, now))
    }

    fn jwks_status(&self, id: &str) -> Result<JwksStatus, StoreError> {
        provider_rows::live(&*self.lock()?, id).map(|row| row.status)
    }

    fn save_jwks(
        &self,
        id: &str,
        fetched: &JwksFetched,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<JwksSaved, StoreError> {
        self.write(|conn| providers::save_jwks(conn, id, fetched, actor, now))
    }

    fn record_jwks_failure(
        &self,
        id: &str,
        failure: &JwksFailure,
        now: UnixSecs,
    ) -> Result<bool, StoreError> {
        self.write(|conn| providers::record_jwks_failure(conn, id, failure, now))
    }

    fn providers_changed_since(&self, since: u64) -> Result<Vec<ProviderChange>, StoreError> {
        provider_rows::changed_since(&*self.lock()?, since)
    }

    fn provider_snapshot(&self) -> Result<Vec<ProviderState>, StoreError> {
        let rows = provider_rows::all_live(&*self.lock()?)?;
        Ok(rows.into_iter().map(|row| row.into_state()).collect())
    }

    fn list_tiers(&self) -> Result<Vec<TierRecord>, StoreError> {
        tiers::list_tiers(&*self.lock()?)
    }

    fn get_tier(&self, name: &str) -> Result<TierRecord, StoreError> {
        tiers::get_tier(&*self.lock()?, name)
    }

    fn put_tier(
        &self,
        name: &str,
        limits: &TierLimits,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<TierPut, StoreError> {
        self.write(|conn| tiers::put_tier(conn, name, limits, actor, now))
    }

    fn delete_tier(
        &self,
        name: &str,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<TierRecord, StoreError> {
        self.write(|conn| tiers::delete_tier(conn, name, actor, now))
    }

    fn org_limits(&self, org_id: &str) -> Result<OrgLimits, StoreError> {
        tiers::org_limits(&*self.lock()?, org_id)
    }

    fn set_org_limit(
        &self,
        org_id: &str,
        limit: Option<Limit>,
        actor: &Actor,
        now: UnixSecs,
    ) -> Result<OrgLimits, StoreError> {
        self.write(|conn| tiers::set_org_limit(conn, org_id, limit, actor, now))
    }

    fn key_limits(&self, ids: &[String]) -> Result<BTreeMap<String, Limit>, StoreError> {
        tiers::key_limits(&*self.lock()?, ids)
    }

    fn rate_limit_policy(&self) -> Result<RateLimitPolicy, StoreError> {
        tiers::policy(&*self.lock()?)
    }
}

/// Wraps a SQLite failure for the log. rusqlite messages name tables and columns, never
/// bound values, so no secret material reaches the detail.
fn db_error(error: rusqlite::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_an_existing_file_twice_keeps_its_data_and_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("portcullis.db");
        drop(SqliteStore::open(&path).expect("first open"));
        let store = SqliteStore::open(&path).expect("second open");
        assert_eq!(store.revision().expect("revision"), 0);
    }

    #[test]
    fn open_turns_on_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("portcullis.db")).expect("open");
        let conn = store.lock().expect("lock");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .expect("journal_mode");
        let foreign_keys: bool = conn
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))
            .expect("foreign_keys");
        assert_eq!((mode.as_str(), foreign_keys), ("wal", true));
    }

    #[test]
    fn commits_leave_checkpoints_to_the_checkpointer_thread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("portcullis.db");
        let store = SqliteStore::open(&path).expect("open");
        let autocheckpoint: i64 = store
            .lock()
            .expect("lock")
            .pragma_query_value(None, "wal_autocheckpoint", |row| row.get(0))
            .expect("wal_autocheckpoint");
        assert_eq!(autocheckpoint, 0, "no commit checkpoints by itself");
        let before = std::fs::metadata(&path).expect("db file").len();
        store
            .write(|conn| {
                conn.execute_batch(
                    "CREATE TABLE filler (x BLOB); \
                     INSERT INTO filler VALUES (zeroblob(200000));",
                )
                .map_err(db_error)
            })
            .expect("write");
        // Only a checkpoint copies WAL frames into the database file.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).expect("db file").len() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_missing_directory_is_a_database_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = SqliteStore::open(&dir.path().join("absent/portcullis.db"))
            .expect_err("no such directory");
        assert!(matches!(err, StoreError::Database(_)), "{err}");
    }
}
