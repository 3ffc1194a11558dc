//! Rotation: a new secret, the old one working only until the grace ends (time is moved
//! with the server's injected clock, never slept).

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{ADMIN, Server, assert_error};

#[tokio::test]
async fn both_secrets_authenticate_during_grace_and_only_the_new_one_after() {
    let server = Server::start().await;
    let created = server.create_key(ADMIN, "acme", &["admin"]).await;
    let old = created["key"].as_str().unwrap();
    let path = format!("/v1/keys/{}/rotate", created["id"].as_str().unwrap());
    let (status, rotated) = server
        .send(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"grace_secs": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["key"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(
        rotated["id"], created["id"],
        "the id is stable across rotation"
    );
    assert_eq!(rotated["prefix"], portcullis::api_key::display_prefix(new));
    assert_eq!(rotated["roles"], json!(["admin"]), "metadata is kept");

    server.advance(59);
    for secret in [old, new] {
        let (status, body) = server
            .send(Method::GET, "/v1/keys", Some(secret), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    server.advance(1);
    let (status, body) = server.send(Method::GET, "/v1/keys", Some(old), None).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "expired_credentials",
    );
    let (status, _) = server.send(Method::GET, "/v1/keys", Some(new), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_zero_grace_retires_the_old_secret_at_once() {
    let server = Server::start().await;
    let created = server.create_key(ADMIN, "acme", &["admin"]).await;
    let path = format!("/v1/keys/{}/rotate", created["id"].as_str().unwrap());
    let (status, _) = server
        .send(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"grace_secs": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .send(Method::GET, "/v1/keys", created["key"].as_str(), None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "expired_credentials",
    );
}

#[tokio::test]
async fn a_grace_over_thirty_days_or_a_revoked_key_is_refused() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/keys/{id}/rotate");
    let revision = server.revision().await;
    let (status, body) = server
        .send(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"grace_secs": 2_592_001})),
        )
        .await;
    let message = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(message.contains("grace_secs"), "{message}");
    let (status, body) = server
        .send(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"grace_secs": -1})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(server.revision().await, revision);

    server
        .send(Method::DELETE, &format!("/v1/keys/{id}"), Some(ADMIN), None)
        .await;
    let (status, body) = server
        .send(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"grace_secs": 0})),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "key_revoked");
}
