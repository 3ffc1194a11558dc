//! The filter's root context: parses and validates the plugin configuration once per
//! `on_configure` (which Envoy may call more than once) and hands it to each request.

use super::http_filter::HttpFilter;
use super::kid_queue::KidQueue;
use super::proxy_host::{ProxyHost, log};
use crate::config::{self, Config, Mode};
use crate::failure_limit;
use crate::jwt::jwks_cache::JwksCache;
use crate::metrics::{FLUSH_PERIOD, Metrics};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel};
use std::cell::RefCell;
use std::rc::Rc;

/// What every request of this worker shares.
pub struct Shared {
    /// The validated configuration.
    pub config: Config,
    /// The registered counters.
    pub metrics: Metrics,
    /// The worker's JWT verifier and token cache, when JWTs are enabled.
    pub jwt: Option<RefCell<JwksCache>>,
    /// Where the JWT verifier's unknown `kid`s go to the syncer.
    pub kid_queue: KidQueue,
}

impl Shared {
    /// Rebuilds the JWT verifier if the synced providers changed, logging any left out.
    fn refresh_jwt(&self) {
        let Some(jwt) = &self.jwt else {
            return;
        };
        // A request holds the borrow only within its own callback, never across this one.
        let Ok(mut jwt) = jwt.try_borrow_mut() else {
            return;
        };
        for problem in jwt.refresh(&ProxyHost) {
            log(
                LogLevel::Error,
                &format!("jwt provider left out: {problem}"),
            );
        }
    }
}

/// Root context of the HTTP filter.
#[derive(Default)]
pub struct HttpRoot {
    shared: Option<Rc<Shared>>,
}

impl Context for HttpRoot {}

impl RootContext for HttpRoot {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = hostcalls::get_buffer(
            BufferType::PluginConfiguration,
            0,
            plugin_configuration_size,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
        let config = match config::parse(&bytes, |name| std::env::var(name).ok()) {
            Ok(config) => config,
            Err(problems) => {
                for problem in &problems {
                    log(
                        LogLevel::Error,
                        &format!("invalid configuration: {problem}"),
                    );
                }
                log(
                    LogLevel::Error,
                    &format!("configuration refused: {} problem(s)", problems.len()),
                );
                return false;
            }
        };
        let metrics = match Metrics::define(&ProxyHost) {
            Ok(metrics) => metrics,
            Err(e) => {
                log(LogLevel::Error, &format!("{e}"));
                return false;
            }
        };
        // Counts need their tables to exist so every write to them can be conditional.
        if config.failure_limit.is_some()
            && let Err(e) = failure_limit::prepare(&ProxyHost)
        {
            log(
                LogLevel::Warn,
                &format!("failure limit: cannot create the count tables: {e}"),
            );
        }
        if let Mode::ZeroAuth { trusted, .. } = &config.mode {
            log(
                LogLevel::Warn,
                &format!(
                    "ZERO-AUTH MODE: every request from {trusted} is local_admin with no credential; for local development only"
                ),
            );
        }
        // Envoy may configure a root again: counts of the replaced configuration are kept.
        if let Some(replaced) = &self.shared {
            replaced.metrics.flush(&ProxyHost);
        }
        let jwt = config
            .jwt
            .as_ref()
            .map(|settings| RefCell::new(JwksCache::new(settings)));
        let shared = Shared {
            config,
            metrics,
            jwt,
            kid_queue: KidQueue::new(),
        };
        shared.refresh_jwt();
        self.shared = Some(Rc::new(shared));
        if hostcalls::set_tick_period(FLUSH_PERIOD).is_err() {
            log(LogLevel::Error, "cannot start the metrics timer");
            return false;
        }
        true
    }

    fn on_tick(&mut self) {
        if let Some(shared) = &self.shared {
            shared.metrics.flush(&ProxyHost);
            shared.refresh_jwt();
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(HttpFilter::new(self.shared.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
