//! Serving the rate-limit service: gRPC for Envoy, and a small HTTP listener for operators
//! (`GET /metrics` in Prometheus text, `GET /healthz`, `GET /readyz`).
//!
//! [`run`] serves until a shutdown future completes, then stops accepting and lets calls
//! under way finish; the binary and the integration tests both call it.

use super::service::Service;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_server::RateLimitServiceServer;
use std::future::Future;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Where to serve.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC (`envoy.service.ratelimit.v3.RateLimitService`), plaintext HTTP/2.
    pub grpc: TcpListener,
    /// `/metrics`, `/healthz` and `/readyz`, if wanted.
    pub http: Option<TcpListener>,
}

/// Serves `service` on `listeners` until `shutdown` completes, then drains both listeners.
pub async fn run(
    service: Service,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let signal = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };

    let grpc_address = listeners.grpc.local_addr()?;
    let http = match listeners.http {
        Some(listener) => {
            let address = listener.local_addr()?;
            tracing::info!(%address, "rate-limit metrics and health listening");
            let app = router(service.clone());
            let drained = signal(stopped.clone());
            Some(tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(drained)
                    .await
            }))
        }
        None => None,
    };
    tracing::info!(address = %grpc_address, "rate-limit service listening");
    let incoming =
        tonic::transport::server::TcpIncoming::from(listeners.grpc).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(RateLimitServiceServer::new(service))
        .serve_with_incoming_shutdown(incoming, signal(stopped))
        .await?;
    if let Some(http) = http {
        http.await??;
    }
    tracing::info!("rate-limit service stopped");
    Ok(())
}

/// The operators' HTTP routes.
pub fn router(service: Service) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(service)
}

async fn metrics(State(service): State<Service>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics().render(),
    )
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Redis answers: without it every answer is the failure mode's.
async fn readyz(State(service): State<Service>) -> impl IntoResponse {
    match service.counter().ping().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {err}\n"),
        ),
    }
}
