//! Prometheus metrics: the counters, the middleware that counts requests, and the
//! `/metrics` text exposition.

use crate::api::AppState;
use crate::api::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Requests served, by route template and status class.
pub const REQUESTS: &str = "portcullis_http_requests_total";
/// Keys created.
pub const KEYS_CREATED: &str = "portcullis_keys_created_total";
/// Keys revoked.
pub const KEYS_REVOKED: &str = "portcullis_keys_revoked_total";
/// Keys rotated.
pub const KEYS_ROTATED: &str = "portcullis_keys_rotated_total";
/// Keys updated.
pub const KEYS_UPDATED: &str = "portcullis_keys_updated_total";
/// The store's latest committed revision.
pub const REVISION: &str = "portcullis_revision";

/// A key lifecycle event worth counting.
#[derive(Debug, Clone, Copy)]
pub enum KeyEvent {
    /// A key was created.
    Created,
    /// A key was changed.
    Updated,
    /// A key was revoked.
    Revoked,
    /// A key got a new secret.
    Rotated,
}

/// The process's counters. Route labels are route templates (`/v1/keys/{id}`), never raw
/// paths, so a scan of random URLs cannot grow the map without bound.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, &'static str), u64>>,
    created: AtomicU64,
    updated: AtomicU64,
    revoked: AtomicU64,
    rotated: AtomicU64,
}

impl Metrics {
    /// Counts one key event.
    pub fn count(&self, event: KeyEvent) {
        let counter = match event {
            KeyEvent::Created => &self.created,
            KeyEvent::Updated => &self.updated,
            KeyEvent::Revoked => &self.revoked,
            KeyEvent::Rotated => &self.rotated,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn count_request(&self, route: String, class: &'static str) {
        // A poisoned lock only means another request panicked mid-increment; the counts
        // are still usable.
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry((route, class)).or_default() += 1;
    }

    /// The Prometheus text exposition (format 0.0.4).
    fn render(&self, revision: u64) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "# HELP {REQUESTS} HTTP requests by route and status class."
        );
        let _ = writeln!(out, "# TYPE {REQUESTS} counter");
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        for ((route, class), n) in requests.iter() {
            let _ = writeln!(out, "{REQUESTS}{{route=\"{route}\",class=\"{class}\"}} {n}");
        }
        drop(requests);
        for (name, help, counter) in [
            (KEYS_CREATED, "Keys created.", &self.created),
            (KEYS_UPDATED, "Keys updated.", &self.updated),
            (KEYS_REVOKED, "Keys revoked.", &self.revoked),
            (KEYS_ROTATED, "Keys rotated.", &self.rotated),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# HELP {REVISION} Latest committed store revision.");
        let _ = writeln!(out, "# TYPE {REVISION} gauge");
        let _ = writeln!(out, "{REVISION} {revision}");
        out
    }
}

/// Middleware: counts every response by its route template and status class.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let class = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    state.metrics.count_request(route, class);
    response
}

/// `GET /metrics`: Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let revision = state.with_store(|store| store.revision()).await?;
    let body = state.metrics.render(revision);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
