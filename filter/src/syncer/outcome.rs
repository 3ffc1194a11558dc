//! What a reply led to: when to poll next, and the line the glue logs about it. Messages
//! name revisions, counts and key ids, never a token and never a digest in full.

use crate::host::HostError;
use std::fmt;
use std::time::Duration;

/// The result of one poll.
#[derive(Debug)]
pub enum Outcome {
    /// A page was applied to shared data.
    Applied {
        /// What the page did.
        applied: Applied,
    },
    /// The long-poll's `wait` passed with no change: poll again at once.
    Unchanged,
    /// Nothing was applied; the last good state stays.
    Failed {
        /// Why.
        failure: Failure,
        /// Consecutive failures, this one included.
        in_a_row: u32,
        /// The pause before the next poll.
        retry_after: Duration,
    },
}

/// When to send the next poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Right away.
    Now,
    /// After a pause.
    After(Duration),
}

/// How loudly the glue should log an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Routine: a quiet long-poll, a snapshot page in the middle of many.
    Debug,
    /// A state change operators want in the log.
    Info,
    /// Something to look at: a failure, or entries skipped as malformed.
    Warn,
}

impl Outcome {
    /// When to poll next.
    pub fn next(&self) -> Next {
        match self {
            Outcome::Applied { .. } | Outcome::Unchanged => Next::Now,
            Outcome::Failed { retry_after, .. } => Next::After(*retry_after),
        }
    }

    /// How loudly to log [`Outcome`]'s `Display`.
    pub fn severity(&self) -> Severity {
        match self {
            Outcome::Applied { applied, .. } if !applied.skipped.is_empty() => Severity::Warn,
            Outcome::Applied { applied, .. } if applied.stage == Stage::SnapshotPage => {
                Severity::Debug
            }
            Outcome::Applied { .. } => Severity::Info,
            Outcome::Unchanged => Severity::Debug,
            Outcome::Failed { .. } => Severity::Warn,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Applied { applied, .. } => write!(f, "{applied}"),
            Outcome::Unchanged => write!(f, "sync: no change"),
            Outcome::Failed {
                failure,
                in_a_row,
                retry_after,
            } => write!(
                f,
                "sync failed ({in_a_row} in a row), keeping the last good state, retrying in {} ms: {failure}",
                retry_after.as_millis()
            ),
        }
    }
}

/// What an applied page did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Where the page stands in the protocol.
    pub stage: Stage,
    /// The page's revision.
    pub revision: u64,
    /// Records written.
    pub entries: usize,
    /// Malformed entries left out, one line each.
    pub skipped: Vec<String>,
}

/// Where an applied page stands in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A snapshot page with more to come; workers still see the previous state's marker.
    SnapshotPage,
    /// The last page of a snapshot, after emptying `dropped` secrets it did not list.
    SnapshotComplete {
        /// Secrets emptied because a reset snapshot no longer listed them.
        dropped: usize,
    },
    /// A delta.
    Delta,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (revision, entries) = (self.revision, self.entries);
        match self.stage {
            Stage::SnapshotPage => write!(
                f,
                "sync: snapshot page at revision {revision}: {entries} entries, more to come"
            )?,
            Stage::SnapshotComplete { dropped } => write!(
                f,
                "sync: snapshot complete at revision {revision}: {entries} entries in its last page, {dropped} dropped"
            )?,
            Stage::Delta => write!(f, "sync: delta to revision {revision}: {entries} entries")?,
        }
        if let Some(first) = self.skipped.first() {
            write!(
                f,
                "; skipped {} malformed entries, first: {first}",
                self.skipped.len()
            )?;
        }
        Ok(())
    }
}

/// Why a poll applied nothing.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The request could not be sent (an unknown cluster is `BadArgument`).
    #[error("request not sent: {0}")]
    Dispatch(String),
    /// The reply had no readable `:status`.
    #[error("reply without a readable :status")]
    NoStatus,
    /// A status other than 200; Envoy answers 503 itself when the control-plane is down
    /// and 504 when it does not reply within the timeout.
    #[error("control-plane answered {0}, expected 200")]
    Status(u32),
    /// A 200 whose body is not a sync page.
    #[error("reply is not a sync page: {0}")]
    Body(String),
    /// A well-formed page that breaks the protocol.
    #[error("reply breaks the sync protocol: {0}")]
    Protocol(String),
    /// Shared data could not be written; the page is asked for again. The host's message
    /// may name the shared-data key, so digests in it are shortened.
    #[error("{}", shorten_digests(&.0.to_string()))]
    Host(HostError),
}

/// `error` without the values it may quote from the body (digests, names): JSON strings
/// in the message are replaced by `"…"`, field names in backticks are kept.
pub fn describe_json_error(error: &serde_json::Error) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in error.to_string().chars() {
        match (c, in_string) {
            ('"', false) => {
                in_string = true;
                out.push_str("\"…\"");
            }
            (_, true) if escaped => escaped = false,
            ('\\', true) => escaped = true,
            ('"', true) => in_string = false,
            (c, false) => out.push(c),
            (_, true) => {}
        }
    }
    out
}

/// `text` with every run of 16 or more hex digits cut to its first 8 and `…`, so a
/// digest never reaches the log in full.
fn shorten_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() >= 16 {
            out.extend(run.chars().take(8));
            out.push('…');
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}
