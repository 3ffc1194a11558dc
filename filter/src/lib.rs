//! Portcullis: authentication and authorization at the Envoy edge.
//!
//! The request path is plain Rust that knows nothing of proxy-wasm: [`config`] turns the
//! plugin configuration into a [`config::Config`] once, and [`decision::decide`] turns each
//! request into a [`decision::Decision`] that [`reply`] renders when it is a denial. The
//! [`syncer`] applies the control-plane's sync pages to shared data. Only `glue` (compiled
//! for wasm32 alone) talks to Envoy.

pub mod api_key;
pub mod config;
pub mod credentials;
pub mod decision;
pub mod failure_limit;
pub mod host;
pub mod identity;
pub mod jwt;
pub mod metrics;
pub mod policy;
pub mod reply;
pub mod shared;
pub mod static_token;
pub mod syncer;
pub mod trusted_networks;
pub mod wire;

/// Registers the root contexts with Envoy when the module loads.
#[cfg(target_arch = "wasm32")]
mod glue;
