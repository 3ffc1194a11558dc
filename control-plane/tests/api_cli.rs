//! The operator CLI: the built `portcullis` binary against a running server.

pub mod support;

use serde_json::Value;
use std::process::Output;
use support::Server;

/// Runs `portcullis keys <args>` against `server`.
async fn portcullis(server: &Server, args: &[&str]) -> Output {
    support::cli(server, &[&["keys"], args].concat()).await
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn create_list_and_revoke_with_json_output() {
    let server = Server::start().await;
    let created = json_of(
        &portcullis(
            &server,
            &[
                "create", "--json", "--name", "ci", "--org-id", "acme", "--scope", "read",
                "--scope", "write",
            ],
        )
        .await,
    );
    let id = created["id"].as_str().unwrap();
    assert!(portcullis::api_key::is_well_formed(
        created["key"].as_str().unwrap()
    ));
    assert_eq!(created["scopes"], serde_json::json!(["read", "write"]));

    let listed = json_of(&portcullis(&server, &["list", "--json", "--org-id", "acme"]).await);
    assert_eq!(listed["items"][0]["id"], id);

    let revoked = json_of(&portcullis(&server, &["revoke", id, "--json"]).await);
    assert!(revoked["revoked_at"].is_number());
}

#[tokio::test]
async fn human_output_shows_the_secret_once_with_a_warning() {
    let server = Server::start().await;
    let output = portcullis(&server, &["create", "--name", "ci", "--org-id", "acme"]).await;
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("key "))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no key line in {stdout}"));
    assert!(portcullis::api_key::is_well_formed(secret), "{secret}");
    assert!(stderr.contains("will not be shown again"), "{stderr}");
    let listed = portcullis(&server, &["list"]).await;
    let table = String::from_utf8(listed.stdout).unwrap();
    assert!(
        table.contains("acme") && table.contains("active"),
        "{table}"
    );
    assert!(
        table.contains(portcullis::api_key::display_prefix(secret)),
        "{table}"
    );
    assert!(
        !table.contains(secret),
        "a listing never shows the secret: {table}"
    );
}

#[tokio::test]
async fn an_api_error_prints_code_and_message_and_exits_non_zero() {
    let server = Server::start().await;
    let output = portcullis(&server, &["get", "key_0000000000000000"]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: not_found: "), "{stderr}");
}
