//! The syncer: the only writer of shared data. It long-polls the control-plane
//! (`crate::wire`), applies each page to shared data (`crate::shared`) and decides when to
//! poll next. Plain Rust: `glue::sync_root` sends the requests it builds and hands it the
//! replies.
//!
//! Invariants:
//! - nothing a reply holds can make it panic, and a failed, garbage or out-of-protocol reply
//!   changes nothing in shared data: the last good state keeps serving requests;
//! - `portcullis/synced` is written only once a state is complete: at the last page of a
//!   snapshot and after each delta, never in the middle of a snapshot;
//! - every record carries the generation of the snapshot (reset) it was written under; a
//!   snapshot ends by dropping the records of older generations, which are the secrets it
//!   no longer lists;
//! - a revoked or expired secret is forgotten `retention` after it stopped working: when
//!   its bucket is next written, or by [`Syncer::sweep`], which walks every bucket in turn.
//!
//! Choices where the protocol leaves room:
//! - a delta whose revision is behind the applied one is a failure (backoff, same `since`),
//!   not a reason to drop state: the control-plane answers a `since` it cannot serve with a
//!   snapshot, so going backwards means it is broken, and the last good state is safer;
//! - a 4xx mid-snapshot abandons the snapshot (its cursor may have expired) and the next
//!   poll asks from the applied revision again; other failures retry the same cursor;
//! - the cursor is percent-encoded, so the control-plane may use any characters.

mod backoff;
pub mod config;
pub mod kid_reports;
mod outcome;

use crate::host::Host;
use crate::jwt::provider::ProviderConfig;
use crate::shared::{self, BUCKETS, Bucket, Digest, Record};
use crate::wire::{KeyEntry, KeyStatus, ProviderEntry, SYNC_PATH, SyncPage};
use backoff::Backoff;
use config::ControlPlane;
pub use outcome::{Applied, Failure, Next, Outcome, Severity, Stage};
use std::collections::BTreeMap;

/// How many buckets the glue asks [`Syncer::sweep`] to look at after each reply: every
/// bucket is visited within 64 replies (at most 64 long-poll waits when nothing changes).
pub const SWEEP_BUCKETS: u32 = BUCKETS / 64;

/// The state of the sync loop.
#[derive(Debug)]
pub struct Syncer {
    wait_secs: u64,
    /// How long a secret that stopped working stays published, in seconds.
    retention_secs: i64,
    /// The revision of the last complete state applied; `None` before the first, when the
    /// next poll asks for a snapshot.
    applied: Option<u64>,
    snapshot: Option<Snapshot>,
    /// The generation records are written with: bumped by every reset, so 0 means nothing
    /// was ever written.
    generation: u32,
    /// The next bucket [`Syncer::sweep`] looks at.
    sweep_next: u32,
    backoff: Backoff,
}

/// A snapshot whose last page has not arrived yet.
#[derive(Debug)]
struct Snapshot {
    /// The revision of the latest page: the `since` of the next request.
    revision: u64,
    cursor: String,
}

/// An entry's change to its bucket: the record to write, or `None` to forget the digest.
type Change = (Digest, Option<Record>);

impl Syncer {
    /// A syncer that has applied nothing yet; `seed` spreads its backoff (see `Backoff`).
    pub fn new(plane: &ControlPlane, seed: u64) -> Self {
        Syncer {
            wait_secs: plane.wait.as_secs(),
            retention_secs: i64::try_from(plane.retention.as_secs()).unwrap_or(i64::MAX),
            applied: None,
            snapshot: None,
            generation: 0,
            sweep_next: 0,
            backoff: Backoff::new(plane.backoff_initial, plane.backoff_max, seed),
        }
    }

    /// The `:path` of the next poll: a snapshot (no `since`) until a state is complete,
    /// the next snapshot page at once (`wait=0`), or `since` the applied revision with the
    /// long-poll `wait`.
    pub fn next_path(&self) -> String {
        match (&self.snapshot, self.applied) {
            (Some(snapshot), _) => format!(
                "{SYNC_PATH}?since={}&wait=0&cursor={}",
                snapshot.revision,
                percent_encode(&snapshot.cursor)
            ),
            (None, Some(applied)) => {
                format!("{SYNC_PATH}?since={applied}&wait={}", self.wait_secs)
            }
            (None, None) => format!("{SYNC_PATH}?wait=0"),
        }
    }

    /// Applies a reply: `status` is its `:status` and `body` its body, `None` when the host
    /// could not read them.
    pub fn on_response(
        &mut self,
        host: &impl Host,
        status: Option<u32>,
        body: Option<&[u8]>,
    ) -> Outcome {
        let page = match (status, body) {
            (Some(200), Some(body)) => match serde_json::from_slice::<SyncPage>(body) {
                Ok(page) => page,
                Err(e) => return self.fail(Failure::Body(outcome::describe_json_error(&e))),
            },
            (Some(200), None) => return self.fail(Failure::Body("no body".to_owned())),
            (Some(status), _) => {
                if (400..500).contains(&status) {
                    self.snapshot = None;
                }
                return self.fail(Failure::Status(status));
            }
            (None, _) => return self.fail(Failure::NoStatus),
        };
        match self.apply(host, page) {
            Ok(outcome) => {
                self.backoff.succeed();
                outcome
            }
            Err(failure) => self.fail(failure),
        }
    }

    /// Records that the request could not even be sent (for example, an unknown cluster).
    pub fn on_dispatch_error(&mut self, detail: String) -> Outcome {
        self.fail(Failure::Dispatch(detail))
    }

    /// Forgets the revoked and expired secrets past their retention in the next `buckets`
    /// buckets, wrapping around; returns how many it forgot. A bucket is rewritten only when
    /// it changes.
    pub fn sweep(&mut self, host: &impl Host, buckets: u32) -> Result<usize, Failure> {
        let now = host.now();
        let mut forgotten = 0;
        for _ in 0..buckets.min(BUCKETS) {
            let index = u16::try_from(self.sweep_next % BUCKETS).unwrap_or(0);
            self.sweep_next = (self.sweep_next + 1) % BUCKETS;
            forgotten += rewrite(host, index, |bucket| {
                bucket.retain(|record| record.drop_at > now)
            })?;
        }
        Ok(forgotten)
    }

    fn fail(&mut self, failure: Failure) -> Outcome {
        let pause = self.backoff.fail();
        Outcome::Failed {
            failure,
            in_a_row: self.backoff.failures(),
            retry_after: pause,
        }
    }

    /// Checks `page` against the protocol before writing anything, then writes it.
    fn apply(&mut self, host: &impl Host, page: SyncPage) -> Result<Outcome, Failure> {
        let continues_snapshot = !page.reset && self.snapshot.is_some();
        if let Some(snapshot) = self.snapshot.as_ref().filter(|_| continues_snapshot) {
            if page.revision < snapshot.revision {
                return Err(Failure::Protocol(format!(
                    "snapshot page at revision {} is behind the previous page's {}",
                    page.revision, snapshot.revision
                )));
            }
        } else if !page.reset {
            let Some(applied) = self.applied else {
                return Err(Failure::Protocol(
                    "a delta page answered a request for a snapshot".to_owned(),
                ));
            };
            if page.cursor.is_some() {
                return Err(Failure::Protocol(
                    "a delta page carried a cursor".to_owned(),
                ));
            }
            if page.revision < applied {
                return Err(Failure::Protocol(format!(
                    "delta at revision {} is behind the applied revision {applied}",
                    page.revision
                )));
            }
            if page.revision == applied && page.entries.is_empty() {
                return Ok(Outcome::Unchanged);
            }
        }
        // A reset (mid-snapshot too) starts a generation: whatever earlier pages or states
        // wrote is dropped when this snapshot completes, unless it lists it again. The
        // state changes only once the page is written.
        let generation = if page.reset {
            self.generation.wrapping_add(1).max(1)
        } else {
            self.generation
        };
        let (changes, mut skipped) = self.changes(host.now(), generation, &page.entries);
        let entries = changes.values().map(Vec::len).sum();
        self.write(host, changes, &mut skipped)?;
        write_providers(host, page.reset, &page.providers)?;
        self.generation = generation;
        if page.reset {
            self.snapshot = Some(Snapshot {
                revision: page.revision,
                cursor: String::new(),
            });
        }
        let stage = match (self.snapshot.take(), page.cursor) {
            (Some(mut snapshot), Some(cursor)) => {
                snapshot.revision = page.revision;
                snapshot.cursor = cursor;
                self.snapshot = Some(snapshot);
                Stage::SnapshotPage
            }
            (Some(_), None) => {
                let dropped = self.drop_older_generations(host)?;
                self.complete(host, page.revision)?;
                Stage::SnapshotComplete { dropped }
            }
            (None, _) => {
                self.complete(host, page.revision)?;
                Stage::Delta
            }
        };
        let applied = Applied {
            stage,
            revision: page.revision,
            entries,
            skipped,
        };
        Ok(Outcome::Applied { applied })
    }

    /// What each well-formed entry does to its bucket, grouped by bucket; and the malformed
    /// entries skipped (their index and the problem, for the log).
    fn changes(
        &self,
        now: i64,
        generation: u32,
        entries: &[KeyEntry],
    ) -> (BTreeMap<u16, Vec<Change>>, Vec<String>) {
        let mut changes: BTreeMap<u16, Vec<Change>> = BTreeMap::new();
        let mut skipped = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let Some(digest) = parse_digest(&entry.digest) else {
                skipped.push(format!(
                    "entry {i} ({}): digest of {} characters is not 64 hex digits",
                    entry.key_id,
                    entry.digest.len()
                ));
                continue;
            };
            let drop_at = self.drop_at(entry, now);
            let record = (drop_at > now).then(|| Record::new(digest, entry, generation, drop_at));
            changes
                .entry(shared::bucket_of(&digest))
                .or_default()
                .push((digest, record));
        }
        (changes, skipped)
    }

    /// When `entry`'s secret may be forgotten: `retention` after it was revoked or expired.
    fn drop_at(&self, entry: &KeyEntry, now: i64) -> i64 {
        let revoked = match entry.status {
            KeyStatus::Revoked => Some(entry.revoked_at.unwrap_or(now)),
            KeyStatus::Active | KeyStatus::Disabled => None,
        };
        [revoked, entry.expires_at]
            .into_iter()
            .flatten()
            .min()
            .map_or(i64::MAX, |ended| ended.saturating_add(self.retention_secs))
    }

    /// Writes each bucket's changes in one read-modify-write, forgetting on the way any
    /// record past its retention.
    fn write(
        &self,
        host: &impl Host,
        changes: BTreeMap<u16, Vec<Change>>,
        skipped: &mut Vec<String>,
    ) -> Result<(), Failure> {
        let now = host.now();
        for (index, bucket_changes) in changes {
            let key = shared::bucket_key(index);
            let mut bucket = match host.shared(&key).map(|bytes| Bucket::decode(&bytes)) {
                Some(Ok(bucket)) => bucket,
                None => Bucket::default(),
                Some(Err(_)) => {
                    // Only this syncer writes buckets, so this is a bug or a foreign
                    // writer; the next snapshot restores what the rewrite loses.
                    skipped.push(format!("bucket {key} was unreadable and is rewritten"));
                    Bucket::default()
                }
            };
            for (digest, record) in bucket_changes {
                match record {
                    Some(record) => bucket.upsert(record),
                    None => {
                        bucket.retain(|r| r.digest != digest);
                    }
                }
            }
            bucket.retain(|r| r.drop_at > now);
            host.set_shared(&key, &bucket.encode())
                .map_err(Failure::Host)?;
        }
        Ok(())
    }

    /// At the end of a snapshot, drops every record an earlier generation wrote: the
    /// snapshot rewrote all it lists with the current one. Returns how many it dropped.
    fn drop_older_generations(&self, host: &impl Host) -> Result<usize, Failure> {
        // Generation 1 is the first ever written: nothing older exists.
        if self.generation <= 1 {
            return Ok(0);
        }
        let generation = self.generation;
        let mut dropped = 0;
        for index in 0..BUCKETS {
            let index = u16::try_from(index).unwrap_or(0);
            dropped += rewrite(host, index, |bucket| {
                bucket.retain(|record| record.generation == generation)
            })?;
        }
        Ok(dropped)
    }

    /// Marks `revision` as the complete state workers see.
    fn complete(&mut self, host: &impl Host, revision: u64) -> Result<(), Failure> {
        host.set_shared(shared::SYNCED, revision.to_string().as_bytes())
            .map_err(Failure::Host)?;
        self.applied = Some(revision);
        Ok(())
    }
}

/// Applies a page's providers to `portcullis/providers`: a reset page's list replaces the
/// set, a delta's entries replace or delete one provider each.
fn write_providers(
    host: &impl Host,
    reset: bool,
    entries: &[ProviderEntry],
) -> Result<(), Failure> {
    if !reset && entries.is_empty() {
        return Ok(());
    }
    let mut providers: BTreeMap<String, ProviderConfig> = if reset {
        BTreeMap::new()
    } else {
        // Only this syncer writes it; an unreadable value is replaced by the delta's view,
        // and the next snapshot restores the rest.
        host.shared(shared::PROVIDERS)
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    };
    for entry in entries {
        match &entry.config {
            Some(config) => providers.insert(entry.id.clone(), config.clone()),
            None => providers.remove(&entry.id),
        };
    }
    let bytes = serde_json::to_vec(&providers)
        .map_err(|e| Failure::Protocol(format!("providers cannot be stored: {e}")))?;
    host.set_shared(shared::PROVIDERS, &bytes)
        .map_err(Failure::Host)
}

/// Applies `edit` (which returns how many records it dropped) to bucket `index`, writing
/// it back only when it dropped something. An unreadable bucket is left for a write to
/// replace.
fn rewrite(
    host: &impl Host,
    index: u16,
    edit: impl FnOnce(&mut Bucket) -> usize,
) -> Result<usize, Failure> {
    let key = shared::bucket_key(index);
    let Some(Ok(mut bucket)) = host.shared(&key).map(|bytes| Bucket::decode(&bytes)) else {
        return Ok(0);
    };
    let dropped = edit(&mut bucket);
    if dropped > 0 {
        host.set_shared(&key, &bucket.encode())
            .map_err(Failure::Host)?;
    }
    Ok(dropped)
}

/// `digest` as 64 hex digits (either case), decoded; `None` otherwise.
fn parse_digest(hex: &str) -> Option<Digest> {
    let mut digest = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let mut value = 0u8;
        for &c in pair {
            value = (value << 4) | u8::try_from(char::from(c).to_digit(16)?).ok()?;
        }
        *byte = value;
    }
    Some(digest)
}

/// Percent-encodes everything but RFC 3986 §2.3 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `node` (the Envoy node id) as a header value: visible ASCII kept, anything else `_`.
pub fn sidecar_name(node: &str) -> String {
    let name: String = node
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if name.is_empty() {
        "unknown".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests;
