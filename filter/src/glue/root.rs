//! The one root context type this module registers. The SDK creates a root before telling
//! it which `root_id` Envoy configured, so each root learns its id at its first
//! `on_configure` and from then on is either the HTTP filter's root or the syncer's.

use super::http_filter::HttpFilter;
use super::http_root::HttpRoot;
use super::proxy_host::log;
use super::sync_root::SyncRoot;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

/// The `root_id` of the HTTP filter.
pub const HTTP_ROOT_ID: &str = "portcullis";
/// The `root_id` of the bootstrap sync service (singleton, same `vm_id` as the filter).
pub const SYNC_ROOT_ID: &str = "portcullis_sync";

/// A root context that becomes the root its `root_id` names.
#[derive(Default)]
pub struct Root {
    role: Option<Box<dyn RootContext>>,
}

impl Root {
    /// The root this context is, chosen at the first call.
    fn role(&mut self) -> Option<&mut Box<dyn RootContext>> {
        if self.role.is_none() {
            self.role = by_root_id();
        }
        self.role.as_mut()
    }
}

/// The root for this context's `root_id`; `None`, logged, for any other id.
fn by_root_id() -> Option<Box<dyn RootContext>> {
    let root_id = hostcalls::get_property(vec!["plugin_root_id"])
        .ok()
        .flatten()
        .unwrap_or_default();
    match root_id.as_slice() {
        id if id == HTTP_ROOT_ID.as_bytes() => Some(Box::new(HttpRoot::default())),
        id if id == SYNC_ROOT_ID.as_bytes() => Some(Box::new(SyncRoot::default())),
        other => {
            log(
                LogLevel::Error,
                &format!(
                    "root_id: expected {HTTP_ROOT_ID:?} (the HTTP filter) or {SYNC_ROOT_ID:?} (the bootstrap sync service), got {:?}",
                    String::from_utf8_lossy(other)
                ),
            );
            None
        }
    }
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        if let Some(role) = self.role.as_mut() {
            role.on_http_call_response(token_id, num_headers, body_size, num_trailers);
        }
    }

    fn on_done(&mut self) -> bool {
        self.role.as_mut().is_none_or(|role| role.on_done())
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        self.role()
            .is_some_and(|role| role.on_configure(plugin_configuration_size))
    }

    fn on_tick(&mut self) {
        if let Some(role) = self.role.as_mut() {
            role.on_tick();
        }
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        if let Some(role) = self.role.as_mut() {
            role.on_queue_ready(queue_id);
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        // A request reaching a root that is not the HTTP filter's (a sync root_id in an HTTP
        // filter) is refused like one reaching an unconfigured filter: 503, no panic.
        self.role
            .as_ref()
            .and_then(|role| role.create_http_context(context_id))
            .or_else(|| Some(Box::new(HttpFilter::new(None))))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
