//! Queries of the SQLite store: keys by id, scope and digest, paginated listings, the
//! revision, the change log and snapshot pages. They take a plain `Connection` so mutations
//! can reuse them inside their transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::cursor::{AuditCursor, KeyCursor};
use super::db_error;
use super::rows::{KEY_COLUMNS, read_key, to_revision};
use crate::store::{
    AuditEvent, Change, Digest, KeyRecord, ListQuery, OrgScope, Page, Secret, StoreError,
};

/// Largest page the store hands out, whatever the caller asks for.
const MAX_PAGE: u32 = 1000;

/// The key `id` if it lies inside `scope`; another org's key is `NotFound`, exactly like a
/// missing one, so a caller cannot probe for it.
pub(super) fn key_in_scope(
    conn: &Connection,
    id: &str,
    scope: &OrgScope,
) -> Result<KeyRecord, StoreError> {
    let org = match scope {
        OrgScope::All => None,
        OrgScope::Only(org) => Some(org.as_str()),
    };
    conn.query_row(
        &format!(
            "SELECT {KEY_COLUMNS} FROM keys k WHERE k.id = ?1 AND (?2 IS NULL OR k.org_id = ?2)"
        ),
        params![id, org],
        read_key,
    )
    .optional()
    .map_err(db_error)?
    .ok_or_else(|| StoreError::NotFound(id.to_owned()))?
    .decode()
}

/// Keys in `(created_at, id)` order after the query's cursor.
pub(super) fn list_keys(
    conn: &Connection,
    query: &ListQuery,
) -> Result<Page<KeyRecord>, StoreError> {
    let after = query.cursor.as_deref().map(KeyCursor::decode).transpose()?;
    let Some(org) = effective_org(query) else {
        return Ok(empty_page());
    };
    let limit = page_size(query.limit);
    let mut sql = format!("SELECT {KEY_COLUMNS} FROM keys k WHERE 1 = 1");
    // Fixed fragments only: the optional filters are chosen here so each shape can use its
    // index, and every value is bound.
    if org.is_some() {
        sql.push_str(" AND k.org_id = :org");
    }
    if after.is_some() {
        sql.push_str(" AND (k.created_at, k.id) > (:created_at, :id)");
    }
    sql.push_str(" ORDER BY k.created_at, k.id LIMIT :fetch");
    let mut stmt = conn.prepare(&sql).map_err(db_error)?;
    let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
    let fetch = i64::from(limit) + 1;
    bound.push((":fetch", &fetch));
    if let Some(org) = &org {
        bound.push((":org", org));
    }
    if let Some(after) = &after {
        bound.push((":created_at", &after.created_at));
        bound.push((":id", &after.id));
    }
    let raw = stmt
        .query_map(bound.as_slice(), read_key)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    let keys = raw
        .into_iter()
        .map(|k| k.decode())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(paginate(keys, limit, |k| {
        KeyCursor {
            created_at: k.created_at,
            id: k.id.clone(),
        }
        .encode()
    }))
}

/// Audit events in id order after the query's cursor.
pub(super) fn list_audit(
    conn: &Connection,
    query: &ListQuery,
) -> Result<Page<AuditEvent>, StoreError> {
    let after = query
        .cursor
        .as_deref()
        .map(AuditCursor::decode)
        .transpose()?;
    let Some(org) = effective_org(query) else {
        return Ok(empty_page());
    };
    let limit = page_size(query.limit);
    // Two fixed shapes rather than `?1 IS NULL OR ...`, so the org filter can use its index.
    let sql = if org.is_some() {
        "SELECT id, at, actor, action, org_id, key_id, revision FROM audit \
         WHERE org_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
    } else {
        "SELECT id, at, actor, action, org_id, key_id, revision FROM audit \
         WHERE ?1 IS NULL AND id > ?2 ORDER BY id LIMIT ?3"
    };
    let mut stmt = conn.prepare(sql).map_err(db_error)?;
    let rows = stmt
        .query_map(
            params![org, after.map_or(0, |a| a.id), i64::from(limit) + 1],
            |row| {
                Ok((
                    AuditEvent {
                        id: row.get(0)?,
                        at: row.get(1)?,
                        actor: row.get(2)?,
                        action: row.get(3)?,
                        org_id: row.get(4)?,
                        key_id: row.get(5)?,
                        revision: 0,
                    },
                    row.get::<_, i64>(6)?,
                ))
            },
        )
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    let events = rows
        .into_iter()
        .map(|(event, revision)| {
            Ok(AuditEvent {
                revision: to_revision(revision)?,
                ..event
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(paginate(events, limit, |e| {
        AuditCursor { id: e.id }.encode()
    }))
}

/// The key owning `digest` and that secret, whatever the key's status.
pub(super) fn find_by_digest(
    conn: &Connection,
    digest: &Digest,
) -> Result<Option<(KeyRecord, Secret)>, StoreError> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {KEY_COLUMNS}, s.retires_at FROM key_secrets s \
                 JOIN keys k ON k.id = s.key_id WHERE s.digest = ?1"
            ),
            params![digest],
            |row| Ok((read_key(row)?, row.get::<_, Option<i64>>(13)?)),
        )
        .optional()
        .map_err(db_error)?;
    found
        .map(|(raw, retires_at)| {
            Ok((
                raw.decode()?,
                Secret {
                    digest: *digest,
                    retires_at,
                },
            ))
        })
        .transpose()
}

/// The latest committed revision.
pub(super) fn revision(conn: &Connection) -> Result<u64, StoreError> {
    let value = conn
        .query_row("SELECT value FROM revision WHERE id = 1", [], |row| {
            row.get(0)
        })
        .map_err(db_error)?;
    to_revision(value)
}

/// Change-log entries above `since`, in (revision, digest) order.
pub(super) fn changes_since(
    conn: &Connection,
    since: u64,
    limit: u32,
) -> Result<Vec<Change>, StoreError> {
    // Revisions are stored as i64: anything above i64::MAX has nothing after it.
    let Ok(since) = i64::try_from(since) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare(
            "SELECT revision, digest FROM changes WHERE revision > ?1 \
             ORDER BY revision, digest LIMIT ?2",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map(params![since, i64::from(limit)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Digest>(1)?))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(revision, digest)| {
            Ok(Change {
                revision: to_revision(revision)?,
                digest,
            })
        })
        .collect()
}

/// Secrets with their keys in digest order after `after`.
pub(super) fn snapshot_page(
    conn: &Connection,
    after: Option<&Digest>,
    limit: u32,
) -> Result<Vec<(KeyRecord, Secret)>, StoreError> {
    // SQLite compares blobs with memcmp and an empty blob sorts before every other, so "no
    // cursor" binds `x''`: one statement shape, and it walks the digest's primary-key index.
    let after: &[u8] = after.map_or(&[], |d| d.as_slice());
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {KEY_COLUMNS}, s.digest, s.retires_at FROM key_secrets s \
             JOIN keys k ON k.id = s.key_id WHERE s.digest > ?1 ORDER BY s.digest LIMIT ?2"
        ))
        .map_err(db_error)?;
    let rows = stmt
        .query_map(params![after, i64::from(limit)], |row| {
            Ok((
                read_key(row)?,
                Secret {
                    digest: row.get(13)?,
                    retires_at: row.get(14)?,
                },
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(raw, secret)| Ok((raw.decode()?, secret)))
        .collect()
}

/// The org a listing is narrowed to: `Some(None)` for every org, `Some(Some(org))` for one,
/// `None` when the requested org lies outside the caller's scope (an empty page, not an
/// error, so it reveals nothing).
fn effective_org(query: &ListQuery) -> Option<Option<String>> {
    match (&query.scope, &query.org_id) {
        (OrgScope::All, org) => Some(org.clone()),
        (OrgScope::Only(own), None) => Some(Some(own.clone())),
        (OrgScope::Only(own), Some(org)) => (own == org).then(|| Some(org.clone())),
    }
}

/// The API validates 1..=1000; clamp anyway so a bad caller cannot ask for everything.
fn page_size(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

/// Trims the extra row fetched to learn whether another page exists.
fn paginate<T>(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if has_more {
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}

fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        next_cursor: None,
    }
}
