//! The operator CLI for rate limits: the built `portcullis` binary's `tiers`, `orgs`,
//! `keys update --rate-limit` and `ratelimit export` against a running server.

pub mod support;

use serde_json::{Value, json};
use std::process::Output;
use support::{ADMIN, Server, cli as portcullis};

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout_of(output)).unwrap()
}

#[tokio::test]
async fn tiers_are_set_listed_read_and_deleted() {
    let server = Server::start().await;
    let set = [
        "tiers",
        "set",
        "gold",
        "--per-ip",
        "unlimited",
        "--per-key",
        "1000/minute",
        "--per-org",
        "5/second",
        "--json",
    ];
    let created = json_of(&portcullis(&server, &set).await);
    assert_eq!(
        created["per_key"],
        json!({"requests_per_unit": 1000, "unit": "minute"})
    );
    let table = stdout_of(&portcullis(&server, &["tiers", "list"]).await);
    let gold = table.lines().find(|l| l.starts_with("gold")).unwrap();
    assert!(
        gold.contains("unlimited") && gold.contains("1000/minute") && gold.contains("5/second"),
        "{table}"
    );
    assert!(table.lines().any(|l| l.starts_with("default")), "{table}");
    let shown = stdout_of(&portcullis(&server, &["tiers", "get", "default"]).await);
    assert!(shown.contains("per_ip     60/minute"), "{shown}");
    stdout_of(&portcullis(&server, &["tiers", "delete", "gold"]).await);
    let gone = portcullis(&server, &["tiers", "get", "gold"]).await;
    assert!(!gone.status.success());
    let stderr = String::from_utf8(gone.stderr).unwrap();
    assert!(stderr.starts_with("error: not_found: "), "{stderr}");
}

#[tokio::test]
async fn a_malformed_limit_is_refused_before_anything_is_sent() {
    let server = Server::start().await;
    let set = [
        "tiers",
        "set",
        "gold",
        "--per-ip",
        "unlimited",
        "--per-key",
        "1000/fortnight",
        "--per-org",
        "5/second",
    ];
    let output = portcullis(&server, &set).await;
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("`LIMIT.unit` must be one of"), "{stderr}");
    assert_eq!(server.revision().await, 0);
}

#[tokio::test]
async fn key_and_org_limits_are_set_and_cleared() {
    let server = Server::start().await;
    let id = server.create_key(ADMIN, "acme", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = ["keys", "update", &id, "--rate-limit", "5/second"];
    let key = stdout_of(&portcullis(&server, &update).await);
    assert!(key.contains("rate_limit 5/second"), "{key}");
    let clear = ["keys", "update", &id, "--clear-rate-limit", "--json"];
    assert!(json_of(&portcullis(&server, &clear).await)["rate_limit"].is_null());

    let org = stdout_of(&portcullis(&server, &["orgs", "set-limit", "acme", "9/hour"]).await);
    assert!(org.contains("rate_limit 9/hour"), "{org}");
    let default_row = org.lines().find(|l| l.starts_with("default")).unwrap();
    assert!(default_row.ends_with("9/hour"), "{org}");
    let cleared = ["orgs", "set-limit", "acme", "--clear", "--json"];
    assert!(json_of(&portcullis(&server, &cleared).await)["rate_limit"].is_null());
    let read = json_of(&portcullis(&server, &["orgs", "get", "acme", "--json"]).await);
    assert_eq!(read["effective"][0]["tier"], "default");
}

#[tokio::test]
async fn export_prints_the_yaml_and_the_local_filters() {
    let server = Server::start().await;
    let yaml = stdout_of(&portcullis(&server, &["ratelimit", "export"]).await);
    let config = portcullis_control_plane::ratelimit::yaml::parse("export.yaml", &yaml).unwrap();
    assert!(config.domain("portcullis").is_some(), "{yaml}");
    let local = ["ratelimit", "export", "--format", "local"];
    let fragment = json_of(&portcullis(&server, &local).await);
    assert_eq!(fragment["before_auth"]["name"], "portcullis.ratelimit.ip");
    assert_eq!(
        fragment["after_auth"]["name"],
        "portcullis.ratelimit.identity"
    );
}
