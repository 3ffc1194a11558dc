//! The syncer's configuration (the `configuration` of the bootstrap Wasm service with root
//! id `portcullis_sync`): JSON input types, and their validation into a [`ControlPlane`].
//!
//! Like the filter's own configuration, it is refused whole: every problem is reported with
//! the field's path and the expected and actual values, and the sync token's value never
//! appears in a message.

use crate::config::ConfigError;
use crate::credentials;
use crate::wire::MAX_WAIT_SECS;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// The shortest sync token accepted: shorter shared secrets are guessable.
pub const MIN_SYNC_TOKEN_LEN: usize = 32;
/// How much longer than the long-poll `wait` a request may take by default, so a reply
/// sent when `wait` expires still arrives before Envoy gives up on it.
const DEFAULT_TIMEOUT_MARGIN_MS: u64 = 5_000;
/// `dispatch_http_call` takes its timeout in milliseconds as a `u32`.
const MAX_TIMEOUT_MS: u64 = u32::MAX as u64;
/// The longest pause between failed polls: longer would leave a recovered control-plane
/// unused for too long.
const MAX_BACKOFF_MS: u64 = 3_600_000;
/// The longest retention of revoked and expired secrets: 30 days.
const MAX_RETENTION_SECS: u64 = 30 * 86_400;

/// How the syncer reaches the control-plane, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct ControlPlane {
    /// The Envoy cluster of the control-plane.
    pub cluster: String,
    /// The `:authority` of each sync request.
    pub authority: String,
    /// The sync token sent as `Authorization: Bearer …`; never logged.
    pub token: String,
    /// How long the control-plane may hold a poll when nothing changed.
    pub wait: Duration,
    /// How long Envoy waits for a reply before answering 504 itself.
    pub timeout: Duration,
    /// The pause after the first failure; it doubles per failure up to `backoff_max`.
    pub backoff_initial: Duration,
    /// The longest pause between failed polls.
    pub backoff_max: Duration,
    /// How long a revoked or expired secret stays published after it stopped working, so
    /// it is answered `revoked_credentials` or `expired_credentials`; after that it is
    /// forgotten (and answered `invalid_credentials`), which frees its memory.
    pub retention: Duration,
}

/// The token is left out so a `{:?}` can never log it.
impl fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlPlane")
            .field("cluster", &self.cluster)
            .field("authority", &self.authority)
            .field("token", &"<redacted>")
            .field("wait", &self.wait)
            .field("timeout", &self.timeout)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .field("retention", &self.retention)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncConfig {
    #[serde(default = "default_cluster")]
    cluster: String,
    #[serde(default = "default_authority")]
    authority: String,
    #[serde(default = "default_token_env")]
    sync_token_env: String,
    #[serde(default = "default_wait_secs")]
    wait_secs: u64,
    timeout_ms: Option<u64>,
    #[serde(default = "default_backoff_initial_ms")]
    backoff_initial_ms: u64,
    #[serde(default = "default_backoff_max_ms")]
    backoff_max_ms: u64,
    #[serde(default = "default_retention_secs")]
    retention_secs: u64,
}

fn default_cluster() -> String {
    "portcullis_control_plane".to_owned()
}

fn default_authority() -> String {
    "control-plane".to_owned()
}

fn default_token_env() -> String {
    "PORTCULLIS_SYNC_TOKEN".to_owned()
}

fn default_wait_secs() -> u64 {
    30
}

fn default_backoff_initial_ms() -> u64 {
    250
}

fn default_backoff_max_ms() -> u64 {
    30_000
}

fn default_retention_secs() -> u64 {
    3_600
}

/// Parses and validates the syncer's configuration. `env` reads the environment variables
/// Envoy exposes to the VM (`vm_config.environment_variables`). An empty configuration is
/// `{}`: every field at its default.
pub fn parse(
    bytes: &[u8],
    env: impl Fn(&str) -> Option<String>,
) -> Result<ControlPlane, Vec<ConfigError>> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        bytes
    };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let input: SyncConfig = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = match e.path().to_string() {
            p if p == "." => "configuration".to_owned(),
            p => p,
        };
        vec![problem(path, e.into_inner().to_string())]
    })?;
    let mut problems = Vec::new();
    // Both travel as header values or cluster names: visible ASCII, no spaces.
    for (path, value) in [("cluster", &input.cluster), ("authority", &input.authority)] {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
            problems.push(problem(
                path,
                format!("expected visible ASCII without spaces, got {value:?}"),
            ));
        }
    }
    let token = token(&input.sync_token_env, &env, &mut problems);
    if !(1..=MAX_WAIT_SECS).contains(&input.wait_secs) {
        problems.push(problem(
            "wait_secs",
            format!("expected 1 to {MAX_WAIT_SECS}, got {}", input.wait_secs),
        ));
    }
    let wait_ms = input.wait_secs.saturating_mul(1_000);
    let timeout_ms = input
        .timeout_ms
        .unwrap_or(wait_ms.saturating_add(DEFAULT_TIMEOUT_MARGIN_MS));
    if timeout_ms <= wait_ms || timeout_ms > MAX_TIMEOUT_MS {
        // A timeout within `wait` would turn every quiet long-poll into a 504.
        problems.push(problem(
            "timeout_ms",
            format!(
                "expected more than wait_secs ({wait_ms} ms) and at most {MAX_TIMEOUT_MS}, got {timeout_ms}"
            ),
        ));
    }
    if !(1..=MAX_BACKOFF_MS).contains(&input.backoff_initial_ms) {
        problems.push(problem(
            "backoff_initial_ms",
            format!(
                "expected 1 to {MAX_BACKOFF_MS}, got {}",
                input.backoff_initial_ms
            ),
        ));
    }
    if !(input.backoff_initial_ms..=MAX_BACKOFF_MS).contains(&input.backoff_max_ms) {
        problems.push(problem(
            "backoff_max_ms",
            format!(
                "expected backoff_initial_ms ({}) to {MAX_BACKOFF_MS}, got {}",
                input.backoff_initial_ms, input.backoff_max_ms
            ),
        ));
    }
    if input.retention_secs > MAX_RETENTION_SECS {
        problems.push(problem(
            "retention_secs",
            format!(
                "expected 0 to {MAX_RETENTION_SECS}, got {}",
                input.retention_secs
            ),
        ));
    }
    match token {
        Some(token) if problems.is_empty() => Ok(ControlPlane {
            cluster: input.cluster,
            authority: input.authority,
            token,
            wait: Duration::from_secs(input.wait_secs),
            timeout: Duration::from_millis(timeout_ms),
            backoff_initial: Duration::from_millis(input.backoff_initial_ms),
            backoff_max: Duration::from_millis(input.backoff_max_ms),
            retention: Duration::from_secs(input.retention_secs),
        }),
        _ => Err(problems),
    }
}

/// The sync token from the environment variable `var`, checked for length and shape.
fn token(
    var: &str,
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigError>,
) -> Option<String> {
    let Some(token) = env(var) else {
        problems.push(problem(
            "sync_token_env",
            format!("expected environment variable {var} to be set (vm_config.environment_variables), got nothing"),
        ));
        return None;
    };
    let message = if token.len() < MIN_SYNC_TOKEN_LEN {
        format!(
            "expected a token of at least {MIN_SYNC_TOKEN_LEN} characters in {var}, got {}",
            token.len()
        )
    } else if !credentials::is_b64token(token.as_bytes()) {
        format!(
            "expected the token in {var} to use only A-Z a-z 0-9 - . _ ~ + / (RFC 6750 b64token), got other characters"
        )
    } else {
        return Some(token);
    };
    problems.push(problem("sync_token_env", message));
    None
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "sync_0123456789abcdefghijklmnopqrstuvwxyz";

    fn env(name: &str) -> Option<String> {
        match name {
            "PORTCULLIS_SYNC_TOKEN" | "OTHER_TOKEN" => Some(TOKEN.to_owned()),
            "SHORT_TOKEN" => Some("short".to_owned()),
            "SPACED_TOKEN" => Some(format!("{TOKEN} x")),
            _ => None,
        }
    }

    fn messages(json: &str) -> Vec<String> {
        parse(json.as_bytes(), env)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_empty_configuration_takes_every_default() {
        let plane = parse(b"", env).unwrap();
        assert_eq!(plane.cluster, "portcullis_control_plane");
        assert_eq!(plane.authority, "control-plane");
        assert_eq!(plane.token, TOKEN);
        assert_eq!(plane.wait, Duration::from_secs(30));
        assert_eq!(plane.timeout, Duration::from_secs(35));
        assert_eq!(plane.backoff_initial, Duration::from_millis(250));
        assert_eq!(plane.backoff_max, Duration::from_secs(30));
        assert_eq!(plane.retention, Duration::from_secs(3_600));
    }

    #[test]
    fn every_field_can_be_set() {
        let plane = parse(
            br#"{"cluster": "cp", "authority": "cp.internal:8080", "sync_token_env": "OTHER_TOKEN",
                "wait_secs": 60, "timeout_ms": 61000, "backoff_initial_ms": 10,
                "backoff_max_ms": 10, "retention_secs": 0}"#,
            env,
        )
        .unwrap();
        assert_eq!(
            (plane.cluster.as_str(), plane.authority.as_str()),
            ("cp", "cp.internal:8080")
        );
        assert_eq!(plane.wait, Duration::from_secs(60));
        assert_eq!(plane.timeout, Duration::from_millis(61_000));
        assert_eq!(plane.backoff_initial, plane.backoff_max);
        assert_eq!(plane.retention, Duration::ZERO);
    }

    #[test]
    fn each_bad_field_is_named_with_expected_and_actual_values() {
        let found = messages(
            r#"{"cluster": "", "authority": "a b", "wait_secs": 61, "timeout_ms": 1000,
                "backoff_initial_ms": 0, "backoff_max_ms": 3600001,
                "retention_secs": 2592001}"#,
        );
        assert_eq!(
            found,
            [
                r#"cluster: expected visible ASCII without spaces, got """#,
                r#"authority: expected visible ASCII without spaces, got "a b""#,
                "wait_secs: expected 1 to 60, got 61",
                "timeout_ms: expected more than wait_secs (61000 ms) and at most 4294967295, got 1000",
                "backoff_initial_ms: expected 1 to 3600000, got 0",
                "backoff_max_ms: expected backoff_initial_ms (0) to 3600000, got 3600001",
                "retention_secs: expected 0 to 2592000, got 2592001",
            ]
        );
    }

    #[test]
    fn a_timeout_no_longer_than_the_wait_is_refused() {
        let found = messages(r#"{"wait_secs": 10, "timeout_ms": 10000}"#);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("timeout_ms: expected more than wait_secs (10000 ms)"));
    }

    #[test]
    fn a_max_backoff_below_the_initial_one_is_refused() {
        let found = messages(r#"{"backoff_initial_ms": 500, "backoff_max_ms": 100}"#);
        assert_eq!(
            found,
            ["backoff_max_ms: expected backoff_initial_ms (500) to 3600000, got 100"]
        );
    }

    #[test]
    fn a_missing_short_or_malformed_token_is_refused_without_showing_it() {
        let missing = messages(r#"{"sync_token_env": "NOPE"}"#);
        assert_eq!(
            missing,
            [
                "sync_token_env: expected environment variable NOPE to be set (vm_config.environment_variables), got nothing"
            ]
        );
        let short = messages(r#"{"sync_token_env": "SHORT_TOKEN"}"#);
        assert_eq!(
            short,
            ["sync_token_env: expected a token of at least 32 characters in SHORT_TOKEN, got 5"]
        );
        let spaced = messages(r#"{"sync_token_env": "SPACED_TOKEN"}"#);
        assert!(spaced[0].contains("b64token"));
        assert!(!spaced[0].contains(TOKEN));
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_named_by_path() {
        assert!(messages(r#"{"clustr": "cp"}"#)[0].starts_with("clustr: unknown field `clustr`"));
        assert!(messages(r#"{"wait_secs": "30"}"#)[0].starts_with("wait_secs: invalid type"));
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let plane = parse(b"{}", env).unwrap();
        let debug = format!("{plane:?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("<redacted>"));
    }
}
