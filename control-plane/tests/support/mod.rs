//! Test harness: the real server (`run`) on `127.0.0.1:0` with a temporary SQLite file, a
//! manual clock, and a small JSON client; [`idp`] is a fake OIDC issuer.

pub mod idp;

use portcullis_control_plane::api::admin_auth::AdminToken;
use portcullis_control_plane::api::sync_auth::SyncToken;
use portcullis_control_plane::jwks::FetchSettings;
use portcullis_control_plane::store::sqlite::SqliteStore;
use portcullis_control_plane::{ServeConfig, run, sync};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The bootstrap admin token every test server uses.
pub const ADMIN: &str = "test-admin-token-0123456789abcdefghij";
/// The sync token every test server uses.
pub const SYNC: &str = "test-sync-token-0123456789abcdefghijk";
/// The clock's start: a fixed instant, so expiries in tests are plain numbers.
pub const START: i64 = 1_800_000_000;

/// A running control-plane.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
    now: Arc<AtomicI64>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server with an empty database.
    pub async fn start() -> Server {
        Self::start_with_sync_pages_of(sync::PAGE_SIZE).await
    }

    /// Starts a server with an empty database whose sync pages hold at most `page_size`
    /// entries.
    pub async fn start_with_sync_pages_of(page_size: u32) -> Server {
        Self::start_with(|config| config.sync_page_size = page_size).await
    }

    /// Starts a server with an empty database and the configuration `tweak` leaves.
    pub async fn start_with(tweak: impl FnOnce(&mut ServeConfig)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("portcullis.db")).unwrap();
        let now = Arc::new(AtomicI64::new(START));
        let clock_now = Arc::clone(&now);
        let mut config = ServeConfig {
            store: Arc::new(store),
            admin_token: AdminToken::new(ADMIN).unwrap(),
            sync_token: SyncToken::new(SYNC).unwrap(),
            sync_page_size: sync::PAGE_SIZE,
            clock: Arc::new(move || clock_now.load(Ordering::SeqCst)),
            providers_file: None,
            jwks: FetchSettings::default(),
        };
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(config, listener, async {
            let _ = stopped.await;
        }));
        Server {
            base,
            http: reqwest::Client::new(),
            now,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }

    /// The server's current time.
    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Sends a request with an optional bearer token and JSON body; returns status, headers
    /// and the body as JSON (`Value::Null` when it is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// Like [`Server::call`] without the headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self.call(method, path, token, body).await;
        (status, body)
    }

    /// Sends a raw body with a JSON content type, as the bootstrap admin.
    pub async fn send_raw(&self, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a key in `org` with `roles` as `token`; returns the 201 body.
    pub async fn create_key(&self, token: &str, org: &str, roles: &[&str]) -> Value {
        let body = serde_json::json!({"name": format!("{org} key"), "org_id": org, "roles": roles});
        let (status, created) = self
            .send(Method::POST, "/v1/keys", Some(token), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }

    /// Creates or replaces tier `name` as the bootstrap admin with `limits` for all three
    /// limits; returns the body.
    pub async fn put_tier(&self, name: &str, limits: Value) -> Value {
        let body = serde_json::json!({"per_ip": limits, "per_key": limits, "per_org": limits});
        let (status, tier) = self
            .send(
                Method::PUT,
                &format!("/v1/tiers/{name}"),
                Some(ADMIN),
                Some(body),
            )
            .await;
        assert!(status.is_success(), "{status} {tier}");
        tier
    }

    /// The store revision, read from `/metrics`.
    pub async fn revision(&self) -> u64 {
        self.metric("portcullis_revision").await
    }

    /// The value of an unlabelled metric from `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .parse()
            .unwrap()
    }

    /// Completes the shutdown future and waits for `run` to return.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }
}

/// Asserts an error body: status, `error` class and `code`; returns the message.
/// Runs `portcullis <args>` against `server` with the bootstrap admin token, on a blocking
/// thread (the server runs on the test's runtime).
pub async fn cli(server: &Server, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    command
        .args(args)
        .env("PORTCULLIS_URL", &server.base)
        .env("PORTCULLIS_ADMIN_TOKEN", ADMIN);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> String {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["error"].is_string() && body["retryable"].is_boolean(),
        "{body}"
    );
    body["message"].as_str().unwrap().to_owned()
}
