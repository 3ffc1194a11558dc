//! `portcullis ratelimit serve --control-plane URL`: the configuration followed live from
//! the control-plane instead of read from a file.
//!
//! The follower reads `GET /v1/ratelimit/config` (the tiers as envoyproxy/ratelimit YAML,
//! with the revision it was rendered at in `x-portcullis-revision`), then long-polls
//! `GET /v1/sync?since=REV&wait=SECS` like a sidecar's syncer, only to learn that the
//! revision moved: any change (a key, a tier, an override) answers the poll at once, and the
//! configuration is read again. An override raised through the API so reaches the service
//! within one round trip of the commit. Both calls present the sync token.
//!
//! Invariant: the service only ever holds a configuration that parsed and validated whole.
//! A failed call or a configuration that does not load is logged, counted
//! (`portcullis_ratelimit_config_loads_total{result="failed"}`) and retried with backoff,
//! and the last good configuration keeps answering meanwhile.

use super::config::RateLimitConfig;
use super::service::Service;
use super::yaml::{self, LoadError};
use crate::api::ratelimit::REVISION_HEADER;
use portcullis::wire::SIDECAR_HEADER;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use std::time::Duration;

/// How long one configuration read may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The first pause after a failure; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_INITIAL: Duration = Duration::from_millis(250);
/// The longest pause between attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Where and how to follow the control-plane.
#[derive(Debug, Clone)]
pub struct FollowSettings {
    /// The control-plane's base URL, `http://127.0.0.1:8080`.
    pub base: Url,
    /// The sync token.
    pub token: String,
    /// The name `/v1/sidecars` lists this service under.
    pub name: String,
    /// How long the control-plane may hold one long-poll (at most 60 s).
    pub wait: Duration,
}

/// Why one call to the control-plane failed; the last good configuration stays.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The base URL cannot take the API paths.
    #[error("control-plane url {0:?} cannot be a base url: expected http(s)://host[:port]")]
    BaseUrl(String),
    /// No answer, or an answer that was cut short.
    #[error("GET {url} failed: {source}")]
    Http {
        /// The URL called.
        url: Url,
        /// Why.
        source: reqwest::Error,
    },
    /// An answer other than 200.
    #[error("GET {url} answered {status}: {body}")]
    Status {
        /// The URL called.
        url: Url,
        /// Its status.
        status: StatusCode,
        /// The start of its body (the API's JSON error).
        body: String,
    },
    /// A configuration without a usable revision header.
    #[error("GET {url}: expected a numeric `{REVISION_HEADER}` header, got {got:?}")]
    Revision {
        /// The URL called.
        url: Url,
        /// What came instead.
        got: Option<String>,
    },
    /// A configuration the service cannot run.
    #[error(transparent)]
    Config(#[from] LoadError),
}

/// A `/v1/sync` page, reduced to the one field the follower needs.
#[derive(Debug, Deserialize)]
struct PageRevision {
    revision: u64,
}

/// Reads the control-plane's rate-limit configuration and waits for its changes.
#[derive(Debug, Clone)]
pub struct Follower {
    http: reqwest::Client,
    config_url: Url,
    sync_url: Url,
    settings: FollowSettings,
}

impl Follower {
    /// A follower of the control-plane at `settings.base`.
    pub fn new(settings: FollowSettings) -> Result<Self, FollowError> {
        let join = |path: &str| {
            let mut url = settings.base.clone();
            if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
                return Err(FollowError::BaseUrl(settings.base.to_string()));
            }
            let base_path = url.path().trim_end_matches('/').to_owned();
            url.set_path(&format!("{base_path}{path}"));
            Ok(url)
        };
        Ok(Self {
            http: reqwest::Client::new(),
            config_url: join("/v1/ratelimit/config")?,
            sync_url: join("/v1/sync")?,
            settings,
        })
    }

    /// Reads the configuration once: its revision and the validated configuration.
    pub async fn fetch(&self) -> Result<(u64, RateLimitConfig), FollowError> {
        let url = &self.config_url;
        let response = self.get(url.clone(), FETCH_TIMEOUT).await?;
        let header = response.headers().get(REVISION_HEADER);
        let header = header.and_then(|v| v.to_str().ok()).map(str::to_owned);
        let Some(revision) = header.as_deref().and_then(|v| v.parse().ok()) else {
            return Err(FollowError::Revision {
                url: url.clone(),
                got: header,
            });
        };
        let text = response.text().await.map_err(|source| FollowError::Http {
            url: url.clone(),
            source,
        })?;
        let config = yaml::parse(url.as_str(), &text)?;
        Ok((revision, config))
    }

    /// Reads the configuration until it loads, pausing with backoff after each failure
    /// (logged, not counted: the service and its counters do not exist yet); for start-up,
    /// when there is no last good configuration to serve from.
    pub async fn first(&self) -> (u64, RateLimitConfig) {
        let mut pause = BACKOFF_INITIAL;
        loop {
            match self.fetch().await {
                Ok(loaded) => return loaded,
                Err(err) => {
                    tracing::warn!(%err, retry_in = ?pause, "no rate-limit configuration yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Keeps `service` on the control-plane's configuration, from `revision` on, forever.
    pub async fn follow(self, service: Service, mut revision: u64) {
        let mut pause = BACKOFF_INITIAL;
        loop {
            let step = match self.wait_past(revision).await {
                Ok(seen) if seen == revision => Ok(None),
                Ok(_) => self.fetch().await.map(Some),
                Err(err) => Err(err),
            };
            match step {
                Ok(None) => pause = BACKOFF_INITIAL,
                Ok(Some((loaded, config))) => {
                    service.replace_config(&config);
                    service.metrics().count_config_load(Some(loaded));
                    tracing::info!(revision = loaded, "rate-limit configuration followed");
                    revision = loaded;
                    pause = BACKOFF_INITIAL;
                }
                Err(err) => {
                    service.metrics().count_config_load(None);
                    tracing::warn!(
                        %err, revision, retry_in = ?pause,
                        "cannot follow the control-plane: keeping the running configuration"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Long-polls `/v1/sync` past `since`; returns the revision the control-plane is at
    /// (equal to `since` when nothing changed within the wait).
    async fn wait_past(&self, since: u64) -> Result<u64, FollowError> {
        let mut url = self.sync_url.clone();
        url.query_pairs_mut()
            .append_pair("since", &since.to_string())
            .append_pair("wait", &self.settings.wait.as_secs().to_string());
        let timeout = self.settings.wait + FETCH_TIMEOUT;
        let response = self.get(url.clone(), timeout).await?;
        let page: PageRevision = response
            .json()
            .await
            .map_err(|source| FollowError::Http { url, source })?;
        Ok(page.revision)
    }

    async fn get(&self, url: Url, timeout: Duration) -> Result<reqwest::Response, FollowError> {
        let response = self
            .http
            .get(url.clone())
            .bearer_auth(&self.settings.token)
            .header(SIDECAR_HEADER, &self.settings.name)
            .timeout(timeout)
            .send()
            .await
            .map_err(|source| FollowError::Http {
                url: url.clone(),
                source,
            })?;
        let status = response.status();
        if status != StatusCode::OK {
            let body = response.text().await.unwrap_or_default();
            let body = body.chars().take(300).collect();
            return Err(FollowError::Status { url, status, body });
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower(base: &str) -> Result<Follower, FollowError> {
        Follower::new(FollowSettings {
            base: Url::parse(base).unwrap(),
            token: "t".to_owned(),
            name: "portcullis-ratelimit".to_owned(),
            wait: Duration::from_secs(30),
        })
    }

    #[test]
    fn api_paths_are_joined_to_the_base_with_or_without_a_trailing_slash() {
        for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let follower = follower(base).unwrap();
            assert_eq!(
                follower.config_url.as_str(),
                "http://127.0.0.1:8080/v1/ratelimit/config"
            );
            assert_eq!(follower.sync_url.as_str(), "http://127.0.0.1:8080/v1/sync");
        }
        let behind_a_prefix = follower("https://edge.example/portcullis/").unwrap();
        assert_eq!(
            behind_a_prefix.config_url.as_str(),
            "https://edge.example/portcullis/v1/ratelimit/config"
        );
    }

    #[test]
    fn a_url_that_is_not_http_is_refused() {
        let err = follower("unix:/run/portcullis.sock").unwrap_err();
        assert!(err.to_string().contains("cannot be a base url"), "{err}");
    }
}
