//! Retry delays after failed JWKS fetches: exponential, capped, with jitter.
//!
//! The jitter is "equal jitter": half the exponential step, plus a random share of the other
//! half. Control-planes restarted together then spread their retries over the issuer, and
//! no retry ever comes sooner than half the step.

use std::time::Duration;

/// Exponential backoff from `initial`, doubling per failure, never above `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The step after the first failure.
    pub initial: Duration,
    /// The largest step.
    pub max: Duration,
}

impl Default for Backoff {
    /// 2 s, 4 s, 8 s, … up to 5 minutes.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(5 * 60),
        }
    }
}

impl Backoff {
    /// The step after `failures` consecutive failures (1 for the first):
    /// `initial · 2^(failures − 1)`, at most `max`.
    pub fn step(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The delay after `failures` failures: half the step plus `unit` (0 to 1) of the other
    /// half.
    pub fn delay(&self, failures: u32, unit: f64) -> Duration {
        let step = self.step(failures);
        let half = step / 2;
        half + (step - half).mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// A uniform random number in `[0, 1)`; `1.0` (the whole step) if the operating system's
/// random source fails, which only delays a retry.
pub fn random_unit() -> f64 {
    getrandom::u32().map_or(1.0, |r| f64::from(r) / (f64::from(u32::MAX) + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn steps_double_from_the_initial_delay_up_to_the_cap() {
        let backoff = Backoff::default();
        let steps: Vec<u64> = (1..=10).map(|n| backoff.step(n).as_secs()).collect();
        assert_eq!(steps, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }

    #[test]
    fn a_very_long_failure_streak_stays_at_the_cap() {
        let backoff = Backoff::default();
        assert_eq!(backoff.step(u32::MAX), secs(300));
        assert_eq!(
            backoff.step(0),
            secs(2),
            "0 is treated as the first failure"
        );
    }

    #[test]
    fn jitter_keeps_the_delay_between_half_the_step_and_the_step() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(3, 0.0), secs(4));
        assert_eq!(backoff.delay(3, 0.5), secs(6));
        assert_eq!(backoff.delay(3, 1.0), secs(8));
        assert_eq!(
            backoff.delay(3, 7.0),
            secs(8),
            "out-of-range units are clamped"
        );
    }

    #[test]
    fn random_units_fall_in_zero_to_one() {
        for _ in 0..100 {
            let unit = random_unit();
            assert!((0.0..=1.0).contains(&unit), "{unit}");
        }
    }
}
