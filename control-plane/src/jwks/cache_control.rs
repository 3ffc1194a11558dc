//! When to refetch a JWKS: the response's freshness lifetime from `Cache-Control:
//! max-age` (RFC 9111 §5.2.2.1) less its `Age` (§5.1), clamped to operator bounds.
//!
//! The bounds keep a misconfigured issuer from making the fetcher hammer it (`max-age=0`)
//! or from freezing a set that has since rotated (`max-age` of a year). `no-store` and
//! `no-cache` mean "revalidate every time", so they refresh at the lower bound. Other
//! headers (`Expires`, `s-maxage`) are not read.

use std::time::Duration;

/// RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31.
const DELTA_SECONDS_CAP: u64 = 1 << 31;

/// How soon and how late a refresh may come, and when when the response does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshBounds {
    /// The earliest refresh after a good fetch.
    pub min: Duration,
    /// The latest refresh after a good fetch.
    pub max: Duration,
    /// The refresh when the response has no `max-age`.
    pub default: Duration,
}

impl Default for RefreshBounds {
    /// At least a minute, at most a day, a quarter hour when the issuer does not say.
    fn default() -> Self {
        Self {
            min: Duration::from_secs(60),
            max: Duration::from_secs(24 * 60 * 60),
            default: Duration::from_secs(15 * 60),
        }
    }
}

impl RefreshBounds {
    /// The delay before the next refresh, given the response's freshness lifetime.
    pub fn refresh_after(&self, freshness: Option<Duration>) -> Duration {
        freshness
            .unwrap_or(self.default)
            .clamp(self.min, self.max.max(self.min))
    }
}

/// The freshness lifetime a response grants, from its `Cache-Control` header lines and
/// `Age`; `None` when no line has `max-age` (nor `no-store`/`no-cache`).
pub fn freshness(cache_control: &[&str], age: Option<&str>) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control.iter().flat_map(|line| line.split(',')) {
        let (name, value) = match directive.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        // The first `max-age` counts (RFC 9111 §4.2.1); an unparsable one makes the
        // response stale.
        if name.eq_ignore_ascii_case("max-age") && max_age.is_none() {
            max_age = Some(value.and_then(delta_seconds).unwrap_or(0));
        }
    }
    let age = age.and_then(|a| delta_seconds(a.trim())).unwrap_or(0);
    max_age.map(|secs| Duration::from_secs(secs.saturating_sub(age)))
}

/// A non-negative decimal integer (RFC 9111 §1.2.2), capped at 2^31.
fn delta_seconds(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        text.parse::<u64>()
            .map_or(DELTA_SECONDS_CAP, |v| v.min(DELTA_SECONDS_CAP)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn max_age_is_read_among_other_directives_in_any_case() {
        assert_eq!(
            freshness(&["public, max-age=300, must-revalidate"], None),
            Some(secs(300))
        );
        assert_eq!(freshness(&["Max-Age=42"], None), Some(secs(42)));
        assert_eq!(freshness(&["max-age=\"17\""], None), Some(secs(17)));
        assert_eq!(freshness(&["public", "max-age=9"], None), Some(secs(9)));
    }

    #[test]
    fn age_is_subtracted_and_never_goes_below_zero() {
        assert_eq!(freshness(&["max-age=300"], Some("100")), Some(secs(200)));
        assert_eq!(freshness(&["max-age=300"], Some("900")), Some(secs(0)));
        assert_eq!(freshness(&["max-age=300"], Some("junk")), Some(secs(300)));
    }

    #[test]
    fn the_first_max_age_wins() {
        assert_eq!(freshness(&["max-age=5, max-age=500"], None), Some(secs(5)));
    }

    #[test]
    fn an_unparsable_max_age_makes_the_response_stale() {
        for bad in ["max-age=-1", "max-age=soon", "max-age", "max-age=1.5"] {
            assert_eq!(freshness(&[bad], None), Some(secs(0)), "{bad}");
        }
    }

    #[test]
    fn a_huge_max_age_is_capped_at_two_to_the_31() {
        let huge = freshness(&["max-age=99999999999999999999999"], None);
        assert_eq!(huge, Some(secs(1 << 31)));
    }

    #[test]
    fn no_store_and_no_cache_mean_refresh_as_soon_as_allowed() {
        assert_eq!(freshness(&["no-store"], None), Some(secs(0)));
        assert_eq!(freshness(&["max-age=600, no-cache"], None), Some(secs(0)));
    }

    #[test]
    fn without_max_age_the_response_says_nothing() {
        assert_eq!(freshness(&[], None), None);
        assert_eq!(freshness(&["public, s-maxage=600"], Some("3")), None);
    }

    #[test]
    fn refresh_is_clamped_to_a_minute_and_a_day_with_a_quarter_hour_default() {
        let bounds = RefreshBounds::default();
        assert_eq!(bounds.refresh_after(None), secs(900));
        assert_eq!(bounds.refresh_after(Some(secs(0))), secs(60));
        assert_eq!(bounds.refresh_after(Some(secs(3600))), secs(3600));
        assert_eq!(bounds.refresh_after(Some(secs(1 << 31))), secs(86_400));
    }

    #[test]
    fn a_default_outside_the_bounds_is_clamped_too() {
        let bounds = RefreshBounds {
            min: secs(10),
            max: secs(20),
            default: secs(900),
        };
        assert_eq!(bounds.refresh_after(None), secs(20));
    }
}
