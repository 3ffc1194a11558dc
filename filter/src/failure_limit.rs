//! Brute-force protection: failed credentials are limited per client on every route.
//!
//! A request whose presented credential fails ([`counts`]) adds one to its client's count in
//! the current fixed window; once the count reaches the limit, every request from that
//! client that presents a credential is refused with 429 until the window ends, a valid
//! credential included ([`FailureLimit::blocked`], checked before any credential is
//! verified). The counts live in Envoy shared data, so every worker of one Envoy shares
//! them: [`TABLES`] fixed entries `portcullis/f/<3 hex>`, the client hashed to one, each a
//! [`table::Table`] of at most [`table::MAX_ENTRIES`] clients, updated with Envoy's
//! compare-and-swap and retried up to [`CAS_ATTEMPTS`] times. Envoy never frees a shared-data
//! entry, so the entries are fixed and memory stays bounded whatever the clients.
//!
//! With a rate-limit service configured, each counted failure is also reported to it
//! ([`rls`]), which counts across Envoys; when it answers over the limit, the client is
//! blocked in this Envoy's table until its window resets ([`FailureLimit::record_answer`]).

pub mod client;
pub mod rls;
pub mod table;

use crate::decision::{Code, Denial};
use crate::host::{Host, HostError};
pub use client::Client;
use std::time::Duration;
use table::{Table, Window};

/// The rate-limit descriptor key of a failed credential; the value is the [`Client`].
pub const DESCRIPTOR_KEY: &str = "auth_failure";
/// Failures allowed per window by default, as the control-plane's default per-IP limit.
pub const DEFAULT_REQUESTS_PER_UNIT: u32 = 60;
/// The default window: a minute.
pub const DEFAULT_WINDOW_SECS: i64 = 60;
/// Prefix of the count tables' shared-data entries.
pub const TABLE_PREFIX: &str = "portcullis/f/";
/// How many count tables there are.
pub const TABLES: u16 = 1024;
/// Reads and conditional writes tried before a failure's count is given up.
pub const CAS_ATTEMPTS: u32 = 8;

/// The validated `failure_limit` configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureLimit {
    /// Failures allowed per client per window; the next credential is refused.
    pub requests_per_unit: u32,
    /// The window's length.
    pub window_secs: i64,
    /// The rate-limit service that counts across Envoys, if any.
    pub rls: Option<Rls>,
}

/// Where the global count is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rls {
    /// The Envoy cluster of the rate-limit service.
    pub cluster: String,
    /// [`rls::grpc_service`] of the cluster, as the text Envoy's gRPC call takes.
    pub service: String,
    /// The rate-limit domain.
    pub domain: String,
    /// How long a failed request waits for the answer.
    pub timeout: Duration,
}

/// A client refused for too many failed credentials: what the 429 tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    /// Failures allowed per window.
    pub limit: u32,
    /// The window's length in seconds.
    pub window_secs: i64,
    /// Seconds until the client may try again (at least 1).
    pub retry_after_secs: i64,
}

/// Why a failure could not be counted.
#[derive(Debug, thiserror::Error)]
pub enum Lost {
    /// Other workers wrote the table every time this one tried.
    #[error("the failure count table changed under each of {CAS_ATTEMPTS} attempts")]
    Contended,
    /// Envoy refused the write.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// What the rate-limit service's answer means for the failed request waiting on it.
#[derive(Debug)]
pub enum RlsVerdict {
    /// Over the global limit: refuse with 429 (the block is recorded locally, unless lost).
    OverLimit {
        /// What the 429 says.
        blocked: Blocked,
        /// Whether the block reached this Envoy's table.
        recorded: Result<(), Lost>,
    },
    /// Under it: send the request's own denial.
    UnderLimit,
    /// No usable answer: send the request's own denial; the local count still holds.
    Failed(String),
}

/// Whether `denial` is a failed credential: a credential was presented and did not
/// authenticate. A missing credential, a valid one lacking scope or role, a malformed
/// request and "not ready yet" are not guesses and are not counted.
pub fn counts(denial: &Denial) -> bool {
    matches!(
        denial.code(),
        Code::InvalidCredentials | Code::ExpiredCredentials | Code::RevokedCredentials
    )
}

/// Creates every count table that does not exist yet, empty, so that each later write can
/// be conditional (Envoy's CAS cannot guard the first write of an entry).
pub fn prepare(host: &impl Host) -> Result<(), HostError> {
    for index in 0..TABLES {
        let key = table_key(index);
        if host.shared_versioned(&key).is_none() {
            host.set_shared_if(&key, &[], None)?;
        }
    }
    Ok(())
}

impl FailureLimit {
    /// Whether `client` is refused now, and for how long: its failures in the current
    /// window reached the limit, or the rate-limit service said so. One shared-data read.
    pub fn blocked(&self, host: &impl Host, client: Client) -> Option<Blocked> {
        let bytes = host.shared(&table_key(bucket_of(client)))?;
        // An unreadable table counts nothing: it is rewritten by the next failure.
        let table = Table::decode(&bytes).ok()?;
        let entry = table.get(client)?;
        let now = host.now();
        let window = self.window(now);
        let local = (entry.count_in(window) >= self.requests_per_unit).then(|| Blocked {
            limit: self.requests_per_unit,
            window_secs: self.window_secs,
            retry_after_secs: window.end() - now,
        });
        let (limit, per_secs) = entry.blocked_limit;
        let global = (entry.blocked_until > now).then(|| Blocked {
            limit,
            window_secs: i64::from(per_secs),
            retry_after_secs: entry.blocked_until - now,
        });
        // The block that lasts longer is the one the client must wait out.
        match (local, global) {
            (Some(local), Some(global)) if global.retry_after_secs > local.retry_after_secs => {
                Some(global)
            }
            (local, global) => local.or(global),
        }
    }

    /// Counts one failed credential of `client`; returns its count in the current window.
    pub fn record_failure(&self, host: &impl Host, client: Client) -> Result<u32, Lost> {
        let now = host.now();
        let window = self.window(now);
        let mut count = 0;
        update(host, client, |table| {
            count = table.count_failure(client, window, now, self.requests_per_unit);
        })?;
        Ok(count)
    }

    /// Reads the rate-limit service's answer to a failure of `client`: `grpc_status` 0 and
    /// the response `body`, or another status when the call failed or timed out.
    pub fn record_answer(
        &self,
        host: &impl Host,
        client: Client,
        grpc_status: u32,
        body: &[u8],
    ) -> RlsVerdict {
        if grpc_status != 0 {
            return RlsVerdict::Failed(format!(
                "rate-limit service call ended with gRPC status {grpc_status}"
            ));
        }
        let answer = match rls::response(body) {
            Ok(answer) => answer,
            Err(malformed) => return RlsVerdict::Failed(malformed.to_string()),
        };
        if !answer.over_limit {
            return RlsVerdict::UnderLimit;
        }
        let now = host.now();
        let window = self.window(now);
        let (limit, window_secs) = answer
            .limit
            .unwrap_or((self.requests_per_unit, self.window_secs));
        let retry_after_secs = answer
            .reset_secs
            .filter(|&secs| secs > 0)
            .unwrap_or_else(|| Window::at(now, window_secs).end() - now)
            .max(1);
        let until = now.saturating_add(retry_after_secs);
        let reported = (limit, u32::try_from(window_secs).unwrap_or(u32::MAX));
        let recorded = update(host, client, |table| {
            table.block(client, window, now, self.requests_per_unit, until, reported);
        });
        RlsVerdict::OverLimit {
            blocked: Blocked {
                limit,
                window_secs,
                retry_after_secs,
            },
            recorded,
        }
    }

    fn window(&self, now: i64) -> Window {
        Window::at(now, self.window_secs)
    }
}

/// Applies `change` to the table of `client` with a conditional write, re-reading and
/// retrying when another worker wrote it in between.
fn update(
    host: &impl Host,
    client: Client,
    mut change: impl FnMut(&mut Table),
) -> Result<(), Lost> {
    let key = table_key(bucket_of(client));
    for _ in 0..CAS_ATTEMPTS {
        let current = host.shared_versioned(&key);
        let mut table = current
            .as_ref()
            .and_then(|c| Table::decode(&c.value).ok())
            .unwrap_or_default();
        change(&mut table);
        if host.set_shared_if(&key, &table.encode(), current.map(|c| c.cas))? {
            return Ok(());
        }
    }
    Err(Lost::Contended)
}

/// The table `client` is counted in: FNV-1a of its bytes.
fn bucket_of(client: Client) -> u16 {
    let hash = client
        .to_bytes()
        .iter()
        .fold(0x811c_9dc5_u32, |hash, &byte| {
            (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
        });
    (hash % u32::from(TABLES)) as u16
}

/// The shared-data key of table `index`.
fn table_key(index: u16) -> String {
    format!("{TABLE_PREFIX}{index:03x}")
}

#[cfg(test)]
mod tests;
