//! The window counters in Redis: `INCRBY key hits` and `EXPIRE key unit` for every limited
//! descriptor of a request, in one `MULTI`/`EXEC` sent as one pipeline, so a request costs
//! one round trip and no counter is ever left without an expiry.
//!
//! The connection is a `redis` connection manager: one multiplexed connection shared by all
//! requests, re-established in the background after Redis goes away. Every round trip is
//! bounded by a timeout, because a rate-limit answer that comes after Envoy's own timeout
//! (20 ms by default) helps no one.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// One counter to bump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment {
    /// The cache key ([`super::window::Window::cache_key`]).
    pub key: String,
    /// How much to add (may be 0: read without counting).
    pub hits: u64,
    /// The key's time to live, in seconds.
    pub expire_secs: i64,
}

/// Why a round trip failed. The service answers by its failure mode either way.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    /// The URL does not parse.
    #[error("redis url {url:?} is not valid: {source}")]
    Url {
        /// The URL with any password removed.
        url: String,
        /// Why.
        source: redis::RedisError,
    },
    /// Redis refused, dropped the connection or answered something else than counts.
    #[error("redis failed: {0}")]
    Redis(#[from] redis::RedisError),
    /// No answer within the timeout.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// An answer with fewer counts than increments sent.
    #[error("redis answered {actual} counts: expected {expected}")]
    ShortAnswer {
        /// Increments sent.
        expected: usize,
        /// Counts received.
        actual: usize,
    },
}

/// The shared Redis counters.
#[derive(Clone)]
pub struct Counter {
    connection: ConnectionManager,
    timeout: Duration,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counter")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Counter {
    /// Prepares a connection to `url` (`redis://[:password@]host:port[/db]`) without
    /// connecting: the first request connects, so the service starts even while Redis is
    /// down, and answers by its failure mode until Redis is back. Each round trip, connection
    /// included, is bounded by `timeout`. Must be called inside a Tokio runtime.
    pub fn new(url: &str, timeout: Duration) -> Result<Counter, CounterError> {
        let url_error = |source| CounterError::Url {
            url: redact(url),
            source,
        };
        let client = redis::Client::open(url).map_err(url_error)?;
        // A short, capped reconnect: a request that finds Redis down fails within `timeout`
        // and the next one triggers a new attempt.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(timeout);
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(url_error)?;
        Ok(Counter {
            connection,
            timeout,
        })
    }

    /// Adds each increment's hits to its key and returns the counts after adding, in order.
    pub async fn increment(&self, increments: &[Increment]) -> Result<Vec<u64>, CounterError> {
        if increments.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for increment in increments {
            pipe.cmd("INCRBY").arg(&increment.key).arg(increment.hits);
            pipe.cmd("EXPIRE")
                .arg(&increment.key)
                .arg(increment.expire_secs)
                .ignore();
        }
        let mut connection = self.connection.clone();
        let counts: Vec<u64> =
            tokio::time::timeout(self.timeout, pipe.query_async(&mut connection))
                .await
                .map_err(|_| CounterError::Timeout(self.timeout))??;
        if counts.len() != increments.len() {
            return Err(CounterError::ShortAnswer {
                expected: increments.len(),
                actual: counts.len(),
            });
        }
        Ok(counts)
    }

    /// Whether Redis answers `PING` within the timeout.
    pub async fn ping(&self) -> Result<(), CounterError> {
        let mut connection = self.connection.clone();
        let pong: String = tokio::time::timeout(
            self.timeout,
            redis::cmd("PING").query_async(&mut connection),
        )
        .await
        .map_err(|_| CounterError::Timeout(self.timeout))??;
        tracing::debug!(%pong, "redis answered");
        Ok(())
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("redis://:s3cret@cache:6379/0"),
            "redis://***@cache:6379/0"
        );
        assert_eq!(redact("redis://user:pw@cache"), "redis://***@cache");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[tokio::test]
    async fn a_bad_url_is_refused_before_any_request() {
        let err = Counter::new("http://:pw@nowhere", Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, CounterError::Url { .. }));
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}
