//! The `Host` trait: what the domain code needs from Envoy (clock, shared data, counters),
//! so it runs natively in tests.
//!
//! `glue::proxy_host` implements it over proxy-wasm hostcalls; `fake::FakeHost` implements
//! it in memory for unit tests.

/// A counter registered with the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterId(pub u32);

/// A gauge registered with the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaugeId(pub u32);

/// The host could not do what was asked (for example, register a metric).
#[derive(Debug, thiserror::Error)]
#[error("host call `{call}` failed: {detail}")]
pub struct HostError {
    /// The host call that failed.
    pub call: &'static str,
    /// What the host said.
    pub detail: String,
}

/// A shared-data entry with the CAS token a conditional write must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The value (empty for an entry written empty).
    pub value: Vec<u8>,
    /// Envoy's CAS token: it changes on every write of the entry.
    pub cas: u32,
}

/// Services the host provides to the domain code.
pub trait Host {
    /// The current time, in Unix seconds.
    fn now(&self) -> i64;
    /// The shared-data value under `key`; `None` when absent or empty (Envoy stores an
    /// empty value for a removed entry).
    fn shared(&self, key: &str) -> Option<Vec<u8>>;
    /// Sets the shared-data value under `key`; an empty `value` removes it.
    fn set_shared(&self, key: &str, value: &[u8]) -> Result<(), HostError>;
    /// The shared-data entry under `key` with its CAS token; `None` only when the entry was
    /// never written (an entry written empty is present).
    fn shared_versioned(&self, key: &str) -> Option<Versioned>;
    /// Writes `value` under `key` if the entry's CAS token is still `cas`: `Ok(false)` when
    /// another writer came first. `cas: None` writes unconditionally, which Envoy also does
    /// for an entry that does not exist yet whatever the token.
    fn set_shared_if(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<bool, HostError>;
    /// Registers (or finds) the counter named `name`.
    fn define_counter(&self, name: &str) -> Result<CounterId, HostError>;
    /// Adds `count` to a counter. Counting never fails a request, so errors are swallowed.
    fn add(&self, counter: CounterId, count: u64);
    /// Registers (or finds) the gauge named `name`.
    fn define_gauge(&self, name: &str) -> Result<GaugeId, HostError>;
    /// Sets a gauge; errors are swallowed like a counter's.
    fn set_gauge(&self, gauge: GaugeId, value: u64);
}

/// An in-memory host for unit tests.
#[cfg(test)]
pub mod fake {
    use super::{CounterId, GaugeId, Host, HostError, Versioned};
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// A clock the test sets, shared data (with CAS tokens) and counters kept in memory.
    #[derive(Default)]
    pub struct FakeHost {
        now: Cell<i64>,
        shared: RefCell<HashMap<String, Versioned>>,
        /// The last CAS token handed out.
        cas: Cell<u32>,
        /// Conditional writes still to lose to a simulated writer on another worker.
        interference: Cell<u32>,
        counters: RefCell<Vec<(String, u64)>>,
    }

    impl FakeHost {
        /// Sets the clock.
        pub fn set_now(&self, now: i64) {
            self.now.set(now);
        }

        /// Makes the next `writes` conditional writes find that another worker wrote the
        /// entry since it was read (the entry's token moves, its value stays).
        pub fn interfere(&self, writes: u32) {
            self.interference.set(writes);
        }

        fn next_cas(&self) -> u32 {
            self.cas.set(self.cas.get().wrapping_add(1).max(1));
            self.cas.get()
        }

        /// The current value of the counter or gauge `name` (0 when never defined).
        pub fn counter(&self, name: &str) -> u64 {
            self.counters
                .borrow()
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| *v)
        }
    }

    impl Host for FakeHost {
        fn now(&self) -> i64 {
            self.now.get()
        }

        fn shared(&self, key: &str) -> Option<Vec<u8>> {
            self.shared
                .borrow()
                .get(key)
                .filter(|v| !v.value.is_empty())
                .map(|v| v.value.clone())
        }

        fn set_shared(&self, key: &str, value: &[u8]) -> Result<(), HostError> {
            self.set_shared_if(key, value, None).map(|_| ())
        }

        fn shared_versioned(&self, key: &str) -> Option<Versioned> {
            self.shared.borrow().get(key).cloned()
        }

        fn set_shared_if(
            &self,
            key: &str,
            value: &[u8],
            cas: Option<u32>,
        ) -> Result<bool, HostError> {
            let current = self.shared.borrow().get(key).map(|v| v.cas);
            if let (Some(current), Some(_)) = (current, cas) {
                let pending = self.interference.get();
                if pending > 0 {
                    self.interference.set(pending - 1);
                    let moved = self.next_cas();
                    if let Some(entry) = self.shared.borrow_mut().get_mut(key) {
                        entry.cas = moved;
                    }
                    return Ok(false);
                }
                if cas != Some(current) {
                    return Ok(false);
                }
            }
            let cas = self.next_cas();
            let value = value.to_vec();
            self.shared
                .borrow_mut()
                .insert(key.to_owned(), Versioned { value, cas });
            Ok(true)
        }

        fn define_counter(&self, name: &str) -> Result<CounterId, HostError> {
            let mut counters = self.counters.borrow_mut();
            if let Some(i) = counters.iter().position(|(n, _)| n == name) {
                return Ok(CounterId(i as u32));
            }
            counters.push((name.to_owned(), 0));
            Ok(CounterId(counters.len() as u32 - 1))
        }

        fn add(&self, counter: CounterId, count: u64) {
            if let Some((_, v)) = self.counters.borrow_mut().get_mut(counter.0 as usize) {
                *v += count;
            }
        }

        // Gauges share the counters' table: tests read both by name.
        fn define_gauge(&self, name: &str) -> Result<GaugeId, HostError> {
            self.define_counter(name).map(|id| GaugeId(id.0))
        }

        fn set_gauge(&self, gauge: GaugeId, value: u64) {
            if let Some((_, v)) = self.counters.borrow_mut().get_mut(gauge.0 as usize) {
                *v = value;
            }
        }
    }
}
