//! The only modules that talk to Envoy through proxy-wasm. They gather inputs, call the
//! domain and apply its result; they make no decisions.

mod http_filter;
mod http_root;
mod kid_queue;
mod proxy_host;
mod root;
mod sync_root;

proxy_wasm::main! {{
    register();
}}

/// Registers the root context; each one becomes the HTTP filter's (root id `portcullis`)
/// or the syncer's (root id `portcullis_sync`), see `root`.
fn register() {
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Trace);
    proxy_wasm::set_root_context(|_| Box::new(root::Root::default()));
}
