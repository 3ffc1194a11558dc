//! Bad requests: each gets the JSON error shape naming the field, and writes nothing.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{ADMIN, START, Server, assert_error};

#[tokio::test]
async fn malformed_json_is_400_and_writes_nothing() {
    let server = Server::start().await;
    let (status, body) = server
        .send_raw(Method::POST, "/v1/keys", "{\"name\": ")
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(server.revision().await, 0);
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_400() {
    let server = Server::start().await;
    let response = server
        .http
        .post(format!("{}/v1/keys", server.base))
        .bearer_auth(ADMIN)
        .body(r#"{"name":"n","org_id":"acme"}"#)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn each_invalid_create_body_is_422_naming_the_field_and_writes_nothing() {
    let server = Server::start().await;
    let cases = [
        (
            json!({"name": "n", "org_id": "acme", "colour": "red"}),
            "colour",
        ),
        (json!({"name": 5, "org_id": "acme"}), "name"),
        (json!({"org_id": "acme"}), "name"),
        (
            json!({"name": "n", "org_id": "acme", "scopes": "read"}),
            "scopes",
        ),
        (
            json!({"name": "n", "org_id": "acme", "scopes": ["read keys"]}),
            "scopes[0]",
        ),
        (
            json!({"name": "n", "org_id": "acme", "roles": ["ok", "a\"b"]}),
            "roles[1]",
        ),
        (
            json!({"name": "n", "org_id": "acme", "expires_at": START - 1}),
            "expires_at",
        ),
        (
            json!({"name": "n", "org_id": "acme", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (
            json!({"name": "n", "org_id": "acme", "meta": [1, 2]}),
            "meta",
        ),
        (
            json!({"name": "n", "org_id": "acme", "meta": {"blob": "x".repeat(9000)}}),
            "meta",
        ),
        (json!({"name": "", "org_id": "acme"}), "name"),
        (json!({"name": "n", "org_id": "ac/me"}), "org_id"),
        (
            json!({"name": "n", "org_id": "acme", "tier": "gold plus"}),
            "tier",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = server
            .send(Method::POST, "/v1/keys", Some(ADMIN), Some(body.clone()))
            .await;
        let message = assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert!(
            message.contains(field),
            "{body} -> {message} should name {field}"
        );
    }
    assert_eq!(server.revision().await, 0, "nothing was written");
    assert_eq!(server.metric("portcullis_keys_created_total").await, 0);
}

#[tokio::test]
async fn each_invalid_patch_is_422_naming_the_field_and_writes_nothing() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/keys/{id}");
    let revision = server.revision().await;
    let cases = [
        (json!({}), "at least one field"),
        (json!({"name": null}), "name"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"org_id": "globex"}), "org_id"),
        (json!({"scopes": ["a\\b"]}), "scopes[0]"),
        (json!({"expires_at": START}), "expires_at"),
    ];
    for (body, field) in cases {
        let (status, answer) = server
            .send(Method::PATCH, &path, Some(ADMIN), Some(body.clone()))
            .await;
        let message = assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert!(
            message.contains(field),
            "{body} -> {message} should name {field}"
        );
    }
    assert_eq!(server.revision().await, revision);
}

#[tokio::test]
async fn bad_list_parameters_are_refused() {
    let server = Server::start().await;
    for (query, expected, code) in [
        (
            "limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "limit=1001",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        ("limit=ten", StatusCode::BAD_REQUEST, "invalid_request"),
        ("colour=red", StatusCode::BAD_REQUEST, "invalid_request"),
        ("cursor=forged", StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "org_id=a%20b",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ] {
        for route in ["/v1/keys", "/v1/audit"] {
            let (status, body) = server
                .send(Method::GET, &format!("{route}?{query}"), Some(ADMIN), None)
                .await;
            let message = assert_error(status, &body, expected, code);
            let name = query.split('=').next().unwrap();
            assert!(message.contains(name), "{route}?{query} -> {message}");
        }
    }
}

#[tokio::test]
async fn an_unauthenticated_bad_body_is_401_not_a_validation_error() {
    let server = Server::start().await;
    let (status, body) = server
        .send(Method::POST, "/v1/keys", None, Some(json!({"bogus": 1})))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
    );
}
