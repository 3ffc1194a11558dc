//! Per request: read the headers, strip client identity headers, decide, then either set
//! the identity and continue or send the denial's reply.

use super::http_root::Shared;
use super::proxy_host::{ProxyHost, log, logs_at};
use crate::decision::{Decision, Denial, Request, decide};
use crate::failure_limit::{self, Client, DESCRIPTOR_KEY, RlsVerdict, rls};
use crate::identity;
use crate::reply::{self, Reply};
use crate::trusted_networks::peer_ip;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};
use std::rc::Rc;

/// Filter state key for the decision: `%FILTER_STATE(wasm.portcullis.decision:PLAIN)%`.
const DECISION_PROPERTY: &str = "portcullis.decision";

/// The HTTP context of one request.
pub struct HttpFilter {
    shared: Option<Rc<Shared>>,
    /// A failed credential held until the rate-limit service answers.
    pending: Option<Pending>,
}

/// A denied request paused on a call to the rate-limit service.
struct Pending {
    token: u32,
    denial: Denial,
    client: Client,
    /// `METHOD /path` for the debug log.
    request_line: String,
}

impl HttpFilter {
    /// A filter for one request; `shared` is `None` only if configuration never succeeded.
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        HttpFilter {
            shared,
            pending: None,
        }
    }
}

impl Context for HttpFilter {
    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let Some(pending) = self.pending.take_if(|p| p.token == token_id) else {
            return;
        };
        let body = if status_code == 0 {
            hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, response_size)
                .ok()
                .flatten()
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let verdict = shared
            .config
            .failure_limit
            .as_ref()
            .map(|limit| limit.record_answer(&ProxyHost, pending.client, status_code, &body));
        let denial = match verdict {
            Some(RlsVerdict::OverLimit { blocked, recorded }) => {
                if let Err(lost) = recorded {
                    log(
                        LogLevel::Warn,
                        &format!(
                            "failure limit: block of {} not recorded: {lost}",
                            pending.client
                        ),
                    );
                }
                Denial::RateLimited(blocked)
            }
            Some(RlsVerdict::Failed(detail)) => {
                shared.metrics.count_rls_error();
                if logs_at(LogLevel::Debug) {
                    log(LogLevel::Debug, &format!("failure limit: {detail}"));
                }
                pending.denial
            }
            Some(RlsVerdict::UnderLimit) | None => pending.denial,
        };
        deny(&shared, &pending.request_line, &denial);
    }
}

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
        let denial = match decision {
            Decision::Denied(denial) => denial,
            allowed => return pass(shared, allowed),
        };
        let path = request.path.split('?').next().unwrap_or_default();
        let request_line = format!("{} {path}", request.method);
        let Some(limit) = shared.config.failure_limit.as_ref() else {
            return deny(shared, &request_line, &denial);
        };
        let Some(client) = peer
            .filter(|_| failure_limit::counts(&denial))
            .map(Client::of)
        else {
            return deny(shared, &request_line, &denial);
        };
        let recorded = limit.record_failure(&ProxyHost, client);
        shared.metrics.count_failure(recorded.is_ok());
        if let Err(lost) = recorded {
            log(
                LogLevel::Warn,
                &format!("failure limit: failure of {client} not counted: {lost}"),
            );
        }
        let Some(service) = limit.rls.as_ref() else {
            return deny(shared, &request_line, &denial);
        };
        let message = rls::request(&service.domain, DESCRIPTOR_KEY, &client.to_string());
        match hostcalls::dispatch_grpc_call(
            &service.service,
            rls::SERVICE,
            rls::METHOD,
            vec![],
            Some(&message),
            service.timeout,
        ) {
            Ok(token) => {
                self.pending = Some(Pending {
                    token,
                    denial,
                    client,
                    request_line,
                });
                Action::Pause
            }
            Err(status) => {
                shared.metrics.count_rls_error();
                if logs_at(LogLevel::Debug) {
                    log(
                        LogLevel::Debug,
                        &format!(
                            "failure limit: cannot call the rate-limit service on cluster {:?}: {status:?}",
                            service.cluster
                        ),
                    );
                }
                deny(shared, &request_line, &denial)
            }
        }
    }
}

/// Lets an allowed request through with its identity headers, or answers whoami (a denial
/// reaching here is sent, uncounted against its client).
fn pass(shared: &Shared, decision: Decision<'_>) -> Action {
    shared.metrics.count(&decision);
    let label = decision.label();
    match decision {
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
        Decision::Denied(denial) => send(&reply::render(&denial, &shared.config.realm), label),
        Decision::Public | Decision::Anonymous => record(label),
    }
}

/// Counts `denial`, logs why at debug level and sends its reply.
fn deny(shared: &Shared, request_line: &str, denial: &Denial) -> Action {
    shared.metrics.count_denial(denial);
    let label = denial.code().as_str();
    if logs_at(LogLevel::Debug) {
        log(
            LogLevel::Debug,
            &format!("{request_line}: {label}: {denial}"),
        );
    }
    send(&reply::render(denial, &shared.config.realm), label)
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
