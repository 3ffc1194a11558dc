//! Rate-limit decisions per second on one core against a real Redis.
//!
//! Starts its own `redis-server` on a free loopback port (persistence off) and measures:
//! 1. `Service::decide` driven on a single-threaded Tokio runtime (the service's own cost plus
//!    one Redis round trip per decision, 64 in flight);
//! 2. the same over gRPC: the server on one single-threaded runtime, a tonic client on
//!    another thread, as Envoy would call it.
//!
//! Each run is bounded in time and count and touches only 127.0.0.1. Run with
//! `cargo run --release -p portcullis-control-plane --example ratelimit_bench`.

use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::RateLimitRequest;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use portcullis_control_plane::ratelimit::{Counter, Listeners, Service, ServiceOptions, run, yaml};
use portcullis_control_plane::system_clock;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Decisions in flight at once.
const IN_FLIGHT: usize = 64;
/// How long each measurement runs.
const RUN: Duration = Duration::from_secs(5);
/// An upper bound on decisions per measurement, whatever the machine.
const MAX_DECISIONS: u64 = 5_000_000;
/// Distinct client addresses, each its own counter.
const ADDRESSES: usize = 1_000;

const CONFIG: &str = "domain: bench\ndescriptors:\n  - key: remote_address\n    rate_limit: {unit: hour, requests_per_unit: 1000000000}\n";

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16) -> Redis {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server (Debian package redis-server) must be installed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Redis(child)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn request(n: usize) -> RateLimitRequest {
    RateLimitRequest {
        domain: "bench".to_owned(),
        descriptors: vec![RateLimitDescriptor {
            entries: vec![Entry {
                key: "remote_address".to_owned(),
                value: format!("10.0.{}.{}", (n % ADDRESSES) / 256, n % 256),
            }],
            ..RateLimitDescriptor::default()
        }],
        hits_addend: 0,
    }
}

fn single_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn service(url: &str) -> Service {
    let config = yaml::parse("bench.yaml", CONFIG).expect("the bench configuration");
    let counter = Counter::new(url, Duration::from_secs(1)).expect("a redis url");
    Service::new(&config, counter, ServiceOptions::default(), system_clock())
}

/// Runs `IN_FLIGHT` loops of `decide` until time or count runs out; decisions per second.
async fn drive<F, Fut>(decide: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let started = Instant::now();
    let per_loop = MAX_DECISIONS / IN_FLIGHT as u64;
    let mut loops = tokio::task::JoinSet::new();
    for first in 0..IN_FLIGHT {
        let decide = decide.clone();
        loops.spawn_local(async move {
            let mut done = 0u64;
            while done < per_loop && started.elapsed() < RUN {
                decide(first + done as usize * IN_FLIGHT).await;
                done += 1;
            }
            done
        });
    }
    let total: u64 = loops.join_all().await.into_iter().sum();
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let port = free_port();
    let _redis = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");

    let direct = {
        let runtime = single_thread();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async {
            let service = service(&url);
            drive(move |n| {
                let service = service.clone();
                async move {
                    service.decide(&request(n)).await.expect("a decision");
                }
            })
            .await
        })
    };
    println!("ratelimit decide, one core, {IN_FLIGHT} in flight: {direct:.0} decisions/s");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = listener.local_addr().expect("its address");
    listener.set_nonblocking(true).expect("non-blocking");
    let server_url = url.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        single_thread().block_on(async move {
            let grpc = tokio::net::TcpListener::from_std(listener).expect("a listener");
            let listeners = Listeners { grpc, http: None };
            let shutdown = async {
                let _ = stopped.await;
            };
            run(service(&server_url), listeners, shutdown).await
        })
    });
    let grpc = {
        let runtime = single_thread();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async {
            let client = RateLimitServiceClient::connect(format!("http://{address}"))
                .await
                .expect("a connection");
            drive(move |n| {
                let mut client = client.clone();
                async move {
                    client
                        .should_rate_limit(request(n))
                        .await
                        .expect("an answer");
                }
            })
            .await
        })
    };
    println!(
        "ratelimit over gRPC, server on one core, {IN_FLIGHT} in flight: {grpc:.0} decisions/s"
    );
    let _ = stop.send(());
    let _ = server.join();
}
