//! The syncer's root context (root id `portcullis_sync`, a singleton bootstrap service on
//! the main thread): sends the polls `Syncer` builds through the control-plane's cluster,
//! hands it each reply, and waits the pauses it chooses. One poll is in flight at a time.
//! It also registers the unknown-`kid` queue and posts what the workers queue to the
//! control-plane; those calls' replies are not the poll's and are ignored.

use super::proxy_host::{ProxyHost, log, logs_at};
use crate::metrics::SyncMetrics;
use crate::shared::UNKNOWN_KID_QUEUE;
use crate::syncer::config::{self, ControlPlane};
use crate::syncer::kid_reports::KidReports;
use crate::syncer::{Next, Outcome, SWEEP_BUCKETS, Severity, Syncer, sidecar_name};
use crate::wire::{SIDECAR_HEADER, UNKNOWN_KID_PATH};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, RootContext};
use proxy_wasm::types::{BufferType, LogLevel, MapType};
use std::time::{Duration, UNIX_EPOCH};

/// The syncer's root context; idle until configured.
#[derive(Default)]
pub struct SyncRoot {
    running: Option<Running>,
}

/// A configured sync loop.
struct Running {
    plane: ControlPlane,
    syncer: Syncer,
    /// This Envoy's node id as a header value, so the control-plane can list sidecars.
    sidecar: String,
    /// The token of the poll awaiting its reply.
    in_flight: Option<u32>,
    /// `portcullis.sync.revision` and `portcullis.sync.failures`.
    metrics: SyncMetrics,
    /// The unknown-`kid` queue, if Envoy let us register it.
    kid_queue: Option<u32>,
    kid_reports: KidReports,
}

/// The most messages one wake-up takes off the unknown-`kid` queue; the rest wait for the
/// next.
const MAX_DEQUEUE: usize = 1024;

impl SyncRoot {
    /// Sends the next poll; a request Envoy refuses to send is a failure like any other.
    fn poll(&mut self) {
        let Some(run) = self.running.as_mut() else {
            return;
        };
        let path = run.syncer.next_path();
        let authorization = format!("Bearer {}", run.plane.token);
        let headers = vec![
            (":method", "GET"),
            (":path", path.as_str()),
            (":authority", run.plane.authority.as_str()),
            ("authorization", authorization.as_str()),
            (SIDECAR_HEADER, run.sidecar.as_str()),
        ];
        match hostcalls::dispatch_http_call(
            &run.plane.cluster,
            headers,
            None,
            vec![],
            run.plane.timeout,
        ) {
            Ok(token) => run.in_flight = Some(token),
            Err(status) => {
                let detail = format!("{status:?} for cluster {:?}", run.plane.cluster);
                let outcome = run.syncer.on_dispatch_error(detail);
                self.follow(&outcome);
            }
        }
    }

    /// Posts the unknown `kid`s the workers queued to the control-plane.
    fn report_kids(&mut self, queue_id: u32) {
        let Some(run) = self.running.as_mut() else {
            return;
        };
        if run.kid_queue != Some(queue_id) {
            return;
        }
        for _ in 0..MAX_DEQUEUE {
            match hostcalls::dequeue_shared_queue(queue_id) {
                Ok(Some(message)) => run.kid_reports.push(&message),
                _ => break,
            }
        }
        let dropped = run.kid_reports.take_dropped();
        if dropped > 0 {
            log(
                LogLevel::Warn,
                &format!("sync: {dropped} unknown kid report(s) dropped (unreadable or too many)"),
            );
        }
        let authorization = format!("Bearer {}", run.plane.token);
        for body in run.kid_reports.take_bodies() {
            let headers = vec![
                (":method", "POST"),
                (":path", UNKNOWN_KID_PATH),
                (":authority", run.plane.authority.as_str()),
                ("authorization", authorization.as_str()),
                ("content-type", "application/json"),
                (SIDECAR_HEADER, run.sidecar.as_str()),
            ];
            match hostcalls::dispatch_http_call(
                &run.plane.cluster,
                headers,
                Some(body.as_bytes()),
                vec![],
                run.plane.timeout,
            ) {
                Ok(_) => log(
                    LogLevel::Info,
                    &format!("sync: reported unknown kid {body}"),
                ),
                Err(status) => log(
                    LogLevel::Warn,
                    &format!("sync: unknown kid {body} not reported: {status:?}"),
                ),
            }
        }
    }

    /// Logs `outcome` and polls again now or after its pause.
    fn follow(&mut self, outcome: &Outcome) {
        if let Some(run) = &self.running {
            run.metrics.record(&ProxyHost, outcome);
        }
        let level = match outcome.severity() {
            Severity::Debug => LogLevel::Debug,
            Severity::Info => LogLevel::Info,
            Severity::Warn => LogLevel::Warn,
        };
        if logs_at(level) {
            log(level, &outcome.to_string());
        }
        match outcome.next() {
            Next::Now => self.poll(),
            // A period of 0 would switch the timer off and stop the loop for good.
            Next::After(pause) => {
                if hostcalls::set_tick_period(pause.max(Duration::from_millis(1))).is_err() {
                    log(
                        LogLevel::Critical,
                        "sync stopped: cannot set the retry timer",
                    );
                }
            }
        }
    }
}

impl Context for SyncRoot {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let Some(run) = self.running.as_mut() else {
            return;
        };
        if run.in_flight != Some(token_id) {
            return;
        }
        run.in_flight = None;
        // Bytes, not the SDK's String variant, which panics on a value that is not UTF-8.
        let status = hostcalls::get_map_value_bytes(MapType::HttpCallResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok());
        let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
            .ok()
            .map(Option::unwrap_or_default);
        let outcome = run.syncer.on_response(&ProxyHost, status, body.as_deref());
        match run.syncer.sweep(&ProxyHost, SWEEP_BUCKETS) {
            Ok(0) => {}
            Ok(forgotten) => log(
                LogLevel::Info,
                &format!("sync: forgot {forgotten} secret(s) past their retention"),
            ),
            Err(failure) => log(LogLevel::Warn, &format!("sync: sweep stopped: {failure}")),
        }
        self.follow(&outcome);
    }
}

impl RootContext for SyncRoot {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let Ok(bytes) = hostcalls::get_buffer(
            BufferType::PluginConfiguration,
            0,
            plugin_configuration_size,
        ) else {
            log(LogLevel::Error, "sync configuration unreadable");
            return false;
        };
        let plane = match config::parse(&bytes.unwrap_or_default(), |name| std::env::var(name).ok())
        {
            Ok(plane) => plane,
            Err(problems) => {
                for problem in &problems {
                    log(
                        LogLevel::Error,
                        &format!("invalid sync configuration: {problem}"),
                    );
                }
                log(
                    LogLevel::Error,
                    &format!("sync configuration refused: {} problem(s)", problems.len()),
                );
                return false;
            }
        };
        // Envoy may configure a root again: one loop is enough, and it is already running.
        if self.running.is_some() {
            return true;
        }
        let metrics = match SyncMetrics::define(&ProxyHost) {
            Ok(metrics) => metrics,
            Err(e) => {
                log(LogLevel::Error, &format!("sync metrics: {e}"));
                return false;
            }
        };
        let now = hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        // Envoy 1.40 answers `xds.node.id` at a root; `node.id` is the older name.
        let node = [vec!["xds", "node", "id"], vec!["node", "id"]]
            .into_iter()
            .find_map(|path| hostcalls::get_property(path).ok().flatten())
            .and_then(|id| String::from_utf8(id).ok())
            .unwrap_or_default();
        let sidecar = sidecar_name(&node);
        let kid_queue = hostcalls::register_shared_queue(UNKNOWN_KID_QUEUE).ok();
        if kid_queue.is_none() {
            log(
                LogLevel::Warn,
                "sync: cannot register the unknown kid queue; new signing keys wait for the next scheduled JWKS refresh",
            );
        }
        log(
            LogLevel::Info,
            &format!(
                "sync: polling cluster {:?} as sidecar {sidecar:?}",
                plane.cluster
            ),
        );
        self.running = Some(Running {
            // Nanoseconds differ between sidecars started together: their retries spread.
            syncer: Syncer::new(&plane, u64::from(now.subsec_nanos()) ^ now.as_secs()),
            plane,
            sidecar,
            in_flight: None,
            metrics,
            kid_queue,
            kid_reports: KidReports::default(),
        });
        // The first sync need not wait for a tick: Envoy 1.40 dispatches from on_configure.
        self.poll();
        true
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        self.report_kids(queue_id);
    }

    fn on_tick(&mut self) {
        // One-shot: the pause is over; the next failure sets a new one.
        let _ = hostcalls::set_tick_period(Duration::ZERO);
        if self
            .running
            .as_ref()
            .is_some_and(|run| run.in_flight.is_none())
        {
            self.poll();
        }
    }
}
