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
//! - a snapshot that starts with `reset: true` ends by emptying every secret published
//!   before that the snapshot did not list (a removed entry is stored empty, see `shared`).
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
mod outcome;

use crate::host::Host;
use crate::shared;
use crate::wire::{KeyEntry, SYNC_PATH, SyncPage};
use backoff::Backoff;
use config::ControlPlane;
pub use outcome::{Applied, Failure, Next, Outcome, Severity, Stage};
use std::collections::HashSet;

/// A SHA-256 digest, as shared-data keys are made from.
type Digest = [u8; 32];

/// The state of the sync loop.
#[derive(Debug)]
pub struct Syncer {
    wait_secs: u64,
    /// The revision of the last complete state applied; `None` before the first, when the
    /// next poll asks for a snapshot.
    applied: Option<u64>,
    snapshot: Option<Snapshot>,
    /// Every digest written with a record, so a reset can empty those no longer listed.
    published: HashSet<Digest>,
    backoff: Backoff,
}

/// A snapshot whose last page has not arrived yet.
#[derive(Debug)]
struct Snapshot {
    /// The revision of the latest page: the `since` of the next request.
    revision: u64,
    cursor: String,
    /// Digests listed so far, when the snapshot started with `reset: true`.
    listed: Option<Vec<Digest>>,
}

impl Syncer {
    /// A syncer that has applied nothing yet; `seed` spreads its backoff (see `Backoff`).
    pub fn new(plane: &ControlPlane, seed: u64) -> Self {
        Syncer {
            wait_secs: plane.wait.as_secs(),
            applied: None,
            snapshot: None,
            published: HashSet::new(),
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
        let (written, skipped) = self.write_entries(host, &page.entries)?;
        let entries = written.len();
        if page.reset {
            // A reset mid-snapshot restarts it: what earlier pages listed no longer counts.
            self.snapshot = Some(Snapshot {
                revision: page.revision,
                cursor: String::new(),
                listed: Some(Vec::new()),
            });
        }
        let stage = match (self.snapshot.take(), page.cursor) {
            (Some(mut snapshot), Some(cursor)) => {
                if let Some(listed) = &mut snapshot.listed {
                    listed.extend_from_slice(&written);
                }
                snapshot.revision = page.revision;
                snapshot.cursor = cursor;
                self.snapshot = Some(snapshot);
                Stage::SnapshotPage
            }
            (Some(snapshot), None) => {
                let dropped = match snapshot.listed {
                    Some(mut listed) => {
                        listed.extend_from_slice(&written);
                        self.drop_unlisted(host, listed)?
                    }
                    None => 0,
                };
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

    /// Writes each well-formed entry's record; returns the digests written and the
    /// malformed entries skipped (their index and the problem, for the log).
    fn write_entries(
        &mut self,
        host: &impl Host,
        entries: &[KeyEntry],
    ) -> Result<(Vec<Digest>, Vec<String>), Failure> {
        let mut written = Vec::with_capacity(entries.len());
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
            host.set_shared(&shared::key_for(&digest), &shared::encode(entry))
                .map_err(Failure::Host)?;
            self.published.insert(digest);
            written.push(digest);
        }
        Ok((written, skipped))
    }

    /// Empties every published secret a reset snapshot did not list; returns how many.
    fn drop_unlisted(
        &mut self,
        host: &impl Host,
        mut listed: Vec<Digest>,
    ) -> Result<usize, Failure> {
        listed.sort_unstable();
        let stale: Vec<Digest> = self
            .published
            .iter()
            .filter(|digest| listed.binary_search(digest).is_err())
            .copied()
            .collect();
        for digest in &stale {
            host.set_shared(&shared::key_for(digest), &[])
                .map_err(Failure::Host)?;
            self.published.remove(digest);
        }
        Ok(stale.len())
    }

    /// Marks `revision` as the complete state workers see.
    fn complete(&mut self, host: &impl Host, revision: u64) -> Result<(), Failure> {
        host.set_shared(shared::SYNCED, revision.to_string().as_bytes())
            .map_err(Failure::Host)?;
        self.applied = Some(revision);
        Ok(())
    }
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
