//! `/v1/tiers` against the real server: CRUD with audit and revisions, validation naming
//! the field, who may call it, and keys that must name a stored tier.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{ADMIN, START, Server, assert_error};

fn per_minute(n: u32) -> Value {
    json!({"requests_per_unit": n, "unit": "minute"})
}

fn gold() -> Value {
    json!({"per_ip": "unlimited", "per_key": per_minute(1000),
           "per_org": {"requests_per_unit": 50, "unit": "second"}})
}

/// `(action, key_id, revision)` of every audit event.
async fn audit(server: &Server) -> Vec<(String, String, u64)> {
    let (_, page) = server
        .send(Method::GET, "/v1/audit", Some(ADMIN), None)
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["key_id"].as_str().unwrap().to_owned(),
                e["revision"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_default_tier_is_there_from_the_start_with_its_documented_limits() {
    let server = Server::start().await;
    let (status, list) = server
        .send(Method::GET, "/v1/tiers", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "default");
    assert_eq!(items[0]["per_ip"], per_minute(60));
    assert_eq!(items[0]["per_key"], per_minute(120));
    assert_eq!(items[0]["per_org"], per_minute(300));
}

#[tokio::test]
async fn a_tier_is_created_replaced_read_and_deleted_each_audited_at_a_new_revision() {
    let server = Server::start().await;
    let (status, created) = server
        .send(Method::PUT, "/v1/tiers/gold", Some(ADMIN), Some(gold()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["per_key"], per_minute(1000));
    assert_eq!(created["per_ip"], "unlimited");
    assert_eq!(created["created_at"], START);
    assert_eq!(server.revision().await, 1);

    server.advance(5);
    let mut body = gold();
    body["per_key"] = json!({"requests_per_unit": 9, "unit": "day"});
    let (status, replaced) = server
        .send(Method::PUT, "/v1/tiers/gold", Some(ADMIN), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(
        (
            replaced["created_at"].clone(),
            replaced["updated_at"].clone()
        ),
        (json!(START), json!(START + 5))
    );
    let (_, got) = server
        .send(Method::GET, "/v1/tiers/gold", Some(ADMIN), None)
        .await;
    assert_eq!(got, replaced);
    assert_eq!(server.revision().await, 2);

    let (status, deleted) = server
        .send(Method::DELETE, "/v1/tiers/gold", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let (status, body) = server
        .send(Method::GET, "/v1/tiers/gold", Some(ADMIN), None)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        audit(&server).await,
        vec![
            ("tier.create".to_owned(), "gold".to_owned(), 1),
            ("tier.update".to_owned(), "gold".to_owned(), 2),
            ("tier.delete".to_owned(), "gold".to_owned(), 3),
        ]
    );
}

#[tokio::test]
async fn invalid_names_and_limits_are_422_naming_the_field_and_write_nothing() {
    let server = Server::start().await;
    let cases = [
        ("Gold", gold(), "`name`"),
        (
            "gold",
            json!({"per_ip": "unlimited", "per_key": per_minute(1)}),
            "per_org",
        ),
        (
            "gold",
            json!({"per_ip": per_minute(0), "per_key": per_minute(1), "per_org": per_minute(1)}),
            "`per_ip.requests_per_unit`",
        ),
        (
            "gold",
            json!({"per_ip": "unlimited", "per_key": {"requests_per_unit": 5, "unit": "week"},
                   "per_org": "unlimited"}),
            "`per_key.unit`",
        ),
        (
            "gold",
            json!({"per_ip": "unlimited", "per_key": "unlimited", "per_org": "endless"}),
            "`per_org`",
        ),
        (
            "gold",
            json!({"per_ip": "unlimited", "per_key": "unlimited", "per_org": "unlimited",
                   "burst": 5}),
            "burst",
        ),
    ];
    for (name, body, field) in cases {
        let (status, answer) = server
            .send(
                Method::PUT,
                &format!("/v1/tiers/{name}"),
                Some(ADMIN),
                Some(body),
            )
            .await;
        let message = assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert!(message.contains(field), "{field}: {message}");
    }
    assert_eq!(server.revision().await, 0);
}

#[tokio::test]
async fn default_and_tiers_in_use_cannot_be_deleted() {
    let server = Server::start().await;
    let (status, body) = server
        .send(Method::DELETE, "/v1/tiers/default", Some(ADMIN), None)
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    server.put_tier("gold", json!("unlimited")).await;
    let key = json!({"name": "n", "org_id": "acme", "tier": "gold"});
    let (status, created) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(key))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, body) = server
        .send(Method::DELETE, "/v1/tiers/gold", Some(ADMIN), None)
        .await;
    let message = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(message.contains("1 unrevoked key"), "{message}");
}

#[tokio::test]
async fn a_key_must_name_a_stored_tier() {
    let server = Server::start().await;
    let key = json!({"name": "n", "org_id": "acme", "tier": "platinum"});
    let (status, body) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(key))
        .await;
    let message = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(
        message.starts_with("`tier` names no tier: `platinum`"),
        "{message}"
    );
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revision = server.revision().await;
    let path = format!("/v1/keys/{id}");
    let (status, body) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"tier": "platinum"})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(server.revision().await, revision);
    let (status, moved) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"tier": "default"})),
        )
        .await;
    assert_eq!(
        (status, moved["tier"].clone()),
        (StatusCode::OK, json!("default"))
    );
}

#[tokio::test]
async fn only_the_bootstrap_admin_reads_or_changes_tiers() {
    let server = Server::start().await;
    let org_admin = server.create_key(ADMIN, "acme", &["admin"]).await;
    let secret = org_admin["key"].as_str().unwrap();
    for (method, path, body) in [
        (Method::GET, "/v1/tiers", None),
        (Method::GET, "/v1/tiers/default", None),
        (Method::PUT, "/v1/tiers/gold", Some(gold())),
        (Method::DELETE, "/v1/tiers/default", None),
    ] {
        let (status, answer) = server.send(method.clone(), path, Some(secret), body).await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
        let (status, answer) = server.send(method, path, None, None).await;
        assert_error(
            status,
            &answer,
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
        );
    }
}
