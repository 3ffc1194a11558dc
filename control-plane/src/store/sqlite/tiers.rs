//! Tiers, org limits and per-key overrides in the SQLite store. Writes run inside the
//! caller's `BEGIN IMMEDIATE` transaction and take the next revision and an audit event in
//! it; [`policy`] reads everything the renderings need in one read transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeMap;

use super::db_error;
use super::reads::revision;
use super::rows::{insert_audit, next_revision};
use crate::store::{
    Actor, DEFAULT_TIER, KeyOverride, Limit, OrgLimits, RateLimitPolicy, StoreError, TierLimits,
    TierPut, TierRecord, UnixSecs,
};

/// The `tiers` columns in the order [`read_tier`] expects.
const TIER_COLUMNS: &str = "name, per_ip, per_key, per_org, created_at, updated_at";

/// A limit as its JSON column. Serializing a limit cannot fail.
fn limit_json(limit: Limit) -> String {
    serde_json::to_string(&limit).unwrap_or_default()
}

/// A limit column; a failure means the file was written by something else.
fn parse_limit(text: &str, what: &str) -> Result<Limit, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Database(format!("{what}: not a limit: {e}")))
}

/// A `tiers` row with its limits still JSON: row closures can only fail with
/// `rusqlite::Error`, so parsing happens in [`RawTier::decode`].
struct RawTier {
    name: String,
    limits: [String; 3],
    created_at: UnixSecs,
    updated_at: UnixSecs,
}

fn read_tier(row: &Row<'_>) -> rusqlite::Result<RawTier> {
    Ok(RawTier {
        name: row.get(0)?,
        limits: [row.get(1)?, row.get(2)?, row.get(3)?],
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

impl RawTier {
    fn decode(self) -> Result<TierRecord, StoreError> {
        let [per_ip, per_key, per_org] = &self.limits;
        let column = |c: &str| format!("tier {} column {c}", self.name);
        let limits = TierLimits {
            per_ip: parse_limit(per_ip, &column("per_ip"))?,
            per_key: parse_limit(per_key, &column("per_key"))?,
            per_org: parse_limit(per_org, &column("per_org"))?,
        };
        Ok(TierRecord {
            name: self.name,
            limits,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Every tier by name.
pub(super) fn list_tiers(conn: &Connection) -> Result<Vec<TierRecord>, StoreError> {
    let mut stmt = conn
        .prepare(&format!("SELECT {TIER_COLUMNS} FROM tiers ORDER BY name"))
        .map_err(db_error)?;
    let raw = stmt
        .query_map([], read_tier)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    raw.into_iter().map(RawTier::decode).collect()
}

/// The tier `name`, if stored.
fn find_tier(conn: &Connection, name: &str) -> Result<Option<TierRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {TIER_COLUMNS} FROM tiers WHERE name = ?1"),
        params![name],
        read_tier,
    )
    .optional()
    .map_err(db_error)?
    .map(RawTier::decode)
    .transpose()
}

/// The tier `name`.
pub(super) fn get_tier(conn: &Connection, name: &str) -> Result<TierRecord, StoreError> {
    find_tier(conn, name)?.ok_or_else(|| StoreError::NoTier(name.to_owned()))
}

/// Creates the tier or replaces its limits.
pub(super) fn put_tier(
    conn: &Connection,
    name: &str,
    limits: &TierLimits,
    actor: &Actor,
    now: UnixSecs,
) -> Result<TierPut, StoreError> {
    let old = find_tier(conn, name)?;
    let created_at = old.as_ref().map_or(now, |t| t.created_at);
    conn.execute(
        "INSERT INTO tiers (name, per_ip, per_key, per_org, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE SET \
         per_ip = excluded.per_ip, per_key = excluded.per_key, per_org = excluded.per_org, \
         updated_at = excluded.updated_at",
        params![
            name,
            limit_json(limits.per_ip),
            limit_json(limits.per_key),
            limit_json(limits.per_org),
            created_at,
            now
        ],
    )
    .map_err(db_error)?;
    let created = old.is_none();
    let action = if created {
        "tier.create"
    } else {
        "tier.update"
    };
    insert_audit(conn, actor, action, ("", name), next_revision(conn)?, now)?;
    let record = TierRecord {
        name: name.to_owned(),
        limits: *limits,
        created_at,
        updated_at: now,
    };
    Ok(TierPut { record, created })
}

/// Deletes a tier that is neither `default` nor used by an unrevoked key.
pub(super) fn delete_tier(
    conn: &Connection,
    name: &str,
    actor: &Actor,
    now: UnixSecs,
) -> Result<TierRecord, StoreError> {
    let record = get_tier(conn, name)?;
    if name == DEFAULT_TIER {
        return Err(StoreError::Conflict(format!(
            "the `{DEFAULT_TIER}` tier cannot be deleted: it holds the per-IP limit and \
             applies to keys without a tier; change its limits instead"
        )));
    }
    let users: i64 = conn
        .query_row(
            "SELECT count(*) FROM keys WHERE tier = ?1 AND revoked_at IS NULL",
            params![name],
            |row| row.get(0),
        )
        .map_err(db_error)?;
    if users > 0 {
        return Err(StoreError::Conflict(format!(
            "tier `{name}` is used by {users} unrevoked key(s): move them to another tier \
             first"
        )));
    }
    conn.execute("DELETE FROM tiers WHERE name = ?1", params![name])
        .map_err(db_error)?;
    insert_audit(
        conn,
        actor,
        "tier.delete",
        ("", name),
        next_revision(conn)?,
        now,
    )?;
    Ok(record)
}

/// Sets or clears a key's own per-key limit (the caller's `key.update` audits it).
pub(super) fn write_key_limit(
    conn: &Connection,
    key_id: &str,
    limit: Option<Limit>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE keys SET rate_limit = ?2 WHERE id = ?1",
        params![key_id, limit.map(limit_json)],
    )
    .map(|_| ())
    .map_err(db_error)
}

/// The overrides of those of `ids` that have one.
pub(super) fn key_limits(
    conn: &Connection,
    ids: &[String],
) -> Result<BTreeMap<String, Limit>, StoreError> {
    // One statement whatever the page size: the ids travel as one JSON array.
    let ids = serde_json::Value::from(ids.to_vec()).to_string();
    let mut stmt = conn
        .prepare(
            "SELECT id, rate_limit FROM keys WHERE rate_limit IS NOT NULL \
             AND id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map(params![ids], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(id, text)| {
            let limit = parse_limit(&text, &format!("key {id} column rate_limit"))?;
            Ok((id, limit))
        })
        .collect()
}

/// An org's own limit, if any.
fn org_limit(conn: &Connection, org_id: &str) -> Result<Option<Limit>, StoreError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT rate_limit FROM org_limits WHERE org_id = ?1",
            params![org_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(db_error)?;
    text.map(|t| parse_limit(&t, &format!("org {org_id} rate_limit")))
        .transpose()
}

/// An org's own limit and the tiers its unrevoked keys use.
pub(super) fn org_limits(conn: &Connection, org_id: &str) -> Result<OrgLimits, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT coalesce(tier, ?2) AS t FROM keys \
             WHERE org_id = ?1 AND revoked_at IS NULL ORDER BY t",
        )
        .map_err(db_error)?;
    let tiers_in_use = stmt
        .query_map(params![org_id, DEFAULT_TIER], |row| row.get(0))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<String>>>)
        .map_err(db_error)?;
    Ok(OrgLimits {
        org_id: org_id.to_owned(),
        rate_limit: org_limit(conn, org_id)?,
        tiers_in_use,
    })
}

/// Sets or clears an org's own limit.
pub(super) fn set_org_limit(
    conn: &Connection,
    org_id: &str,
    limit: Option<Limit>,
    actor: &Actor,
    now: UnixSecs,
) -> Result<OrgLimits, StoreError> {
    match limit {
        Some(limit) => conn.execute(
            "INSERT INTO org_limits (org_id, rate_limit, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (org_id) DO UPDATE SET rate_limit = excluded.rate_limit, \
             updated_at = excluded.updated_at",
            params![org_id, limit_json(limit), now],
        ),
        None => conn.execute("DELETE FROM org_limits WHERE org_id = ?1", params![org_id]),
    }
    .map_err(db_error)?;
    insert_audit(
        conn,
        actor,
        "org.update",
        (org_id, ""),
        next_revision(conn)?,
        now,
    )?;
    org_limits(conn, org_id)
}

/// Tiers, overrides of unrevoked keys and org overrides, with the revision they were read at.
pub(super) fn policy(conn: &Connection) -> Result<RateLimitPolicy, StoreError> {
    // One read transaction: another process writing the same file cannot slip a change in
    // between the queries.
    let tx = conn.unchecked_transaction().map_err(db_error)?;
    let policy = RateLimitPolicy {
        revision: revision(&tx)?,
        tiers: list_tiers(&tx)?
            .into_iter()
            .map(|t| (t.name, t.limits))
            .collect(),
        key_overrides: key_overrides(&tx)?,
        org_overrides: org_overrides(&tx)?,
    };
    tx.finish().map_err(db_error)?;
    Ok(policy)
}

/// The overrides of unrevoked keys, by key id.
fn key_overrides(conn: &Connection) -> Result<Vec<KeyOverride>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT id, tier, rate_limit FROM keys \
             WHERE rate_limit IS NOT NULL AND revoked_at IS NULL ORDER BY id",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(key_id, tier, text)| {
            let limit = parse_limit(&text, &format!("key {key_id} column rate_limit"))?;
            Ok(KeyOverride {
                key_id,
                tier,
                limit,
            })
        })
        .collect()
}

/// Every org's own limit, by org.
fn org_overrides(conn: &Connection) -> Result<BTreeMap<String, Limit>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT org_id, rate_limit FROM org_limits ORDER BY org_id")
        .map_err(db_error)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(org, text)| {
            let limit = parse_limit(&text, &format!("org {org} rate_limit"))?;
            Ok((org, limit))
        })
        .collect()
}
