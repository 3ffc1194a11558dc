//! The rate-limit service's counters and their Prometheus text exposition (`GET /metrics`).
//!
//! Per-rule counters are labelled `rule="domain.key_value.key"`: the configured path, as the
//! reference service names its statistics, never a request's values, so the label set is
//! bounded by the configuration. A rule keeps its counters across configuration swaps while
//! its path stays the same.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// RLS calls answered, by `code`: `ok`, `over_limit`, `unavailable` (Redis down, failure
/// mode `error`) or `invalid` (no domain or no descriptor).
pub const REQUESTS: &str = "portcullis_ratelimit_requests_total";
/// Hits counted against a rule (the sum of `hits_addend`).
pub const HITS: &str = "portcullis_ratelimit_hits_total";
/// Hits past a rule's limit, shadowed ones included.
pub const OVER_LIMIT: &str = "portcullis_ratelimit_over_limit_total";
/// Hits within a rule's limit but past [`NEAR_LIMIT_RATIO`] of it.
pub const NEAR_LIMIT: &str = "portcullis_ratelimit_near_limit_total";
/// Hits within a rule's limit.
pub const WITHIN_LIMIT: &str = "portcullis_ratelimit_within_limit_total";
/// Hits past a rule's limit that shadow mode let through.
pub const SHADOW_MODE: &str = "portcullis_ratelimit_shadow_mode_total";
/// Redis round trips that failed or timed out; each was answered by the failure mode.
pub const REDIS_ERRORS: &str = "portcullis_ratelimit_redis_errors_total";
/// Requests naming a domain the configuration does not have (answered OK, as the reference).
pub const UNKNOWN_DOMAIN: &str = "portcullis_ratelimit_unknown_domain_total";
/// Configuration loads after start-up, by `result`: `ok`, or `failed` (the running
/// configuration was kept).
pub const CONFIG_LOADS: &str = "portcullis_ratelimit_config_loads_total";
/// The control-plane revision of the running configuration (0 when read from a file).
pub const CONFIG_REVISION: &str = "portcullis_ratelimit_config_revision";

/// The share of a limit past which hits count as near the limit (the reference's default).
pub const NEAR_LIMIT_RATIO: f64 = 0.8;

/// How an RLS call was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Overall code OK.
    Ok,
    /// Overall code OVER_LIMIT.
    OverLimit,
    /// gRPC UNAVAILABLE: Redis failed and the failure mode is `error`.
    Unavailable,
    /// gRPC INVALID_ARGUMENT.
    Invalid,
}

impl Answer {
    const ALL: [Answer; 4] = [
        Answer::Ok,
        Answer::OverLimit,
        Answer::Unavailable,
        Answer::Invalid,
    ];

    fn label(self) -> &'static str {
        match self {
            Answer::Ok => "ok",
            Answer::OverLimit => "over_limit",
            Answer::Unavailable => "unavailable",
            Answer::Invalid => "invalid",
        }
    }
}

/// One rule's counters.
#[derive(Debug, Default)]
pub struct RuleCounters {
    /// See [`HITS`].
    pub hits: AtomicU64,
    /// See [`OVER_LIMIT`].
    pub over_limit: AtomicU64,
    /// See [`NEAR_LIMIT`].
    pub near_limit: AtomicU64,
    /// See [`WITHIN_LIMIT`].
    pub within_limit: AtomicU64,
    /// See [`SHADOW_MODE`].
    pub shadow_mode: AtomicU64,
}

impl RuleCounters {
    /// Adds `n` to one of this rule's counters.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    rules: Mutex<BTreeMap<String, Arc<RuleCounters>>>,
    answers: [AtomicU64; 4],
    redis_errors: AtomicU64,
    unknown_domain: AtomicU64,
    config_loads_ok: AtomicU64,
    config_loads_failed: AtomicU64,
    config_revision: AtomicU64,
}

impl Metrics {
    /// The counters of the rule at `path`, created at zero the first time.
    pub fn rule(&self, path: &str) -> Arc<RuleCounters> {
        let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(rules.entry(path.to_owned()).or_default())
    }

    /// Counts one RLS call.
    pub fn count_answer(&self, answer: Answer) {
        self.answers[answer as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one failed Redis round trip.
    pub fn count_redis_error(&self) {
        self.redis_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request for a domain the configuration lacks.
    pub fn count_unknown_domain(&self) {
        self.unknown_domain.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one configuration load: `Some(revision)` loaded (a file's revision is 0),
    /// `None` failed and the running configuration was kept.
    pub fn count_config_load(&self, loaded: Option<u64>) {
        match loaded {
            Some(revision) => {
                self.config_loads_ok.fetch_add(1, Ordering::Relaxed);
                self.config_revision.store(revision, Ordering::Relaxed);
            }
            None => {
                self.config_loads_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Failed configuration loads so far.
    pub fn config_load_failures(&self) -> u64 {
        self.config_loads_failed.load(Ordering::Relaxed)
    }

    /// The control-plane revision of the running configuration.
    pub fn config_revision(&self) -> u64 {
        self.config_revision.load(Ordering::Relaxed)
    }

    /// RLS calls answered with `answer` so far.
    pub fn answers(&self, answer: Answer) -> u64 {
        self.answers[answer as usize].load(Ordering::Relaxed)
    }

    /// Failed Redis round trips so far.
    pub fn redis_errors(&self) -> u64 {
        self.redis_errors.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        header(&mut out, REQUESTS, "RLS calls answered, by code.");
        for answer in Answer::ALL {
            let value = self.answers(answer);
            let _ = writeln!(out, "{REQUESTS}{{code=\"{}\"}} {value}", answer.label());
        }
        header(&mut out, REDIS_ERRORS, "Redis round trips that failed.");
        let _ = writeln!(out, "{REDIS_ERRORS} {}", self.redis_errors());
        header(
            &mut out,
            UNKNOWN_DOMAIN,
            "Requests for an unconfigured domain.",
        );
        let unknown = self.unknown_domain.load(Ordering::Relaxed);
        let _ = writeln!(out, "{UNKNOWN_DOMAIN} {unknown}");
        header(&mut out, CONFIG_LOADS, "Configuration loads, by result.");
        for (result, counter) in [
            ("ok", &self.config_loads_ok),
            ("failed", &self.config_loads_failed),
        ] {
            let value = counter.load(Ordering::Relaxed);
            let _ = writeln!(out, "{CONFIG_LOADS}{{result=\"{result}\"}} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP {CONFIG_REVISION} Control-plane revision of the running configuration."
        );
        let _ = writeln!(out, "# TYPE {CONFIG_REVISION} gauge");
        let _ = writeln!(out, "{CONFIG_REVISION} {}", self.config_revision());

        let rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        let families: [(&str, &str, Pick); 5] = [
            (HITS, "Hits counted against a rule.", |c| &c.hits),
            (OVER_LIMIT, "Hits past a rule's limit.", |c| &c.over_limit),
            (NEAR_LIMIT, "Hits near a rule's limit.", |c| &c.near_limit),
            (WITHIN_LIMIT, "Hits within a rule's limit.", |c| {
                &c.within_limit
            }),
            (
                SHADOW_MODE,
                "Over-limit hits let through by shadow mode.",
                |c| &c.shadow_mode,
            ),
        ];
        for (name, help, counter) in families {
            header(&mut out, name, help);
            for (path, counters) in rules.iter() {
                let value = counter(counters).load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}{{rule=\"{}\"}} {value}", escape(path));
            }
        }
        out
    }
}

/// Picks one counter of a rule.
type Pick = fn(&RuleCounters) -> &AtomicU64;

fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
}

/// Escapes a label value as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_keeps_its_counters_when_asked_for_again() {
        let metrics = Metrics::default();
        RuleCounters::add(&metrics.rule("edge.remote_address").hits, 3);
        RuleCounters::add(&metrics.rule("edge.remote_address").hits, 2);
        let text = metrics.render();
        assert!(text.contains("portcullis_ratelimit_hits_total{rule=\"edge.remote_address\"} 5"));
    }

    #[test]
    fn answers_and_redis_errors_are_rendered_with_help_and_type() {
        let metrics = Metrics::default();
        metrics.count_answer(Answer::OverLimit);
        metrics.count_answer(Answer::Unavailable);
        metrics.count_redis_error();
        let text = metrics.render();
        assert!(text.contains("# TYPE portcullis_ratelimit_requests_total counter"));
        assert!(text.contains("portcullis_ratelimit_requests_total{code=\"over_limit\"} 1"));
        assert!(text.contains("portcullis_ratelimit_requests_total{code=\"ok\"} 0"));
        assert!(text.contains("portcullis_ratelimit_redis_errors_total 1"));
    }

    #[test]
    fn config_loads_are_counted_and_the_last_good_revision_kept() {
        let metrics = Metrics::default();
        metrics.count_config_load(Some(7));
        metrics.count_config_load(None);
        let text = metrics.render();
        assert!(text.contains("portcullis_ratelimit_config_loads_total{result=\"ok\"} 1"));
        assert!(text.contains("portcullis_ratelimit_config_loads_total{result=\"failed\"} 1"));
        assert!(text.contains("# TYPE portcullis_ratelimit_config_revision gauge"));
        assert!(text.contains("portcullis_ratelimit_config_revision 7"));
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.rule("d.k_a\"b\\c");
        assert!(metrics.render().contains("rule=\"d.k_a\\\"b\\\\c\"}"));
    }
}
