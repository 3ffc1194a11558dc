//! Starting one Envoy: fresh ports, a configuration file, the process, and the wait until
//! it either serves, exits or logs that the filter refused its configuration. A start
//! that lost a race for a port is retried with new ports.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::client::Request;
use crate::envoy_config::Placement;
use crate::paths;
use crate::poll;
use crate::ports;
use crate::process::Process;
use crate::temp_dir::TempDir;
use crate::upstream::Upstream;

/// How long Envoy may take to load the Wasm VM and become ready, or to refuse.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts tried before a port conflict is reported as a failure.
const ATTEMPTS: u32 = 3;

/// Envoy's complaint when a port picked as free was taken in the meantime.
const PORT_TAKEN: &str = "Address already in use";

/// Log lines by which Envoy reports that the filter refused its configuration, should it
/// ever keep running instead of exiting (Envoy 1.40 exits with status 1).
const REFUSAL_MARKERS: [&str; 2] = [
    "Failed to configure base Wasm plugin",
    "Unable to create Wasm plugin",
];

/// What a starting Envoy did first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The admin interface reports ready and the listener accepts connections.
    Ready,
    /// The process exited.
    Exited,
    /// The process still runs but has logged that the plugin failed to configure.
    LoggedRefusal,
}

/// A started Envoy, with everything that must live as long as it.
pub struct Launch {
    /// The Envoy process.
    pub process: Process,
    /// Its demo upstream, when one was asked for.
    pub upstream: Option<Upstream>,
    /// The HTTP listener.
    pub listener: SocketAddr,
    /// The admin interface.
    pub admin: SocketAddr,
    /// The access log file of a generated configuration.
    pub access_log: PathBuf,
    /// Configuration and logs.
    pub dir: TempDir,
}

/// Starts Envoy on the configuration `render` makes for fresh ports, with a demo upstream
/// when `with_upstream` and `process_env` in Envoy's environment, and waits for the outcome.
pub fn start(
    with_upstream: bool,
    render: &dyn Fn(&Placement) -> String,
    process_env: &[(&str, &str)],
) -> (Launch, Outcome) {
    let mut attempt = 1;
    loop {
        let mut launch = Launch::new(with_upstream, render, process_env);
        let outcome = launch.wait();
        let port_taken = outcome == Outcome::Exited && launch.process.log().contains(PORT_TAKEN);
        if !port_taken || attempt == ATTEMPTS {
            return (launch, outcome);
        }
        attempt += 1;
    }
}

impl Launch {
    fn new(
        with_upstream: bool,
        render: &dyn Fn(&Placement) -> String,
        process_env: &[(&str, &str)],
    ) -> Self {
        let dir = TempDir::new();
        let upstream = with_upstream.then(|| Upstream::start(&dir));
        let wasm = paths::filter_wasm();
        let access_log = dir.join("access.log");
        let placement = Placement {
            listener_port: ports::free(),
            admin_port: ports::free(),
            upstream_port: upstream.as_ref().map_or_else(ports::free, Upstream::port),
            wasm: &wasm,
            access_log: &access_log,
        };
        let config_path = dir.join("envoy.yaml");
        std::fs::write(&config_path, render(&placement)).expect("write the Envoy configuration");
        let mut command = Command::new(paths::envoy_binary());
        command
            .arg("--config-path")
            .arg(&config_path)
            .args(["--concurrency", "1", "--use-dynamic-base-id"])
            .args(["--log-level", "info", "--component-log-level", "wasm:debug"])
            // Access log lines reach the file within 50 ms instead of Envoy's default 10 s.
            .args(["--file-flush-interval-msec", "50"])
            .envs(process_env.iter().copied())
            .current_dir(dir.path());
        let process = Process::spawn("envoy", command, &dir.join("envoy.log"));
        Self {
            process,
            upstream,
            listener: SocketAddr::from(([127, 0, 0, 1], placement.listener_port)),
            admin: SocketAddr::from(([127, 0, 0, 1], placement.admin_port)),
            access_log,
            dir,
        }
    }

    /// Polls until Envoy is ready, has exited or has logged a refusal; panics with its log
    /// when none of these happens in time.
    fn wait(&mut self) -> Outcome {
        let outcome = poll::until(START_TIMEOUT, || {
            if self.process.exit_status().is_some() {
                return Some(Outcome::Exited);
            }
            let log = self.process.log();
            if REFUSAL_MARKERS.iter().any(|marker| log.contains(marker)) {
                return Some(Outcome::LoggedRefusal);
            }
            let live = Request::get("/ready")
                .try_send(self.admin)
                .is_ok_and(|response| response.status == 200);
            (live && TcpStream::connect(self.listener).is_ok()).then_some(Outcome::Ready)
        });
        outcome.unwrap_or_else(|| {
            panic!(
                "Envoy neither started nor refused within {START_TIMEOUT:?}; its log:\n{}",
                self.process.log()
            )
        })
    }
}
