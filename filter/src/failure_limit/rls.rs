//! The few protobuf messages the filter exchanges with a rate-limit service
//! (`envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit`), written and read by hand:
//! a code generator and a protobuf runtime would add more to the `.wasm` than the whole of
//! this file. Reading never panics and never trusts a length.
//!
//! Written: `RateLimitRequest {domain = 1, descriptors = 2 {entries = 1 {key = 1, value = 2}},
//! hits_addend = 3}`, and the `GrpcService {envoy_grpc = 1 {cluster_name = 1}}` that names
//! the cluster to Envoy. Read: `RateLimitResponse {overall_code = 1, statuses = 2 {code = 1,
//! current_limit = 2 {requests_per_unit = 1, unit = 2}, limit_remaining = 3,
//! duration_until_reset = 4 {seconds = 1}}}`; every other field is skipped.

/// The gRPC service.
pub const SERVICE: &str = "envoy.service.ratelimit.v3.RateLimitService";
/// The unary method.
pub const METHOD: &str = "ShouldRateLimit";

/// `RateLimitResponse.Code.OVER_LIMIT`.
const OVER_LIMIT: u64 = 2;

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A `GrpcService` naming `cluster` as an Envoy gRPC cluster. Envoy reads the upstream
/// argument of a gRPC call as this message first and as a bare cluster name only when it
/// does not parse, so sending the message leaves no room for a name that happens to parse.
pub fn grpc_service(cluster: &str) -> Vec<u8> {
    let mut envoy_grpc = Vec::new();
    put_bytes(&mut envoy_grpc, 1, cluster.as_bytes());
    let mut out = Vec::new();
    put_bytes(&mut out, 1, &envoy_grpc);
    out
}

/// A `RateLimitRequest` adding one hit to the descriptor `[(key, value)]` of `domain`.
pub fn request(domain: &str, key: &str, value: &str) -> Vec<u8> {
    let mut entry = Vec::new();
    put_bytes(&mut entry, 1, key.as_bytes());
    put_bytes(&mut entry, 2, value.as_bytes());
    let mut descriptor = Vec::new();
    put_bytes(&mut descriptor, 1, &entry);
    let mut out = Vec::new();
    put_bytes(&mut out, 1, domain.as_bytes());
    put_bytes(&mut out, 2, &descriptor);
    put_varint(&mut out, 3 << 3, 1);
    out
}

/// What a `RateLimitResponse` says about the one descriptor asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answer {
    /// The overall code is `OVER_LIMIT`.
    pub over_limit: bool,
    /// The limit that decided: requests per window and the window in seconds.
    pub limit: Option<(u32, i64)>,
    /// Seconds until the window resets.
    pub reset_secs: Option<i64>,
}

/// Bytes that are not a `RateLimitResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the rate-limit service's answer is not a RateLimitResponse")]
pub struct Malformed;

/// Reads a `RateLimitResponse`. The limit and reset come from the first status over the
/// limit, else the first status.
pub fn response(bytes: &[u8]) -> Result<Answer, Malformed> {
    let mut answer = Answer::default();
    let mut chosen: Option<Status> = None;
    for field in Fields(bytes) {
        match field? {
            (1, Value::Varint(code)) => answer.over_limit = code == OVER_LIMIT,
            (2, Value::Bytes(raw)) => {
                let status = descriptor_status(raw)?;
                if chosen.is_none_or(|c| !c.over_limit && status.over_limit) {
                    chosen = Some(status);
                }
            }
            _ => {}
        }
    }
    if let Some(status) = chosen {
        answer.limit = status.limit;
        answer.reset_secs = status.reset_secs;
    }
    Ok(answer)
}

#[derive(Clone, Copy)]
struct Status {
    over_limit: bool,
    limit: Option<(u32, i64)>,
    reset_secs: Option<i64>,
}

fn descriptor_status(bytes: &[u8]) -> Result<Status, Malformed> {
    let mut status = Status {
        over_limit: false,
        limit: None,
        reset_secs: None,
    };
    for field in Fields(bytes) {
        match field? {
            (1, Value::Varint(code)) => status.over_limit = code == OVER_LIMIT,
            (2, Value::Bytes(raw)) => status.limit = current_limit(raw)?,
            (4, Value::Bytes(raw)) => {
                let mut seconds = 0;
                for field in Fields(raw) {
                    if let (1, Value::Varint(value)) = field? {
                        // int64 on the wire: a negative value is its two's complement.
                        seconds = value as i64;
                    }
                }
                status.reset_secs = Some(seconds.max(0));
            }
            _ => {}
        }
    }
    Ok(status)
}

/// `(requests_per_unit, window seconds)`; `None` for a unit this filter does not know.
fn current_limit(bytes: &[u8]) -> Result<Option<(u32, i64)>, Malformed> {
    let (mut requests, mut unit) = (0u64, 0u64);
    for field in Fields(bytes) {
        match field? {
            (1, Value::Varint(value)) => requests = value,
            (2, Value::Varint(value)) => unit = value,
            _ => {}
        }
    }
    // The proto's enum numbers: SECOND 1, MINUTE 2, HOUR 3, DAY 4, MONTH 5, YEAR 6, WEEK 7;
    // month and year as the reference service counts them.
    let secs = match unit {
        1 => 1,
        2 => 60,
        3 => 3_600,
        4 => 86_400,
        5 => 30 * 86_400,
        6 => 365 * 86_400,
        7 => 7 * 86_400,
        _ => return Ok(None),
    };
    Ok(u32::try_from(requests).ok().map(|r| (r, secs)))
}

/// A field's value as the wire carries it.
enum Value<'b> {
    Varint(u64),
    Bytes(&'b [u8]),
    Fixed,
}

/// The fields of a message, each `Err` (and the last) once the bytes stop framing.
struct Fields<'b>(&'b [u8]);

impl<'b> Iterator for Fields<'b> {
    type Item = Result<(u64, Value<'b>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_none() {
            self.0 = &[];
        }
        Some(field.ok_or(Malformed))
    }
}

impl<'b> Fields<'b> {
    fn field(&mut self) -> Option<(u64, Value<'b>)> {
        let tag = self.varint()?;
        let number = tag >> 3;
        let value = match (tag & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            LEN => {
                let len = usize::try_from(self.varint()?).ok()?;
                Value::Bytes(self.take(len)?)
            }
            FIXED64 => {
                self.take(8)?;
                Value::Fixed
            }
            FIXED32 => {
                self.take(4)?;
                Value::Fixed
            }
            // Groups (3, 4) are not used by these messages; anything else is not protobuf.
            _ => return None,
        };
        (number > 0).then_some((number, value))
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, len: usize) -> Option<&'b [u8]> {
        let (head, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(head)
    }
}

fn put_varint(out: &mut Vec<u8>, tag: u64, value: u64) {
    write_varint(out, tag);
    write_varint(out, value);
}

fn put_bytes(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    write_varint(out, (number << 3) | u64::from(LEN));
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
pub(crate) mod tests;
