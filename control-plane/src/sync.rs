//! Sync: what a sidecar at revision `since` must apply next, as one [`SyncPage`] — a delta
//! of whole revisions or one page of a snapshot. No HTTP here; `api/sync.rs` serves it.
//!
//! The protocol ([`portcullis::wire`]), exactly as served:
//! - **Snapshot** when `since` is absent (a new sidecar) or above the store's revision
//!   (the store was replaced or restored), answered at once, never held. The revision `R` is read *before* the
//!   first page, and every page of the snapshot carries `revision: R`. The first page has
//!   `reset: true`; continuation pages have `reset: false`. Pages list every secret (active,
//!   disabled, revoked, rotated out) in ascending digest order, at most the page size each.
//!   Every page but the last has a `cursor`; the syncer asks again with
//!   `since=R&cursor=<cursor>` (a page with a cursor means "snapshot in progress"), and the
//!   last page has `cursor: None`. Pages are read at different moments, so a later page
//!   may already show changes made after `R`; those changes are in the change log above
//!   `R` and come again as deltas once the syncer asks with `since=R`.
//! - **Delta** otherwise: the current state of every secret whose digest the change log
//!   names above `since`, each digest once, in digest order, `reset: false`,
//!   `cursor: None`. A revision is never split across pages: when the change rows fill the
//!   page the last revision read is left for the next request and `revision` is the one
//!   before it; a single revision larger than the page is served whole.
//! - **No change** (`since` is the current revision): an empty page with
//!   `revision == since`. The HTTP layer holds such a request for up to `wait` first
//!   (long-poll). `since=0` is an ordinary revision: a sidecar that applied the empty
//!   snapshot of an empty store long-polls from it like from any other.
//! - A cursor must name `since` as its revision and a revision this store has reached;
//!   anything else is [`SyncError::InvalidCursor`] (400). The syncer then drops that
//!   snapshot and asks again from the revision it has applied.
//!
//! JWT providers ride along: a snapshot's first page lists every live provider (its
//! `reset` replaces the sidecar's set), a delta the providers changed after `since` up to
//! its revision (a deletion as an entry without config). Provider changes bump the
//! revision without change-log rows, so a delta may carry providers and no keys.
//!
//! Nothing is ever deleted from a sidecar except by a snapshot: a revoked key is sent with
//! `status: revoked`, a rotated-out secret with `expires_at` at the end of its grace.

pub mod cursor;
pub mod providers;
pub mod revision_feed;
pub mod sidecars;

use crate::store::{Change, Digest, KeyRecord, Secret, Store, StoreError};
use cursor::SnapshotCursor;
use portcullis::wire::{KeyEntry, KeyStatus, SyncPage};
use std::collections::BTreeSet;

/// Entries per page unless configured otherwise: small enough that a page of a million-key
/// snapshot stays a few hundred KiB, large enough that such a snapshot takes 1000 requests.
pub const PAGE_SIZE: u32 = 1000;

/// Why a sync request cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The cursor is malformed or names a snapshot this store cannot continue.
    #[error("{0}")]
    InvalidCursor(String),
    /// The sidecar header is missing or malformed.
    #[error("{0}")]
    InvalidSidecar(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked sync request: the sidecar's revision and the snapshot it is continuing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The revision the sidecar has applied (or, with a cursor, the snapshot's revision);
    /// `None` for a new sidecar, which gets a snapshot.
    pub since: Option<u64>,
    /// The snapshot in progress, if any.
    pub cursor: Option<SnapshotCursor>,
}

impl SyncRequest {
    /// Parses the cursor and checks it belongs to `since`.
    pub fn new(since: Option<u64>, cursor: Option<&str>) -> Result<Self, SyncError> {
        let cursor = cursor.map(SnapshotCursor::decode).transpose()?;
        if let Some(c) = &cursor
            && Some(c.revision) != since
        {
            return Err(SyncError::InvalidCursor(format!(
                "`cursor` continues the snapshot at revision {}, but `since` is {since:?}",
                c.revision
            )));
        }
        Ok(Self { since, cursor })
    }

    /// The revision the sidecar has applied: its `since`, unless a snapshot is in progress.
    pub fn applied_revision(&self) -> Option<u64> {
        self.since.filter(|_| self.cursor.is_none())
    }

    /// Whether `page` tells this sidecar nothing new, so the request may be held. A
    /// snapshot (no `since`) is always news, even an empty one.
    pub fn is_answered_by_nothing(&self, page: &SyncPage) -> bool {
        self.since.is_some()
            && self.cursor.is_none()
            && page.cursor.is_none()
            && page.entries.is_empty()
            && page.providers.is_empty()
            && Some(page.revision) == self.since
    }

    /// Whether `page`, served to this request, is a page of a snapshot.
    pub fn is_snapshot(&self, page: &SyncPage) -> bool {
        self.cursor.is_some() || page.reset
    }
}

/// The page that answers `request` now, at most `page_size` entries (a single larger
/// revision excepted).
pub fn page(
    store: &dyn Store,
    request: &SyncRequest,
    page_size: u32,
) -> Result<SyncPage, SyncError> {
    let page_size = page_size.max(1);
    let current = store.revision()?;
    match &request.cursor {
        Some(cursor) if cursor.revision > current => Err(SyncError::InvalidCursor(format!(
            "`cursor` names revision {}, beyond this store's {current}",
            cursor.revision
        ))),
        Some(cursor) => snapshot(store, cursor.revision, Some(&cursor.after), page_size),
        None => match request.since {
            Some(since) if since <= current => delta(store, since, current, page_size),
            _ => snapshot(store, current, None, page_size),
        },
    }
}

/// The wire entry of one secret: its key's state as of now.
pub fn entry(key: &KeyRecord, secret: &Secret) -> KeyEntry {
    let status = if key.revoked_at.is_some() {
        KeyStatus::Revoked
    } else if !key.enabled {
        KeyStatus::Disabled
    } else {
        KeyStatus::Active
    };
    let expires_at = match (key.expires_at, secret.retires_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    KeyEntry {
        digest: cursor::hex(&secret.digest),
        key_id: key.id.clone(),
        org_id: key.org_id.clone(),
        scopes: key.scopes.clone(),
        roles: key.roles.clone(),
        tier: key.tier.clone(),
        expires_at,
        revoked_at: key.revoked_at,
        status,
    }
}

/// One snapshot page at `revision`, after `after` (the first page when `None`).
fn snapshot(
    store: &dyn Store,
    revision: u64,
    after: Option<&Digest>,
    page_size: u32,
) -> Result<SyncPage, SyncError> {
    // One row more than the page tells whether another page follows, so the last page is
    // never an empty extra round trip.
    let mut rows = store.snapshot_page(after, page_size.saturating_add(1))?;
    let has_more = rows.len() > page_size as usize;
    rows.truncate(page_size as usize);
    let cursor = rows.last().filter(|_| has_more).map(|(_, secret)| {
        SnapshotCursor {
            revision,
            after: secret.digest,
        }
        .encode()
    });
    let providers = if after.is_none() {
        store
            .provider_snapshot()?
            .iter()
            .map(providers::entry)
            .collect()
    } else {
        Vec::new()
    };
    Ok(SyncPage {
        revision,
        reset: after.is_none(),
        entries: rows
            .iter()
            .map(|(key, secret)| entry(key, secret))
            .collect(),
        cursor,
        providers,
    })
}

/// The changes after `since`, whole revisions only; `current` was read before them.
fn delta(
    store: &dyn Store,
    since: u64,
    current: u64,
    page_size: u32,
) -> Result<SyncPage, SyncError> {
    let mut limit = page_size;
    let (changes, revision) = loop {
        let mut changes = store.changes_since(since, limit)?;
        match whole_revisions(&mut changes, limit) {
            // Rows committed after `current` was read are whole too (a revision commits in
            // one transaction), so the page reaches the newer of the two.
            Reach::Everything => {
                let newest = changes.last().map_or(since, |c| c.revision);
                break (changes, current.max(newest));
            }
            Reach::Through(revision) => break (changes, revision),
            // One revision fills the page: read again with room for all of it.
            Reach::OneRevisionOrMore => limit = limit.saturating_mul(2),
        }
    };
    let digests: BTreeSet<Digest> = changes.iter().map(|c| c.digest).collect();
    let mut entries = Vec::with_capacity(digests.len());
    for digest in &digests {
        match store.find_by_digest(digest)? {
            Some((key, secret)) => entries.push(entry(&key, &secret)),
            // Secrets are never purged today; if one ever is, the protocol has no deletion
            // and the next snapshot drops it.
            None => tracing::warn!(
                digest_prefix = &cursor::hex(digest)[..8],
                "change log names a secret the store no longer holds"
            ),
        }
    }
    // Changes committed after the page's revision come again in the next delta.
    let providers = store
        .providers_changed_since(since)?
        .iter()
        .map(providers::change_entry)
        .filter(|entry| entry.revision <= revision)
        .collect();
    Ok(SyncPage {
        revision,
        reset: false,
        entries,
        cursor: None,
        providers,
    })
}

/// How far a batch of change rows (read with `limit`) reaches.
#[derive(Debug, PartialEq, Eq)]
enum Reach {
    /// Fewer rows than the limit: every change after `since` is here.
    Everything,
    /// The batch was full; its last revision may be cut, so it was dropped and the rows
    /// left are every change through this revision.
    Through(u64),
    /// The batch was full and holds a single revision, which may be cut.
    OneRevisionOrMore,
}

/// Trims a full batch to whole revisions.
fn whole_revisions(changes: &mut Vec<Change>, limit: u32) -> Reach {
    // `u32::MAX` rows in one revision is beyond any store: treat such a batch as complete
    // rather than widening forever.
    if changes.len() < limit as usize || limit == u32::MAX {
        return Reach::Everything;
    }
    let Some(last) = changes.last().map(|c| c.revision) else {
        return Reach::Everything;
    };
    let whole = changes.partition_point(|c| c.revision < last);
    if whole == 0 {
        return Reach::OneRevisionOrMore;
    }
    changes.truncate(whole);
    // Rows come in revision order, so every row below `last` was read.
    Reach::Through(last - 1)
}

#[cfg(test)]
mod tests;
