//! `HttpClient`: GET a JSON document from an issuer with a connect timeout, a total
//! timeout, a body size limit enforced while the body streams in, and redirects held to the
//! same URL rules as the configured ones.

use super::cache_control::freshness;
use super::{FetchError, FetchSettings};
use crate::providers::check_fetch_url;
use reqwest::header::{ACCEPT, AGE, CACHE_CONTROL, HeaderMap};
use reqwest::{StatusCode, Url, redirect};
use std::error::Error as _;
use std::time::Duration;

/// The most redirects followed for one fetch.
const MAX_REDIRECTS: usize = 5;

/// A body and what its headers say about freshness.
#[derive(Debug)]
pub struct Fetched {
    /// The whole body, at most the configured size.
    pub body: Vec<u8>,
    /// From `Cache-Control` and `Age`; `None` when the response does not say.
    pub freshness: Option<Duration>,
}

/// The fetcher's HTTP client (rustls; the system's roots and the bundled Mozilla roots).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    max_body_bytes: usize,
    connect_timeout: Duration,
    total_timeout: Duration,
}

impl HttpClient {
    /// A client with the settings' timeouts and size limit.
    pub fn new(settings: &FetchSettings) -> Result<Self, FetchError> {
        // A redirect must not lead somewhere a provider could not name: an https JWKS that
        // redirects to plain http would hand the keys to anyone on the path.
        let policy = redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match check_fetch_url(attempt.url().as_str()) {
                Ok(_) => attempt.follow(),
                Err(reason) => attempt.error(format!("redirect refused: target {reason}")),
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.total_timeout)
            .redirect(policy)
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(chain(e)))?;
        Ok(Self {
            client,
            max_body_bytes: settings.max_body_bytes,
            connect_timeout: settings.connect_timeout,
            total_timeout: settings.total_timeout,
        })
    }

    /// GETs `url`; anything but a 200 with a body within the limit is an error.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        let shown = url.to_string();
        let request_error = |e: reqwest::Error| FetchError::Request {
            url: shown.clone(),
            detail: if e.is_timeout() {
                format!(
                    "timed out (limits: {:?} to connect, {:?} in all)",
                    self.connect_timeout, self.total_timeout
                )
            } else {
                chain(e)
            },
        };
        let mut response = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(request_error)?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status {
                url: shown,
                status: response.status().as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            url: shown.clone(),
            limit: self.max_body_bytes,
        };
        // A declared length over the limit is refused before reading anything.
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(too_large());
        }
        let freshness = freshness_of(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, freshness })
    }
}

fn freshness_of(headers: &HeaderMap) -> Option<Duration> {
    let lines: Vec<&str> = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let age = headers.get(AGE).and_then(|v| v.to_str().ok());
    freshness(&lines, age)
}

/// An error and its causes, `a: b: c`, without the URL reqwest repeats (the caller names
/// it once).
fn chain(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
