//! Key CRUD through the real router: create, read, list, update, revoke.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{ADMIN, START, Server, assert_error};

#[tokio::test]
async fn a_key_goes_through_create_get_update_list_and_revoke() {
    let server = Server::start().await;
    server.put_tier("gold", json!("unlimited")).await;
    let body = json!({
        "name": "billing worker", "org_id": "acme", "scopes": ["invoices:read"],
        "roles": ["service"], "tier": "gold", "expires_at": START + 3600, "meta": {"team": "billing"}
    });
    let (status, created) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let secret = created["key"].as_str().unwrap();
    assert!(id.starts_with("key_") && id.len() == 20, "{id}");
    assert!(portcullis::api_key::is_well_formed(secret));
    assert_eq!(
        created["prefix"],
        portcullis::api_key::display_prefix(secret)
    );
    assert_eq!(created["scopes"], json!(["invoices:read"]));
    assert_eq!(created["tier"], "gold");
    assert_eq!(created["meta"], json!({"team": "billing"}));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["created_at"], START);
    assert!(created["revoked_at"].is_null());

    let (status, got) = server
        .send(Method::GET, &format!("/v1/keys/{id}"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["name"], "billing worker");

    server.advance(10);
    let patch =
        json!({"name": "billing", "scopes": ["invoices:read", "invoices:write"], "enabled": false});
    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("/v1/keys/{id}"),
            Some(ADMIN),
            Some(patch),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "billing");
    assert_eq!(
        updated["scopes"],
        json!(["invoices:read", "invoices:write"])
    );
    assert_eq!(updated["enabled"], false);
    assert_eq!(updated["tier"], "gold", "absent fields stay");
    assert_eq!(updated["updated_at"], START + 10);

    let (status, list) = server
        .send(Method::GET, "/v1/keys", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_null());

    let (status, revoked) = server
        .send(Method::DELETE, &format!("/v1/keys/{id}"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["revoked_at"], START + 10);
    assert!(revoked.get("key").is_none());
}

#[tokio::test]
async fn the_secret_is_shown_once_and_no_digest_ever() {
    let server = Server::start().await;
    let created = server.create_key(ADMIN, "acme", &[]).await;
    let secret = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap();
    for path in [
        "/v1/keys".to_owned(),
        format!("/v1/keys/{id}"),
        "/v1/audit".to_owned(),
    ] {
        let response = server
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        assert!(!text.contains(&secret), "{path} shows the secret");
        assert!(!text.contains("digest"), "{path} shows a digest: {text}");
        assert!(!text.contains("\"key\":"), "{path} has a key field: {text}");
    }
}

#[tokio::test]
async fn pagination_returns_every_key_once_in_creation_order() {
    let server = Server::start().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        // One second apart: keys created in the same second are ordered by id instead.
        server.advance(1);
        ids.push(
            server.create_key(ADMIN, "acme", &[]).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    server.create_key(ADMIN, "other", &[]).await;
    let mut seen = Vec::new();
    let mut path = "/v1/keys?org_id=acme&limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = server.send(Method::GET, &path, Some(ADMIN), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|k| k["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/keys?org_id=acme&limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, ids);
    let (_, all) = server
        .send(Method::GET, "/v1/keys", Some(ADMIN), None)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn revoking_twice_is_a_conflict_and_writes_nothing() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/keys/{id}");
    let (status, _) = server.send(Method::DELETE, &path, Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK);
    let revision = server.revision().await;
    let (status, body) = server.send(Method::DELETE, &path, Some(ADMIN), None).await;
    assert_error(status, &body, StatusCode::CONFLICT, "key_revoked");
    let (status, body) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "key_revoked");
    assert_eq!(server.revision().await, revision);
    let (_, got) = server.send(Method::GET, &path, Some(ADMIN), None).await;
    assert!(
        got["revoked_at"].is_number(),
        "a revoked key can still be read: {got}"
    );
}

#[tokio::test]
async fn null_clears_tier_and_expiry_but_absent_keeps_them() {
    let server = Server::start().await;
    server.put_tier("gold", json!("unlimited")).await;
    let body = json!({"name": "n", "org_id": "acme", "tier": "gold", "expires_at": START + 60});
    let (_, created) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(body))
        .await;
    let path = format!("/v1/keys/{}", created["id"].as_str().unwrap());
    let (_, kept) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"name": "m"})),
        )
        .await;
    assert_eq!(
        (kept["tier"].clone(), kept["expires_at"].clone()),
        (json!("gold"), json!(START + 60))
    );
    let clear = json!({"tier": null, "expires_at": null});
    let (status, cleared) = server
        .send(Method::PATCH, &path, Some(ADMIN), Some(clear))
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(
        cleared["tier"].is_null() && cleared["expires_at"].is_null(),
        "{cleared}"
    );
}

#[tokio::test]
async fn unknown_ids_and_routes_answer_json_404() {
    let server = Server::start().await;
    let (status, body) = server
        .send(
            Method::GET,
            "/v1/keys/key_doesnotexist000",
            Some(ADMIN),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = server
        .send(Method::GET, "/v2/nothing", Some(ADMIN), None)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = server
        .send(Method::PUT, "/v1/keys", Some(ADMIN), None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}
