//! A parsed HTTP/1.1 response, with the assertions tests make on Portcullis replies and on
//! what the demo upstream echoed back.

use std::collections::BTreeMap;

use serde_json::Value;

/// Status, headers (names lowercased, duplicates kept in order) and body.
#[derive(Clone, Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Every header, name lowercased; values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when it was chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// Parses a response. With `at_eof` false (more bytes may come) it fails unless the
    /// response is complete by its own framing; the response to a HEAD request has no
    /// body whatever its `content-length` says.
    pub fn parse(raw: &[u8], to_head: bool, at_eof: bool) -> Result<Self, String> {
        let split = raw
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .ok_or("no end of headers")?;
        let head = String::from_utf8_lossy(&raw[..split]);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().ok_or("no status line")?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let rest = &raw[split + 4..];
        let mut response = Self {
            status,
            headers,
            body: Vec::new(),
        };
        response.body = if to_head {
            Vec::new()
        } else if response
            .header("transfer-encoding")
            .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
        {
            dechunk(rest)?
        } else if let Some(length) = response.header("content-length") {
            let length: usize = length.parse().map_err(|_| "bad content-length")?;
            rest.get(..length)
                .ok_or("body shorter than content-length")?
                .to_vec()
        } else if at_eof {
            rest.to_vec()
        } else {
            return Err("body runs to the end of the stream".to_string());
        };
        Ok(response)
    }

    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics showing the response when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {self}"))
    }

    /// The request headers the demo upstream received (names lowercased, duplicates joined
    /// with ", "). Panics unless this is the upstream's 200.
    pub fn upstream_headers(&self) -> BTreeMap<String, String> {
        assert_eq!(self.status, 200, "expected the upstream's 200, got {self}");
        let echo = self.json();
        let headers = echo
            .get("headers")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("not an echo from the demo upstream: {self}"));
        headers
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    /// The `x-auth-*` headers the demo upstream received.
    pub fn upstream_identity(&self) -> BTreeMap<String, String> {
        self.upstream_headers()
            .into_iter()
            .filter(|(name, _)| name.starts_with("x-auth-"))
            .collect()
    }

    /// Asserts a Portcullis error reply: `status`, a JSON content type and a body with
    /// `error`, `code`, a non-empty `message` and `retryable: false`.
    pub fn assert_error(&self, status: u16, error: &str, code: &str) {
        assert_eq!(self.status, status, "status of {self}");
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "content-type {content_type:?} of {self}"
        );
        let body = self.json();
        assert_eq!(body["error"], error, "`error` of {self}");
        assert_eq!(body["code"], code, "`code` of {self}");
        assert_eq!(body["retryable"], false, "`retryable` of {self}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "`message` of {self}"
        );
    }

    /// The `WWW-Authenticate` header; panics when absent.
    pub fn www_authenticate(&self) -> &str {
        self.header("www-authenticate")
            .unwrap_or_else(|| panic!("no WWW-Authenticate in {self}"))
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "HTTP {}", self.status)?;
        for (name, value) in &self.headers {
            write!(formatter, "\n  {name}: {value}")?;
        }
        write!(formatter, "\n  {}", self.text())
    }
}

/// Decodes a chunked body (RFC 9112 §7.1), ignoring extensions and trailers.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|window| window == b"\r\n")
            .ok_or("unterminated chunk size")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("chunk shorter than its size")?);
        rest = rest.get(size + 2..).ok_or("chunk without CRLF")?;
    }
}
