//! Per request: read the headers, strip client identity headers, decide, then either set
//! the identity and continue or send the denial's reply.

use super::http_root::Shared;
use super::proxy_host::{ProxyHost, log, logs_at};
use crate::decision::{Decision, Request, decide};
use crate::identity;
use crate::reply::{self, Reply};
use crate::trusted_networks::peer_ip;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, LogLevel, MapType};
use std::rc::Rc;

/// Filter state key for the decision: `%FILTER_STATE(wasm.portcullis.decision:PLAIN)%`.
const DECISION_PROPERTY: &str = "portcullis.decision";

/// The HTTP context of one request.
pub struct HttpFilter {
    shared: Option<Rc<Shared>>,
}

impl HttpFilter {
    /// A filter for one request; `shared` is `None` only if configuration never succeeded.
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        HttpFilter { shared }
    }
}

impl Context for HttpFilter {}

impl HttpContext for HttpFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.as_deref() else {
            return send(&reply::unavailable(), "not_configured");
        };
        // Headers come as bytes: a client may send values that are not UTF-8.
        let Ok(headers) = hostcalls::get_map_bytes(MapType::HttpRequestHeaders) else {
            return send(&reply::unavailable(), "headers_unreadable");
        };
        for name in identity::spoofed(&headers) {
            if hostcalls::set_map_value(MapType::HttpRequestHeaders, name, None).is_err() {
                return send(&reply::unavailable(), "headers_unwritable");
            }
        }
        let peer = if shared.config.needs_peer() {
            hostcalls::get_property(vec!["source", "address"])
                .ok()
                .flatten()
                .and_then(|address| peer_ip(&address))
        } else {
            None
        };
        let request = Request::new(&headers, peer);
        let mut jwt = shared
            .jwt
            .as_ref()
            .and_then(|jwt| jwt.try_borrow_mut().ok());
        let decision = decide(&shared.config, &request, &ProxyHost, jwt.as_deref_mut());
        if let Some(report) = jwt.as_deref_mut().and_then(|jwt| jwt.take_unknown_kid()) {
            shared.kid_queue.post(&report);
        }
        shared.metrics.count(&decision);
        let label = decision.label();
        match decision {
            Decision::Public | Decision::Anonymous => record(label),
            Decision::Allowed { identity, hide } => {
                let set = identity
                    .headers()
                    .map(|(name, value)| (name, Some(value)))
                    .chain(hide.names().map(|name| (name, None)));
                for (name, value) in set {
                    if hostcalls::set_map_value(MapType::HttpRequestHeaders, name, value).is_err() {
                        return send(&reply::unavailable(), "headers_unwritable");
                    }
                }
                record(label)
            }
            Decision::Whoami { identity } => send(&reply::whoami(&identity), label),
            Decision::Denied(denial) => {
                if logs_at(LogLevel::Debug) {
                    let path = request.path.split('?').next().unwrap_or_default();
                    log(
                        LogLevel::Debug,
                        &format!("{} {path}: {label}: {denial}", request.method),
                    );
                }
                send(&reply::render(&denial, &shared.config.realm), label)
            }
        }
    }
}

/// Records the decision for the access log and lets the request continue.
fn record(label: &str) -> Action {
    let _ = hostcalls::set_property(vec![DECISION_PROPERTY], Some(label.as_bytes()));
    Action::Continue
}

/// Sends `reply` instead of forwarding the request.
fn send(reply: &Reply, label: &str) -> Action {
    let _ = hostcalls::set_property(vec![DECISION_PROPERTY], Some(label.as_bytes()));
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let _ = hostcalls::send_http_response(reply.status, headers, Some(reply.body.as_bytes()));
    Action::Pause
}
