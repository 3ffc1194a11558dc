//! Mutations of the SQLite store. Each runs inside the caller's `BEGIN IMMEDIATE`
//! transaction and ends in [`commit_change`], which takes the next revision and appends the
//! change-log and audit rows: the four steps of the revision contract commit together or
//! roll back together.

use rusqlite::{Connection, ErrorCode, ffi, params};

use super::db_error;
use super::reads::key_in_scope;
use super::rows::{insert_audit, insert_key, next_revision, to_revision, write_key};
use super::tiers::write_key_limit;
use crate::store::{
    Actor, Digest, KeyPatch, KeyRecord, NewKey, OrgScope, Rotation, StoreError, UnixSecs,
};

/// Inserts the key and its first secret.
pub(super) fn create_key(
    conn: &Connection,
    new: NewKey,
    actor: &Actor,
    now: UnixSecs,
) -> Result<KeyRecord, StoreError> {
    // A new key is live: the store owns its timestamps, whatever the caller filled in.
    let record = KeyRecord {
        created_at: now,
        updated_at: now,
        revoked_at: None,
        ..new.record
    };
    insert_key(conn, &record)
        .map_err(|e| conflict_or(e, || format!("key id {} already exists", record.id)))?;
    insert_secret(conn, &new.digest, &record.id, now)?;
    commit_change(conn, &[new.digest], actor, "key.create", &record, now)?;
    Ok(record)
}

/// Applies `patch` to a live key.
pub(super) fn update_key(
    conn: &Connection,
    id: &str,
    patch: &KeyPatch,
    scope: &OrgScope,
    actor: &Actor,
    now: UnixSecs,
) -> Result<KeyRecord, StoreError> {
    let mut record = live_key(conn, id, scope)?;
    let patch = patch.clone();
    if let Some(name) = patch.name {
        record.name = name;
    }
    if let Some(scopes) = patch.scopes {
        record.scopes = scopes;
    }
    if let Some(roles) = patch.roles {
        record.roles = roles;
    }
    if let Some(tier) = patch.tier {
        record.tier = tier;
    }
    if let Some(expires_at) = patch.expires_at {
        record.expires_at = expires_at;
    }
    if let Some(meta) = patch.meta {
        record.meta = meta;
    }
    if let Some(enabled) = patch.enabled {
        record.enabled = enabled;
    }
    record.updated_at = now;
    write_key(conn, &record)?;
    if let Some(limit) = patch.rate_limit {
        write_key_limit(conn, id, limit)?;
    }
    // Secrets past their grace are dead already: sidecars need no new record for them.
    let digests = digests_of(conn, id, Some(now))?;
    commit_change(conn, &digests, actor, "key.update", &record, now)?;
    Ok(record)
}

/// Revokes a live key; every secret it ever had goes into the change log so each sidecar
/// drops whichever it still holds.
pub(super) fn revoke_key(
    conn: &Connection,
    id: &str,
    scope: &OrgScope,
    actor: &Actor,
    now: UnixSecs,
) -> Result<KeyRecord, StoreError> {
    let mut record = live_key(conn, id, scope)?;
    record.revoked_at = Some(now);
    record.updated_at = now;
    write_key(conn, &record)?;
    let digests = digests_of(conn, id, None)?;
    commit_change(conn, &digests, actor, "key.revoke", &record, now)?;
    Ok(record)
}

/// Makes the rotation's digest the current secret and retires the others at
/// `now + grace_secs` (earlier retirements are kept: rotating again never extends a grace).
pub(super) fn rotate_key(
    conn: &Connection,
    id: &str,
    rotation: &Rotation,
    scope: &OrgScope,
    actor: &Actor,
    now: UnixSecs,
) -> Result<KeyRecord, StoreError> {
    let Rotation {
        digest,
        prefix,
        grace_secs,
    } = rotation;
    let (digest, grace_secs) = (*digest, *grace_secs);
    let mut record = live_key(conn, id, scope)?;
    insert_secret(conn, &digest, id, now)?;
    let retires_at = now.saturating_add(i64::try_from(grace_secs).unwrap_or(i64::MAX));
    conn.execute(
        "UPDATE key_secrets SET retires_at = ?3 WHERE key_id = ?1 AND digest != ?2 \
         AND (retires_at IS NULL OR retires_at > ?3)",
        params![id, digest, retires_at],
    )
    .map_err(db_error)?;
    record.prefix = prefix.to_owned();
    record.updated_at = now;
    write_key(conn, &record)?;
    let digests = digests_of(conn, id, None)?;
    commit_change(conn, &digests, actor, "key.rotate", &record, now)?;
    Ok(record)
}

/// The key `id` inside `scope`, refusing a revoked one: a revocation is final.
fn live_key(conn: &Connection, id: &str, scope: &OrgScope) -> Result<KeyRecord, StoreError> {
    let record = key_in_scope(conn, id, scope)?;
    if record.revoked_at.is_some() {
        return Err(StoreError::Revoked(id.to_owned()));
    }
    Ok(record)
}

fn insert_secret(
    conn: &Connection,
    digest: &Digest,
    key_id: &str,
    now: UnixSecs,
) -> Result<(), StoreError> {
    // The digest itself stays out of the message: it identifies a secret.
    conn.execute(
        "INSERT INTO key_secrets (digest, key_id, retires_at, created_at) \
         VALUES (?1, ?2, NULL, ?3)",
        params![digest, key_id, now],
    )
    .map(|_| ())
    .map_err(|e| conflict_or(e, || "secret digest already belongs to a key".to_owned()))
}

/// The key's secret digests; with `live_at`, only those still working at that time.
fn digests_of(
    conn: &Connection,
    key_id: &str,
    live_at: Option<UnixSecs>,
) -> Result<Vec<Digest>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT digest FROM key_secrets WHERE key_id = ?1 \
             AND (?2 IS NULL OR retires_at IS NULL OR retires_at > ?2) ORDER BY digest",
        )
        .map_err(db_error)?;
    stmt.query_map(params![key_id, live_at], |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(db_error)
}

/// Steps 2–4 of the revision contract: next revision, one change row per digest, audit.
fn commit_change(
    conn: &Connection,
    digests: &[Digest],
    actor: &Actor,
    action: &str,
    key: &KeyRecord,
    now: UnixSecs,
) -> Result<u64, StoreError> {
    let revision = next_revision(conn)?;
    let mut insert = conn
        .prepare_cached("INSERT INTO changes (revision, digest) VALUES (?1, ?2)")
        .map_err(db_error)?;
    for digest in digests {
        insert
            .execute(params![revision, digest])
            .map_err(db_error)?;
    }
    insert_audit(conn, actor, action, (&key.org_id, &key.id), revision, now)?;
    to_revision(revision)
}

/// A primary-key or unique violation becomes `Conflict`; anything else stays a database error.
fn conflict_or(error: rusqlite::Error, conflict: impl FnOnce() -> String) -> StoreError {
    match error.sqlite_error() {
        Some(e)
            if e.code == ErrorCode::ConstraintViolation
                && matches!(
                    e.extended_code,
                    ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE
                ) =>
        {
            StoreError::Conflict(conflict())
        }
        _ => db_error(error),
    }
}
