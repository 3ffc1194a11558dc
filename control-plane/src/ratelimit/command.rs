//! `portcullis ratelimit serve`: its flags, and start-up (load the configuration, prepare Redis,
//! bind, serve until SIGTERM or SIGINT). The configuration comes from a file or directory
//! (`--config`; SIGHUP reloads it from the same path) or live from the control-plane
//! (`--control-plane`, see [`super::follower`]). Either way a configuration that does not load
//! is logged and counted, and the running one kept.

use super::counter::{self, Counter};
use super::follower::{FollowSettings, Follower};
use super::server::{Listeners, run};
use super::service::{FailureMode, ResponseHeaders, Service, ServiceOptions};
use super::yaml;
use crate::{shutdown, system_clock};
use anyhow::Context as _;
use reqwest::Url;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The environment variable holding the token `--control-plane` presents.
pub const SYNC_TOKEN_ENV: &str = "PORTCULLIS_SYNC_TOKEN";

/// `portcullis ratelimit serve`: the Envoy rate-limit service (gRPC), counting in Redis.
#[derive(Debug, clap::Args)]
pub struct RatelimitArgs {
    /// gRPC address Envoy's ratelimit filter calls.
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_GRPC_LISTEN",
        default_value = "127.0.0.1:8081"
    )]
    pub grpc_listen: SocketAddr,
    /// Address for /metrics, /healthz and /readyz; none if unset.
    #[arg(long, env = "PORTCULLIS_RATELIMIT_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// Redis URL, `redis://[:password@]host:port[/db]`.
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_REDIS",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis: String,
    /// An envoyproxy/ratelimit YAML file, or a directory of them (one domain per file);
    /// `portcullis ratelimit export` writes one from a control-plane's tiers.
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_CONFIG",
        required_unless_present = "control_plane",
        conflicts_with = "control_plane"
    )]
    pub config: Option<PathBuf>,
    /// Or: follow this control-plane's tiers live (`http://127.0.0.1:8080`), with the sync
    /// token from PORTCULLIS_SYNC_TOKEN.
    #[arg(long, env = "PORTCULLIS_RATELIMIT_CONTROL_PLANE")]
    pub control_plane: Option<String>,
    /// The name the control-plane lists this service under (`GET /v1/sidecars`).
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_NAME",
        default_value = "portcullis-ratelimit"
    )]
    pub name: String,
    /// The answer when Redis cannot count: `error` lets Envoy's `failure_mode_deny` decide.
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_FAILURE_MODE",
        value_enum,
        default_value_t
    )]
    pub failure_mode: FailureMode,
    /// Milliseconds to wait for Redis before answering by the failure mode.
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_REDIS_TIMEOUT_MS",
        default_value_t = 50
    )]
    pub redis_timeout_ms: u64,
    /// Prefix of every Redis key (as the reference's CACHE_KEY_PREFIX).
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_CACHE_KEY_PREFIX",
        default_value = ""
    )]
    pub cache_key_prefix: String,
    /// When to return X-RateLimit-* and RateLimit-* headers.
    #[arg(
        long,
        env = "PORTCULLIS_RATELIMIT_RESPONSE_HEADERS",
        value_enum,
        default_value_t
    )]
    pub response_headers: ResponseHeaders,
}

/// Where the configuration comes from.
enum Source {
    File(PathBuf),
    ControlPlane(Box<Follower>),
}

/// Starts the service and serves until SIGTERM or SIGINT.
pub async fn start(args: RatelimitArgs) -> anyhow::Result<()> {
    let source = match (args.config, args.control_plane) {
        (Some(path), None) => Source::File(path),
        (None, Some(base)) => {
            let base = Url::parse(&base)
                .with_context(|| format!("--control-plane {base:?} is not a url"))?;
            let token = std::env::var(SYNC_TOKEN_ENV).with_context(|| {
                format!("--control-plane needs the sync token in {SYNC_TOKEN_ENV}")
            })?;
            Source::ControlPlane(Box::new(Follower::new(FollowSettings {
                base,
                token,
                name: args.name,
                wait: Duration::from_secs(30),
            })?))
        }
        _ => anyhow::bail!("give exactly one of --config and --control-plane"),
    };
    let (config, revision) = match &source {
        Source::File(path) => (
            yaml::load(path).context("cannot load the rate-limit configuration")?,
            0,
        ),
        Source::ControlPlane(follower) => {
            tracing::info!("waiting for the control-plane's rate-limit configuration");
            let first = follower.first();
            tokio::select! {
                (revision, config) = first => (config, revision),
                () = shutdown::signal() => return Ok(()),
            }
        }
    };
    let timeout = Duration::from_millis(args.redis_timeout_ms);
    let counter = Counter::new(&args.redis, timeout)?;
    if let Err(err) = counter.ping().await {
        // Not fatal: Redis may start after us; until then answers follow the failure mode.
        tracing::warn!(redis = %counter::redact(&args.redis), %err, "redis is not answering yet");
    }
    let options = ServiceOptions {
        failure_mode: args.failure_mode,
        cache_key_prefix: args.cache_key_prefix,
        response_headers: args.response_headers,
    };
    let service = Service::new(&config, counter, options, system_clock());
    service.metrics().count_config_load(Some(revision));
    let grpc = tokio::net::TcpListener::bind(args.grpc_listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.grpc_listen))?;
    let http = match args.http_listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address}"))?,
        ),
        None => None,
    };
    tracing::info!(
        domains = config.domains().count(),
        revision,
        failure_mode = ?args.failure_mode,
        "rate-limit configuration loaded"
    );
    match source {
        Source::File(path) => reload_on_hangup(service.clone(), path),
        Source::ControlPlane(follower) => {
            tokio::spawn((*follower).follow(service.clone(), revision));
        }
    }
    run(service, Listeners { grpc, http }, shutdown::signal()).await
}

/// Reloads the configuration from `path` on every SIGHUP.
fn reload_on_hangup(service: Service, path: PathBuf) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(stream) => stream,
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGHUP: no configuration reloads");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            match yaml::load(&path) {
                Ok(config) => {
                    service.replace_config(&config);
                    service.metrics().count_config_load(Some(0));
                }
                Err(err) => {
                    service.metrics().count_config_load(None);
                    tracing::error!(%err, "reload refused, keeping the running configuration")
                }
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (service, path);
}
