//! The pause between failed polls: exponential from an initial to a maximum pause, with
//! jitter so that sidecars restarted together do not hammer a recovering control-plane in
//! step.

use std::time::Duration;

/// Exponential backoff with "equal jitter": after the n-th consecutive failure the pause is
/// drawn from `[d/2, d]`, where `d = min(max, initial × 2^(n-1))`.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// A backoff between `initial` and `max` whose jitter is derived from `seed` (the glue
    /// passes the clock's nanoseconds; tests a constant).
    pub fn new(initial: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            failures: 0,
            rng: SplitMix64(seed),
        }
    }

    /// Records a failure and returns how long to wait before the next poll.
    pub fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        // 2^(n-1) overflows nothing: the shift is capped and the product saturates.
        let factor = 1u32 << self.failures.saturating_sub(1).min(31);
        let ceiling = self.initial.saturating_mul(factor).min(self.max);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let half = ceiling_ms / 2;
        let spread = ceiling_ms - half;
        let jitter = self
            .rng
            .next()
            .checked_rem(spread.saturating_add(1))
            .unwrap_or(0);
        Duration::from_millis(half.saturating_add(jitter))
    }

    /// Records a success: the next failure starts again from `initial`.
    pub fn succeed(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a few lines, good enough to spread retries;
/// nothing here needs to be unpredictable.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn pauses_double_per_failure_up_to_the_max_with_jitter_in_the_upper_half() {
        let mut backoff = Backoff::new(ms(250), ms(30_000), 42);
        let mut ceiling = 250;
        for _ in 0..20 {
            let pause = backoff.fail();
            assert!(
                pause >= ms(ceiling / 2) && pause <= ms(ceiling),
                "{pause:?} outside [{}, {ceiling}] ms",
                ceiling / 2
            );
            ceiling = (ceiling * 2).min(30_000);
        }
        assert_eq!(backoff.failures(), 20);
    }

    #[test]
    fn a_success_starts_the_next_failure_from_the_initial_pause() {
        let mut backoff = Backoff::new(ms(100), ms(10_000), 7);
        for _ in 0..10 {
            backoff.fail();
        }
        backoff.succeed();
        assert!(backoff.fail() <= ms(100));
    }

    #[test]
    fn different_seeds_spread_the_same_failure() {
        let pauses: std::collections::HashSet<Duration> = (0..16)
            .map(|seed| Backoff::new(ms(1_000), ms(1_000), seed).fail())
            .collect();
        assert!(pauses.len() > 8, "{pauses:?}");
    }

    #[test]
    fn endless_failures_never_overflow() {
        let mut backoff = Backoff::new(ms(3_600_000), ms(3_600_000), 1);
        for _ in 0..100 {
            assert!(backoff.fail() <= ms(3_600_000));
        }
    }
}
