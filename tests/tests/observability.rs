//! What an operator sees: one Envoy counter per decision and the decision in the access
//! log through the filter state property `wasm.portcullis.decision`.

use portcullis_e2e::fixtures::{self, ADMIN_TOKEN, ENV, UNKNOWN_TOKEN};
use portcullis_e2e::{Envoy, Request};

#[test]
fn each_decision_is_counted_in_envoy_stats() {
    let envoy = Envoy::start(fixtures::enforce(fixtures::routes()), &ENV);
    for _ in 0..2 {
        envoy.send(&Request::get("/orders/7").bearer(ADMIN_TOKEN));
    }
    envoy.send(&Request::get("/health"));
    for _ in 0..3 {
        envoy.send(&Request::get("/orders/7"));
    }
    envoy.send(&Request::get("/orders/7").bearer(UNKNOWN_TOKEN));

    envoy.wait_for_counter("wasmcustom.portcullis.allowed", 2);
    envoy.wait_for_counter("wasmcustom.portcullis.public", 1);
    envoy.wait_for_counter("wasmcustom.portcullis.denied.missing_credentials", 3);
    envoy.wait_for_counter("wasmcustom.portcullis.denied.invalid_credentials", 1);
}

#[test]
fn the_access_log_shows_each_decision() {
    let envoy = Envoy::start(fixtures::enforce(fixtures::routes()), &ENV);
    let cases = [
        (
            Request::get("/orders/allowed").bearer(ADMIN_TOKEN),
            "allowed",
            200,
        ),
        (Request::get("/health?log=public"), "public", 200),
        (Request::get("/orders/missing"), "missing_credentials", 401),
        (
            Request::get("/orders/invalid").bearer(UNKNOWN_TOKEN),
            "invalid_credentials",
            401,
        ),
        (
            Request::get("/billing/scope").bearer(ADMIN_TOKEN),
            "insufficient_scope",
            403,
        ),
    ];
    for (request, _, _) in &cases {
        envoy.send(request);
    }
    for (request, decision, status) in &cases {
        let target = request.target();
        let line = envoy.wait_for_access_log(&format!("path={target}"));
        assert_eq!(
            line,
            format!("decision={decision} status={status} path={target}")
        );
    }
}
