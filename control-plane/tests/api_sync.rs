//! `GET /v1/sync` and `GET /v1/sidecars` against the real server: snapshots in pages,
//! deltas of whole revisions, long-polls woken by a change, and who may call what.

pub mod support;

use portcullis::wire::{KeyEntry, KeyStatus, SIDECAR_HEADER, SyncPage};
use portcullis_control_plane::keys::digest;
use portcullis_control_plane::sync::cursor::hex;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use support::{ADMIN, START, SYNC, Server, assert_error};

/// Generous: a held long-poll must answer well before its 30 s wait.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Calls `/v1/sync?<query>` with `token` and `sidecar`; the body as JSON.
async fn call_sync(
    server: &Server,
    query: &str,
    token: Option<&str>,
    sidecar: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = server.http.get(format!("{}/v1/sync?{query}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(sidecar) = sidecar {
        request = request.header(SIDECAR_HEADER, sidecar);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A successful sync page for sidecar `envoy-a`.
async fn sync(server: &Server, query: &str) -> SyncPage {
    let (status, body) = call_sync(server, query, Some(SYNC), Some("envoy-a")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

/// The wire digest of a secret.
fn wire_digest(secret: &Value) -> String {
    hex(&digest(secret.as_str().unwrap()))
}

/// Entries by digest.
fn by_digest(entries: Vec<KeyEntry>) -> BTreeMap<String, KeyEntry> {
    entries.into_iter().map(|e| (e.digest.clone(), e)).collect()
}

#[tokio::test]
async fn a_new_sidecar_gets_every_secret_in_snapshot_pages_with_reset_only_on_the_first() {
    let server = Server::start_with_sync_pages_of(3).await;
    let mut expected = Vec::new();
    for _ in 0..7 {
        expected.push(wire_digest(
            &server.create_key(ADMIN, "acme", &[]).await["key"],
        ));
    }
    let revision = server.revision().await;
    let first = sync(&server, "wait=0").await;
    assert!(first.reset && first.cursor.is_some(), "{first:?}");
    assert_eq!((first.revision, first.entries.len()), (revision, 3));
    // A key created mid-snapshot may or may not be in a later page, but must come as a delta.
    let late = server.create_key(ADMIN, "acme", &[]).await;
    let mut pages = vec![first];
    while let Some(cursor) = pages.last().and_then(|p| p.cursor.clone()) {
        let page = sync(&server, &format!("since={revision}&cursor={cursor}")).await;
        assert!(!page.reset, "only the first page resets");
        assert_eq!(
            page.revision, revision,
            "every page carries the snapshot's revision"
        );
        assert!(page.entries.len() <= 3);
        pages.push(page);
    }
    let snapshot: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.entries)
        .map(|e| e.digest)
        .filter(|d| *d != wire_digest(&late["key"]))
        .collect();
    expected.sort();
    assert_eq!(snapshot, expected, "every secret once, in digest order");
    let delta = sync(&server, &format!("since={revision}")).await;
    assert!(!delta.reset && delta.cursor.is_none());
    assert_eq!(delta.revision, revision + 1);
    let digests: Vec<String> = delta.entries.into_iter().map(|e| e.digest).collect();
    assert_eq!(digests, [wire_digest(&late["key"])]);
    assert!(server.metric("portcullis_sync_snapshot_pages_total").await >= 3);
}

#[tokio::test]
async fn a_delta_names_exactly_the_changed_digests_with_their_status_and_expiry() {
    let server = Server::start().await;
    let revoked = server.create_key(ADMIN, "acme", &[]).await;
    let rotated = server.create_key(ADMIN, "acme", &["reader"]).await;
    server.create_key(ADMIN, "acme", &[]).await;
    let since = server.revision().await;
    let created = server.create_key(ADMIN, "globex", &[]).await;
    let id = |key: &Value| key["id"].as_str().unwrap().to_owned();
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/v1/keys/{}", id(&revoked)),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rotate = format!("/v1/keys/{}/rotate", id(&rotated));
    let (status, new) = server
        .send(
            Method::POST,
            &rotate,
            Some(ADMIN),
            Some(json!({"grace_secs": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{new}");

    let page = sync(&server, &format!("since={since}")).await;
    assert_eq!(page.revision, since + 3);
    assert!(!page.reset && page.cursor.is_none());
    let entries = by_digest(page.entries);
    let status_and_expiry = |secret: &Value| {
        let entry = &entries[&wire_digest(secret)];
        (entry.status, entry.expires_at)
    };
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(
        status_and_expiry(&created["key"]),
        (KeyStatus::Active, None)
    );
    assert_eq!(
        status_and_expiry(&revoked["key"]),
        (KeyStatus::Revoked, None)
    );
    assert_eq!(
        status_and_expiry(&rotated["key"]),
        (KeyStatus::Active, Some(START + 60)),
        "the old secret works until the grace ends"
    );
    let fresh = &entries[&wire_digest(&new["key"])];
    assert_eq!((fresh.status, fresh.expires_at), (KeyStatus::Active, None));
    assert_eq!(
        (
            fresh.key_id.as_str(),
            fresh.org_id.as_str(),
            fresh.roles.clone()
        ),
        (id(&rotated).as_str(), "acme", vec!["reader".to_owned()])
    );
}

#[tokio::test]
async fn a_long_poll_without_a_change_answers_no_change_after_its_wait() {
    let server = Server::start().await;
    server.create_key(ADMIN, "acme", &[]).await;
    let page = sync(&server, "since=1&wait=1").await;
    assert_eq!(
        page,
        SyncPage {
            revision: 1,
            reset: false,
            entries: vec![],
            cursor: None,
            providers: vec![],
        }
    );
}

/// Polls until `/metrics` shows `held` long-polls held.
async fn until_held(server: &Server, held: u64) {
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while server.metric("portcullis_sync_long_polls_held").await != held {
        assert!(tokio::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_held_long_poll_answers_as_soon_as_a_key_is_created() {
    let server = std::sync::Arc::new(Server::start().await);
    server.create_key(ADMIN, "acme", &[]).await;
    let poll = tokio::spawn({
        let server = std::sync::Arc::clone(&server);
        async move { sync(&server, "since=1&wait=30").await }
    });
    until_held(&server, 1).await;
    let created = server.create_key(ADMIN, "acme", &[]).await;
    let page = tokio::time::timeout(PROMPTLY, poll).await.unwrap().unwrap();
    assert_eq!(page.revision, 2);
    let digests: Vec<String> = page.entries.into_iter().map(|e| e.digest).collect();
    assert_eq!(digests, [wire_digest(&created["key"])]);
    until_held(&server, 0).await;
}

#[tokio::test]
async fn shutting_down_answers_held_long_polls_at_once() {
    let server = Server::start().await;
    server.create_key(ADMIN, "acme", &[]).await;
    let request = server
        .http
        .get(format!("{}/v1/sync?since=1&wait=30", server.base))
        .bearer_auth(SYNC)
        .header(SIDECAR_HEADER, "envoy-a");
    let poll = tokio::spawn(async move { request.send().await.unwrap().json::<SyncPage>().await });
    until_held(&server, 1).await;
    tokio::time::timeout(PROMPTLY, server.stop())
        .await
        .unwrap()
        .unwrap();
    let page = tokio::time::timeout(PROMPTLY, poll).await.unwrap().unwrap();
    assert_eq!(page.unwrap().revision, 1);
}

#[tokio::test]
async fn the_sync_token_cannot_manage_keys_and_an_org_admin_key_cannot_sync() {
    let server = Server::start().await;
    let (status, body) = server.send(Method::GET, "/v1/keys", Some(SYNC), None).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let create = json!({"name": "n", "org_id": "acme"});
    let (status, body) = server
        .send(Method::POST, "/v1/keys", Some(SYNC), Some(create))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let org_admin = server.create_key(ADMIN, "acme", &["admin"]).await;
    let (status, body) = call_sync(
        &server,
        "wait=0",
        org_admin["key"].as_str(),
        Some("envoy-a"),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (status, _) = call_sync(&server, "wait=0", Some(ADMIN), Some("envoy-a")).await;
    assert_eq!(status, StatusCode::OK, "the admin token may sync");
}

#[tokio::test]
async fn a_wrong_or_missing_sync_token_is_401() {
    let server = Server::start().await;
    let (status, body) = call_sync(&server, "wait=0", None, Some("envoy-a")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
    );
    let wrong = "test-sync-token-0123456789abcdefghijX";
    let (status, body) = call_sync(&server, "wait=0", Some(wrong), Some("envoy-a")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    assert!(!body.to_string().contains(wrong));
}

#[tokio::test]
async fn a_missing_or_malformed_sidecar_header_is_400() {
    let server = Server::start().await;
    let (status, body) = call_sync(&server, "wait=0", Some(SYNC), None).await;
    let message = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains(SIDECAR_HEADER), "{message}");
    let long = "x".repeat(129);
    let (status, body) = call_sync(&server, "wait=0", Some(SYNC), Some(&long)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn malformed_or_unknown_since_wait_and_cursor_are_400() {
    let server = Server::start_with_sync_pages_of(1).await;
    server.create_key(ADMIN, "acme", &[]).await;
    server.create_key(ADMIN, "acme", &[]).await;
    let cursor = sync(&server, "wait=0").await.cursor.unwrap();
    let beyond = cursor.replacen("2.", "3.", 1);
    for query in [
        format!("cursor={cursor}"),
        "since=abc".to_owned(),
        "since=-1".to_owned(),
        "wait=-1".to_owned(),
        "wait=soon".to_owned(),
        "since=2&cursor=nonsense".to_owned(),
        format!("since=1&cursor={cursor}"),
        format!("since=3&cursor={beyond}"),
        "wait=0&sinc=1".to_owned(),
    ] {
        let (status, body) = call_sync(&server, &query, Some(SYNC), Some("envoy-a")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let page = sync(&server, &format!("since=2&cursor={cursor}")).await;
    assert_eq!((page.entries.len(), page.cursor), (1, None));
}

#[tokio::test]
async fn sidecars_lists_each_sidecar_with_its_applied_revision_and_lag() {
    let server = Server::start_with_sync_pages_of(1).await;
    server.create_key(ADMIN, "acme", &[]).await;
    server.create_key(ADMIN, "acme", &[]).await;
    let (status, _) = call_sync(&server, "wait=0", Some(SYNC), Some("envoy-b")).await;
    assert_eq!(status, StatusCode::OK);
    let first = sync(&server, "wait=0").await;
    sync(
        &server,
        &format!("since=2&cursor={}", first.cursor.unwrap()),
    )
    .await;
    server.create_key(ADMIN, "acme", &[]).await;
    let (status, body) = server
        .send(Method::GET, "/v1/sidecars", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revision"], 3);
    let shown = |body: &Value, n: usize| {
        let s = &body["items"][n];
        (
            s["sidecar"].clone(),
            s["applied_revision"].clone(),
            s["lag"].clone(),
        )
    };
    assert_eq!(
        shown(&body, 0),
        (json!("envoy-a"), json!(0), json!(3)),
        "mid-snapshot"
    );
    assert_eq!(shown(&body, 1), (json!("envoy-b"), json!(0), json!(3)));
    assert_eq!(body["items"][0]["last_seen"], START);
    assert!(
        body["items"][0]["address"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );

    sync(&server, "since=2").await;
    let (_, body) = server
        .send(Method::GET, "/v1/sidecars", Some(ADMIN), None)
        .await;
    assert_eq!(shown(&body, 0), (json!("envoy-a"), json!(2), json!(1)));

    let org_admin = server.create_key(ADMIN, "acme", &["admin"]).await;
    let (status, body) = server
        .send(Method::GET, "/v1/sidecars", org_admin["key"].as_str(), None)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .send(Method::GET, "/v1/sidecars", Some(SYNC), None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}

#[tokio::test]
async fn a_since_ahead_of_the_store_gets_a_reset_snapshot() {
    let server = Server::start().await;
    let created = server.create_key(ADMIN, "acme", &[]).await;
    let page = sync(&server, "since=99&wait=30").await;
    assert!(page.reset && page.cursor.is_none(), "{page:?}");
    assert_eq!(page.revision, 1);
    let digests: Vec<String> = page.entries.into_iter().map(|e| e.digest).collect();
    assert_eq!(digests, [wire_digest(&created["key"])]);
}

#[tokio::test]
async fn an_empty_store_answers_a_new_sidecar_with_an_empty_reset_without_holding_it() {
    let server = Server::start().await;
    // Held, this would answer after 30 s and keep the new sidecar unready that long.
    let page = tokio::time::timeout(PROMPTLY, sync(&server, "wait=30"))
        .await
        .unwrap();
    assert_eq!(
        page,
        SyncPage {
            revision: 0,
            reset: true,
            entries: vec![],
            cursor: None,
            providers: vec![],
        }
    );
}

#[tokio::test]
async fn a_sidecar_holding_the_empty_state_is_woken_by_the_first_key() {
    let server = std::sync::Arc::new(Server::start().await);
    let empty = sync(&server, "wait=0").await;
    assert_eq!((empty.revision, empty.reset), (0, true));
    let poll = tokio::spawn({
        let server = std::sync::Arc::clone(&server);
        async move { sync(&server, "since=0&wait=30").await }
    });
    until_held(&server, 1).await;
    let created = server.create_key(ADMIN, "acme", &[]).await;
    let page = tokio::time::timeout(PROMPTLY, poll).await.unwrap().unwrap();
    assert!(!page.reset && page.revision == 1, "{page:?}");
    let digests: Vec<String> = page.entries.into_iter().map(|e| e.digest).collect();
    assert_eq!(digests, [wire_digest(&created["key"])]);
}
