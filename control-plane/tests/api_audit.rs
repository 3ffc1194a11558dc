//! The audit log, probes, metrics, the OpenAPI document and graceful shutdown.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{ADMIN, START, Server};

#[tokio::test]
async fn the_audit_log_lists_every_change_with_actor_action_key_and_time() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/keys/{id}");
    server.advance(5);
    server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"name": "b"})),
        )
        .await;
    server
        .send(
            Method::POST,
            &format!("{path}/rotate"),
            Some(ADMIN),
            Some(json!({"grace_secs": 0})),
        )
        .await;
    server.send(Method::DELETE, &path, Some(ADMIN), None).await;
    let (status, audit) = server
        .send(Method::GET, "/v1/audit?limit=2", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let mut events: Vec<Value> = audit["items"].as_array().unwrap().clone();
    let cursor = audit["next_cursor"].as_str().unwrap();
    let (_, rest) = server
        .send(
            Method::GET,
            &format!("/v1/audit?limit=2&cursor={cursor}"),
            Some(ADMIN),
            None,
        )
        .await;
    events.extend(rest["items"].as_array().unwrap().iter().cloned());
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["key.create", "key.update", "key.rotate", "key.revoke"]
    );
    for event in &events {
        assert_eq!(event["actor"], "admin");
        assert_eq!(event["key_id"], id.as_str());
        assert_eq!(event["org_id"], "acme");
    }
    assert_eq!(events[0]["at"], START);
    assert_eq!(events[3]["at"], START + 5);
    let revisions: Vec<u64> = events
        .iter()
        .map(|e| e["revision"].as_u64().unwrap())
        .collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    assert_eq!(server.revision().await, revisions[3]);
}

#[tokio::test]
async fn probes_answer_without_credentials() {
    let server = Server::start().await;
    let (status, body) = server.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let (status, body) = server.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["revision"], 0);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_key_events() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .send(
            Method::POST,
            &format!("/v1/keys/{id}/rotate"),
            Some(ADMIN),
            Some(json!({"grace_secs": 0})),
        )
        .await;
    server
        .send(Method::DELETE, &format!("/v1/keys/{id}"), Some(ADMIN), None)
        .await;
    server.send(Method::GET, "/v1/keys", None, None).await;
    assert_eq!(server.metric("portcullis_keys_created_total").await, 1);
    assert_eq!(server.metric("portcullis_keys_rotated_total").await, 1);
    assert_eq!(server.metric("portcullis_keys_revoked_total").await, 1);
    assert_eq!(server.revision().await, 3);
    let text = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("portcullis_http_requests_total{route=\"/v1/keys\",class=\"2xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("portcullis_http_requests_total{route=\"/v1/keys\",class=\"4xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("portcullis_http_requests_total{route=\"/v1/keys/{id}\",class=\"2xx\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_names_every_route() {
    let server = Server::start().await;
    let (status, doc) = server.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/v1/keys",
        "/v1/keys/{id}",
        "/v1/keys/{id}/rotate",
        "/v1/audit",
        "/v1/sync",
        "/v1/sidecars",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(route), "missing {route}");
    }
    for method in ["get", "patch", "delete"] {
        assert!(
            paths["/v1/keys/{id}"].get(method).is_some(),
            "missing {method}"
        );
    }
    assert!(doc["components"]["schemas"]["KeyWithSecret"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn run_returns_once_the_shutdown_future_completes() {
    let server = Server::start().await;
    let base = server.base.clone();
    let (status, _) = server.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(10), server.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "run did not return cleanly");
    let after = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "the listener is closed");
}
