//! Harness for the end-to-end tests: a real Envoy 1.40 running the release
//! `portcullis.wasm` in front of the demo upstream (`demo/upstream.py`), driven by a raw
//! HTTP/1.1 client so a test controls every byte and the source address of a request.
//!
//! Every process a test starts is killed when its handle drops; when the test is failing,
//! the Envoy log, the access log and the upstream log are printed first.

pub mod brute_force_support;
pub mod client;
pub mod control_plane;
pub mod envoy;
pub mod envoy_config;
pub mod fixtures;
pub mod launch;
pub mod oidc_provider;
pub mod paths;
pub mod poll;
pub mod ports;
pub mod process;
pub mod ratelimit_config;
pub mod ratelimit_fixtures;
pub mod ratelimit_service;
pub mod redis;
pub mod response;
pub mod temp_dir;
pub mod upstream;

pub use client::Request;
pub use control_plane::ControlPlane;
pub use envoy::Envoy;
pub use ratelimit_service::RateLimitService;
pub use redis::Redis;
pub use response::Response;
