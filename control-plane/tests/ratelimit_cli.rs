//! The `portcullis ratelimit serve` binary: start-up refusals, serving, SIGHUP reloads and the
//! SIGTERM drain, as an operator runs it.

mod ratelimit_harness;

use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use ratelimit_harness::{Redis, request};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary as a child: killed on drop, its output printed when a test fails.
struct Portcullis {
    child: Child,
    log: PathBuf,
}

impl Portcullis {
    fn spawn(args: &[&str], dir: &Path) -> Portcullis {
        let log = dir.join("portcullis.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["ratelimit", "serve"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Portcullis { child, log }
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} failed");
    }

    async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit within {limit:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Portcullis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- portcullis ratelimit serve output ---\n{}",
                self.output()
            );
        }
    }
}

fn limit_file(dir: &Path, requests_per_unit: u32) -> PathBuf {
    let path = dir.join("edge.yaml");
    let text = format!(
        "domain: edge\ndescriptors:\n  - key: remote_address\n    rate_limit: {{unit: hour, requests_per_unit: {requests_per_unit}}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Named so `cargo test ratelimit` selects these tests.
mod ratelimit {
    use super::*;

    #[tokio::test]
    async fn a_bad_configuration_stops_start_up_naming_file_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("edge.yaml");
        std::fs::write(
            &config,
            "domain: edge\ndescriptors:\n  - key: remote_address\n    rate_limit: {unit: fortnight, requests_per_unit: 5}\n",
        )
        .unwrap();
        let config = config.display().to_string();
        let mut binary = Portcullis::spawn(
            &["--config", &config, "--grpc-listen", "127.0.0.1:0"],
            dir.path(),
        );
        let status = binary.exit(Duration::from_secs(10)).await;
        assert!(!status.success());
        let output = binary.output();
        assert!(output.contains(&config), "{output}");
        assert!(
            output.contains("edge.remote_address: unknown unit \"fortnight\""),
            "{output}"
        );
    }

    #[tokio::test]
    async fn the_binary_serves_reloads_on_sighup_and_drains_on_sigterm() {
        let redis = Redis::start().await;
        let dir = tempfile::tempdir().unwrap();
        let config = limit_file(dir.path(), 5).display().to_string();
        let (grpc_port, http_port) = (free_port(), free_port());
        let grpc = format!("127.0.0.1:{grpc_port}");
        let http = format!("127.0.0.1:{http_port}");
        let redis_url = redis.url();
        let args = [
            "--config",
            config.as_str(),
            "--grpc-listen",
            &grpc,
            "--http-listen",
            &http,
            "--redis",
            &redis_url,
            "--redis-timeout-ms",
            "2000",
        ];
        let mut binary = Portcullis::spawn(&args, dir.path());

        let deadline = Instant::now() + Duration::from_secs(15);
        let mut client = loop {
            if let Ok(client) = RateLimitServiceClient::connect(format!("http://{grpc}")).await {
                break client;
            }
            assert!(Instant::now() < deadline, "gRPC not listening within 15 s");
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        let ip: &[(&str, &str)] = &[("remote_address", "10.0.0.9")];
        let answer = client
            .should_rate_limit(request("edge", &[ip]))
            .await
            .unwrap();
        assert_eq!(answer.get_ref().statuses[0].limit_remaining, 4);
        let metrics = reqwest::get(format!("http://{http}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(metrics.contains("portcullis_ratelimit_requests_total{code=\"ok\"} 1"));

        // A stricter limit, reloaded in place: the counter already holds 1 hit.
        limit_file(dir.path(), 1);
        binary.signal("HUP");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let answer = client
                .should_rate_limit(request("edge", &[ip]))
                .await
                .unwrap();
            if answer.get_ref().overall_code == Code::OverLimit as i32 {
                break;
            }
            assert!(Instant::now() < deadline, "reload not applied within 15 s");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }

        binary.signal("TERM");
        let status = binary.exit(Duration::from_secs(15)).await;
        assert!(status.success(), "{status:?}");
        assert!(binary.output().contains("SIGTERM received"));
    }
}
