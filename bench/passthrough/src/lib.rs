//! The bench floor: an HTTP filter built with the same proxy-wasm SDK as Portcullis that
//! lets every request through untouched. `make bench` runs it to separate what loading a
//! Wasm VM and crossing the ABI costs from what Portcullis's own checks cost.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(PassthroughRoot) });
}}

/// Hands each request a [`Passthrough`]; holds no configuration.
struct PassthroughRoot;

impl Context for PassthroughRoot {}

impl RootContext for PassthroughRoot {
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Passthrough))
    }
}

/// Per-request context. Every request still enters the VM for each callback, and that
/// round trip is the cost the floor measures.
struct Passthrough;

impl Context for Passthrough {}

impl HttpContext for Passthrough {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }
}
