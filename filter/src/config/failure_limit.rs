//! The `failure_limit` section of the plugin configuration: brute-force protection, on by
//! default at 60 failed credentials per client per minute, optionally counted across Envoys
//! by a rate-limit service.

use super::Problems;
use crate::failure_limit::{
    DEFAULT_REQUESTS_PER_UNIT, DEFAULT_WINDOW_SECS, FailureLimit, Rls, rls,
};
use serde::Deserialize;
use std::time::Duration;

/// The default domain, the control-plane's.
const DEFAULT_DOMAIN: &str = "portcullis";
/// The default wait for the rate-limit service.
const DEFAULT_TIMEOUT_MS: u64 = 100;
/// The longest wait accepted: a failed request is held this long at most.
const MAX_TIMEOUT_MS: u64 = 10_000;
/// The longest cluster name accepted (it travels inside a one-byte-length protobuf field).
const MAX_CLUSTER_LEN: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FailureLimitConfig {
    #[serde(default = "enabled")]
    enabled: bool,
    #[serde(default = "default_requests_per_unit")]
    requests_per_unit: u32,
    #[serde(default)]
    unit: UnitConfig,
    rls: Option<RlsConfig>,
}

impl Default for FailureLimitConfig {
    fn default() -> Self {
        FailureLimitConfig {
            enabled: true,
            requests_per_unit: DEFAULT_REQUESTS_PER_UNIT,
            unit: UnitConfig::default(),
            rls: None,
        }
    }
}

fn enabled() -> bool {
    true
}

fn default_requests_per_unit() -> u32 {
    DEFAULT_REQUESTS_PER_UNIT
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum UnitConfig {
    Second,
    #[default]
    Minute,
    Hour,
    Day,
}

impl UnitConfig {
    fn secs(self) -> i64 {
        match self {
            UnitConfig::Second => 1,
            UnitConfig::Minute => DEFAULT_WINDOW_SECS,
            UnitConfig::Hour => 3_600,
            UnitConfig::Day => 86_400,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RlsConfig {
    cluster: String,
    #[serde(default = "default_domain")]
    domain: String,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn default_domain() -> String {
    DEFAULT_DOMAIN.to_owned()
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// Validates the `failure_limit` section; `None` when it is switched off.
pub(super) fn failure_limit(
    input: &FailureLimitConfig,
    problems: &mut Problems,
) -> Option<FailureLimit> {
    if !input.enabled {
        if input.rls.is_some() {
            problems.add(
                "failure_limit.enabled",
                "expected true when failure_limit.rls is configured, got false",
            );
        }
        return None;
    }
    if input.requests_per_unit == 0 {
        problems.add(
            "failure_limit.requests_per_unit",
            "expected at least 1 (set failure_limit.enabled to false to switch the limit off), got 0",
        );
    }
    let rls = input.rls.as_ref().map(|config| {
        let visible = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic());
        if !visible(&config.cluster) || config.cluster.len() > MAX_CLUSTER_LEN {
            problems.add(
                "failure_limit.rls.cluster",
                format!(
                    "expected the name of an Envoy cluster (visible ASCII, at most {MAX_CLUSTER_LEN} characters), got {:?}",
                    config.cluster
                ),
            );
        }
        if !visible(&config.domain) {
            problems.add(
                "failure_limit.rls.domain",
                format!(
                    "expected a rate-limit domain such as {DEFAULT_DOMAIN}, got {:?}",
                    config.domain
                ),
            );
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&config.timeout_ms) {
            problems.add(
                "failure_limit.rls.timeout_ms",
                format!("expected 1 to {MAX_TIMEOUT_MS}, got {}", config.timeout_ms),
            );
        }
        // Short visible-ASCII fields make a message of ASCII bytes only, so it is valid text.
        let service = String::from_utf8(rls::grpc_service(&config.cluster)).unwrap_or_default();
        Rls {
            cluster: config.cluster.clone(),
            service,
            domain: config.domain.clone(),
            timeout: Duration::from_millis(config.timeout_ms),
        }
    });
    Some(FailureLimit {
        requests_per_unit: input.requests_per_unit,
        window_secs: input.unit.secs(),
        rls,
    })
}
