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
/// Sync pages served (deltas, snapshot pages and "no change" answers).
pub const SYNC_PAGES: &str = "portcullis_sync_pages_total";
/// Snapshot pages served, a subset of [`SYNC_PAGES`]: many means sidecars keep starting over.
pub const SNAPSHOT_PAGES: &str = "portcullis_sync_snapshot_pages_total";
/// Long-polls held right now, waiting for a change.
pub const LONG_POLLS_HELD: &str = "portcullis_sync_long_polls_held";

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
    sync_pages: AtomicU64,
    snapshot_pages: AtomicU64,
    long_polls_held: AtomicU64,
}

/// A long-poll counted as held until this is dropped, however the request ends (answered,
/// or cancelled by the client going away).
#[derive(Debug)]
pub struct HeldLongPoll<'m>(&'m AtomicU64);

impl Drop for HeldLongPoll<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
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

    /// Counts one sync page served.
    pub fn count_sync_page(&self, is_snapshot: bool) {
        self.sync_pages.fetch_add(1, Ordering::Relaxed);
        if is_snapshot {
            self.snapshot_pages.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a long-poll as held for as long as the guard lives.
    pub fn hold_long_poll(&self) -> HeldLongPoll<'_> {
        self.long_polls_held.fetch_add(1, Ordering::Relaxed);
        HeldLongPoll(&self.long_polls_held)
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
            (SYNC_PAGES, "Sync pages served.", &self.sync_pages),
            (
                SNAPSHOT_PAGES,
                "Snapshot pages served.",
                &self.snapshot_pages,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
        let held = self.long_polls_held.load(Ordering::Relaxed);
        let _ = writeln!(out, "# HELP {LONG_POLLS_HELD} Sync long-polls held now.");
        let _ = writeln!(out, "# TYPE {LONG_POLLS_HELD} gauge");
        let _ = writeln!(out, "{LONG_POLLS_HELD} {held}");
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
