//! The hand-written messages against bytes `prost` produced from envoy-types' generated
//! `RateLimitRequest`, `RateLimitResponse` and `GrpcService` (envoy-types 0.7.7), and
//! garbage that must read as malformed, never panic.

use super::*;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `RateLimitRequest {domain: "portcullis", descriptors: [{entries: [{key: "auth_failure",
/// value: "2001:db8:0:1::/64"}]}], hits_addend: 1}`.
const PROST_REQUEST: &str = "0a0a706f727463756c6c697312230a210a0c617574685f6661696c7572651211323030313a6462383a303a313a3a2f36341801";

/// `GrpcService {envoy_grpc: {cluster_name: "portcullis_ratelimit"}}`.
const PROST_SERVICE: &str = "0a160a14706f727463756c6c69735f726174656c696d6974";

/// `RateLimitResponse {overall_code: OVER_LIMIT, statuses: [{code: OVER_LIMIT,
/// current_limit: {name: "auth", requests_per_unit: 5, unit: HOUR}, duration_until_reset:
/// {seconds: 1234, nanos: 5}}], response_headers_to_add: [{key: "x-ratelimit-limit",
/// value: "5"}]}`.
const PROST_OVER: &str = "080212150802120a080510031a0461757468220508d20910051a160a11782d726174656c696d69742d6c696d6974120135";

/// `RateLimitResponse {overall_code: OK, statuses: [{code: OK, current_limit:
/// {requests_per_unit: 60, unit: MINUTE}, limit_remaining: 59, duration_until_reset:
/// {seconds: 42}}]}`.
const PROST_OK: &str = "0801120e08011204083c1002183b2202082a";

/// `RateLimitResponse {overall_code: OK, statuses: [{code: OK}]}`: no rule matched.
const PROST_NO_RULE: &str = "080112020801";

/// A response over the limit, for tests elsewhere: `requests` per `unit` (the proto's enum
/// number), resetting in `reset` seconds.
pub(crate) fn over_limit(requests: u64, unit: u64, reset: u64) -> Vec<u8> {
    let mut limit = Vec::new();
    put_varint(&mut limit, 1 << 3, requests);
    put_varint(&mut limit, 2 << 3, unit);
    let mut duration = Vec::new();
    put_varint(&mut duration, 1 << 3, reset);
    let mut status = Vec::new();
    put_varint(&mut status, 1 << 3, OVER_LIMIT);
    put_bytes(&mut status, 2, &limit);
    put_bytes(&mut status, 4, &duration);
    let mut out = Vec::new();
    put_varint(&mut out, 1 << 3, OVER_LIMIT);
    put_bytes(&mut out, 2, &status);
    out
}

/// A response under the limit, for tests elsewhere.
pub(crate) fn under_limit() -> Vec<u8> {
    hex(PROST_OK)
}

#[test]
fn the_request_is_byte_for_byte_what_prost_writes() {
    let bytes = request("portcullis", "auth_failure", "2001:db8:0:1::/64");
    assert_eq!(bytes, hex(PROST_REQUEST));
}

#[test]
fn the_grpc_service_is_byte_for_byte_what_prost_writes() {
    assert_eq!(grpc_service("portcullis_ratelimit"), hex(PROST_SERVICE));
}

#[test]
fn an_over_limit_answer_is_read_with_its_limit_and_reset() {
    assert_eq!(
        response(&hex(PROST_OVER)),
        Ok(Answer {
            over_limit: true,
            limit: Some((5, 3_600)),
            reset_secs: Some(1_234),
        })
    );
    assert_eq!(
        response(&over_limit(5, 3, 1_234)),
        response(&hex(PROST_OVER))
    );
}

#[test]
fn an_ok_answer_and_one_without_a_rule_are_under_the_limit() {
    assert_eq!(
        response(&hex(PROST_OK)),
        Ok(Answer {
            over_limit: false,
            limit: Some((60, 60)),
            reset_secs: Some(42),
        })
    );
    assert_eq!(
        response(&hex(PROST_NO_RULE)),
        Ok(Answer {
            over_limit: false,
            limit: None,
            reset_secs: None,
        })
    );
    assert_eq!(response(&[]), Ok(Answer::default()));
}

#[test]
fn every_truncation_of_a_real_answer_is_malformed_or_a_shorter_answer() {
    let full = hex(PROST_OVER);
    for len in 0..full.len() {
        // A cut at a field boundary is a valid, shorter message; any other cut is malformed.
        if let Ok(answer) = response(&full[..len]) {
            assert!(
                answer.limit.is_none() || answer == response(&full).unwrap(),
                "{len}"
            );
        }
    }
}

#[test]
fn garbage_is_malformed_and_never_panics() {
    for bytes in [
        &[0x0b][..],                           // group start
        &[0x07, 0x00],                         // wire type 7
        &[0x00, 0x00],                         // field number 0
        &[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f], // length beyond the message
        &[
            0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ], // 11-byte varint
        &[0x12, 0x02, 0x12, 0x05],             // inner length beyond its field
    ] {
        assert_eq!(response(bytes), Err(Malformed), "{bytes:02x?}");
    }
    let mut seed = 0x9e37_79b9_u32;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let _ = response(&bytes);
    }
}

#[test]
fn an_unknown_unit_or_oversized_limit_gives_no_limit_and_a_negative_reset_reads_as_zero() {
    assert_eq!(response(&over_limit(5, 9, 10)).unwrap().limit, None);
    assert_eq!(response(&over_limit(u64::MAX, 2, 10)).unwrap().limit, None);
    let negative = over_limit(5, 2, u64::MAX);
    assert_eq!(response(&negative).unwrap().reset_secs, Some(0));
}
