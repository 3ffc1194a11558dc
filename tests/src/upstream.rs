//! The demo upstream (`demo/upstream.py`) on a free loopback port: it answers every request
//! with 200 and echoes the headers it received, which is how tests see what Envoy forwarded.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use crate::paths;
use crate::poll;
use crate::ports;
use crate::process::Process;
use crate::temp_dir::TempDir;

/// How long the upstream may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts tried before a port conflict is reported as a failure.
const ATTEMPTS: u32 = 3;

/// Python's complaint when the port picked as free was taken in the meantime.
const PORT_TAKEN: &str = "Address already in use";

/// A running demo upstream, killed on drop.
pub struct Upstream {
    process: Process,
    port: u16,
}

impl Upstream {
    /// Starts the demo upstream, logging to `upstream.log` in `dir`, and waits until it
    /// accepts connections; tries new ports if the one picked was taken in the meantime.
    pub fn start(dir: &TempDir) -> Self {
        let mut attempt = 1;
        loop {
            let port = ports::free();
            let mut command = Command::new(paths::python());
            command.arg(paths::demo_upstream_script()).args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ]);
            let mut process = Process::spawn("demo upstream", command, &dir.join("upstream.log"));
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let accepted = poll::until(START_TIMEOUT, || {
                if process.exit_status().is_some() {
                    return Some(false);
                }
                TcpStream::connect_timeout(&address, Duration::from_millis(200))
                    .is_ok()
                    .then_some(true)
            });
            match accepted {
                Some(true) => return Self { process, port },
                Some(false) if process.log().contains(PORT_TAKEN) && attempt < ATTEMPTS => {
                    attempt += 1;
                }
                Some(false) => panic!(
                    "demo upstream exited while starting; its log:\n{}",
                    process.log()
                ),
                None => panic!(
                    "demo upstream did not accept connections on {address} within {START_TIMEOUT:?}; its log:\n{}",
                    process.log()
                ),
            }
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Writes its request log to stderr.
    pub fn print_log(&self) {
        self.process.print_log();
    }
}
