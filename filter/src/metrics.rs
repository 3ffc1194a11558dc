//! Counter names, and counting each decision.
//!
//! Envoy shows custom Wasm metrics with its `wasmcustom.` prefix, for example
//! `wasmcustom.portcullis.denied.invalid_credentials`. A request only bumps a number inside
//! the VM; the root context hands the totals to Envoy once a second ([`Metrics::flush`]),
//! because a host call per request costs more than the rest of a static-token check.

use crate::decision::{Code, Decision};
use crate::host::{CounterId, Host, HostError};
use std::cell::Cell;

/// Requests let through after authentication (or anonymously on optional routes).
pub const ALLOWED: &str = "portcullis.allowed";
/// Requests let through on public routes, where nothing is checked.
pub const PUBLIC: &str = "portcullis.public";
/// Prefix of the per-code denial counters: `portcullis.denied.<code>`.
pub const DENIED_PREFIX: &str = "portcullis.denied.";
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
            Decision::Anonymous | Decision::Allowed { .. } => Some(&self.allowed),
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
