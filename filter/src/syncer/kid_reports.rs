//! Unknown `kid` reports on their way from the workers to the control-plane: each worker
//! posts the `kid` it could not find (at most one a second) on a shared queue, and the
//! syncer turns what it dequeues into `POST /v1/sync/unknown-kid` bodies.
//!
//! Invariants: a message that is not an [`UnknownKid`] is dropped, never fatal; one batch
//! names each (provider, `kid`) once, and at most [`MAX_BATCH`] of them, so a flood of
//! forged `kid`s costs the control-plane a bounded number of calls (it rate-limits the
//! refetches themselves).

use crate::wire::UnknownKid;
use std::collections::BTreeSet;

/// The most reports one batch sends.
pub const MAX_BATCH: usize = 16;

/// The reports dequeued since the last batch, deduplicated.
#[derive(Debug, Default)]
pub struct KidReports {
    pending: BTreeSet<(String, String)>,
    dropped: u64,
}

impl KidReports {
    /// Takes one queue message; garbage and reports beyond [`MAX_BATCH`] are counted and
    /// dropped.
    pub fn push(&mut self, message: &[u8]) {
        let Ok(report) = serde_json::from_slice::<UnknownKid>(message) else {
            self.dropped += 1;
            return;
        };
        let entry = (report.provider, report.kid);
        if self.pending.len() >= MAX_BATCH && !self.pending.contains(&entry) {
            self.dropped += 1;
            return;
        }
        self.pending.insert(entry);
    }

    /// The JSON bodies to post, emptying the batch.
    pub fn take_bodies(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .filter_map(|(provider, kid)| serde_json::to_string(&UnknownKid { provider, kid }).ok())
            .collect()
    }

    /// How many messages were dropped since the last call.
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }
}

/// The queue message a worker posts for `report`.
pub fn message(report: &UnknownKid) -> Option<Vec<u8>> {
    serde_json::to_vec(report).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(provider: &str, kid: &str) -> Vec<u8> {
        let report = UnknownKid {
            provider: provider.to_owned(),
            kid: kid.to_owned(),
        };
        message(&report).unwrap_or_default()
    }

    #[test]
    fn a_report_round_trips_into_one_body() {
        let mut reports = KidReports::default();
        reports.push(&report("clerk", "k2"));
        assert_eq!(
            reports.take_bodies(),
            vec![r#"{"provider":"clerk","kid":"k2"}"#.to_owned()]
        );
        assert!(reports.take_bodies().is_empty(), "a batch is sent once");
    }

    #[test]
    fn repeated_reports_are_sent_once() {
        let mut reports = KidReports::default();
        for _ in 0..5 {
            reports.push(&report("clerk", "k2"));
        }
        reports.push(&report("clerk", "k3"));
        reports.push(&report("other", "k2"));
        assert_eq!(reports.take_bodies().len(), 3);
        assert_eq!(reports.take_dropped(), 0);
    }

    #[test]
    fn garbage_is_dropped_and_counted() {
        let mut reports = KidReports::default();
        for garbage in [
            &b""[..],
            b"{",
            b"null",
            b"{\"provider\":1,\"kid\":\"k\"}",
            b"\xff\xfe",
        ] {
            reports.push(garbage);
        }
        reports.push(br#"{"provider":"p","kid":"k","extra":true}"#);
        assert!(reports.take_bodies().is_empty());
        assert_eq!(reports.take_dropped(), 6);
        assert_eq!(reports.take_dropped(), 0, "the count restarts");
    }

    #[test]
    fn a_batch_is_bounded() {
        let mut reports = KidReports::default();
        for i in 0..100 {
            reports.push(&report("clerk", &format!("forged-{i}")));
        }
        reports.push(&report("clerk", "forged-0"));
        assert_eq!(reports.take_bodies().len(), MAX_BATCH);
        assert_eq!(reports.take_dropped(), 100 - MAX_BATCH as u64);
    }
}
