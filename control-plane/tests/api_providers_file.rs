//! `portcullis serve --providers FILE`: providers upserted by issuer at start as actor
//! `config`, a restart with the same file writing nothing, a bad file refusing to start.

pub mod support;

use portcullis_control_plane::api::admin_auth::AdminToken;
use portcullis_control_plane::api::sync_auth::SyncToken;
use portcullis_control_plane::providers::config_file;
use portcullis_control_plane::store::Store;
use portcullis_control_plane::store::sqlite::SqliteStore;
use portcullis_control_plane::{ServeConfig, run, system_clock};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use support::{ADMIN, START, SYNC, Server};

/// Loopback on a closed port: the fetcher's attempts never leave this machine.
const ISSUER: &str = "https://127.0.0.1:9/tenant";

#[tokio::test]
async fn the_providers_file_is_upserted_by_issuer_at_start_as_actor_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.json");
    let providers = json!({"providers": [
        {"issuer": format!("{ISSUER}/a"), "audiences": ["api"]},
        {"issuer": format!("{ISSUER}/b"), "jwks_uri": format!("{ISSUER}/b/keys"), "leeway_secs": 30},
    ]});
    std::fs::write(&file, providers.to_string()).unwrap();
    let path = file.clone();
    let server = Server::start_with(move |config| config.providers_file = Some(path)).await;
    let (_, list) = server
        .send(Method::GET, "/v1/providers", Some(ADMIN), None)
        .await;
    let mut issuers: Vec<(&str, u64)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["issuer"].as_str().unwrap(),
                p["leeway_secs"].as_u64().unwrap(),
            )
        })
        .collect();
    // Created in the same second: listed by id, which is random.
    issuers.sort_unstable();
    let (a, b) = (format!("{ISSUER}/a"), format!("{ISSUER}/b"));
    assert_eq!(issuers, [(a.as_str(), 5), (b.as_str(), 30)]);
    let (_, audit) = server
        .send(Method::GET, "/v1/audit", Some(ADMIN), None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "config"),
        "{audit}"
    );
}

#[test]
fn upserting_the_same_file_again_writes_nothing_and_a_change_updates_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.json");
    let store = SqliteStore::open(&dir.path().join("portcullis.db")).unwrap();
    let write = |leeway: u64| {
        let body = json!({"providers": [
            {"issuer": "https://a.example"},
            {"issuer": "https://b.example", "leeway_secs": leeway},
        ]});
        std::fs::write(&file, body.to_string()).unwrap();
        config_file::load(&file).unwrap()
    };
    let first = config_file::upsert(&store, write(5), START).unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    let ids: Vec<String> = store
        .list_providers()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let again = config_file::upsert(&store, write(5), START + 1).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(
        store.revision().unwrap(),
        2,
        "a restart with the same file writes nothing"
    );
    let changed = config_file::upsert(&store, write(60), START + 2).unwrap();
    assert_eq!(
        (changed.created, changed.updated, changed.unchanged),
        (0, 1, 1)
    );
    let after = store.list_providers().unwrap();
    assert_eq!(
        after.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        ids,
        "updated in place"
    );
    let b = after
        .iter()
        .find(|p| p.provider.issuer == "https://b.example")
        .unwrap();
    assert_eq!(b.provider.leeway_secs, 60);
}

#[tokio::test]
async fn a_bad_providers_file_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.json");
    let body = json!({"providers": [{"issuer": "https://a.example", "algorithms": ["HS256"]}]});
    std::fs::write(&file, body.to_string()).unwrap();
    let store = SqliteStore::open(&dir.path().join("portcullis.db")).unwrap();
    let config = ServeConfig {
        store: Arc::new(store),
        admin_token: AdminToken::new(ADMIN).unwrap(),
        sync_token: SyncToken::new(SYNC).unwrap(),
        sync_page_size: 10,
        clock: system_clock(),
        providers_file: Some(file),
        jwks: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = run(config, listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("`providers[0].algorithms[0]`"),
        "{err:#}"
    );
}
