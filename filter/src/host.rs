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

/// Services the host provides to the domain code.
pub trait Host {
    /// The current time, in Unix seconds.
    fn now(&self) -> i64;
    /// The shared-data value under `key`; `None` when absent or empty (Envoy stores an
    /// empty value for a removed entry).
    fn shared(&self, key: &str) -> Option<Vec<u8>>;
    /// Sets the shared-data value under `key`; an empty `value` removes it.
    fn set_shared(&self, key: &str, value: &[u8]) -> Result<(), HostError>;
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
    use super::{CounterId, GaugeId, Host, HostError};
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// A clock the test sets, shared data and counters kept in memory.
    #[derive(Default)]
    pub struct FakeHost {
        now: Cell<i64>,
        shared: RefCell<HashMap<String, Vec<u8>>>,
        counters: RefCell<Vec<(String, u64)>>,
    }

    impl FakeHost {
        /// Sets the clock.
        pub fn set_now(&self, now: i64) {
            self.now.set(now);
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
                .filter(|v| !v.is_empty())
                .cloned()
        }

        fn set_shared(&self, key: &str, value: &[u8]) -> Result<(), HostError> {
            self.shared
                .borrow_mut()
                .insert(key.to_owned(), value.to_vec());
            Ok(())
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
