//! `portcullis ratelimit serve --control-plane`: the follower against the real control-plane
//! router and a real redis-server. An override raised through the API reaches the service
//! through the sync long-poll; a control-plane that goes away leaves the last good
//! configuration answering. The service's clock is fixed early in an hour, so no test
//! straddles a window.

mod ratelimit_harness;
pub mod support;

use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use portcullis_control_plane::ratelimit::follower::{FollowError, FollowSettings, Follower};
use portcullis_control_plane::ratelimit::{Counter, Service, ServiceOptions};
use ratelimit_harness::{Redis, request};
use reqwest::{Method, StatusCode, Url};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{ADMIN, SYNC, Server};

/// Ten seconds into an hour (and a day), so an hourly window lasts the whole test.
const NOW: i64 = 1_800_000_000 + 10;

/// How soon a change made through the API must be what the service answers by.
const PROPAGATION: Duration = Duration::from_secs(2);

fn follower(server: &Server, token: &str) -> Follower {
    Follower::new(FollowSettings {
        base: Url::parse(&server.base).unwrap(),
        token: token.to_owned(),
        name: "ratelimit-test".to_owned(),
        wait: Duration::from_secs(5),
    })
    .unwrap()
}

/// A service on the control-plane's current configuration, followed from then on.
async fn follow(server: &Server, redis: &Redis) -> (Service, tokio::task::JoinHandle<()>) {
    let follower = follower(server, SYNC);
    let (revision, config) = follower.fetch().await.unwrap();
    let counter = Counter::new(&redis.url(), Duration::from_secs(1)).unwrap();
    let service = Service::new(
        &config,
        counter,
        ServiceOptions::default(),
        Arc::new(|| NOW),
    );
    service.metrics().count_config_load(Some(revision));
    let task = tokio::spawn(follower.follow(service.clone(), revision));
    (service, task)
}

/// A key without a tier, limited to `per_hour` on its own; returns its id.
async fn key_limited_to(server: &Server, per_hour: u32) -> String {
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    set_key_limit(server, &id, per_hour).await;
    id
}

async fn set_key_limit(server: &Server, id: &str, per_hour: u32) {
    let limit = json!({"rate_limit": {"requests_per_unit": per_hour, "unit": "hour"}});
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("/v1/keys/{id}"),
            Some(ADMIN),
            Some(limit),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// One hit for the key's stage-1 descriptor; whether it is within the limit.
async fn hit(service: &Service, key_id: &str) -> bool {
    let answer = service
        .decide(&request("portcullis", &[&[("key_id", key_id)]]))
        .await
        .unwrap();
    answer.overall_code == Code::Ok as i32
}

/// Waits until the service runs the configuration of `revision`; panics after `within`.
async fn wait_for_revision(service: &Service, revision: u64, within: Duration) {
    let deadline = Instant::now() + within;
    while service.metrics().config_revision() < revision {
        assert!(
            Instant::now() < deadline,
            "the service is at revision {}, not {revision}, {within:?} after the change",
            service.metrics().config_revision()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_override_raised_through_the_api_reaches_the_service_without_a_restart() {
    let (server, redis) = (Server::start().await, Redis::start().await);
    let id = key_limited_to(&server, 2).await;
    let (service, task) = follow(&server, &redis).await;
    assert!(hit(&service, &id).await && hit(&service, &id).await);
    assert!(!hit(&service, &id).await, "the third hit is past 2/hour");

    set_key_limit(&server, &id, 5).await;
    wait_for_revision(&service, server.revision().await, PROPAGATION).await;
    // Same descriptor, same counter (3 so far): the fourth and fifth hits fit under 5.
    assert!(hit(&service, &id).await && hit(&service, &id).await);
    assert!(!hit(&service, &id).await, "the sixth hit is past 5/hour");
    let metrics = service.metrics().render();
    assert!(
        metrics.contains("portcullis_ratelimit_config_loads_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    task.abort();
}

#[tokio::test]
async fn the_follower_is_listed_with_the_revision_it_runs() {
    let (server, redis) = (Server::start().await, Redis::start().await);
    key_limited_to(&server, 2).await;
    let (_service, task) = follow(&server, &redis).await;
    let revision = server.revision().await;
    let deadline = Instant::now() + PROPAGATION;
    loop {
        let (_, sidecars) = server
            .send(Method::GET, "/v1/sidecars", Some(ADMIN), None)
            .await;
        let listed = sidecars["items"].as_array().unwrap().iter().any(|item| {
            item["sidecar"] == "ratelimit-test" && item["applied_revision"] == revision
        });
        if listed {
            break;
        }
        assert!(Instant::now() < deadline, "not listed: {sidecars}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
}

#[tokio::test]
async fn a_control_plane_that_goes_away_leaves_the_last_good_configuration_answering() {
    let (server, redis) = (Server::start().await, Redis::start().await);
    let id = key_limited_to(&server, 1).await;
    let (service, task) = follow(&server, &redis).await;
    server.stop().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while service.metrics().config_load_failures() == 0 {
        assert!(Instant::now() < deadline, "no failed load was counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(hit(&service, &id).await);
    assert!(
        !hit(&service, &id).await,
        "the key's own 1/hour still holds"
    );
    task.abort();
}

#[tokio::test]
async fn the_follower_needs_the_sync_token() {
    let server = Server::start().await;
    let err = follower(&server, "not-the-sync-token-0123456789abcdef")
        .fetch()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FollowError::Status { status, .. } if *status == StatusCode::UNAUTHORIZED),
        "{err}"
    );
}
