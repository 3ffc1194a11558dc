//! Counter names, and counting each decision through the [`Host`].
//!
//! Envoy shows custom Wasm metrics with its `wasmcustom.` prefix, for example
//! `wasmcustom.portcullis.denied.invalid_credentials`.

use crate::decision::{Code, Decision};
use crate::host::{CounterId, Host, HostError};

/// Requests let through after authentication (or anonymously on optional routes).
pub const ALLOWED: &str = "portcullis.allowed";
/// Requests let through on public routes, where nothing is checked.
pub const PUBLIC: &str = "portcullis.public";
/// Prefix of the per-code denial counters: `portcullis.denied.<code>`.
pub const DENIED_PREFIX: &str = "portcullis.denied.";

/// The registered counters.
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    allowed: CounterId,
    public: CounterId,
    denied: [CounterId; Code::ALL.len()],
}

impl Metrics {
    /// Registers every counter up front, so a request never registers one.
    pub fn define(host: &impl Host) -> Result<Self, HostError> {
        let mut denied = [CounterId(0); Code::ALL.len()];
        for (slot, code) in denied.iter_mut().zip(Code::ALL) {
            *slot = host.define_counter(&format!("{DENIED_PREFIX}{}", code.as_str()))?;
        }
        Ok(Metrics {
            allowed: host.define_counter(ALLOWED)?,
            public: host.define_counter(PUBLIC)?,
            denied,
        })
    }

    /// Counts one decision.
    pub fn count(&self, host: &impl Host, decision: &Decision<'_>) {
        let counter = match decision {
            Decision::Public => self.public,
            Decision::Anonymous | Decision::Allowed { .. } => self.allowed,
            Decision::Denied(denial) => {
                let code = denial.code();
                let index = Code::ALL.iter().position(|c| *c == code);
                match index.and_then(|i| self.denied.get(i)) {
                    Some(counter) => *counter,
                    None => return,
                }
            }
        };
        host.increment(counter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Denial;
    use crate::host::fake::FakeHost;

    #[test]
    fn each_decision_moves_its_own_counter() {
        let host = FakeHost::default();
        let metrics = Metrics::define(&host).unwrap();
        metrics.count(&host, &Decision::Public);
        metrics.count(&host, &Decision::Anonymous);
        metrics.count(&host, &Decision::Denied(Denial::InvalidCredentials));
        metrics.count(&host, &Decision::Denied(Denial::InvalidCredentials));
        assert_eq!(host.counter("portcullis.public"), 1);
        assert_eq!(host.counter("portcullis.allowed"), 1);
        assert_eq!(host.counter("portcullis.denied.invalid_credentials"), 2);
        assert_eq!(host.counter("portcullis.denied.missing_credentials"), 0);
    }
}
