//! JWT providers over `/v1/sync`: every live provider in a snapshot's first page, changes
//! and deletions in deltas, each key set inline in the filter's own provider form — and
//! parsed by the filter's verifier exactly as a sidecar would.

pub mod support;

use portcullis::jwt::verifier::Providers;
use portcullis::wire::{SIDECAR_HEADER, SyncPage};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use support::idp::Idp;
use support::{ADMIN, SYNC, Server};

async fn sync(server: &Server, query: &str) -> SyncPage {
    let response = server
        .http
        .get(format!("{}/v1/sync?{query}", server.base))
        .bearer_auth(SYNC)
        .header(SIDECAR_HEADER, "envoy-a")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn providers_reach_the_sidecars_with_their_key_sets_and_their_deletion() {
    let idp = Idp::start().await;
    let server = Server::start().await;
    let (status, created) = server
        .send(
            Method::POST,
            "/v1/providers",
            Some(ADMIN),
            Some(json!({"issuer": idp.issuer(), "audiences": ["api"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // The fetch lands as a change of its own: poll snapshots until the keys are inline.
    let deadline = Instant::now() + Duration::from_secs(20);
    let snapshot = loop {
        let page = sync(&server, "wait=0").await;
        let has_keys = page
            .providers
            .first()
            .and_then(|p| p.config.as_ref())
            .is_some_and(|c| c.jwks.is_some());
        if has_keys {
            break page;
        }
        assert!(Instant::now() < deadline, "no key set was synced: {page:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(snapshot.reset);
    let entry = &snapshot.providers[0];
    assert_eq!(entry.id, id);
    let config = entry.config.clone().unwrap();
    assert_eq!(
        (config.issuer.as_str(), config.audiences.as_slice()),
        (idp.issuer().as_str(), &["api".to_owned()][..])
    );
    let providers = Providers::from_configs(&[config], "providers", |_| None).unwrap();
    assert!(
        providers.synced().next().is_none(),
        "the key set came inline"
    );

    let since = snapshot.revision;
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/v1/providers/{id}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert!(status.is_success());
    let delta = sync(&server, &format!("since={since}&wait=0")).await;
    assert!(!delta.reset && delta.entries.is_empty());
    assert_eq!(delta.providers.len(), 1);
    assert_eq!(
        (
            delta.providers[0].id.as_str(),
            delta.providers[0].config.is_none()
        ),
        (id.as_str(), true)
    );

    let quiet = sync(&server, &format!("since={}&wait=0", delta.revision)).await;
    assert!(
        quiet.providers.is_empty(),
        "nothing changed since the deletion"
    );
}
