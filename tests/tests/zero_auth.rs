//! Zero-auth mode end to end: requests from a trusted network pass as the local admin,
//! others are refused, and public routes stay open to both.

use std::net::{IpAddr, Ipv4Addr};

use portcullis_e2e::{Envoy, Request, Response};
use serde_json::{Value, json};

/// A loopback source outside `127.0.0.1/32` (Linux routes all of 127.0.0.0/8 to `lo`).
const OTHER_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn zero_auth(trusted_networks: Option<Value>) -> Value {
    let mut config = json!({
        "mode": "zero_auth",
        "routes": [{"exact": "/health", "access": "public"}],
    });
    if let Some(networks) = trusted_networks {
        config["zero_auth"] = json!({"trusted_networks": networks});
    }
    config
}

fn assert_local_admin(response: &Response) {
    let identity = response.upstream_identity();
    assert_eq!(
        identity.get("x-auth-method").map(String::as_str),
        Some("zero_auth"),
        "{response}"
    );
    assert_eq!(
        identity.get("x-auth-subject").map(String::as_str),
        Some("local_admin"),
        "{response}"
    );
    assert_eq!(
        identity.get("x-auth-role").map(String::as_str),
        Some("admin"),
        "{response}"
    );
}

#[test]
fn zero_auth_admits_the_default_trusted_networks_as_local_admin() {
    let envoy = Envoy::start(zero_auth(None), &[]);
    for source in [IpAddr::V4(Ipv4Addr::LOCALHOST), OTHER_LOOPBACK] {
        let response = envoy.send(
            &Request::get("/orders/7")
                .from_source(source)
                .header("x-auth-subject", "mallory")
                .header("X-Auth-Role", "system_admin"),
        );
        assert_local_admin(&response);
    }
}

#[test]
fn zero_auth_refuses_a_source_outside_the_trusted_networks() {
    let envoy = Envoy::start(zero_auth(Some(json!(["127.0.0.1/32"]))), &[]);

    let trusted = envoy.send(&Request::get("/orders/7"));
    assert_local_admin(&trusted);

    let outside = envoy.send(&Request::get("/orders/7").from_source(OTHER_LOOPBACK));
    outside.assert_error(401, "unauthorized", "untrusted_network");

    let public = envoy.send(
        &Request::get("/health")
            .from_source(OTHER_LOOPBACK)
            .header("x-auth-subject", "mallory"),
    );
    assert!(public.upstream_identity().is_empty(), "{public}");
}
