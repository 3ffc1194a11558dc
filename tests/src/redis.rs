//! A Debian `redis-server` on a free loopback port for the rate-limit service to count in:
//! persistence off (`--save ""`, `--appendonly no`), its files in a private directory, killed
//! when dropped, its log printed when the test is failing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use crate::poll;
use crate::ports;
use crate::process::Process;
use crate::temp_dir::TempDir;

/// How long Redis may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `redis-server`.
pub struct Redis {
    process: Process,
    port: u16,
    /// Held for the log; declared last so it outlives the process.
    _dir: TempDir,
}

impl Redis {
    /// Starts Redis on a free port and waits until it answers `PING`.
    pub fn start() -> Self {
        let dir = TempDir::new();
        let port = ports::free();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path());
        let mut process = Process::spawn("redis-server", command, &dir.join("redis.log"));
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let ready = poll::until(START_TIMEOUT, || {
            if process.exit_status().is_some() {
                return Some(false);
            }
            ping(address).then_some(true)
        });
        if ready != Some(true) {
            process.print_log();
            panic!("redis-server did not answer on {address} (Debian package redis-server)");
        }
        Self {
            process,
            port,
            _dir: dir,
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends one inline command; returns a bulk string's contents, or the first line of any
    /// other reply (`+PONG`, `:1`, `$-1` for a missing key); `None` when Redis is not there.
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut chunk = [0; 512];
        loop {
            let read = stream.read(&mut chunk).ok()?;
            reply.extend_from_slice(chunk.get(..read)?);
            let text = String::from_utf8_lossy(&reply).into_owned();
            let mut lines = text.split("\r\n");
            let first = lines.next().unwrap_or_default();
            if let Some(len) = first
                .strip_prefix('$')
                .and_then(|l| l.parse::<usize>().ok())
            {
                if let Some(value) = lines.next().filter(|v| v.len() == len) {
                    return Some(value.to_owned());
                }
            } else if text.contains("\r\n") {
                return Some(first.to_owned());
            }
            if read == 0 {
                return None;
            }
        }
    }
}

/// Whether Redis at `address` answers `PING` with `+PONG`.
fn ping(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

impl Drop for Redis {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process.print_log();
        }
    }
}
