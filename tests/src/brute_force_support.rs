//! What the brute-force tests need beyond one Envoy: a `redis-server`, the real
//! `portcullis ratelimit serve` counting in it, Envoys whose filter reports failed
//! credentials to that service through a gRPC cluster, the assertions on a 429, and a wait
//! that keeps a test inside one rate-limit window.
//!
//! Every process is killed on drop; when the test is failing, its log is printed first.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::client::Request;
use crate::envoy_config;
use crate::launch::{self, Launch, Outcome};
use crate::paths;
use crate::poll;
use crate::ports;
use crate::process::Process;
use crate::response::Response;
use crate::temp_dir::TempDir;

/// How long Redis or the rate-limit service may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The Envoy cluster of the rate-limit service in [`RlsEnvoy`]'s configuration.
pub const RLS_CLUSTER: &str = "portcullis_ratelimit";

/// Waits until at least `room` is left in the current fixed window of `window_secs`, so
/// counts a test makes cannot be split by a window boundary.
pub fn wait_for_window_room(window_secs: u64, room: Duration) {
    let left = || {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        Duration::from_secs(window_secs - now % window_secs)
    };
    let waited = poll::until(room + Duration::from_secs(5), || {
        (left() >= room).then_some(())
    });
    assert!(
        waited.is_some(),
        "no {room:?} left in a {window_secs}s window"
    );
}

/// Asserts a brute-force 429: the Portcullis JSON shape with `code: rate_limited` and
/// `retryable: true`, `retry-after` within the window, and the `x-ratelimit-*` headers of
/// `limit` per `window_secs`.
pub fn assert_rate_limited(response: &Response, limit: u32, window_secs: u64) {
    assert_eq!(response.status, 429, "{response}");
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{response}");
    let body = response.json();
    assert_eq!(body["error"], "too_many_requests", "{response}");
    assert_eq!(body["code"], "rate_limited", "{response}");
    assert_eq!(body["retryable"], true, "{response}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{response}"
    );
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric retry-after in {response}"));
    assert!((1..=window_secs).contains(&retry_after), "{response}");
    assert_eq!(
        response.header("x-ratelimit-limit"),
        Some(format!("{limit}, {limit};w={window_secs}").as_str()),
        "{response}"
    );
    assert_eq!(response.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        response.header("x-ratelimit-reset"),
        Some(retry_after.to_string().as_str())
    );
}

/// A `redis-server` on a free loopback port, persistence off.
pub struct Redis {
    process: Process,
    port: u16,
    _dir: TempDir,
}

impl Redis {
    /// Starts Redis and waits until it answers `PING`.
    pub fn start() -> Self {
        let dir = TempDir::new();
        let port = ports::free();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path());
        let process = Process::spawn("redis-server", command, &dir.join("redis.log"));
        let redis = Self {
            process,
            port,
            _dir: dir,
        };
        let pong = poll::until(START_TIMEOUT, || {
            (redis.command("PING").as_deref() == Some("+PONG")).then_some(())
        });
        assert!(
            pong.is_some(),
            "redis-server (Debian package redis-server) did not answer; its log:\n{}",
            redis.process.log()
        );
        redis
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

impl Drop for Redis {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process.print_log();
        }
    }
}

/// `portcullis ratelimit serve` with a configuration the test writes, counting in Redis.
pub struct RateLimitService {
    process: Process,
    port: u16,
    _dir: TempDir,
}

impl RateLimitService {
    /// Starts the service with `yaml` (envoyproxy/ratelimit format) as its configuration
    /// and waits until its gRPC port accepts connections.
    pub fn start(redis: &Redis, yaml: &str) -> Self {
        let dir = TempDir::new();
        let config = dir.join("ratelimit.yaml");
        std::fs::write(&config, yaml).expect("write the rate-limit configuration");
        let port = ports::free();
        let mut command = Command::new(paths::control_plane_binary());
        command
            .args(["ratelimit", "serve", "--config"])
            .arg(&config)
            .args(["--grpc-listen", &format!("127.0.0.1:{port}")])
            .args(["--redis", &redis.url()])
            // Generous: a loaded machine must not turn a slow count into a failure.
            .args(["--redis-timeout-ms", "2000"]);
        let mut process =
            Process::spawn("portcullis ratelimit serve", command, &dir.join("rls.log"));
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let up = poll::until(START_TIMEOUT, || {
            if process.exit_status().is_some() {
                return Some(false);
            }
            TcpStream::connect(address).is_ok().then_some(true)
        });
        assert_eq!(
            up,
            Some(true),
            "the rate-limit service did not start; its log:\n{}",
            process.log()
        );
        Self {
            process,
            port,
            _dir: dir,
        }
    }

    /// Its gRPC port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for RateLimitService {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process.print_log();
        }
    }
}

/// An Envoy with the filter configured by a test, plus the gRPC cluster [`RLS_CLUSTER`]
/// pointing at a rate-limit service on `rls_port` (nothing need listen there).
pub struct RlsEnvoy {
    launch: Launch,
}

impl RlsEnvoy {
    /// Starts Envoy and waits until it serves.
    pub fn start(plugin_config: &Value, env: &[(&str, &str)], rls_port: u16) -> Self {
        let plugin_config = plugin_config.to_string();
        let cluster = RLS_CLUSTER_YAML
            .replace("{cluster}", RLS_CLUSTER)
            .replace("{port}", &rls_port.to_string());
        // The generated configuration ends with its cluster list: one more goes last.
        let (launch, outcome) = launch::start(
            true,
            &|placement| envoy_config::render(placement, &plugin_config, env) + &cluster,
            &[],
        );
        assert_eq!(
            outcome,
            Outcome::Ready,
            "Envoy did not start; its log:\n{}",
            launch.process.log()
        );
        Self { launch }
    }

    /// Sends `request` to the listener.
    pub fn send(&self, request: &Request) -> Response {
        request.send(self.launch.listener)
    }

    /// The stat `name` (`wasmcustom.portcullis.…`), 0 while it does not exist.
    pub fn counter(&self, name: &str) -> u64 {
        let response = Request::get("/stats?format=json").send(self.launch.admin);
        assert_eq!(response.status, 200, "admin /stats: {response}");
        response.json()["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|stat| stat["name"] == name)
            .and_then(|stat| stat["value"].as_u64())
            .unwrap_or(0)
    }

    /// Waits until the stat `name` is at least `minimum`; panics with its last value.
    pub fn wait_for_counter_at_least(&self, name: &str, minimum: u64) {
        let mut last = 0;
        let reached = poll::until(Duration::from_secs(5), || {
            last = self.counter(name);
            (last >= minimum).then_some(())
        });
        assert!(
            reached.is_some(),
            "stat {name} is {last}, expected at least {minimum}"
        );
    }
}

impl Drop for RlsEnvoy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.launch.process.print_log();
            if let Some(upstream) = &self.launch.upstream {
                upstream.print_log();
            }
        }
    }
}

const RLS_CLUSTER_YAML: &str = r#"    - name: {cluster}
      type: STATIC
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
      load_assignment:
        cluster_name: {cluster}
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address: { socket_address: { address: 127.0.0.1, port_value: {port} } }
"#;
