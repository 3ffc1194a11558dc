//! One bucket of the failure counts: at most [`MAX_ENTRIES`] clients, each with its failures
//! in the current fixed window and, after the rate-limit service answered over the limit,
//! the time until which it is blocked.
//!
//! Encoding: `[version]` then per entry: client (16 bytes, [`Client::to_bytes`]), window
//! start (i64), count (u32), blocked-until (i64; 0 when not blocked), and the limit the
//! block enforces (requests (u32) per window seconds (u32)), integers little-endian. Bytes that do not follow it read as [`Unreadable`]; the caller then starts
//! the bucket afresh (only Portcullis writes these entries, so that means a version change).

use super::client::Client;

/// Encoding version.
const VERSION: u8 = 1;
/// Bytes per entry.
const ENTRY_LEN: usize = 16 + 8 + 4 + 8 + 4 + 4;
/// Clients one bucket remembers; more evict (see [`Table::slot`]).
pub const MAX_ENTRIES: usize = 8;

/// Bytes that are not a table of this encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

/// A fixed window: `[start, start + secs)`, `start` a multiple of `secs` as
/// envoyproxy/ratelimit aligns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Unix seconds the window starts at.
    pub start: i64,
    /// The window's length.
    pub secs: i64,
}

impl Window {
    /// The window of length `secs` (at least 1) that holds `now`.
    pub fn at(now: i64, secs: i64) -> Self {
        let secs = secs.max(1);
        Window {
            start: now - now.rem_euclid(secs),
            secs,
        }
    }

    /// Unix seconds the window ends at.
    pub fn end(self) -> i64 {
        self.start.saturating_add(self.secs)
    }
}

/// One client's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Whose failures.
    pub client: Client,
    /// The start of the window `count` is in.
    pub window_start: i64,
    /// Failures counted in that window.
    pub count: u32,
    /// Unix seconds until which the client is refused whatever it presents (0: not blocked).
    pub blocked_until: i64,
    /// The limit that block enforces, as the rate-limit service reported it: requests per
    /// window seconds.
    pub blocked_limit: (u32, u32),
}

impl Entry {
    /// Whether nothing about this entry matters any more at `now` in `window`.
    fn is_stale(&self, window: Window, now: i64) -> bool {
        self.window_start != window.start && self.blocked_until <= now
    }

    /// The failures counted in `window` (0 when the entry is from an earlier one).
    pub fn count_in(&self, window: Window) -> u32 {
        if self.window_start == window.start {
            self.count
        } else {
            0
        }
    }
}

/// The entries of one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    entries: Vec<Entry>,
}

impl Table {
    /// Reads a table written by [`Table::encode`]; an empty value is an empty table.
    pub fn decode(bytes: &[u8]) -> Result<Table, Unreadable> {
        let Some((&version, body)) = bytes.split_first() else {
            return Ok(Table::default());
        };
        if version != VERSION || body.len() % ENTRY_LEN != 0 || body.len() / ENTRY_LEN > MAX_ENTRIES
        {
            return Err(Unreadable);
        }
        let entries = body
            .chunks_exact(ENTRY_LEN)
            .map(|raw| {
                let (client, rest) = raw.split_first_chunk::<16>()?;
                let (window_start, rest) = rest.split_first_chunk::<8>()?;
                let (count, rest) = rest.split_first_chunk::<4>()?;
                let (blocked_until, rest) = rest.split_first_chunk::<8>()?;
                let (requests, rest) = rest.split_first_chunk::<4>()?;
                let per_secs = rest.first_chunk::<4>()?;
                Some(Entry {
                    client: Client::from_bytes(*client),
                    window_start: i64::from_le_bytes(*window_start),
                    count: u32::from_le_bytes(*count),
                    blocked_until: i64::from_le_bytes(*blocked_until),
                    blocked_limit: (u32::from_le_bytes(*requests), u32::from_le_bytes(*per_secs)),
                })
            })
            .collect::<Option<Vec<Entry>>>()
            .ok_or(Unreadable)?;
        Ok(Table { entries })
    }

    /// The table's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.entries.len() * ENTRY_LEN);
        out.push(VERSION);
        for entry in &self.entries {
            out.extend_from_slice(&entry.client.to_bytes());
            out.extend_from_slice(&entry.window_start.to_le_bytes());
            out.extend_from_slice(&entry.count.to_le_bytes());
            out.extend_from_slice(&entry.blocked_until.to_le_bytes());
            out.extend_from_slice(&entry.blocked_limit.0.to_le_bytes());
            out.extend_from_slice(&entry.blocked_limit.1.to_le_bytes());
        }
        out
    }

    /// The entry of `client`, if the table remembers it.
    pub fn get(&self, client: Client) -> Option<&Entry> {
        self.entries.iter().find(|e| e.client == client)
    }

    /// The entries, in no particular order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Counts one failure of `client` in `window`; returns its count there afterwards.
    pub fn count_failure(&mut self, client: Client, window: Window, now: i64, limit: u32) -> u32 {
        self.update(client, window, now, limit, |entry| {
            if entry.window_start != window.start {
                entry.window_start = window.start;
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.count
        })
    }

    /// Refuses `client` until `until`, reporting `blocked_limit` (requests per window
    /// seconds); a later block already recorded is kept.
    pub fn block(
        &mut self,
        client: Client,
        window: Window,
        now: i64,
        limit: u32,
        until: i64,
        blocked_limit: (u32, u32),
    ) {
        self.update(client, window, now, limit, |entry| {
            if until > entry.blocked_until {
                entry.blocked_until = until;
                entry.blocked_limit = blocked_limit;
            }
        });
    }

    /// Applies `change` to the entry of `client`, made if needed. Entries that no longer
    /// matter are dropped first; when the table is still full, the one least likely to be
    /// refused goes: an unblocked client with the fewest failures in `window`. So a client
    /// close to its limit is forgotten only when [`MAX_ENTRIES`] others in its bucket have
    /// at least as many failures.
    fn update<R>(
        &mut self,
        client: Client,
        window: Window,
        now: i64,
        limit: u32,
        change: impl FnOnce(&mut Entry) -> R,
    ) -> R {
        self.entries
            .retain(|e| e.client == client || !e.is_stale(window, now));
        let mut entry = match self.entries.iter().position(|e| e.client == client) {
            Some(at) => self.entries.swap_remove(at),
            None => {
                if self.entries.len() >= MAX_ENTRIES {
                    let weight = |e: &Entry| {
                        let blocked = e.blocked_until > now || e.count_in(window) >= limit;
                        (blocked, e.count_in(window))
                    };
                    let victim = self
                        .entries
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, e)| weight(e));
                    if let Some((at, _)) = victim {
                        self.entries.swap_remove(at);
                    }
                }
                Entry {
                    client,
                    window_start: window.start,
                    count: 0,
                    blocked_until: 0,
                    blocked_limit: (0, 0),
                }
            }
        };
        let result = change(&mut entry);
        self.entries.push(entry);
        result
    }
}

#[cfg(test)]
mod tests;
