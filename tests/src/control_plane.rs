//! The real control-plane binary (`portcullis serve`) on a loopback port with a temporary
//! SQLite file, and the few API calls the end-to-end tests make through it.
//!
//! `make e2e` builds the binary first (`cargo build -p portcullis-control-plane`); the
//! tests never build it themselves.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::client::Request;
use crate::paths;
use crate::poll;
use crate::ports;
use crate::process::Process;
use crate::response::Response;
use crate::temp_dir::TempDir;

/// The bootstrap admin token every test control-plane uses.
pub const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789abcdefghijklmnopqrstuvwxyz";
/// The sync token every test control-plane and syncer share.
pub const SYNC_TOKEN: &str = "e2e-sync-token-0123456789abcdefghijklmnopqrstuvwxyzAB";

/// How long the control-plane may take to answer `/readyz`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running control-plane, killed on drop; its log is printed if the test is failing.
pub struct ControlPlane {
    process: Option<Process>,
    port: u16,
    /// Extra environment of the process (settings such as `PORTCULLIS_JWKS_*`).
    env: Vec<(String, String)>,
    /// Held for the database and the log; declared last so it outlives the process.
    dir: TempDir,
}

impl ControlPlane {
    /// A free port a control-plane can be started on later (for "Envoy first" tests).
    pub fn reserve_port() -> u16 {
        ports::free()
    }

    /// Starts a control-plane on a free port with a fresh database.
    pub fn start() -> Self {
        Self::start_on(ports::free())
    }

    /// Starts a control-plane on a free port with a fresh database and the extra
    /// environment `env`.
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        Self::start_on_with_env(ports::free(), env)
    }

    /// Starts a control-plane on `port` with a fresh database and waits until it is ready.
    pub fn start_on(port: u16) -> Self {
        Self::start_on_with_env(port, &[])
    }

    fn start_on_with_env(port: u16, env: &[(&str, &str)]) -> Self {
        let mut plane = Self {
            process: None,
            port,
            env: env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            dir: TempDir::new(),
        };
        plane.restart();
        plane
    }

    /// Starts the process (again) on the same port and database, and waits until ready.
    pub fn restart(&mut self) {
        let mut command = Command::new(paths::control_plane_binary());
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--db")
            .arg(self.dir.join("portcullis.db"))
            .env("PORTCULLIS_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("PORTCULLIS_SYNC_TOKEN", SYNC_TOKEN)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(name, value)| (name, value)));
        let log = self
            .dir
            .join(&format!("control-plane-{}.log", self.restarts()));
        let mut process = Process::spawn("control-plane", command, &log);
        let address = self.address();
        let ready = poll::until(START_TIMEOUT, || {
            if process.exit_status().is_some() {
                return Some(false);
            }
            let up = TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
                && Request::get("/readyz")
                    .try_send(address)
                    .is_ok_and(|r| r.status == 200);
            up.then_some(true)
        });
        if ready != Some(true) {
            process.print_log();
            panic!("the control-plane did not become ready on {address}");
        }
        self.process = Some(process);
    }

    fn restarts(&self) -> usize {
        std::fs::read_dir(self.dir.path()).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("control-plane-")
                })
                .count()
        })
    }

    /// Kills the process (the database stays for a restart).
    pub fn kill(&mut self) {
        self.process = None;
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Sends `method path` with `body` as the bootstrap admin.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        let mut request = Request::new(method, path).bearer(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string().as_bytes());
        }
        request.send(self.address())
    }

    /// Creates a key from `body` and returns the response JSON (holding the secret `key`).
    pub fn create_key(&self, body: &Value) -> Value {
        self.expect(201, self.call("POST", "/v1/keys", Some(body)))
    }

    /// Revokes a key.
    pub fn revoke_key(&self, id: &str) -> Value {
        self.expect(200, self.call("DELETE", &format!("/v1/keys/{id}"), None))
    }

    /// Rotates a key with `grace_secs` and returns the response JSON (the new secret).
    pub fn rotate_key(&self, id: &str, grace_secs: u64) -> Value {
        let body = serde_json::json!({ "grace_secs": grace_secs });
        self.expect(
            200,
            self.call("POST", &format!("/v1/keys/{id}/rotate"), Some(&body)),
        )
    }

    /// Changes a key.
    pub fn patch_key(&self, id: &str, body: &Value) -> Value {
        self.expect(
            200,
            self.call("PATCH", &format!("/v1/keys/{id}"), Some(body)),
        )
    }

    /// Creates (201) or replaces (200) the rate-limit tier `name` from a
    /// `PUT /v1/tiers/{name}` body.
    pub fn put_tier(&self, name: &str, body: &Value) -> Value {
        let response = self.call("PUT", &format!("/v1/tiers/{name}"), Some(body));
        let status = if response.status == 201 { 201 } else { 200 };
        self.expect(status, response)
    }

    /// The sidecars that have synced, as `GET /v1/sidecars` lists them.
    pub fn sidecars(&self) -> Value {
        self.expect(200, self.call("GET", "/v1/sidecars", None))
    }

    fn expect(&self, status: u16, response: Response) -> Value {
        if response.status != status {
            self.print_log();
            panic!(
                "control-plane answered {} (expected {status}): {response}",
                response.status
            );
        }
        response.json()
    }

    fn print_log(&self) {
        if let Some(process) = &self.process {
            process.print_log();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_log();
        }
    }
}
