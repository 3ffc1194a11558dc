//! Schema migrations for the SQLite store: numbered SQL files embedded in the binary, the
//! applied version tracked in `PRAGMA user_version`.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction together with the version
//! bump, so a crash leaves the file at a whole version, and two processes opening the same
//! file at once cannot both apply one.

use rusqlite::{Connection, TransactionBehavior};

use super::db_error;
use crate::store::StoreError;

/// Every migration in order; entry `n` brings the schema to version `n + 1`.
/// A merged migration is never edited: append a new file instead.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        "0002_providers",
        include_str!("../../../migrations/sqlite/0002_providers.sql"),
    ),
];

/// Applies every migration the file has not seen yet; a no-op on an up-to-date file.
pub(super) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let latest = latest_version();
    let found = schema_version(conn)?;
    if found > latest {
        return Err(StoreError::Database(format!(
            "database schema version {found} is newer than this build's {latest}"
        )));
    }
    for (version, (name, sql)) in (1_i64..).zip(MIGRATIONS) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        // Read inside the write lock: another process may have migrated meanwhile.
        if schema_version(&tx)? >= version {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| {
            StoreError::Database(format!("migration {name} failed: {}", db_error(e)))
        })?;
        tx.pragma_update(None, "user_version", version)
            .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
    }
    Ok(())
}

/// The version the embedded migrations bring a file to.
fn latest_version() -> i64 {
    // A handful of entries: the conversion cannot saturate.
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// The version recorded in the file header (0 for a new file).
fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(db_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &std::path::Path) -> Connection {
        Connection::open(path).expect("open test database")
    }

    #[test]
    fn a_new_file_is_migrated_to_the_latest_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = open(&dir.path().join("db.sqlite"));
        apply(&mut conn).expect("migrate");
        assert_eq!(schema_version(&conn).expect("version"), latest_version());
    }

    #[test]
    fn migrating_twice_applies_nothing_the_second_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.sqlite");
        apply(&mut open(&path)).expect("first migration");
        // Re-running 0001 would fail on CREATE TABLE, so success proves it was skipped.
        let mut conn = open(&path);
        apply(&mut conn).expect("second migration");
        let value: i64 = conn
            .query_row("SELECT value FROM revision", [], |row| row.get(0))
            .expect("revision row");
        assert_eq!(value, 0);
    }

    #[test]
    fn a_file_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = open(&dir.path().join("db.sqlite"));
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .expect("set version");
        let err = apply(&mut conn).expect_err("newer schema must be refused");
        assert!(
            matches!(err, StoreError::Database(ref d) if d.contains("newer")),
            "{err}"
        );
    }
}
