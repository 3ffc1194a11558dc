//! `envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit` over Redis counters.
//!
//! Per request: select each descriptor's limit ([`super::decision::select`]), count every
//! limited descriptor in one Redis round trip, judge each, and answer with per-descriptor
//! statuses, the overall code and rate-limit headers. The configuration sits behind an
//! `ArcSwap`: [`Service::replace_config`] swaps it without blocking requests, and a request
//! finishes on the configuration it started with.
//!
//! When Redis fails or times out, the answer follows the [`FailureMode`] and the failure is
//! counted (`portcullis_ratelimit_redis_errors_total`).

use super::config::RateLimitConfig;
use super::counter::{Counter, Increment};
use super::decision::{self, Selected};
use super::headers;
use super::matcher::Matcher;
use super::metrics::{Answer, Metrics};
use super::window::Window;
use crate::Clock;
use arc_swap::ArcSwap;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::{Code, DescriptorStatus};
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_server::RateLimitService;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tonic::{Request, Response, Status};

/// How to answer when Redis cannot count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailureMode {
    /// gRPC UNAVAILABLE: Envoy's filter then applies its own `failure_mode_deny` (allow by
    /// default), so the decision stays in the Envoy configuration.
    #[default]
    Error,
    /// Answer OK: fail open.
    Allow,
    /// Answer OVER_LIMIT for every limited descriptor: fail closed.
    Deny,
}

/// When to return rate-limit headers. Every choice but `never` adds `Retry-After` to an
/// over-limit answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ResponseHeaders {
    /// `X-RateLimit-*` and `RateLimit-*` on every answer with a counted limit.
    #[default]
    Always,
    /// Those only when over the limit (on the 429).
    OverLimit,
    /// Only `Retry-After`: for an Envoy whose ratelimit filter writes `X-RateLimit-*` itself
    /// (`enable_x_ratelimit_headers: DRAFT_VERSION_03`), which never writes `Retry-After`.
    RetryAfter,
    /// None at all.
    Never,
}

/// Settings fixed for the service's life.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// The answer when Redis fails.
    pub failure_mode: FailureMode,
    /// Prepended to every cache key (the reference's `CACHE_KEY_PREFIX`; empty by default).
    pub cache_key_prefix: String,
    /// When to return rate-limit headers.
    pub response_headers: ResponseHeaders,
}

/// The rate-limit service: cheap to clone, every clone shares configuration and counters.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    matcher: ArcSwap<Matcher>,
    counter: Counter,
    options: ServiceOptions,
    metrics: Arc<Metrics>,
    clock: Clock,
    /// Whether the last round trip failed: failures are logged when Redis goes away and
    /// when it is back, not once per request.
    redis_down: AtomicBool,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service answering from `config`, counting in `counter`, timed by `clock`.
    pub fn new(
        config: &RateLimitConfig,
        counter: Counter,
        options: ServiceOptions,
        clock: Clock,
    ) -> Service {
        let metrics = Arc::new(Metrics::default());
        let matcher = ArcSwap::from_pointee(Matcher::new(config, &metrics));
        Service {
            inner: Arc::new(Inner {
                matcher,
                counter,
                options,
                metrics,
                clock,
                redis_down: AtomicBool::new(false),
            }),
        }
    }

    /// Swaps in a new configuration at once; requests under way finish on the old one.
    /// Counters in Redis are untouched: a limit that keeps its descriptors keeps its counts.
    pub fn replace_config(&self, config: &RateLimitConfig) {
        let matcher = Matcher::new(config, &self.inner.metrics);
        self.inner.matcher.store(Arc::new(matcher));
        tracing::info!(
            domains = config.domains().count(),
            "rate-limit configuration replaced"
        );
    }

    /// The service's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The counter store, for health checks.
    pub fn counter(&self) -> &Counter {
        &self.inner.counter
    }

    /// Decides one request.
    pub async fn decide(&self, request: &RateLimitRequest) -> Result<RateLimitResponse, Status> {
        let metrics = &self.inner.metrics;
        if request.domain.is_empty() || request.descriptors.is_empty() {
            metrics.count_answer(Answer::Invalid);
            let missing = if request.domain.is_empty() {
                "domain"
            } else {
                "descriptor"
            };
            return Err(Status::invalid_argument(format!(
                "rate limit request has no {missing}: expected a domain and at least one descriptor"
            )));
        }
        let matcher = self.inner.matcher.load_full();
        if !matcher.has_domain(&request.domain) {
            metrics.count_unknown_domain();
        }
        let selected = decision::select(&matcher, metrics, request);
        let now = (self.inner.clock)();
        let mut increments = Vec::new();
        for (descriptor, choice) in request.descriptors.iter().zip(&selected) {
            if let Selected::Limited { unit, .. } = choice {
                let window = Window::containing(now, *unit);
                increments.push(Increment {
                    key: window.cache_key(
                        &self.inner.options.cache_key_prefix,
                        &request.domain,
                        &descriptor.entries,
                    ),
                    hits: decision::hits_addend(request, descriptor),
                    expire_secs: window.expire_secs(),
                });
            }
        }
        let (statuses, counted) = match self.inner.counter.increment(&increments).await {
            Ok(counts) => {
                if self.inner.redis_down.swap(false, Ordering::Relaxed) {
                    tracing::info!("redis answers again: counting resumed");
                }
                (judge_all(&selected, &increments, &counts, now), true)
            }
            Err(err) => {
                metrics.count_redis_error();
                let mode = self.inner.options.failure_mode;
                if self.inner.redis_down.swap(true, Ordering::Relaxed) {
                    tracing::debug!(%err, ?mode, "cannot count hits");
                } else {
                    tracing::warn!(%err, ?mode, "cannot count hits: answering by the failure mode");
                }
                match self.inner.options.failure_mode {
                    FailureMode::Error => {
                        metrics.count_answer(Answer::Unavailable);
                        return Err(Status::unavailable("rate-limit counters are unavailable"));
                    }
                    FailureMode::Allow => (failed_statuses(&selected, false), false),
                    FailureMode::Deny => (failed_statuses(&selected, true), false),
                }
            }
        };
        let code = decision::overall(&statuses);
        metrics.count_answer(match code {
            Code::OverLimit => Answer::OverLimit,
            _ => Answer::Ok,
        });
        // Nothing counted, nothing to tell the client about its remaining hits.
        let choice = self.inner.options.response_headers;
        let mut response_headers_to_add = match choice {
            _ if !counted => Vec::new(),
            ResponseHeaders::Always => headers::for_statuses(&statuses),
            ResponseHeaders::OverLimit if code == Code::OverLimit => {
                headers::for_statuses(&statuses)
            }
            ResponseHeaders::OverLimit | ResponseHeaders::RetryAfter | ResponseHeaders::Never => {
                Vec::new()
            }
        };
        if counted && choice != ResponseHeaders::Never {
            response_headers_to_add.extend(headers::retry_after(&statuses));
        }
        Ok(RateLimitResponse {
            overall_code: code as i32,
            statuses,
            response_headers_to_add,
            ..RateLimitResponse::default()
        })
    }
}

/// Statuses from Redis counts; `counts` and `increments` hold one entry per limited
/// descriptor, in order.
fn judge_all(
    selected: &[Selected<'_>],
    increments: &[Increment],
    counts: &[u64],
    now: crate::store::UnixSecs,
) -> Vec<DescriptorStatus> {
    let mut counted = increments.iter().zip(counts);
    selected
        .iter()
        .map(|choice| match choice {
            Selected::NoLimit => decision::no_limit_status(),
            Selected::Unlimited => decision::unlimited_status(),
            Selected::Limited {
                rule,
                requests_per_unit,
                unit,
            } => match counted.next() {
                Some((increment, &after)) => decision::judge(
                    rule,
                    *requests_per_unit,
                    Window::containing(now, *unit),
                    increment.hits,
                    after,
                    now,
                ),
                // Unreachable: the counter checks it got one count per increment.
                None => decision::no_limit_status(),
            },
        })
        .collect()
}

/// Statuses when Redis failed: every limited descriptor OK (`allow`) or, unless in shadow
/// mode, OVER_LIMIT (`deny`); nothing counted, so no remaining count or reset is claimed.
fn failed_statuses(selected: &[Selected<'_>], deny: bool) -> Vec<DescriptorStatus> {
    selected
        .iter()
        .map(|choice| match choice {
            Selected::NoLimit => decision::no_limit_status(),
            Selected::Unlimited => decision::unlimited_status(),
            Selected::Limited {
                rule,
                requests_per_unit,
                unit,
            } => {
                let code = if deny && !rule.shadow_mode {
                    Code::OverLimit
                } else {
                    Code::Ok
                };
                DescriptorStatus {
                    code: code as i32,
                    current_limit: Some(decision::current_limit(rule, *requests_per_unit, *unit)),
                    ..DescriptorStatus::default()
                }
            }
        })
        .collect()
}

#[tonic::async_trait]
impl RateLimitService for Service {
    async fn should_rate_limit(
        &self,
        request: Request<RateLimitRequest>,
    ) -> Result<Response<RateLimitResponse>, Status> {
        self.decide(request.get_ref()).await.map(Response::new)
    }
}
