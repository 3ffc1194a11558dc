//! `portcullis ratelimit serve`: a global rate-limit service for Envoy's
//! `envoy.filters.http.ratelimit` filter, speaking `envoy.service.ratelimit.v3.RateLimitService` and reading
//! envoyproxy/ratelimit's YAML configuration, with that service's fixed-window semantics and
//! Redis key shape, so either service can stand in for the other.
//!
//! - [`config`]: the validated configuration in memory ([`RateLimitConfig`]), also built by hand;
//! - [`yaml`]: the reference's YAML format, from a file or a directory;
//! - [`matcher`]: which rule applies to a descriptor (most specific first);
//! - [`window`]: fixed windows, reset times and cache keys;
//! - [`decision`]: limits per descriptor, `replaces`, statuses and the overall code;
//! - [`counter`]: `INCRBY` + `EXPIRE` in Redis, one round trip per request;
//! - [`headers`]: `X-RateLimit-*` and `RateLimit-*` response headers;
//! - [`metrics`]: counters and their Prometheus text;
//! - [`service`]: the gRPC service and its failure mode;
//! - [`server`]: `run(service, listeners, shutdown)`;
//! - [`follower`]: the configuration followed live from the control-plane;
//! - [`command`]: the `portcullis ratelimit serve` flags and start-up;
//! - [`tiers`]: the control-plane's tiers and overrides, rendered as this configuration, as
//!   the reference's YAML and as Envoy `local_ratelimit` filters.

pub mod command;
pub mod config;
pub mod counter;
pub mod decision;
pub mod follower;
pub mod headers;
pub mod matcher;
pub mod metrics;
pub mod server;
pub mod service;
pub mod tiers;
pub mod window;
pub mod yaml;

pub use config::{ConfigError, Descriptor, Domain, Quota, RateLimit, RateLimitConfig};
pub use counter::Counter;
pub use server::{Listeners, run};
pub use service::{FailureMode, ResponseHeaders, Service, ServiceOptions};
pub use window::Unit;
