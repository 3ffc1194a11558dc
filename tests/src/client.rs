//! A raw HTTP/1.1 client over `std::net::TcpStream`. Tests need what ordinary clients
//! forbid or hide: duplicate headers, bytes that are not UTF-8, and the source address of
//! the connection (to test trusted networks, a socket is bound to 127.0.0.2 before it
//! connects). Every request asks for `Connection: close` and is read until complete.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::response::Response;

/// How long a request may take, connecting and reading included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One request, built up and then sent to an address.
#[derive(Clone, Debug)]
pub struct Request {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    source: IpAddr,
}

impl Request {
    /// A request with `method` for `target` (path and query), from 127.0.0.1.
    pub fn new(method: &str, target: &str) -> Self {
        Self {
            method: method.to_string(),
            target: target.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }

    /// A GET request for `target`.
    pub fn get(target: &str) -> Self {
        Self::new("GET", target)
    }

    /// Adds a header; adding the same name twice sends it twice.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.raw_header(name, value.as_bytes())
    }

    /// Adds a header whose value is sent byte for byte (for values that are not UTF-8).
    pub fn raw_header(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((name.to_string(), value.to_vec()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// Adds `X-API-Key: <key>`.
    pub fn api_key(self, key: &str) -> Self {
        self.header("X-API-Key", key)
    }

    /// Sends `body` with a `Content-Length`.
    pub fn body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    /// Connects from `source` (a loopback address such as 127.0.0.2) instead of 127.0.0.1.
    pub fn from_source(mut self, source: IpAddr) -> Self {
        self.source = source;
        self
    }

    /// The request target (path and query) as sent.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The request as it goes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = format!(
            "{} {} HTTP/1.1\r\nHost: localhost\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        if !self.body.is_empty() {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        bytes.extend_from_slice(b"Connection: close\r\n\r\n");
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// Sends the request to `address` and reads the whole response; panics on any failure.
    pub fn send(&self, address: SocketAddr) -> Response {
        self.try_send(address).unwrap_or_else(|problem| {
            panic!(
                "{} {} to {address} failed: {problem}",
                self.method, self.target
            )
        })
    }

    /// Sends the request to `address` and reads the whole response.
    pub fn try_send(&self, address: SocketAddr) -> Result<Response, String> {
        let mut stream = self
            .connect(address)
            .map_err(|error| format!("connect from {} to {address}: {error}", self.source))?;
        stream
            .write_all(&self.to_bytes())
            .map_err(|error| format!("send: {error}"))?;
        // Read until the response is complete by its framing, not until the server closes:
        // after a local reply Envoy holds the connection open for its delayed-close timeout.
        let to_head = self.method == "HEAD";
        let mut raw = Vec::new();
        let mut chunk = [0; 16 * 1024];
        loop {
            let read = stream
                .read(&mut chunk)
                .map_err(|error| format!("read the response: {error}"))?;
            raw.extend_from_slice(&chunk[..read]);
            if read == 0 {
                return Response::parse(&raw, to_head, true).map_err(|problem| {
                    format!(
                        "unreadable response ({problem}): {:?}",
                        String::from_utf8_lossy(&raw)
                    )
                });
            }
            if let Ok(response) = Response::parse(&raw, to_head, false) {
                return Ok(response);
            }
        }
    }

    fn connect(&self, address: SocketAddr) -> std::io::Result<TcpStream> {
        let socket = Socket::new(
            Domain::for_address(address),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.bind(&SockAddr::from(SocketAddr::new(self.source, 0)))?;
        socket.connect_timeout(&SockAddr::from(address), TIMEOUT)?;
        let stream = TcpStream::from(socket);
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        Ok(stream)
    }
}
