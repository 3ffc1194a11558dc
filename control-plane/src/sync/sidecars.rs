//! `Sidecars`: which syncers this replica has heard from and the revision each has applied,
//! so an operator can see that a revocation reached every Envoy.
//!
//! In memory and per replica: it starts empty on every restart, and behind a load balancer
//! each replica sees only the syncers that polled it. A syncer reports its applied revision
//! as the `since` of a request without a cursor; a snapshot continuation (with a cursor)
//! only refreshes when it was last seen, since the snapshot is not applied until its last
//! page.

use crate::store::UnixSecs;
use crate::sync::SyncError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

/// The longest sidecar name accepted.
pub const MAX_NAME_CHARS: usize = 128;
/// How many sidecars are remembered; past it the one seen longest ago is forgotten, so a
/// misconfigured fleet naming itself randomly cannot grow the map without bound.
const MAX_SIDECARS: usize = 10_000;

/// A sidecar's self-chosen name (its Envoy node id): 1 to 128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarName(String);

impl SidecarName {
    /// Checks a header value's bytes.
    pub fn parse(value: &[u8]) -> Result<Self, SyncError> {
        let is_visible = value.iter().all(|b| b.is_ascii_graphic());
        match std::str::from_utf8(value) {
            Ok(name) if is_visible && (1..=MAX_NAME_CHARS).contains(&name.len()) => {
                Ok(Self(name.to_owned()))
            }
            _ => Err(SyncError::InvalidSidecar(format!(
                "the sidecar name must be 1 to {MAX_NAME_CHARS} visible ASCII characters, \
                 got {} bytes",
                value.len()
            ))),
        }
    }
}

/// What this replica last heard from one sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The sidecar's name.
    pub name: String,
    /// The revision it reported as applied (0 until its first snapshot is complete).
    pub applied_revision: u64,
    /// When it last asked, Unix seconds.
    pub last_seen: UnixSecs,
    /// The address it asked from (for a syncer, its Envoy).
    pub address: SocketAddr,
}

/// Every sidecar this replica has heard from since it started.
#[derive(Debug, Default)]
pub struct Sidecars {
    seen: Mutex<HashMap<String, Sighting>>,
}

impl Sidecars {
    /// Records a request from `name`: `applied` is its `since` when the request carries no
    /// cursor, `None` while a snapshot is in progress (the revision stays as it was).
    pub fn record(
        &self,
        name: &SidecarName,
        applied: Option<u64>,
        now: UnixSecs,
        address: SocketAddr,
    ) {
        // A poisoned lock only means a panic mid-update of plain data; keep using it.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_SIDECARS && !seen.contains_key(&name.0) {
            let oldest = seen
                .values()
                .min_by_key(|s| s.last_seen)
                .map(|s| s.name.clone());
            if let Some(oldest) = oldest {
                seen.remove(&oldest);
            }
        }
        let sighting = seen.entry(name.0.clone()).or_insert_with(|| Sighting {
            name: name.0.clone(),
            applied_revision: 0,
            last_seen: now,
            address,
        });
        if let Some(applied) = applied {
            sighting.applied_revision = applied;
        }
        sighting.last_seen = now;
        sighting.address = address;
    }

    /// Every sidecar, by name.
    pub fn list(&self) -> Vec<Sighting> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<Sighting> = seen.values().cloned().collect();
        drop(seen);
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    fn name(text: &str) -> SidecarName {
        SidecarName::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn sidecar_names_are_one_to_128_visible_ascii_characters() {
        assert!(SidecarName::parse(b"envoy-0.default").is_ok());
        assert!(SidecarName::parse("x".repeat(128).as_bytes()).is_ok());
        for bad in [&b""[..], &b"has space"[..], &b"tab\t"[..], "é".as_bytes()] {
            assert!(SidecarName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(SidecarName::parse("x".repeat(129).as_bytes()).is_err());
    }

    #[test]
    fn a_snapshot_continuation_refreshes_the_sighting_but_keeps_the_applied_revision() {
        let sidecars = Sidecars::default();
        sidecars.record(&name("b"), Some(4), 100, address(1));
        sidecars.record(&name("a"), Some(0), 100, address(2));
        sidecars.record(&name("b"), None, 160, address(3));
        let b = Sighting {
            name: "b".into(),
            applied_revision: 4,
            last_seen: 160,
            address: address(3),
        };
        let list = sidecars.list();
        assert_eq!(
            list.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(list.get(1), Some(&b));
    }

    #[test]
    fn past_the_limit_the_sidecar_seen_longest_ago_is_forgotten() {
        let sidecars = Sidecars::default();
        for n in 0..MAX_SIDECARS {
            let seen_at = if n == 7 { 1 } else { 100 };
            sidecars.record(&name(&format!("s{n}")), Some(1), seen_at, address(1));
        }
        sidecars.record(&name("newcomer"), Some(1), 200, address(1));
        let names: Vec<String> = sidecars.list().into_iter().map(|s| s.name).collect();
        assert_eq!(names.len(), MAX_SIDECARS);
        assert!(names.contains(&"newcomer".to_owned()));
        assert!(!names.contains(&"s7".to_owned()));
    }
}
