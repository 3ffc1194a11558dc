//! The real rate-limit service, `portcullis ratelimit serve --control-plane …`, following a
//! test's control-plane and counting in a test's Redis, on free loopback ports; killed on
//! drop, its log printed when the test is failing.
//!
//! It answers with `--response-headers retry-after`, as `make run RATELIMIT=redis` starts it:
//! Envoy's ratelimit filter writes the `x-ratelimit-*` headers, the service `retry-after`.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use crate::client::Request;
use crate::control_plane::SYNC_TOKEN;
use crate::paths;
use crate::poll;
use crate::ports;
use crate::process::Process;
use crate::redis::Redis;
use crate::temp_dir::TempDir;

/// How long the service may take to load the control-plane's configuration and see Redis.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running rate-limit service.
pub struct RateLimitService {
    process: Process,
    grpc_port: u16,
    http: SocketAddr,
    /// Held for the log; declared last so it outlives the process.
    _dir: TempDir,
}

impl RateLimitService {
    /// Starts the service following the control-plane on `control_plane_port`, counting in
    /// `redis`, and waits until `/readyz` answers 200.
    pub fn start(control_plane_port: u16, redis: &Redis) -> Self {
        let dir = TempDir::new();
        let grpc_port = ports::free();
        let http = SocketAddr::from(([127, 0, 0, 1], ports::free()));
        let mut command = Command::new(paths::control_plane_binary());
        command
            .args(["ratelimit", "serve", "--control-plane"])
            .arg(format!("http://127.0.0.1:{control_plane_port}"))
            .args(["--redis", &redis.url()])
            .args(["--grpc-listen", &format!("127.0.0.1:{grpc_port}")])
            .args(["--http-listen", &http.to_string()])
            .args(["--response-headers", "retry-after"])
            // Generous: a loaded test machine must not turn counting into fail-open answers.
            .args(["--redis-timeout-ms", "1000"])
            .env("PORTCULLIS_SYNC_TOKEN", SYNC_TOKEN)
            .env("RUST_LOG", "info");
        let mut process = Process::spawn("rate-limit service", command, &dir.join("ratelimit.log"));
        let ready = poll::until(START_TIMEOUT, || {
            if process.exit_status().is_some() {
                return Some(false);
            }
            let ready = Request::get("/readyz")
                .try_send(http)
                .is_ok_and(|response| response.status == 200);
            ready.then_some(true)
        });
        if ready != Some(true) {
            process.print_log();
            panic!("the rate-limit service did not become ready on {http}");
        }
        Self {
            process,
            grpc_port,
            http,
            _dir: dir,
        }
    }

    /// The gRPC port Envoy's ratelimit filter calls.
    pub fn grpc_port(&self) -> u16 {
        self.grpc_port
    }

    /// The control-plane revision of the configuration it runs, from `/metrics`.
    pub fn config_revision(&self) -> u64 {
        let metrics = Request::get("/metrics").send(self.http).text();
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("portcullis_ratelimit_config_revision "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no config revision in its metrics:\n{metrics}"))
    }
}

impl Drop for RateLimitService {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process.print_log();
        }
    }
}
