//! Mapping between `keys` rows and [`KeyRecord`]: the column list, JSON columns, and the
//! integer conversions SQLite needs.

use rusqlite::{Connection, Row, params};

use super::db_error;
use crate::store::{Actor, KeyRecord, StoreError, UnixSecs};

/// The `keys` columns in the order [`read_key`] expects; prefix with `k.` when joined.
pub(super) const KEY_COLUMNS: &str = "k.id, k.org_id, k.name, k.prefix, k.scopes, k.roles, \
     k.tier, k.meta, k.enabled, k.expires_at, k.created_at, k.updated_at, k.revoked_at";

/// A `keys` row with its JSON columns still text: `rusqlite` row closures can only fail
/// with `rusqlite::Error`, so decoding happens afterwards in [`RawKey::decode`].
pub(super) struct RawKey {
    id: String,
    org_id: String,
    name: String,
    prefix: String,
    scopes: String,
    roles: String,
    tier: Option<String>,
    meta: String,
    enabled: bool,
    expires_at: Option<UnixSecs>,
    created_at: UnixSecs,
    updated_at: UnixSecs,
    revoked_at: Option<UnixSecs>,
}

/// Reads [`KEY_COLUMNS`] starting at column `0`.
pub(super) fn read_key(row: &Row<'_>) -> rusqlite::Result<RawKey> {
    Ok(RawKey {
        id: row.get(0)?,
        org_id: row.get(1)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        scopes: row.get(4)?,
        roles: row.get(5)?,
        tier: row.get(6)?,
        meta: row.get(7)?,
        enabled: row.get(8)?,
        expires_at: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        revoked_at: row.get(12)?,
    })
}

impl RawKey {
    /// Parses the JSON columns; a failure means the file was written by something else.
    pub fn decode(self) -> Result<KeyRecord, StoreError> {
        let id = self.id;
        let json_error = |column: &str, e: serde_json::Error| {
            StoreError::Database(format!("key {id}: column {column} is not valid JSON: {e}"))
        };
        let scopes = serde_json::from_str(&self.scopes).map_err(|e| json_error("scopes", e))?;
        let roles = serde_json::from_str(&self.roles).map_err(|e| json_error("roles", e))?;
        let meta = serde_json::from_str(&self.meta).map_err(|e| json_error("meta", e))?;
        Ok(KeyRecord {
            id,
            org_id: self.org_id,
            name: self.name,
            prefix: self.prefix,
            scopes,
            roles,
            tier: self.tier,
            meta,
            enabled: self.enabled,
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// Inserts `record` as a new row.
pub(super) fn insert_key(conn: &rusqlite::Connection, record: &KeyRecord) -> rusqlite::Result<()> {
    let (scopes, roles, meta) = json_columns(record);
    conn.execute(
        "INSERT INTO keys (id, org_id, name, prefix, scopes, roles, tier, meta, enabled, \
         expires_at, created_at, updated_at, revoked_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            record.id,
            record.org_id,
            record.name,
            record.prefix,
            scopes,
            roles,
            record.tier,
            meta,
            record.enabled,
            record.expires_at,
            record.created_at,
            record.updated_at,
            record.revoked_at,
        ],
    )
    .map(|_| ())
}

/// Overwrites every mutable column of the row with `record.id`; `org_id` and `created_at`
/// never change.
pub(super) fn write_key(conn: &rusqlite::Connection, record: &KeyRecord) -> Result<(), StoreError> {
    let (scopes, roles, meta) = json_columns(record);
    conn.execute(
        "UPDATE keys SET name = ?2, prefix = ?3, scopes = ?4, roles = ?5, tier = ?6, \
         meta = ?7, enabled = ?8, expires_at = ?9, updated_at = ?10, revoked_at = ?11 \
         WHERE id = ?1",
        params![
            record.id,
            record.name,
            record.prefix,
            scopes,
            roles,
            record.tier,
            meta,
            record.enabled,
            record.expires_at,
            record.updated_at,
            record.revoked_at,
        ],
    )
    .map_err(db_error)?;
    Ok(())
}

/// Serializing `Vec<String>` and a JSON map cannot fail, so no error path is needed here.
fn json_columns(record: &KeyRecord) -> (String, String, String) {
    (
        serde_json::Value::from(record.scopes.clone()).to_string(),
        serde_json::Value::from(record.roles.clone()).to_string(),
        serde_json::Value::Object(record.meta.clone()).to_string(),
    )
}

/// A stored revision as the `u64` the contract uses; revisions are never negative.
pub(super) fn to_revision(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Database(format!("negative revision {value}")))
}

/// Takes the next revision (step 2 of the revision contract).
pub(super) fn next_revision(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row(
        "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
        [],
        |row| row.get(0),
    )
    .map_err(db_error)
}

/// Appends one audit event at `revision`.
pub(super) fn insert_audit(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    (org_id, key_id): (&str, &str),
    revision: i64,
    now: UnixSecs,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, org_id, key_id, revision) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, actor.0, action, org_id, key_id, revision],
    )
    .map(|_| ())
    .map_err(db_error)
}
