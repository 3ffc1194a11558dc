//! The only modules that talk to Envoy through proxy-wasm. They gather inputs, call the
//! domain and apply its result; they make no decisions.

mod http_filter;
mod http_root;
mod proxy_host;

proxy_wasm::main! {{
    register();
}}

/// Registers the HTTP filter's root context (root id `portcullis`).
fn register() {
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Trace);
    proxy_wasm::set_root_context(|_| Box::new(http_root::HttpRoot::default()));
}
