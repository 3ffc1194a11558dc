//! Provider mutations of the SQLite store. Each runs inside the caller's `BEGIN IMMEDIATE`
//! transaction; a change that the sync must see takes the next revision, stamps it on the
//! provider's row and appends its audit event in that same transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::db_error;
use super::provider_rows::{live, settings_json};
use super::rows::{insert_audit, next_revision, to_revision};
use crate::store::{
    Actor, JwksFailure, JwksFetched, JwksSaved, Provider, ProviderPatch, ProviderRecord,
    StoreError, UnixSecs,
};

/// Inserts a provider; a live provider with the same issuer is a conflict.
pub(super) fn create_provider(
    conn: &Connection,
    id: &str,
    provider: &Provider,
    actor: &Actor,
    now: UnixSecs,
) -> Result<ProviderRecord, StoreError> {
    check_issuer_free(conn, &provider.issuer)?;
    let revision = next_revision(conn)?;
    conn.execute(
        "INSERT INTO providers (id, issuer, settings, created_at, updated_at, \
         settings_revision, revision) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?5)",
        params![id, provider.issuer, settings_json(provider), now, revision],
    )
    .map_err(db_error)?;
    audit(conn, actor, "provider.create", id, revision, now)?;
    Ok(ProviderRecord {
        id: id.to_owned(),
        provider: provider.clone(),
        created_at: now,
        updated_at: now,
        settings_revision: to_revision(revision)?,
        revision: to_revision(revision)?,
    })
}

/// Applies `patch`; a new `jwks_uri` drops the JWKS fetched from the old one.
pub(super) fn update_provider(
    conn: &Connection,
    id: &str,
    patch: &ProviderPatch,
    actor: &Actor,
    now: UnixSecs,
) -> Result<ProviderRecord, StoreError> {
    let old = live(conn, id)?.record;
    let provider = patch.apply(&old.provider);
    let revision = next_revision(conn)?;
    conn.execute(
        "UPDATE providers SET settings = ?2, updated_at = ?3, settings_revision = ?4, \
         revision = ?4 WHERE id = ?1",
        params![id, settings_json(&provider), now, revision],
    )
    .map_err(db_error)?;
    if provider.jwks_uri != old.provider.jwks_uri {
        clear_jwks(conn, id)?;
    }
    audit(conn, actor, "provider.update", id, revision, now)?;
    Ok(ProviderRecord {
        provider,
        updated_at: now,
        settings_revision: to_revision(revision)?,
        revision: to_revision(revision)?,
        ..old
    })
}

/// Turns the provider into a tombstone: its JWKS goes, its id and issuer stay for the sync.
pub(super) fn delete_provider(
    conn: &Connection,
    id: &str,
    actor: &Actor,
    now: UnixSecs,
) -> Result<ProviderRecord, StoreError> {
    let old = live(conn, id)?.record;
    let revision = next_revision(conn)?;
    conn.execute(
        "UPDATE providers SET deleted_at = ?2, revision = ?3 WHERE id = ?1",
        params![id, now, revision],
    )
    .map_err(db_error)?;
    clear_jwks(conn, id)?;
    audit(conn, actor, "provider.delete", id, revision, now)?;
    Ok(ProviderRecord {
        revision: to_revision(revision)?,
        ..old
    })
}

/// Records a good fetch; only a set that differs from the stored one takes a revision.
pub(super) fn save_jwks(
    conn: &Connection,
    id: &str,
    fetched: &JwksFetched,
    actor: &Actor,
    now: UnixSecs,
) -> Result<JwksSaved, StoreError> {
    let Some(stored) = current(conn, id, fetched.settings_revision)? else {
        return Ok(JwksSaved::Superseded);
    };
    conn.execute(
        "UPDATE providers SET jwks_fetched_at = ?2, jwks_next_refresh_at = ?3, \
         jwks_failures = 0 WHERE id = ?1",
        params![id, now, fetched.next_refresh_at],
    )
    .map_err(db_error)?;
    if stored.as_deref() == Some(fetched.jwks.as_str()) {
        return Ok(JwksSaved::Unchanged);
    }
    let revision = next_revision(conn)?;
    conn.execute(
        "UPDATE providers SET jwks = ?2, revision = ?3 WHERE id = ?1",
        params![id, fetched.jwks, revision],
    )
    .map_err(db_error)?;
    audit(conn, actor, "provider.jwks", id, revision, now)?;
    Ok(JwksSaved::Changed(to_revision(revision)?))
}

/// Records a failed fetch; the JWKS and the revision stay as they are.
pub(super) fn record_jwks_failure(
    conn: &Connection,
    id: &str,
    failure: &JwksFailure,
    now: UnixSecs,
) -> Result<bool, StoreError> {
    if current(conn, id, failure.settings_revision)?.is_none() {
        return Ok(false);
    }
    conn.execute(
        "UPDATE providers SET jwks_last_error = ?2, jwks_last_error_at = ?3, \
         jwks_next_refresh_at = ?4, jwks_failures = jwks_failures + 1 WHERE id = ?1",
        params![id, failure.error, now, failure.next_refresh_at],
    )
    .map_err(db_error)?;
    Ok(true)
}

/// The stored JWKS of `id` (`Some(None)` when none yet) if the provider is live and its
/// settings are still those of `settings_revision`; `None` otherwise.
fn current(
    conn: &Connection,
    id: &str,
    settings_revision: u64,
) -> Result<Option<Option<String>>, StoreError> {
    match live(conn, id) {
        Ok(row) if row.record.settings_revision == settings_revision => Ok(Some(row.status.jwks)),
        Ok(_) | Err(StoreError::NoProvider(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

fn clear_jwks(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE providers SET jwks = NULL, jwks_fetched_at = NULL, \
         jwks_next_refresh_at = NULL, jwks_last_error = NULL, jwks_last_error_at = NULL, \
         jwks_failures = 0 WHERE id = ?1",
        params![id],
    )
    .map(|_| ())
    .map_err(db_error)
}

/// Refuses an issuer a live provider already has, naming that provider.
fn check_issuer_free(conn: &Connection, issuer: &str) -> Result<(), StoreError> {
    let taken: Option<String> = conn
        .query_row(
            "SELECT id FROM providers WHERE issuer = ?1 AND deleted_at IS NULL",
            params![issuer],
            |row| row.get(0),
        )
        .optional()
        .map_err(db_error)?;
    match taken {
        Some(id) => Err(StoreError::Conflict(format!(
            "issuer `{issuer}` already belongs to provider `{id}`"
        ))),
        None => Ok(()),
    }
}

/// Appends a provider's audit event: org `""` (providers are global), the provider's id
/// in `key_id`.
fn audit(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    id: &str,
    revision: i64,
    now: UnixSecs,
) -> Result<(), StoreError> {
    insert_audit(conn, actor, action, ("", id), revision, now)
}
