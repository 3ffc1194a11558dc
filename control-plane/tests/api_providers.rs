//! `/v1/providers` against the real server: CRUD with audit, who may call it, validation,
//! duplicate issuers and the JWKS status route.

pub mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::idp::Idp;
use support::{ADMIN, START, Server, assert_error};

/// Issuers of providers the fetcher will try: loopback, on a closed port, so no test sends
/// anything off this machine.
const ISSUER: &str = "https://127.0.0.1:9/tenant";

/// Every route under `/v1/providers` with a body where it takes one.
fn routes(id: &str) -> Vec<(Method, String, Option<Value>)> {
    let one = format!("/v1/providers/{id}");
    vec![
        (
            Method::POST,
            "/v1/providers".to_owned(),
            Some(json!({"issuer": ISSUER})),
        ),
        (Method::GET, "/v1/providers".to_owned(), None),
        (Method::GET, one.clone(), None),
        (Method::PATCH, one.clone(), Some(json!({"leeway_secs": 10}))),
        (Method::DELETE, one.clone(), None),
        (Method::GET, format!("{one}/jwks"), None),
    ]
}

async fn create(server: &Server, body: Value) -> Value {
    let (status, created) = server
        .send(Method::POST, "/v1/providers", Some(ADMIN), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Polls `GET /v1/providers/{id}/jwks` until `done` holds.
async fn jwks_when(server: &Server, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = server
            .send(
                Method::GET,
                &format!("/v1/providers/{id}/jwks"),
                Some(ADMIN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "still {body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_bootstrap_admin_creates_reads_updates_and_deletes_a_provider_with_audit() {
    let server = Server::start().await;
    let created = create(
        &server,
        json!({"issuer": format!("{ISSUER}/"), "audiences": ["api"], "claim_mapping": "clerk",
               "typ": "JWT", "role_implications": {"org:admin": {"scopes": ["keys:write"]}}}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("prv_"), "{created}");
    assert_eq!(created["leeway_secs"], 5);
    assert_eq!(created["max_token_bytes"], 8192);
    assert_eq!(created["jwks_uri"], Value::Null);
    assert_eq!(
        created["role_implications"]["org:admin"],
        json!({"scopes": ["keys:write"], "roles": []})
    );
    assert_eq!(
        (created["created_at"].as_i64(), created["revision"].as_u64()),
        (Some(START), Some(1))
    );
    let path = format!("/v1/providers/{id}");
    let (_, list) = server
        .send(Method::GET, "/v1/providers", Some(ADMIN), None)
        .await;
    assert_eq!(list, json!({"items": [created.clone()]}));
    let (_, read) = server.send(Method::GET, &path, Some(ADMIN), None).await;
    assert_eq!(read, created);
    server.advance(10);
    let (status, updated) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"typ": null, "audiences": ["api", "web"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["typ"].clone(), updated["audiences"].clone()),
        (Value::Null, json!(["api", "web"]))
    );
    assert_eq!(
        (
            updated["updated_at"].as_i64(),
            updated["claim_mapping"].as_str()
        ),
        (Some(START + 10), Some("clerk"))
    );
    let (status, deleted) = server.send(Method::DELETE, &path, Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let (status, gone) = server.send(Method::GET, &path, Some(ADMIN), None).await;
    let message = assert_error(status, &gone, StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains(&id), "{message}");
    let (status, again) = server.send(Method::DELETE, &path, Some(ADMIN), None).await;
    assert_error(status, &again, StatusCode::NOT_FOUND, "not_found");
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(ADMIN), None)
        .await;
    let events: Vec<(&str, &str, &str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap();
            (
                field("action"),
                field("actor"),
                field("org_id"),
                field("key_id"),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("provider.create", "admin", "", id.as_str()),
            ("provider.update", "admin", "", id.as_str()),
            ("provider.delete", "admin", "", id.as_str()),
        ]
    );
    assert_eq!(server.revision().await, 3);
}

#[tokio::test]
async fn an_org_admin_key_is_refused_every_provider_route_and_writes_nothing() {
    let server = Server::start().await;
    let id = create(&server, json!({"issuer": ISSUER})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = server.create_key(ADMIN, "acme", &["admin"]).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let revision = server.revision().await;
    for (method, path, body) in routes(&id) {
        let (status, answer) = server
            .send(method.clone(), &path, Some(&secret), body)
            .await;
        let message = assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
        assert!(
            message.contains("bootstrap admin"),
            "{method} {path}: {message}"
        );
        let (status, answer) = server.send(method.clone(), &path, None, None).await;
        assert_error(
            status,
            &answer,
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
        );
    }
    assert_eq!(server.revision().await, revision);
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(&secret), None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["org_id"] == "acme"),
        "an org admin sees no provider events: {audit}"
    );
}

#[tokio::test]
async fn each_invalid_provider_is_422_naming_the_field_and_writes_nothing() {
    let server = Server::start().await;
    let cases = [
        (json!({"issuer": "http://idp.example"}), "issuer"),
        (json!({"issuer": "https://idp.example?x=1"}), "issuer"),
        (json!({"audiences": ["api"]}), "issuer"),
        (
            json!({"issuer": "https://idp.example", "jwks_uri": "ftp://idp.example/k"}),
            "jwks_uri",
        ),
        (
            json!({"issuer": "https://idp.example", "algorithms": ["RS256", "HS256"]}),
            "algorithms[1]",
        ),
        (
            json!({"issuer": "https://idp.example", "leeway_secs": 301}),
            "leeway_secs",
        ),
        (
            json!({"issuer": "https://idp.example", "leeway_secs": -1}),
            "leeway_secs",
        ),
        (
            json!({"issuer": "https://idp.example", "max_token_bytes": 100}),
            "max_token_bytes",
        ),
        (
            json!({"issuer": "https://idp.example", "claim_mapping": "saml"}),
            "claim_mapping",
        ),
        (
            json!({"issuer": "https://idp.example", "audience": "api"}),
            "audience",
        ),
        (
            json!({"issuer": "https://idp.example", "required_claims": [""]}),
            "required_claims[0]",
        ),
        (json!({"issuer": "https://idp.example", "typ": ""}), "typ"),
    ];
    for (body, field) in cases {
        let (status, answer) = server
            .send(
                Method::POST,
                "/v1/providers",
                Some(ADMIN),
                Some(body.clone()),
            )
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
    let id = create(&server, json!({"issuer": ISSUER})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revision = server.revision().await;
    let patches = [
        (json!({}), "at least one field"),
        (
            json!({"issuer": "https://other.example"}),
            "`issuer` cannot change",
        ),
        (json!({"leeway_secs": null}), "leeway_secs"),
        (json!({"jwks_uri": "http://idp.example/keys"}), "jwks_uri"),
        (
            json!({"role_implications": {"admin": {"scopes": ["a b"]}}}),
            "role_implications.admin.scopes[0]",
        ),
    ];
    for (body, expected) in patches {
        let (status, answer) = server
            .send(
                Method::PATCH,
                &format!("/v1/providers/{id}"),
                Some(ADMIN),
                Some(body.clone()),
            )
            .await;
        let message = assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert!(
            message.contains(expected),
            "{body} -> {message} should name {expected}"
        );
    }
    assert_eq!(server.revision().await, revision, "nothing was written");
}

#[tokio::test]
async fn a_second_provider_for_a_live_issuer_is_409_naming_the_first() {
    let server = Server::start().await;
    let first = create(&server, json!({"issuer": ISSUER})).await;
    let (status, answer) = server
        .send(
            Method::POST,
            "/v1/providers",
            Some(ADMIN),
            Some(json!({"issuer": ISSUER})),
        )
        .await;
    let message = assert_error(status, &answer, StatusCode::CONFLICT, "conflict");
    assert!(message.contains(first["id"].as_str().unwrap()), "{message}");
    assert_eq!(server.revision().await, 1);
}

#[tokio::test]
async fn a_new_provider_gets_its_jwks_through_discovery_and_the_jwks_route_shows_it() {
    let idp = Idp::start().await;
    let server = Server::start().await;
    let id = create(&server, json!({"issuer": idp.issuer()})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = jwks_when(&server, &id, |v| !v["jwks"].is_null()).await;
    let kids: Vec<&str> = view["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["ec-2026-01", "ed-2026-01", "rsa-2026-01"]);
    assert_eq!(
        (
            view["provider_id"].as_str(),
            view["fetched_at"].as_i64(),
            view["next_refresh_at"].as_i64()
        ),
        (Some(id.as_str()), Some(START), Some(START + 900))
    );
    assert_eq!(
        (
            view["consecutive_failures"].as_u64(),
            view["last_error"].clone()
        ),
        (Some(0), Value::Null)
    );
    assert_eq!(
        server.revision().await,
        2,
        "the set took a revision, as a key change would"
    );
    let (_, provider) = server
        .send(
            Method::GET,
            &format!("/v1/providers/{id}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(provider["revision"], 2);
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(ADMIN), None)
        .await;
    let last = &audit["items"][1];
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("provider.jwks"), Some("jwks-fetcher"))
    );
    let (status, missing) = server
        .send(
            Method::GET,
            "/v1/providers/prv_0000000000000000/jwks",
            Some(ADMIN),
            None,
        )
        .await;
    assert_error(status, &missing, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_openapi_document_describes_the_provider_routes() {
    let server = Server::start().await;
    let (status, document) = server.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/v1/providers",
        "/v1/providers/{id}",
        "/v1/providers/{id}/jwks",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    assert!(document["components"]["schemas"]["ProviderConfig"].is_object());
}
