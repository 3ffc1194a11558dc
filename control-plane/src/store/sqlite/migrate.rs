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
    (
        "0003_ratelimit",
        include_str!("../../../migrations/sqlite/0003_ratelimit.sql"),
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
    fn every_tier_name_keys_carried_before_tiers_becomes_a_tier_with_default_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = open(&dir.path().join("db.sqlite"));
        // A file as the build before rate-limit tiers left it.
        for (version, (_, sql)) in (1_i64..).zip(&MIGRATIONS[..2]) {
            conn.execute_batch(sql).expect("old migration");
            conn.pragma_update(None, "user_version", version)
                .expect("set version");
        }
        for (id, tier) in [
            ("key_a", Some("gold")),
            ("key_b", Some("gold")),
            ("key_c", Some("Legacy_Tier")),
            ("key_d", Some("default")),
            ("key_e", None),
        ] {
            conn.execute(
                "INSERT INTO keys (id, org_id, name, prefix, scopes, roles, tier, meta, \
                 enabled, created_at, updated_at) \
                 VALUES (?1, 'acme', 'n', 'sk_x', '[]', '[]', ?2, '{}', 1, 0, 0)",
                rusqlite::params![id, tier],
            )
            .expect("old key");
        }
        apply(&mut conn).expect("migrate");
        let mut stmt = conn
            .prepare("SELECT name, per_ip, per_key, per_org FROM tiers ORDER BY name")
            .expect("tiers");
        let tiers: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(Iterator::collect)
            .expect("rows");
        let names: Vec<&str> = tiers.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(names, ["Legacy_Tier", "default", "gold"]);
        let default_limits =
            |t: &(String, String, String, String)| (t.1.clone(), t.2.clone(), t.3.clone());
        assert!(
            tiers
                .iter()
                .all(|t| default_limits(t) == default_limits(&tiers[1]))
        );
        assert_eq!(
            tiers[1].2, r#"{"requests_per_unit":120,"unit":"minute"}"#,
            "default per-key limit"
        );
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
