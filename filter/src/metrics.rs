//! Counter names, and counting each decision.
//!
//! Envoy shows custom Wasm metrics with its `wasmcustom.` prefix, for example
//! `wasmcustom.portcullis.denied.invalid_credentials`. A request only bumps a number inside
//! the VM; the root context hands the totals to Envoy once a second ([`Metrics::flush`]),
//! because a host call per request costs more than the rest of a static-token check.

use crate::decision::{Code, Decision, Denial};
use crate::host::{CounterId, GaugeId, Host, HostError};
use crate::syncer::{Outcome, Stage};
use std::cell::Cell;

/// Requests let through after authentication (or anonymously on optional routes).
pub const ALLOWED: &str = "portcullis.allowed";
/// Requests let through on public routes, where nothing is checked.
pub const PUBLIC: &str = "portcullis.public";
/// Prefix of the per-code denial counters: `portcullis.denied.<code>`.
pub const DENIED_PREFIX: &str = "portcullis.denied.";
/// Failed credentials counted against their client (brute-force protection).
pub const FAILURES_COUNTED: &str = "portcullis.failure_limit.counted";
/// Failed credentials whose count was lost: other workers kept winning the table's
/// compare-and-swap, or Envoy refused the write. Each one loosens the limit by one.
pub const FAILURES_LOST: &str = "portcullis.failure_limit.lost";
/// Calls to the rate-limit service that brought no answer (refused, failed, timed out or
/// unreadable); the failure was still counted locally.
pub const RLS_ERRORS: &str = "portcullis.failure_limit.rls_errors";
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
    failures_counted: Counter,
    failures_lost: Counter,
    rls_errors: Counter,
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
            failures_counted: Counter::define(host, FAILURES_COUNTED)?,
            failures_lost: Counter::define(host, FAILURES_LOST)?,
            rls_errors: Counter::define(host, RLS_ERRORS)?,
        })
    }

    /// Counts one decision (in the VM; see [`Metrics::flush`]).
    pub fn count(&self, decision: &Decision<'_>) {
        match decision {
            Decision::Public => self.public.bump(),
            Decision::Anonymous | Decision::Allowed { .. } | Decision::Whoami { .. } => {
                self.allowed.bump();
            }
            Decision::Denied(denial) => self.count_denial(denial),
        }
    }

    /// Counts one denial under its code.
    pub fn count_denial(&self, denial: &Denial) {
        let code = denial.code();
        let index = Code::ALL.iter().position(|c| *c == code);
        if let Some(counter) = index.and_then(|i| self.denied.get(i)) {
            counter.bump();
        }
    }

    /// Counts a failed credential: recorded against its client, or lost.
    pub fn count_failure(&self, recorded: bool) {
        if recorded {
            self.failures_counted.bump();
        } else {
            self.failures_lost.bump();
        }
    }

    /// Counts a call to the rate-limit service that brought no answer.
    pub fn count_rls_error(&self) {
        self.rls_errors.bump();
    }

    /// Hands every pending count to the host.
    pub fn flush(&self, host: &impl Host) {
        self.allowed.flush(host);
        self.public.flush(host);
        for counter in self.denied.iter().chain([
            &self.failures_counted,
            &self.failures_lost,
            &self.rls_errors,
        ]) {
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
    fn failures_counted_lost_and_rls_errors_have_their_own_counters() {
        let host = FakeHost::default();
        let metrics = Metrics::define(&host).unwrap();
        metrics.count_failure(true);
        metrics.count_failure(true);
        metrics.count_failure(false);
        metrics.count_rls_error();
        metrics.flush(&host);
        assert_eq!(host.counter("portcullis.failure_limit.counted"), 2);
        assert_eq!(host.counter("portcullis.failure_limit.lost"), 1);
        assert_eq!(host.counter("portcullis.failure_limit.rls_errors"), 1);
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
