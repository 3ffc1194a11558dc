//! `portcullis ratelimit serve` end to end: a real redis-server, the real gRPC server, and
//! Envoy's RLS client stubs. The service's clock is injected and starts early in every window, so no
//! test straddles a window boundary unless it moves the clock itself.

mod ratelimit_harness;

use envoy_types::pb::envoy::config::core::v3::HeaderValue;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use portcullis_control_plane::ratelimit::{
    Counter, FailureMode, Listeners, Service, ServiceOptions, run, yaml,
};
use ratelimit_harness::{Redis, request};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// The clock's start: ten seconds into a minute, hour and day, so no window ends mid-test
/// unless the test moves the clock.
const START: i64 = 1_800_000_000 + 10;

/// A running rate-limit service.
struct Rls {
    /// The service itself, to swap configurations and read counters.
    pub service: Service,
    /// A client of its gRPC listener.
    pub client: RateLimitServiceClient<Channel>,
    /// `http://127.0.0.1:<port>` of its metrics and health listener.
    pub http_base: String,
    now: Arc<AtomicI64>,
    stop: Option<oneshot::Sender<()>>,
}

impl Rls {
    /// Serves `yaml_text` counting in `redis`, answering by `failure_mode` when it fails.
    pub async fn start(redis: &Redis, yaml_text: &str, failure_mode: FailureMode) -> Rls {
        let config = yaml::parse("test.yaml", yaml_text).unwrap();
        // Generous: a loaded machine must not turn a slow answer into a failure.
        let counter = Counter::new(&redis.url(), Duration::from_secs(2)).unwrap();
        let now = Arc::new(AtomicI64::new(START));
        let clock_now = Arc::clone(&now);
        let options = ServiceOptions {
            failure_mode,
            ..ServiceOptions::default()
        };
        let clock = Arc::new(move || clock_now.load(Ordering::SeqCst));
        let service = Service::new(&config, counter, options, clock);
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc_address = grpc.local_addr().unwrap();
        let http_base = format!("http://{}", http.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let listeners = Listeners {
            grpc,
            http: Some(http),
        };
        tokio::spawn(run(service.clone(), listeners, async {
            let _ = stopped.await;
        }));
        let client = RateLimitServiceClient::connect(format!("http://{grpc_address}"))
            .await
            .unwrap();
        Rls {
            service,
            client,
            http_base,
            now,
            stop: Some(stop),
        }
    }

    /// Moves the service's clock forward.
    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }

    /// Asks `ShouldRateLimit` for `descriptors` in `domain`.
    pub async fn ask(
        &mut self,
        domain: &str,
        descriptors: &[&[(&str, &str)]],
    ) -> Result<RateLimitResponse, tonic::Status> {
        self.ask_request(request(domain, descriptors)).await
    }

    /// Sends a prepared request.
    pub async fn ask_request(
        &mut self,
        request: RateLimitRequest,
    ) -> Result<RateLimitResponse, tonic::Status> {
        self.client
            .should_rate_limit(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// `GET path` on the HTTP listener: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("{}{path}", self.http_base))
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

impl Drop for Rls {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

const CONFIG: &str = r#"
domain: edge
descriptors:
  - key: remote_address
    rate_limit: {unit: minute, requests_per_unit: 3}
  - key: remote_address
    value: 192.0.2.66
    rate_limit: {unit: minute, requests_per_unit: 0}
  - key: health_check
    rate_limit: {unlimited: true}
  - key: canary
    shadow_mode: true
    rate_limit: {unit: hour, requests_per_unit: 1}
"#;

const IP_A: &[(&str, &str)] = &[("remote_address", "10.0.0.1")];
const IP_B: &[(&str, &str)] = &[("remote_address", "10.0.0.2")];

fn header<'h>(headers: &'h [HeaderValue], key: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|h| h.key == key)
        .map(|h| h.value.as_str())
}

fn is_ok(code: i32) -> bool {
    code == Code::Ok as i32
}

/// Named so `cargo test ratelimit` selects these tests.
mod ratelimit {
    use super::*;

    #[tokio::test]
    async fn the_request_after_the_limit_in_a_window_is_over_limit_until_the_next_window() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        for remaining in [2, 1, 0] {
            let answer = rls.ask("edge", &[IP_A]).await.unwrap();
            assert!(is_ok(answer.overall_code), "{answer:?}");
            assert_eq!(answer.statuses[0].limit_remaining, remaining);
            let reset = answer.statuses[0].duration_until_reset.unwrap().seconds;
            assert_eq!(reset, 50);
            assert_eq!(header(&answer.response_headers_to_add, "retry-after"), None);
        }
        let over = rls.ask("edge", &[IP_A]).await.unwrap();
        assert_eq!(over.overall_code, Code::OverLimit as i32);
        assert_eq!(over.statuses[0].code, Code::OverLimit as i32);
        let headers = &over.response_headers_to_add;
        assert_eq!(header(headers, "x-ratelimit-limit"), Some("3, 3;w=60"));
        assert_eq!(header(headers, "x-ratelimit-remaining"), Some("0"));
        assert_eq!(header(headers, "x-ratelimit-reset"), Some("50"));
        assert_eq!(header(headers, "ratelimit-limit"), Some("3"));
        assert_eq!(header(headers, "ratelimit-remaining"), Some("0"));
        assert_eq!(header(headers, "ratelimit-reset"), Some("50"));
        assert_eq!(header(headers, "retry-after"), Some("50"));

        rls.advance(50);
        let next_window = rls.ask("edge", &[IP_A]).await.unwrap();
        assert!(is_ok(next_window.overall_code), "{next_window:?}");
        assert_eq!(next_window.statuses[0].limit_remaining, 2);
    }

    #[tokio::test]
    async fn each_value_of_a_key_only_descriptor_has_its_own_counter_in_redis() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        for _ in 0..3 {
            assert!(is_ok(rls.ask("edge", &[IP_A]).await.unwrap().overall_code));
        }
        let b = rls.ask("edge", &[IP_B]).await.unwrap();
        assert!(is_ok(b.overall_code));
        assert_eq!(b.statuses[0].limit_remaining, 2);

        // The reference service's key shape: domain, each entry, window start.
        let window = START - START % 60;
        let key_a = format!("edge_remote_address_10.0.0.1_{window}");
        assert_eq!(redis.command(&format!("GET {key_a}")).await.unwrap(), "3");
        let ttl = redis.command(&format!("TTL {key_a}")).await.unwrap();
        let ttl: i64 = ttl.trim_start_matches(':').parse().unwrap();
        assert!((1..=60).contains(&ttl), "ttl {ttl}");
        let key_b = format!("edge_remote_address_10.0.0.2_{window}");
        assert_eq!(
            redis.command(&format!("EXISTS {key_b}")).await.unwrap(),
            ":1"
        );
    }

    #[tokio::test]
    async fn a_value_entry_beats_the_key_only_entry() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        let blocked = rls
            .ask("edge", &[&[("remote_address", "192.0.2.66")]])
            .await
            .unwrap();
        assert_eq!(blocked.overall_code, Code::OverLimit as i32);
        let limit = blocked.statuses[0].current_limit.as_ref().unwrap();
        assert_eq!(limit.requests_per_unit, 0);
    }

    #[tokio::test]
    async fn hits_addend_counts_several_hits_in_one_request() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        let mut batch = request("edge", &[IP_A]);
        batch.hits_addend = 3;
        let answer = rls.ask_request(batch.clone()).await.unwrap();
        assert!(is_ok(answer.overall_code));
        assert_eq!(answer.statuses[0].limit_remaining, 0);
        let over = rls.ask_request(batch).await.unwrap();
        assert_eq!(over.overall_code, Code::OverLimit as i32);
    }

    #[tokio::test]
    async fn shadow_mode_counts_the_breach_but_answers_ok() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        for _ in 0..3 {
            let answer = rls.ask("edge", &[&[("canary", "c1")]]).await.unwrap();
            assert!(is_ok(answer.overall_code), "{answer:?}");
            assert!(is_ok(answer.statuses[0].code));
        }
        let (status, metrics) = rls.get("/metrics").await;
        assert_eq!(status, 200);
        let shadowed = "portcullis_ratelimit_shadow_mode_total{rule=\"edge.canary\"} 2";
        assert!(metrics.contains(shadowed), "{metrics}");
        let hits = "portcullis_ratelimit_hits_total{rule=\"edge.canary\"} 3";
        assert!(metrics.contains(hits), "{metrics}");
    }

    #[tokio::test]
    async fn unlimited_descriptors_are_ok_and_never_reach_redis() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        for _ in 0..5 {
            let answer = rls.ask("edge", &[&[("health_check", "lb")]]).await.unwrap();
            assert!(is_ok(answer.overall_code));
            assert_eq!(answer.statuses[0].limit_remaining, u32::MAX);
            assert!(answer.response_headers_to_add.is_empty());
        }
        assert_eq!(redis.command("DBSIZE").await.unwrap(), ":0");
    }

    #[tokio::test]
    async fn every_descriptor_is_judged_and_any_over_limit_decides() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        let unknown: &[(&str, &str)] = &[("nothing", "here")];
        let blocked: &[(&str, &str)] = &[("remote_address", "192.0.2.66")];
        let answer = rls.ask("edge", &[IP_A, unknown, blocked]).await.unwrap();
        assert_eq!(answer.overall_code, Code::OverLimit as i32);
        let codes: Vec<i32> = answer.statuses.iter().map(|s| s.code).collect();
        let (ok, over) = (Code::Ok as i32, Code::OverLimit as i32);
        assert_eq!(codes, [ok, ok, over]);
        // The over-limit descriptor is the one the headers describe.
        let headers = &answer.response_headers_to_add;
        assert_eq!(header(headers, "ratelimit-limit"), Some("0"));
    }

    #[tokio::test]
    async fn unknown_domains_are_ok_and_empty_requests_are_invalid() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        let answer = rls.ask("elsewhere", &[IP_A]).await.unwrap();
        assert!(is_ok(answer.overall_code));
        let err = rls.ask("", &[IP_A]).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        let err = rls.ask("edge", &[]).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn a_replaced_configuration_applies_to_the_next_request() {
        let redis = Redis::start().await;
        let mut rls = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        let answer = rls.ask("edge", &[IP_A]).await.unwrap();
        assert_eq!(answer.statuses[0].limit_remaining, 2);
        let stricter = yaml::parse(
            "new.yaml",
            "domain: edge\ndescriptors:\n  - key: remote_address\n    rate_limit: {unit: minute, requests_per_unit: 1}\n",
        )
        .unwrap();
        rls.service.replace_config(&stricter);
        // Same descriptors, same counter: the second hit is past the new limit of 1.
        let answer = rls.ask("edge", &[IP_A]).await.unwrap();
        assert_eq!(answer.overall_code, Code::OverLimit as i32);
    }

    #[tokio::test]
    async fn redis_down_is_answered_by_each_failure_mode_counted_and_recovered_from() {
        let mut redis = Redis::start().await;
        let mut error = Rls::start(&redis, CONFIG, FailureMode::Error).await;
        let mut allow = Rls::start(&redis, CONFIG, FailureMode::Allow).await;
        let mut deny = Rls::start(&redis, CONFIG, FailureMode::Deny).await;
        assert!(is_ok(
            error.ask("edge", &[IP_A]).await.unwrap().overall_code
        ));
        assert_eq!(error.get("/readyz").await.0, 200);

        redis.kill();
        let status = error.ask("edge", &[IP_A]).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        let allowed = allow.ask("edge", &[IP_A]).await.unwrap();
        assert!(is_ok(allowed.overall_code), "{allowed:?}");
        assert!(allowed.response_headers_to_add.is_empty());
        let denied = deny.ask("edge", &[IP_A]).await.unwrap();
        assert_eq!(denied.overall_code, Code::OverLimit as i32);
        // Nothing to count, so nothing to fail: unlimited still answers OK.
        let unlimited = deny
            .ask("edge", &[&[("health_check", "lb")]])
            .await
            .unwrap();
        assert!(is_ok(unlimited.overall_code));

        assert!(error.service.metrics().redis_errors() >= 1);
        let (_, metrics) = error.get("/metrics").await;
        assert!(
            metrics.contains("portcullis_ratelimit_requests_total{code=\"unavailable\"} 1"),
            "{metrics}"
        );
        assert!(!metrics.contains("portcullis_ratelimit_redis_errors_total 0"));
        assert_eq!(error.get("/readyz").await.0, 503);
        assert_eq!(error.get("/healthz").await.0, 200);

        redis.restart().await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match error.ask("edge", &[IP_A]).await {
                Ok(answer) => {
                    assert!(is_ok(answer.overall_code));
                    // A restarted, empty Redis: counting starts over.
                    assert_eq!(answer.statuses[0].limit_remaining, 2);
                    break;
                }
                Err(status) => assert!(
                    Instant::now() < deadline,
                    "no recovery within 15 s after redis restarted: {status:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(error.get("/readyz").await.0, 200);
    }
}
