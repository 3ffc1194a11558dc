//! Counter names, and counting each decision.
//!
//! Envoy shows custom Wasm metrics with its `wasmcustom.` prefix, for example
//! `wasmcustom.portcullis.denied.invalid_credentials`. A request only bumps a number inside
//! the VM; the root context hands the totals to Envoy once a second ([`Metrics::flush`]),
//! because a host call per request costs more than the rest of a static-token check.

use crate::decision::{Code, Decision};
use crate::host::{CounterId, GaugeId, Host, HostError};
use crate::syncer::{Outcome, Stage};
use std::cell::Cell;

/// Requests let through after authentication (or anonymously on optional routes).
pub const ALLOWED: &str = "portcullis.allowed";
/// Requests let through on public routes, where nothing is checked.
pub const PUBLIC: &str = "portcullis.public";
/// Prefix of the per-code denial counters: `portcullis.denied.<code>`.
pub const DENIED_PREFIX: &str = "portcullis.denied.";
/// The revision of the last complete state the syncer applied (a gauge).
pub const SYNC_REVISION: &str = "portcullis.sync.revision";
/// Polls of the control-plane that failed (a counter): the last good state kept serving.
pub const SYNC_FAILURES: &str = "portcullis.sync.failures";
/// How often counts reach Envoy; Envoy's own stats flush is slower (5 s by default).
pub const FLUSH_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// A registered counter and the counts not yet handed to the host.
#[derive(Debug)]
struct Counter {
    id: CounterId,
    pending: Cell<u64>,
}

impl Counter {
    fn define(host: &impl Host, name: &str) -> Result<Self, HostError> {
        Ok(Counter {
            id: host.define_counter(name)?,
            pending: Cell::new(0),
        })
    }

    fn bump(&self) {
        self.pending.set(self.pending.get().saturating_add(1));
    }

    fn flush(&self, host: &impl Host) {
        let count = self.pending.take();
        if count > 0 {
            host.add(self.id, count);
        }
    }
}

/// The registered counters of one VM.
#[derive(Debug)]
pub struct Metrics {
    allowed: Counter,
    public: Counter,
    /// In the order of [`Code::ALL`].
    denied: Vec<Counter>,
}

impl Metrics {
    /// Registers every counter up front, so a request never registers one.
    pub fn define(host: &impl Host) -> Result<Self, HostError> {
        let denied = Code::ALL
            .iter()
            .map(|code| Counter::define(host, &format!("{DENIED_PREFIX}{}", code.as_str())))
            .collect::<Result<_, _>>()?;
        Ok(Metrics {
            allowed: Counter::define(host, ALLOWED)?,
            public: Counter::define(host, PUBLIC)?,
            denied,
        })
    }

    /// Counts one decision (in the VM; see [`Metrics::flush`]).
    pub fn count(&self, decision: &Decision<'_>) {
        let counter = match decision {
            Decision::Public => Some(&self.public),
            Decision::Anonymous | Decision::Allowed { .. } | Decision::Whoami { .. } => {
                Some(&self.allowed)
            }
            Decision::Denied(denial) => {
                let code = denial.code();
                let index = Code::ALL.iter().position(|c| *c == code);
                index.and_then(|i| self.denied.get(i))
            }
        };
        if let Some(counter) = counter {
            counter.bump();
        }
    }

    /// Hands every pending count to the host.
    pub fn flush(&self, host: &impl Host) {
        self.allowed.flush(host);
        self.public.flush(host);
        for counter in &self.denied {
            counter.flush(host);
        }
    }
}

/// The syncer's metrics: it polls at most a few times a second, so it records directly.
#[derive(Debug, Clone, Copy)]
pub struct SyncMetrics {
    revision: GaugeId,
    failures: CounterId,
}

impl SyncMetrics {
    /// Registers the syncer's gauge and counter.
    pub fn define(host: &impl Host) -> Result<Self, HostError> {
        Ok(SyncMetrics {
            revision: host.define_gauge(SYNC_REVISION)?,
            failures: host.define_counter(SYNC_FAILURES)?,
        })
    }

    /// Records one poll's outcome: a complete state moves the revision, a failure counts.
    pub fn record(&self, host: &impl Host, outcome: &Outcome) {
        match outcome {
            Outcome::Applied { applied } if applied.stage != Stage::SnapshotPage => {
                host.set_gauge(self.revision, applied.revision);
            }
            Outcome::Failed { .. } => host.add(self.failures, 1),
            Outcome::Applied { .. } | Outcome::Unchanged => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Denial;
    use crate::host::fake::FakeHost;

    #[test]
    fn each_decision_moves_its_own_counter_when_flushed() {
        let host = FakeHost::default();
        let metrics = Metrics::define(&host).unwrap();
        metrics.count(&Decision::Public);
        metrics.count(&Decision::Anonymous);
        metrics.count(&Decision::Denied(Denial::InvalidCredentials));
        metrics.count(&Decision::Denied(Denial::InvalidCredentials));
        assert_eq!(
            host.counter("portcullis.allowed"),
            0,
            "nothing reaches the host before a flush"
        );
        metrics.flush(&host);
        assert_eq!(host.counter("portcullis.public"), 1);
        assert_eq!(host.counter("portcullis.allowed"), 1);
        assert_eq!(host.counter("portcullis.denied.invalid_credentials"), 2);
        assert_eq!(host.counter("portcullis.denied.missing_credentials"), 0);
    }

    #[test]
    fn the_syncer_records_complete_revisions_and_failures() {
        use crate::syncer::{Applied, Failure};
        let host = FakeHost::default();
        let sync = SyncMetrics::define(&host).unwrap();
        let applied = |stage, revision| Outcome::Applied {
            applied: Applied {
                stage,
                revision,
                entries: 0,
                skipped: vec![],
            },
        };
        sync.record(&host, &applied(Stage::Delta, 7));
        sync.record(&host, &applied(Stage::SnapshotPage, 9));
        assert_eq!(
            host.counter("portcullis.sync.revision"),
            7,
            "a page mid-snapshot is not a state"
        );
        sync.record(&host, &applied(Stage::SnapshotComplete { dropped: 0 }, 9));
        assert_eq!(host.counter("portcullis.sync.revision"), 9);
        let failed = Outcome::Failed {
            failure: Failure::NoStatus,
            in_a_row: 1,
            retry_after: std::time::Duration::from_millis(1),
        };
        sync.record(&host, &failed);
        sync.record(&host, &failed);
        assert_eq!(host.counter("portcullis.sync.failures"), 2);
    }

    #[test]
    fn a_flush_hands_over_each_count_once() {
        let host = FakeHost::default();
        let metrics = Metrics::define(&host).unwrap();
        metrics.count(&Decision::Public);
        metrics.flush(&host);
        metrics.flush(&host);
        metrics.count(&Decision::Public);
        metrics.flush(&host);
        assert_eq!(host.counter("portcullis.public"), 2);
    }
}
