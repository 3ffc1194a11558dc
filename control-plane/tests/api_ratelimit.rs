//! Rate-limit overrides and renderings against the real server: a key's and an org's own
//! limits, who may set and read them, and the two exports built from them.

pub mod support;

use portcullis_control_plane::ratelimit::{Quota, Unit, yaml};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{ADMIN, SYNC, Server, assert_error};

fn per_second(n: u32) -> Value {
    json!({"requests_per_unit": n, "unit": "second"})
}

/// The raw `GET /v1/ratelimit/config` answer: status, content type and body.
async fn export_yaml(server: &Server, token: &str) -> (StatusCode, String, String) {
    let response = server
        .http
        .get(format!("{}/v1/ratelimit/config", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn a_keys_own_limit_is_set_shown_and_removed_with_an_audited_revision() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/keys/{id}");
    let revision = server.revision().await;
    let (status, key) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"rate_limit": per_second(5)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{key}");
    assert_eq!(key["rate_limit"], per_second(5));
    assert_eq!(server.revision().await, revision + 1);
    let (_, got) = server.send(Method::GET, &path, Some(ADMIN), None).await;
    assert_eq!(got["rate_limit"], per_second(5));
    let (_, listed) = server
        .send(Method::GET, "/v1/keys", Some(ADMIN), None)
        .await;
    assert_eq!(listed["items"][0]["rate_limit"], per_second(5));

    let (status, body) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"rate_limit": {"requests_per_unit": 5, "unit": "fortnight"}})),
        )
        .await;
    let message = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(message.starts_with("`rate_limit.unit`"), "{message}");

    let (_, cleared) = server
        .send(
            Method::PATCH,
            &path,
            Some(ADMIN),
            Some(json!({"rate_limit": null})),
        )
        .await;
    assert!(cleared["rate_limit"].is_null(), "{cleared}");
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(ADMIN), None)
        .await;
    let updates = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "key.update")
        .count();
    assert_eq!(updates, 2);
}

#[tokio::test]
async fn an_org_admin_reads_its_orgs_limits_but_sets_no_limit_or_tier() {
    let server = Server::start().await;
    server
        .put_tier("gold", json!({"requests_per_unit": 7, "unit": "hour"}))
        .await;
    let admin_key = server.create_key(ADMIN, "acme", &["admin"]).await;
    let secret = admin_key["key"].as_str().unwrap();
    let key_path = format!("/v1/keys/{}", admin_key["id"].as_str().unwrap());
    let gold_key = json!({"name": "g", "org_id": "acme", "tier": "gold"});
    let (status, _) = server
        .send(
            Method::POST,
            "/v1/keys",
            Some(ADMIN),
            Some(gold_key.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, org) = server
        .send(Method::GET, "/v1/orgs/acme", Some(secret), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert!(org["rate_limit"].is_null());
    let tiers: Vec<&str> = org["effective"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tier"].as_str().unwrap())
        .collect();
    assert_eq!(tiers, ["default", "gold"]);
    assert_eq!(org["effective"][1]["per_org"]["unit"], "hour");

    let refused = [
        (Method::GET, "/v1/orgs/globex".to_owned(), None),
        (
            Method::PATCH,
            "/v1/orgs/acme".to_owned(),
            Some(json!({"rate_limit": null})),
        ),
        (Method::POST, "/v1/keys".to_owned(), Some(gold_key)),
        (Method::PATCH, key_path.clone(), Some(json!({"tier": null}))),
        (
            Method::PATCH,
            key_path,
            Some(json!({"rate_limit": "unlimited"})),
        ),
        (Method::GET, "/v1/ratelimit/config".to_owned(), None),
        (Method::GET, "/v1/ratelimit/local".to_owned(), None),
    ];
    for (method, path, body) in refused {
        let (status, answer) = server.send(method, &path, Some(secret), body).await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn an_orgs_own_limit_replaces_every_tiers_and_is_audited() {
    let server = Server::start().await;
    let (status, org) = server
        .send(
            Method::PATCH,
            "/v1/orgs/acme",
            Some(ADMIN),
            Some(json!({"rate_limit": per_second(3)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["rate_limit"], per_second(3));
    assert_eq!(org["effective"][0]["per_org"], per_second(3));
    assert_eq!(server.revision().await, 1);
    let (_, audit) = server
        .send(Method::GET, "/v1/audit?org_id=acme", Some(ADMIN), None)
        .await;
    assert_eq!(audit["items"][0]["action"], "org.update");
    for (body, field) in [
        (json!({}), "rate_limit"),
        (json!({"rate_limit": 3}), "`rate_limit`"),
    ] {
        let (status, answer) = server
            .send(Method::PATCH, "/v1/orgs/acme", Some(ADMIN), Some(body))
            .await;
        let message = assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert!(message.contains(field), "{message}");
    }
    let (status, answer) = server
        .send(Method::GET, "/v1/orgs/ac%20me", Some(ADMIN), None)
        .await;
    assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
}

#[tokio::test]
async fn the_yaml_export_is_text_yaml_the_service_loads_with_every_override() {
    let server = Server::start().await;
    server
        .put_tier("gold", json!({"requests_per_unit": 1000, "unit": "minute"}))
        .await;
    let key = json!({"name": "g", "org_id": "acme", "tier": "gold"});
    let (_, created) = server
        .send(Method::POST, "/v1/keys", Some(ADMIN), Some(key))
        .await;
    let id = created["id"].as_str().unwrap();
    server
        .send(
            Method::PATCH,
            &format!("/v1/keys/{id}"),
            Some(ADMIN),
            Some(json!({"rate_limit": "unlimited"})),
        )
        .await;
    let (status, content_type, text) = export_yaml(&server, ADMIN).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(content_type, "text/yaml");
    let revision = server.revision().await;
    assert!(text.contains(&format!("at revision {revision}.")), "{text}");
    let config = yaml::parse("export.yaml", &text).unwrap();
    let domain = config.domain("portcullis").unwrap();
    let gold = domain
        .descriptors
        .iter()
        .find(|d| d.key == "tier" && d.value.as_deref() == Some("gold"))
        .unwrap();
    let quota = |value: Option<&str>| {
        gold.descriptors
            .iter()
            .find(|d| d.key == "key_id" && d.value.as_deref() == value)
            .and_then(|d| d.rate_limit.as_ref())
            .map(|r| r.quota)
    };
    assert_eq!(
        quota(None),
        Some(Quota::Limited {
            requests_per_unit: 1000,
            unit: Unit::Minute
        })
    );
    assert_eq!(quota(Some(id)), Some(Quota::Unlimited));
}

#[tokio::test]
async fn the_sync_token_reads_both_exports_with_their_revision_but_nothing_else() {
    let server = Server::start().await;
    server
        .put_tier("gold", json!({"requests_per_unit": 1000, "unit": "minute"}))
        .await;
    let revision = server.revision().await.to_string();
    for path in ["/v1/ratelimit/config", "/v1/ratelimit/local"] {
        for token in [SYNC, ADMIN] {
            let (status, headers, _) = server.call(Method::GET, path, Some(token), None).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(
                headers["x-portcullis-revision"],
                revision.as_str(),
                "{path}"
            );
        }
        let (status, _, answer) = server
            .call(Method::GET, path, Some("not-a-token-at-all"), None)
            .await;
        assert_error(
            status,
            &answer,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
    }
    // Read-only: the sync token still manages nothing.
    let (status, _, answer) = server
        .call(
            Method::PUT,
            "/v1/tiers/free",
            Some(SYNC),
            Some(json!({"per_ip": "unlimited", "per_key": "unlimited", "per_org": "unlimited"})),
        )
        .await;
    assert_error(
        status,
        &answer,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}

#[tokio::test]
async fn the_local_export_is_two_filters_around_the_portcullis_filter() {
    let server = Server::start().await;
    let (status, fragment) = server
        .send(Method::GET, "/v1/ratelimit/local", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{fragment}");
    assert_eq!(fragment["revision"], 0);
    let ip = &fragment["before_auth"]["typed_config"];
    assert_eq!(ip["stage"], 0);
    assert_eq!(
        ip["descriptors"][0]["token_bucket"],
        json!({"max_tokens": 60, "tokens_per_fill": 60, "fill_interval": "60s"})
    );
    assert_eq!(fragment["after_auth"]["typed_config"]["stage"], 1);
    let routes = &fragment["route_rate_limits"];
    assert_eq!(
        routes["before_auth"][0]["actions"][0],
        json!({"remote_address": {}})
    );
    assert_eq!(routes["after_auth"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn the_openapi_document_describes_the_rate_limit_routes_and_the_limit_shape() {
    let server = Server::start().await;
    let (status, doc) = server.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (route, methods) in [
        ("/v1/tiers", &["get"][..]),
        ("/v1/tiers/{name}", &["get", "put", "delete"]),
        ("/v1/orgs/{org_id}", &["get", "patch"]),
        ("/v1/ratelimit/config", &["get"]),
        ("/v1/ratelimit/local", &["get"]),
    ] {
        for method in methods {
            assert!(
                paths[route].get(*method).is_some(),
                "missing {method} {route}"
            );
        }
    }
    let yaml = &paths["/v1/ratelimit/config"]["get"]["responses"]["200"]["content"];
    assert!(yaml.get("text/yaml").is_some(), "{yaml}");
    for route in ["/v1/ratelimit/config", "/v1/ratelimit/local"] {
        let headers = &paths[route]["get"]["responses"]["200"]["headers"];
        assert!(
            headers["x-portcullis-revision"].is_object(),
            "{route}: {headers}"
        );
    }
    let schemas = &doc["components"]["schemas"];
    let limit = &schemas["Limit"]["oneOf"];
    assert_eq!(limit[0]["$ref"], "#/components/schemas/Rate", "{limit}");
    assert_eq!(limit[1]["enum"], json!(["unlimited"]));
    assert!(schemas["Rate"].is_object() && schemas["LimitUnit"].is_object());
    assert!(schemas["UpdateKeyRequest"]["properties"]["rate_limit"].is_object());
}
