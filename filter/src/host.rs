//! The `Host` trait: what the domain code needs from Envoy, so it runs natively in tests.
//!
//! `glue::proxy_host` implements it over proxy-wasm hostcalls; `fake::FakeHost` implements
//! it in memory for unit tests.

/// A counter registered with the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterId(pub u32);

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
    /// Registers (or finds) the counter named `name`.
    fn define_counter(&self, name: &str) -> Result<CounterId, HostError>;
    /// Adds `count` to a counter. Counting never fails a request, so errors are swallowed.
    fn add(&self, counter: CounterId, count: u64);
}

/// An in-memory host for unit tests.
#[cfg(test)]
pub mod fake {
    use super::{CounterId, Host, HostError};
    use std::cell::RefCell;

    /// Counters kept in memory, looked up by name in assertions.
    #[derive(Default)]
    pub struct FakeHost {
        counters: RefCell<Vec<(String, u64)>>,
    }

    impl FakeHost {
        /// The current value of the counter `name` (0 when never defined).
        pub fn counter(&self, name: &str) -> u64 {
            self.counters
                .borrow()
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| *v)
        }
    }

    impl Host for FakeHost {
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
    }
}
