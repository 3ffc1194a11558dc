//! Reading `providers` rows: the column list, the JSON settings column, and the queries
//! the API, the fetcher and the sync make. They take a plain `Connection` so the writes in
//! [`super::providers`] can reuse them inside their transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db_error;
use super::rows::to_revision;
use crate::store::{
    JwksStatus, Provider, ProviderChange, ProviderRecord, ProviderState, StoreError, UnixSecs,
};

/// The `providers` columns in the order [`read_row`] expects.
const COLUMNS: &str = "id, settings, created_at, updated_at, deleted_at, settings_revision, \
     revision, jwks, jwks_fetched_at, jwks_next_refresh_at, jwks_last_error, \
     jwks_last_error_at, jwks_failures";

/// One `providers` row, live or tombstone, with its JSON still text: `rusqlite` row
/// closures can only fail with `rusqlite::Error`, so decoding happens in [`RawRow::decode`].
pub(super) struct RawRow {
    id: String,
    settings: String,
    created_at: UnixSecs,
    updated_at: UnixSecs,
    deleted_at: Option<UnixSecs>,
    settings_revision: i64,
    revision: i64,
    status: JwksStatus,
}

/// A decoded row.
pub(super) struct StoredProvider {
    /// The provider.
    pub record: ProviderRecord,
    /// When it was deleted; `None` while live.
    pub deleted_at: Option<UnixSecs>,
    /// Its JWKS and fetch status.
    pub status: JwksStatus,
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: row.get(0)?,
        settings: row.get(1)?,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
        deleted_at: row.get(4)?,
        settings_revision: row.get(5)?,
        revision: row.get(6)?,
        status: JwksStatus {
            jwks: row.get(7)?,
            fetched_at: row.get(8)?,
            next_refresh_at: row.get(9)?,
            last_error: row.get(10)?,
            last_error_at: row.get(11)?,
            consecutive_failures: row.get(12)?,
        },
    })
}

impl RawRow {
    /// Parses the settings; a failure means the file was written by something else.
    fn decode(self) -> Result<StoredProvider, StoreError> {
        let provider: Provider = serde_json::from_str(&self.settings).map_err(|e| {
            StoreError::Database(format!(
                "provider {}: column settings is not valid JSON: {e}",
                self.id
            ))
        })?;
        Ok(StoredProvider {
            record: ProviderRecord {
                id: self.id,
                provider,
                created_at: self.created_at,
                updated_at: self.updated_at,
                settings_revision: to_revision(self.settings_revision)?,
                revision: to_revision(self.revision)?,
            },
            deleted_at: self.deleted_at,
            status: self.status,
        })
    }
}

/// The settings column of `provider`. Serializing strings, numbers and maps of them
/// cannot fail.
pub(super) fn settings_json(provider: &Provider) -> String {
    serde_json::to_string(provider).unwrap_or_default()
}

/// Rows matching `filter` (a fixed SQL fragment; values bound from `args`), decoded.
fn select(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<StoredProvider>, StoreError> {
    let mut stmt = conn
        .prepare(&format!("SELECT {COLUMNS} FROM providers {filter}"))
        .map_err(db_error)?;
    let raw = stmt
        .query_map(args, read_row)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    raw.into_iter().map(RawRow::decode).collect()
}

/// The live provider `id`.
pub(super) fn live(conn: &Connection, id: &str) -> Result<StoredProvider, StoreError> {
    let raw = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM providers WHERE id = ?1 AND deleted_at IS NULL"),
            params![id],
            read_row,
        )
        .optional()
        .map_err(db_error)?
        .ok_or_else(|| StoreError::NoProvider(id.to_owned()))?;
    raw.decode()
}

/// Every live provider in `(created_at, id)` order.
pub(super) fn all_live(conn: &Connection) -> Result<Vec<StoredProvider>, StoreError> {
    select(
        conn,
        "WHERE deleted_at IS NULL ORDER BY created_at, id",
        params![],
    )
}

/// Every provider, live or deleted, changed after `since`, in revision order.
pub(super) fn changed_since(
    conn: &Connection,
    since: u64,
) -> Result<Vec<ProviderChange>, StoreError> {
    // Revisions are stored as i64: anything above i64::MAX has nothing after it.
    let Ok(since) = i64::try_from(since) else {
        return Ok(Vec::new());
    };
    let rows = select(
        conn,
        "WHERE revision > ?1 ORDER BY revision, id",
        params![since],
    )?;
    Ok(rows
        .into_iter()
        .map(|row| match row.deleted_at {
            Some(_) => ProviderChange::Delete {
                id: row.record.id,
                issuer: row.record.provider.issuer,
                revision: row.record.revision,
            },
            None => ProviderChange::Upsert(Box::new(row.into_state())),
        })
        .collect())
}

impl StoredProvider {
    /// The provider with its JWKS, as the sync pushes it.
    pub fn into_state(self) -> ProviderState {
        ProviderState {
            record: self.record,
            jwks: self.status.jwks,
        }
    }
}
