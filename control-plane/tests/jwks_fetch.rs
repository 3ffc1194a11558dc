//! The JWKS fetcher against a fake issuer on loopback: discovery, normalized saves that
//! bump the revision only on change, `Cache-Control`, every kind of failure keeping the last
//! good set, and the rate-limited refetch for an unknown `kid`.
//!
//! Time stamps come from a manual clock, so `next_refresh_at` is exact; waits poll the
//! store with a deadline, never a fixed sleep.

#[path = "jwks_fetch/rig.rs"]
mod rig;
pub mod support;

use portcullis_control_plane::jwks::{Backoff, FetchSettings, RefreshBounds, RefreshDecision};
use portcullis_control_plane::store::{Actor, JwksStatus, ProviderPatch, Store};
use rig::Rig;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::START;
use support::idp::{FIRST_JWKS, Idp, JwksReply, ROTATED_JWKS};

/// Generous: every wait here is for something that happens within milliseconds.
const DEADLINE: Duration = Duration::from_secs(20);
/// The body limit of these tests.
const MAX_BODY: usize = 64 * 1024;

/// Quick timeouts and retries, the production refresh bounds.
fn settings() -> FetchSettings {
    FetchSettings {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(2),
        max_body_bytes: MAX_BODY,
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
        ..FetchSettings::default()
    }
}

fn kids(status: &JwksStatus) -> Vec<String> {
    let jwks: Value = serde_json::from_str(status.jwks.as_deref().unwrap()).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_discovered_jwks_is_saved_normalized_at_one_revision_and_wakes_long_polls() {
    let idp = Idp::start().await;
    let rig = Rig::start(settings()).await;
    let woken = tokio::spawn({
        let feed = rig.feed.clone();
        async move { feed.wait_past(1, Duration::from_secs(3600)).await }
    });
    let id = rig.create(json!({"issuer": idp.issuer()}));
    let status = rig.status_when(&id, |s| s.jwks.is_some()).await;
    assert_eq!(kids(&status), ["ec-2026-01", "ed-2026-01", "rsa-2026-01"]);
    let stored: Value = serde_json::from_str(status.jwks.as_deref().unwrap()).unwrap();
    assert!(
        stored["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("use").is_none())
    );
    assert_eq!(
        (status.fetched_at, status.next_refresh_at),
        (Some(START), Some(START + 900))
    );
    assert_eq!(rig.revision(), 2, "creation, then the first set");
    tokio::time::timeout(DEADLINE, woken)
        .await
        .unwrap()
        .unwrap();
    rig.stop().await;
}

#[tokio::test]
async fn cache_control_max_age_sets_the_next_refresh_clamped_to_a_minute_and_a_day() {
    let idp = Idp::start().await;
    let rig = Rig::start(settings()).await;
    let reply = |cache_control: &str| JwksReply::Good {
        body: FIRST_JWKS.to_owned(),
        cache_control: Some(cache_control.to_owned()),
    };
    idp.reply(reply("public, max-age=120"));
    let id = rig.create(json!({"issuer": idp.issuer()}));
    let status = rig.status_when(&id, |s| s.jwks.is_some()).await;
    assert_eq!(status.next_refresh_at, Some(START + 120));
    let revision = rig.revision();
    for (cache_control, lifetime) in [
        ("max-age=5", 60),
        ("max-age=999999999", 86_400),
        ("no-store", 60),
    ] {
        idp.reply(reply(cache_control));
        rig.force_refetch(&id);
        let at = rig.now();
        let status = rig.status_when(&id, |s| s.fetched_at == Some(at)).await;
        assert_eq!(
            status.next_refresh_at,
            Some(at + lifetime),
            "{cache_control}"
        );
    }
    assert_eq!(
        rig.revision(),
        revision,
        "refetching the same set takes no revision"
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_short_max_age_brings_the_next_fetch_without_being_asked() {
    let idp = Idp::start().await;
    let rig = Rig::start(FetchSettings {
        refresh: RefreshBounds {
            min: Duration::from_millis(50),
            max: Duration::from_millis(200),
            default: Duration::from_secs(3600),
        },
        ..settings()
    })
    .await;
    idp.reply(JwksReply::Good {
        body: FIRST_JWKS.to_owned(),
        cache_control: Some("max-age=0".to_owned()),
    });
    rig.create(json!({"issuer": idp.issuer()}));
    let deadline = Instant::now() + DEADLINE;
    while idp.jwks_fetches() < 3 {
        assert!(
            Instant::now() < deadline,
            "only {} fetches",
            idp.jwks_fetches()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        rig.revision(),
        2,
        "the same set, refetched, takes no revision"
    );
    rig.stop().await;
}

#[tokio::test]
async fn every_kind_of_failure_keeps_the_last_good_jwks_and_retries_until_it_recovers() {
    let idp = Idp::start().await;
    let rig = Rig::start(settings()).await;
    let id = rig.create(json!({"issuer": idp.issuer()}));
    let good = rig.status_when(&id, |s| s.jwks.is_some()).await;
    let revision = rig.revision();
    let cases = [
        (
            JwksReply::Slow,
            "timed out (limits: 2s to connect, 2s in all)".to_owned(),
        ),
        (
            JwksReply::Endless,
            format!("sent more than {MAX_BODY} bytes"),
        ),
        (JwksReply::BrokenJson, "jwks is not JSON".to_owned()),
        (
            JwksReply::Status(500),
            "answered 500, expected 200".to_owned(),
        ),
        (
            JwksReply::Status(404),
            "answered 404, expected 200".to_owned(),
        ),
        (
            JwksReply::NoUsableKey,
            "jwks has no usable key among 2".to_owned(),
        ),
    ];
    for (reply, expected) in cases {
        idp.reply(reply.clone());
        rig.force_refetch(&id);
        let at = rig.now();
        let status = rig
            .status_when(&id, |s| {
                s.last_error_at == Some(at)
                    && s.last_error
                        .as_deref()
                        .is_some_and(|e| e.contains(&expected))
            })
            .await;
        assert_eq!(status.jwks, good.jwks, "{reply:?}: the last good set stays");
        assert_eq!(status.fetched_at, good.fetched_at);
        assert!(status.consecutive_failures >= 1);
        assert!(
            status.last_error.unwrap().contains(&idp.jwks_uri()),
            "the error names the URL"
        );
        assert_eq!(
            rig.revision(),
            revision,
            "{reply:?}: a failure takes no revision"
        );
    }
    // The backoff keeps retrying on its own; the issuer recovers with rotated keys.
    idp.reply(JwksReply::good(ROTATED_JWKS));
    let status = rig
        .status_when(&id, |s| s.consecutive_failures == 0 && s.jwks != good.jwks)
        .await;
    assert_eq!(kids(&status), ["ec-2026-01", "ed-2026-01", "rsa-2026-02"]);
    assert_eq!(rig.revision(), revision + 1);
    rig.stop().await;
}

#[tokio::test]
async fn an_unknown_kid_refetch_is_rate_limited_per_provider() {
    let idp = Idp::start().await;
    let rig = Rig::start(settings()).await;
    let id = rig.create(json!({"issuer": idp.issuer()}));
    rig.status_when(&id, |s| s.jwks.is_some()).await;
    assert_eq!(idp.jwks_fetches(), 1);
    assert_eq!(
        rig.fetcher.request_refresh(&id, "rsa-2026-01"),
        RefreshDecision::KnownKid
    );
    assert_eq!(
        rig.fetcher.request_refresh(&id, "rsa-2026-02"),
        RefreshDecision::RateLimited {
            retry_after_secs: 30
        },
        "the first fetch was just now"
    );
    assert_eq!(
        rig.fetcher.request_refresh("prv_0000000000000000", "x"),
        RefreshDecision::UnknownProvider
    );
    idp.reply(JwksReply::good(ROTATED_JWKS));
    rig.advance(29);
    assert_eq!(
        rig.fetcher.request_refresh(&id, "rsa-2026-02"),
        RefreshDecision::RateLimited {
            retry_after_secs: 1
        }
    );
    rig.advance(1);
    assert_eq!(
        rig.fetcher.request_refresh(&id, "rsa-2026-02"),
        RefreshDecision::Scheduled
    );
    for _ in 0..10 {
        assert!(matches!(
            rig.fetcher.request_refresh(&id, "another-unknown"),
            RefreshDecision::RateLimited { .. }
        ));
    }
    let status = rig
        .status_when(&id, |s| {
            s.jwks.as_deref().is_some_and(|j| j.contains("rsa-2026-02"))
        })
        .await;
    assert_eq!(status.fetched_at, Some(START + 30));
    assert_eq!(idp.jwks_fetches(), 2, "eleven requests, one fetch");
    assert_eq!(
        rig.fetcher.request_refresh(&id, "rsa-2026-02"),
        RefreshDecision::KnownKid
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let idp = Idp::start().await;
    idp.claim_issuer("https://attacker.example");
    let rig = Rig::start(settings()).await;
    let id = rig.create(json!({"issuer": idp.issuer()}));
    let status = rig.status_when(&id, |s| s.last_error.is_some()).await;
    let error = status.last_error.unwrap();
    assert!(
        error.contains("\"https://attacker.example\"") && error.contains("§4.3"),
        "{error}"
    );
    assert_eq!(status.jwks, None);
    assert_eq!(idp.jwks_fetches(), 0, "the JWKS it names is never fetched");
    assert_eq!(rig.revision(), 1);
    rig.stop().await;
}

#[tokio::test]
async fn an_explicit_jwks_uri_needs_no_discovery_and_a_new_one_is_fetched_at_once() {
    let idp = Idp::start().await;
    idp.claim_issuer("https://not-consulted.example");
    let other = Idp::start().await;
    other.reply(JwksReply::good(ROTATED_JWKS));
    let rig = Rig::start(settings()).await;
    let id = rig.create(json!({"issuer": "https://idp.example", "jwks_uri": idp.jwks_uri()}));
    let first = rig.status_when(&id, |s| s.jwks.is_some()).await;
    assert_eq!(kids(&first)[2], "rsa-2026-01");
    let patch = ProviderPatch {
        jwks_uri: Some(Some(other.jwks_uri())),
        ..ProviderPatch::default()
    };
    let actor = Actor("admin".to_owned());
    rig.store
        .update_provider(&id, &patch, &actor, rig.now())
        .unwrap();
    rig.fetcher.providers_changed();
    let second = rig
        .status_when(&id, |s| {
            s.jwks.as_deref().is_some_and(|j| j.contains("rsa-2026-02"))
        })
        .await;
    assert_eq!(second.consecutive_failures, 0);
    rig.store.delete_provider(&id, &actor, rig.now()).unwrap();
    rig.fetcher.providers_changed();
    let deadline = Instant::now() + DEADLINE;
    while rig.fetcher.request_refresh(&id, "x") != RefreshDecision::UnknownProvider {
        assert!(
            Instant::now() < deadline,
            "the deleted provider's loop still runs"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rig.stop().await;
}
