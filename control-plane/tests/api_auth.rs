//! Admin authentication: the bootstrap token, org-admin keys, foreign orgs, and refused
//! credentials.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{ADMIN, START, Server, assert_error};

#[tokio::test]
async fn a_request_without_a_credential_is_401_with_a_bearer_challenge() {
    let server = Server::start().await;
    let (status, headers, body) = server.call(Method::GET, "/v1/keys", None, None).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
    );
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"portcullis\"");
}

#[tokio::test]
async fn a_wrong_token_is_401_invalid_credentials_without_echoing_it() {
    let server = Server::start().await;
    for token in [
        "wrong-admin-token-0123456789abcdefghij",
        "sk_notakeyatall",
        &portcullis::api_key::compose("0123456789abcdefghijKL"),
    ] {
        let (status, headers, body) = server
            .call(Method::GET, "/v1/keys", Some(token), None)
            .await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
        assert!(!body.to_string().contains(token));
    }
}

#[tokio::test]
async fn the_admin_token_is_accepted_in_x_api_key_too() {
    let server = Server::start().await;
    let response = server
        .http
        .get(format!("{}/v1/keys", server.base))
        .header("x-api-key", ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_org_admin_key_manages_its_own_org_and_is_the_audit_actor() {
    let server = Server::start().await;
    let admin_key = server.create_key(ADMIN, "acme", &["admin"]).await;
    let secret = admin_key["key"].as_str().unwrap();
    let created = server.create_key(secret, "acme", &[]).await;
    let path = format!("/v1/keys/{}", created["id"].as_str().unwrap());
    let (status, _) = server
        .send(
            Method::PATCH,
            &path,
            Some(secret),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.send(Method::DELETE, &path, Some(secret), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(ADMIN), None)
        .await;
    let actors: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    let by_key = format!("key:{}", admin_key["id"].as_str().unwrap());
    assert_eq!(
        actors,
        ["admin", by_key.as_str(), by_key.as_str(), by_key.as_str()]
    );
}

#[tokio::test]
async fn a_foreign_orgs_keys_look_like_they_do_not_exist() {
    let server = Server::start().await;
    let secret = server.create_key(ADMIN, "acme", &["admin"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = server.create_key(ADMIN, "globex", &[]).await;
    let path = format!("/v1/keys/{}", foreign["id"].as_str().unwrap());
    let revision = server.revision().await;
    let attempts = [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "mine now"})),
        ),
        (Method::DELETE, path.clone(), None),
        (
            Method::POST,
            format!("{path}/rotate"),
            Some(json!({"grace_secs": 0})),
        ),
    ];
    let (_, missing) = server
        .send(
            Method::GET,
            "/v1/keys/key_0000000000000000",
            Some(&secret),
            None,
        )
        .await;
    for (method, path, body) in attempts {
        let (status, answer) = server
            .send(method.clone(), &path, Some(&secret), body)
            .await;
        assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            answer["message"]
                .as_str()
                .unwrap()
                .replace(foreign["id"].as_str().unwrap(), "ID"),
            missing["message"]
                .as_str()
                .unwrap()
                .replace("key_0000000000000000", "ID"),
            "{method} answers exactly as for a key that does not exist"
        );
    }
    assert_eq!(server.revision().await, revision, "nothing was written");
    let (status, list) = server
        .send(Method::GET, "/v1/keys", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["org_id"] == "acme"),
        "{list}"
    );
    let (_, filtered) = server
        .send(Method::GET, "/v1/keys?org_id=globex", Some(&secret), None)
        .await;
    assert_eq!(filtered["items"], json!([]));
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(&secret), None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["org_id"] == "acme"),
        "{audit}"
    );
}

#[tokio::test]
async fn creating_in_another_org_is_403_and_writes_nothing() {
    let server = Server::start().await;
    let secret = server.create_key(ADMIN, "acme", &["admin"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let revision = server.revision().await;
    let body = json!({"name": "x", "org_id": "globex"});
    let (status, answer) = server
        .send(Method::POST, "/v1/keys", Some(&secret), Some(body))
        .await;
    let message = assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    assert!(message.contains("org_id"), "{message}");
    assert_eq!(server.revision().await, revision);
}

#[tokio::test]
async fn a_key_without_the_admin_role_is_403() {
    let server = Server::start().await;
    let secret = server.create_key(ADMIN, "acme", &["service"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server
        .send(Method::GET, "/v1/keys", Some(&secret), None)
        .await;
    let message = assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert!(message.contains("admin"), "{message}");
}

#[tokio::test]
async fn a_revoked_disabled_or_expired_admin_key_is_401() {
    let server = Server::start().await;
    let revoked = server.create_key(ADMIN, "acme", &["admin"]).await;
    let disabled = server.create_key(ADMIN, "acme", &["admin"]).await;
    let body = json!({"name": "short-lived", "org_id": "acme", "roles": ["admin"], "expires_at": START + 60});
    let (_, expiring) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(body))
        .await;
    let expiring_secret = expiring["key"].as_str().unwrap();
    let (status, _) = server
        .send(Method::GET, "/v1/keys", Some(expiring_secret), None)
        .await;
    assert_eq!(status, StatusCode::OK, "works before it expires");

    server
        .send(
            Method::DELETE,
            &format!("/v1/keys/{}", revoked["id"].as_str().unwrap()),
            Some(ADMIN),
            None,
        )
        .await;
    server
        .send(
            Method::PATCH,
            &format!("/v1/keys/{}", disabled["id"].as_str().unwrap()),
            Some(ADMIN),
            Some(json!({"enabled": false})),
        )
        .await;
    server.advance(60);
    for (secret, code) in [
        (revoked["key"].as_str().unwrap(), "revoked_credentials"),
        (disabled["key"].as_str().unwrap(), "invalid_credentials"),
        (expiring_secret, "expired_credentials"),
    ] {
        let (status, body) = server
            .send(Method::GET, "/v1/keys", Some(secret), None)
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, code);
    }
}

#[tokio::test]
async fn disagreeing_credentials_are_400() {
    let server = Server::start().await;
    let response = server
        .http
        .get(format!("{}/v1/keys", server.base))
        .header("x-api-key", ADMIN)
        .bearer_auth("another-token-0123456789abcdefghijkl")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_request");
}
