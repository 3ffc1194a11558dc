//! A real OpenID provider for the JWT tests: panva's `oidc-provider` (`tests/oidc/provider.mjs`)
//! under Node.js on a free loopback port, issuing RFC 9068 JWT access tokens through the
//! `client_credentials` grant, signed with the algorithm a test asks for.
//!
//! Its signing keys live in a JWKS file the test names: restarting with the same file keeps
//! the keys, restarting with a fresh file rotates them. The issuer stays
//! `http://127.0.0.1:<port>` across restarts, as a control-plane that discovered it expects.
//! The process is killed on drop; if the test is panicking its log is printed first.
//!
//! Node.js 20+ and the npm packages come from the project's set-up: `make setup` runs
//! `npm ci --prefix tests/oidc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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

/// The client the provider knows, allowed the `client_credentials` grant only.
pub const CLIENT_ID: &str = "portcullis-e2e";
/// That client's secret, sent in the form body (`client_secret_post`).
pub const CLIENT_SECRET: &str = "e2e-oidc-client-secret-0123456789abcdefghij";
/// The audience of the API the tests protect.
pub const API_AUDIENCE: &str = "https://api.test";
/// Another audience the provider issues tokens for, which the filter must refuse.
pub const OTHER_AUDIENCE: &str = "https://other.test";
/// Every scope the provider grants; a token carries those of its request found here.
pub const SCOPES: [&str; 2] = ["read", "write"];
/// Where the provider publishes its public keys (its discovery document's `jwks_uri`).
pub const JWKS_PATH: &str = "/jwks";

/// How long Node may take to load the provider, generate keys and listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts tried before a port conflict is reported as a failure.
const ATTEMPTS: u32 = 3;

/// How the provider reports that the port picked as free was taken in the meantime.
const PORT_TAKEN: &str = "EADDRINUSE";

/// The lowest Node.js major version oidc-provider 9 runs on.
const NODE_MAJOR: u32 = 20;

/// What to run when Node.js or the provider's packages are missing.
const SETUP: &str = "run `make setup` (it installs Node.js if missing and runs `npm ci --prefix tests/oidc --no-audit --no-fund`)";

/// A JWS algorithm the provider signs access tokens with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048 key.
    Rs256,
    /// RSASSA-PSS with SHA-256, RSA 2048 key.
    Ps256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Alg {
    /// Every algorithm, one signing key each.
    pub const ALL: [Self; 4] = [Self::Rs256, Self::Ps256, Self::Es256, Self::EdDsa];

    /// The JOSE `alg` value (RFC 7518 §3.1, RFC 8037 §3.1).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The last path segment of a resource indicator that asks for this algorithm.
    fn resource_segment(self) -> &'static str {
        match self {
            Self::Rs256 => "rs256",
            Self::Ps256 => "ps256",
            Self::Es256 => "es256",
            Self::EdDsa => "eddsa",
        }
    }
}

/// A running provider, killed on drop; its log is printed if the test is panicking.
pub struct OidcProvider {
    process: Option<Process>,
    port: u16,
    ttl: Duration,
    keys: PathBuf,
    starts: u32,
    /// Holds the logs; declared last so it outlives the process.
    dir: TempDir,
}

impl OidcProvider {
    /// Starts a provider on a free port whose keys are read from `keys`, or generated into
    /// it when the file does not exist, and whose access tokens live `ttl` (whole seconds,
    /// at least one); waits until it listens.
    pub fn start(keys: &Path, ttl: Duration) -> Self {
        assert!(
            ttl.as_secs() > 0 && ttl.subsec_nanos() == 0,
            "token lifetime must be whole seconds, at least one, got {ttl:?}"
        );
        check_prerequisites();
        let mut provider = Self {
            process: None,
            port: 0,
            ttl,
            keys: keys.to_path_buf(),
            starts: 0,
            dir: TempDir::new(),
        };
        let mut attempt = 1;
        loop {
            provider.port = ports::free();
            match provider.spawn() {
                Ok(()) => return provider,
                Err(log) if log.contains(PORT_TAKEN) && attempt < ATTEMPTS => attempt += 1,
                Err(log) => panic!("the OpenID provider did not start; its log:\n{log}"),
            }
        }
    }

    /// Stops the provider and starts it again on the same port (so the same issuer) with
    /// the keys in `keys`: the same file keeps the keys, a missing one rotates them.
    pub fn restart(&mut self, keys: &Path) {
        self.process = None;
        self.keys = keys.to_path_buf();
        if let Err(log) = self.spawn() {
            panic!("the OpenID provider did not restart; its log:\n{log}");
        }
    }

    /// Spawns the process and waits for its ready line; on failure returns its log.
    fn spawn(&mut self) -> Result<(), String> {
        self.starts += 1;
        let mut command = Command::new("node");
        command
            .arg(paths::repo_root().join("tests/oidc/provider.mjs"))
            .args(["--port", &self.port.to_string()])
            .arg("--keys")
            .arg(&self.keys)
            .args(["--ttl-secs", &self.ttl.as_secs().to_string()])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]);
        let log = self.dir.join(&format!("oidc-provider-{}.log", self.starts));
        let mut process = Process::spawn("oidc-provider", command, &log);
        let ready_line = format!("ready {}", self.issuer());
        let ready = poll::until(START_TIMEOUT, || {
            if process.log().lines().any(|line| line == ready_line) {
                return Some(true);
            }
            process.exit_status().is_some().then_some(false)
        });
        match ready {
            Some(true) => {
                self.process = Some(process);
                Ok(())
            }
            Some(false) => Err(process.log()),
            None => Err(format!(
                "no `{ready_line}` within {START_TIMEOUT:?}\n{}",
                process.log()
            )),
        }
    }

    /// The issuer identifier, `http://127.0.0.1:<port>`, which its tokens carry as `iss`.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The file holding its private signing keys (a JWKS).
    pub fn jwks_path(&self) -> &Path {
        &self.keys
    }

    /// Its OpenID discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> Value {
        self.get_json("/.well-known/openid-configuration")
    }

    /// The public keys it publishes at [`JWKS_PATH`].
    pub fn jwks(&self) -> Value {
        self.get_json(JWKS_PATH)
    }

    /// An access token for `audience` signed with `alg`, through `client_credentials`
    /// asking for `scope` (space-separated; empty asks for none). Panics unless issued.
    pub fn token(&self, alg: Alg, audience: &str, scope: &str) -> String {
        let resource = format!("{audience}/{}", alg.resource_segment());
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("resource", resource.as_str()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        let body = form
            .iter()
            .map(|(name, value)| format!("{name}={}", form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let response = Request::new("POST", "/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.as_bytes())
            .send(self.address());
        let json = self.expect_json(&response, &format!("a token for {resource}"));
        json["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {response}"))
            .to_string()
    }

    fn get_json(&self, path: &str) -> Value {
        let response = Request::get(path).send(self.address());
        self.expect_json(&response, path)
    }

    fn expect_json(&self, response: &Response, what: &str) -> Value {
        if response.status != 200 {
            // Drop prints the provider's log while the panic unwinds.
            panic!(
                "the OpenID provider refused {what} with {} (expected 200): {response}",
                response.status
            );
        }
        response.json()
    }

    fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn print_log(&self) {
        if let Some(process) = &self.process {
            process.print_log();
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_log();
        }
    }
}

/// Panics naming the set-up command unless Node.js 20+ and the provider's packages are there.
fn check_prerequisites() {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|error| panic!("cannot run `node` ({error}): {SETUP}"));
    let version = String::from_utf8_lossy(&version.stdout);
    let major = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok());
    assert!(
        major.is_some_and(|major| major >= NODE_MAJOR),
        "Node.js {NODE_MAJOR} or later is needed, `node --version` says {:?}: {SETUP}",
        version.trim()
    );
    let package = paths::repo_root().join("tests/oidc/node_modules/oidc-provider/package.json");
    assert!(
        package.exists(),
        "oidc-provider is not installed ({} is missing): {SETUP}",
        package.display()
    );
}

/// `application/x-www-form-urlencoded` encoding of one value (URL Standard §5.2).
fn form_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}
