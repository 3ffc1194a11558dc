//! Waiting with a deadline: every wait in the harness polls a condition until it holds or
//! time runs out, so a slow machine only makes a test slower, never flaky.

use std::thread;
use std::time::{Duration, Instant};

/// How often a condition is re-checked.
const INTERVAL: Duration = Duration::from_millis(20);

/// Calls `probe` until it returns `Some` or `timeout` has passed (then `None`).
pub fn until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(INTERVAL);
    }
}
