//! A fake OIDC issuer on `127.0.0.1:0`: a discovery document and a JWKS whose responses a
//! test switches at will (good, slow, oversized, broken, 500, no usable key), counting the
//! JWKS fetches it answers.
//!
//! The fixture sets hold real public keys (RSA 2048, P-256, Ed25519) generated once; their
//! private halves were never kept.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A JWKS with an RSA, an EC and an Ed25519 key.
pub const FIRST_JWKS: &str = include_str!("../fixtures/jwks_first.json");
/// The same set after the issuer rotated its RSA key (`rsa-2026-02`).
pub const ROTATED_JWKS: &str = include_str!("../fixtures/jwks_rotated.json");

/// What the JWKS path answers.
#[derive(Debug, Clone)]
pub enum JwksReply {
    /// 200 with this body and, if given, this `Cache-Control`.
    Good {
        /// The JWKS.
        body: String,
        /// The `Cache-Control` header.
        cache_control: Option<String>,
    },
    /// Headers only after a minute: beyond any test timeout.
    Slow,
    /// 200 with an endless body and no `Content-Length`.
    Endless,
    /// 200 with a body that is not JSON.
    BrokenJson,
    /// This status with a JSON error body.
    Status(u16),
    /// 200 with a valid JWKS holding only unusable keys.
    NoUsableKey,
}

impl JwksReply {
    /// A good reply with `body` and no `Cache-Control`.
    pub fn good(body: &str) -> Self {
        Self::Good {
            body: body.to_owned(),
            cache_control: None,
        }
    }
}

#[derive(Debug)]
struct Behaviour {
    jwks: JwksReply,
    discovery_issuer: Option<String>,
}

#[derive(Clone)]
struct Shared {
    behaviour: Arc<Mutex<Behaviour>>,
    base: String,
    jwks_fetches: Arc<AtomicUsize>,
}

/// A running fake issuer; stops when dropped.
pub struct Idp {
    shared: Shared,
    task: JoinHandle<()>,
}

impl Idp {
    /// Starts an issuer that serves [`FIRST_JWKS`].
    pub async fn start() -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            behaviour: Arc::new(Mutex::new(Behaviour {
                jwks: JwksReply::good(FIRST_JWKS),
                discovery_issuer: None,
            })),
            base,
            jwks_fetches: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Idp { shared, task }
    }

    /// The issuer: `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> String {
        self.shared.base.clone()
    }

    /// The JWKS URL the discovery document names.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.shared.base)
    }

    /// Switches what the JWKS path answers from now on.
    pub fn reply(&self, reply: JwksReply) {
        self.shared.behaviour.lock().unwrap().jwks = reply;
    }

    /// Makes the discovery document claim another issuer.
    pub fn claim_issuer(&self, issuer: &str) {
        self.shared.behaviour.lock().unwrap().discovery_issuer = Some(issuer.to_owned());
    }

    /// JWKS requests answered (or begun) so far.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(shared): State<Shared>) -> Response {
    let claimed = shared.behaviour.lock().unwrap().discovery_issuer.clone();
    let body = json!({
        "issuer": claimed.unwrap_or_else(|| shared.base.clone()),
        "jwks_uri": format!("{}/jwks", shared.base),
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
    });
    axum::Json(body).into_response()
}

async fn jwks(State(shared): State<Shared>) -> Response {
    shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let reply = shared.behaviour.lock().unwrap().jwks.clone();
    match reply {
        JwksReply::Good {
            body,
            cache_control,
        } => {
            let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
            if let Some(value) = cache_control {
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, value.parse().unwrap());
            }
            response
        }
        JwksReply::Slow => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            FIRST_JWKS.into_response()
        }
        JwksReply::Endless => {
            let chunk = Bytes::from(format!("{{\"keys\": [{}", " ".repeat(16 * 1024)));
            let endless = futures_util::stream::repeat(Ok::<_, Infallible>(chunk));
            Response::new(Body::from_stream(endless))
        }
        JwksReply::BrokenJson => "{\"keys\": [{\"kty\": \"RSA\",".into_response(),
        JwksReply::Status(status) => (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"error": "upstream"})),
        )
            .into_response(),
        JwksReply::NoUsableKey => axum::Json(json!({"keys": [
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"},
            {"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"},
        ]}))
        .into_response(),
    }
}
