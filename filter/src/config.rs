//! The plugin configuration: JSON input types, and their validation into a [`Config`].
//!
//! Parsed once per `on_configure`, never per request. A configuration with any problem is
//! refused whole; every problem is reported with the field's path and the expected and
//! actual values, and a secret's value never appears in a message.

use crate::credentials;
use crate::failure_limit::FailureLimit;
use crate::identity::{Identity, Method};
use crate::policy::Policy;
use crate::static_token::{self, StaticTokens, TokenDigest};
use crate::trusted_networks::{DEFAULT_TRUSTED_NETWORKS, TrustedNetworks};
pub use jwt::JwtSettings;
use routes::{RouteConfig, route};
use serde::Deserialize;

/// The shortest static token accepted: shorter shared secrets are guessable.
pub const MIN_TOKEN_LEN: usize = 50;
/// The prefix reserved for API keys; a static token may not use it.
pub const API_KEY_PREFIX: &str = "sk_";

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Enforce credentials, or zero-auth for local development.
    pub mode: Mode,
    /// The `realm` of `WWW-Authenticate` (RFC 6750 §3).
    pub realm: String,
    /// Remove the credential header(s) before the upstream.
    pub hide_credentials: bool,
    /// The static tokens.
    pub tokens: StaticTokens,
    /// Whether `sk_…` credentials are checked against the API keys the syncer publishes.
    pub api_keys: bool,
    /// JWT verification, when enabled.
    pub jwt: Option<JwtSettings>,
    /// The path the filter answers itself with the caller's identity, if any.
    pub whoami_path: Option<String>,
    /// The route rules.
    pub policy: Policy,
    /// Brute-force protection: failed credentials limited per client; `None` when off.
    pub failure_limit: Option<FailureLimit>,
}

/// How requests on non-public routes are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A valid credential is checked on every non-public route.
    Enforce,
    /// Every request from a trusted network is `local_admin`; others are refused.
    ZeroAuth {
        /// The networks let in.
        trusted: TrustedNetworks,
        /// The identity they get (boxed: it is large and the mode is matched per request).
        identity: Box<Identity>,
    },
}

impl Config {
    /// Whether deciding needs the downstream address (zero-auth and the failure limit do),
    /// so the glue skips that host call otherwise.
    pub fn needs_peer(&self) -> bool {
        matches!(self.mode, Mode::ZeroAuth { .. }) || self.failure_limit.is_some()
    }
}

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The field, such as `routes[1].access`.
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginConfig {
    #[serde(default)]
    mode: ModeConfig,
    #[serde(default = "default_realm")]
    realm: String,
    #[serde(default)]
    hide_credentials: bool,
    #[serde(default)]
    zero_auth: ZeroAuthConfig,
    #[serde(default)]
    static_tokens: Vec<StaticTokenConfig>,
    #[serde(default)]
    api_keys: ApiKeysConfig,
    #[serde(default)]
    jwt: jwt::JwtConfig,
    whoami_path: Option<String>,
    #[serde(default)]
    routes: Vec<RouteConfig>,
    #[serde(default)]
    failure_limit: failure_limit::FailureLimitConfig,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApiKeysConfig {
    #[serde(default)]
    enabled: bool,
}

fn default_realm() -> String {
    "portcullis".to_owned()
}

#[derive(Deserialize, Default, PartialEq)]
#[serde(rename_all = "snake_case")]
enum ModeConfig {
    #[default]
    Enforce,
    ZeroAuth,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZeroAuthConfig {
    trusted_networks: Vec<String>,
}

impl Default for ZeroAuthConfig {
    fn default() -> Self {
        let trusted_networks = DEFAULT_TRUSTED_NETWORKS.map(str::to_owned).to_vec();
        ZeroAuthConfig { trusted_networks }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaticTokenConfig {
    name: String,
    token_env: Option<String>,
    token_sha256: Option<String>,
    subject: String,
    role: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// Problems found so far, each with its path.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Parses and validates the plugin configuration. `env` reads the environment variables
/// Envoy exposes to the VM (`vm_config.environment_variables`). An empty configuration is
/// `{}`: enforce mode, no tokens, every route protected.
pub fn parse(
    bytes: &[u8],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        bytes
    };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let input: PluginConfig = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = match e.path().to_string() {
            p if p == "." => "configuration".to_owned(),
            p => p,
        };
        vec![ConfigError {
            path,
            message: e.into_inner().to_string(),
        }]
    })?;
    let mut problems = Problems::default();
    let mode = mode(&input, &mut problems);
    let realm = input.realm.clone();
    if realm.is_empty()
        || !realm
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        problems.add(
            "realm",
            format!("expected printable ASCII without quotes or backslashes, got {realm:?}"),
        );
    }
    let tokens = static_tokens(&input.static_tokens, &env, &mut problems);
    let jwt = jwt::jwt(&input.jwt, &env, &mut problems.0);
    if let Some(path) = &input.whoami_path
        && (!path.starts_with('/')
            || !path.bytes().all(|b| b.is_ascii_graphic())
            || path.contains('?'))
    {
        problems.add(
            "whoami_path",
            format!("expected an absolute path without a query, such as /.well-known/portcullis/whoami, got {path:?}"),
        );
    }
    let routes = input
        .routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| route(r, &format!("routes[{i}]"), &mut problems))
        .collect();
    let failure_limit = failure_limit::failure_limit(&input.failure_limit, &mut problems);
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(Config {
        mode,
        realm,
        hide_credentials: input.hide_credentials,
        tokens,
        api_keys: input.api_keys.enabled,
        jwt,
        whoami_path: input.whoami_path,
        policy: Policy::new(routes),
        failure_limit,
    })
}

fn mode(input: &PluginConfig, problems: &mut Problems) -> Mode {
    if input.mode == ModeConfig::Enforce {
        return Mode::Enforce;
    }
    let mut networks = Vec::new();
    for (i, text) in input.zero_auth.trusted_networks.iter().enumerate() {
        match TrustedNetworks::parse_network(text) {
            Some(net) => networks.push(net),
            None => problems.add(
                format!("zero_auth.trusted_networks[{i}]"),
                format!("expected a network such as 127.0.0.0/8 or an address, got {text:?}"),
            ),
        }
    }
    Mode::ZeroAuth {
        trusted: TrustedNetworks::new(networks),
        identity: Box::new(Identity::zero_auth()),
    }
}

fn static_tokens(
    inputs: &[StaticTokenConfig],
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> StaticTokens {
    let mut entries: Vec<(TokenDigest, Identity)> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let path = format!("static_tokens[{i}]");
        if input.name.is_empty() || names.contains(&input.name.as_str()) {
            problems.add(
                format!("{path}.name"),
                format!("expected a unique, non-empty name, got {:?}", input.name),
            );
        }
        names.push(&input.name);
        label(&input.subject, &format!("{path}.subject"), problems);
        label(&input.role, &format!("{path}.role"), problems);
        for (j, scope) in input.scopes.iter().enumerate() {
            label(scope, &format!("{path}.scopes[{j}]"), problems);
        }
        let Some(digest) = token_digest(input, &path, env, problems) else {
            continue;
        };
        if entries.iter().any(|(d, _)| *d == digest) {
            problems.add(
                &path,
                "expected a distinct token, got the same token as an earlier entry",
            );
            continue;
        }
        let identity = Identity::new(
            Method::StaticToken,
            input.subject.clone(),
            vec![input.role.clone()],
            input.scopes.clone(),
        );
        entries.push((digest, identity));
    }
    StaticTokens::new(entries)
}

/// The token's digest, from `token_env` (checked for length and shape) or `token_sha256`.
fn token_digest(
    input: &StaticTokenConfig,
    path: &str,
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<TokenDigest> {
    match (&input.token_env, &input.token_sha256) {
        (Some(var), None) => {
            let path = format!("{path}.token_env");
            let Some(token) = env(var) else {
                problems.add(path, format!("expected environment variable {var} to be set (vm_config.environment_variables), got nothing"));
                return None;
            };
            let problem = if token.len() < MIN_TOKEN_LEN {
                format!(
                    "expected a token of at least {MIN_TOKEN_LEN} characters in {var}, got {}",
                    token.len()
                )
            } else if !credentials::is_b64token(token.as_bytes()) {
                format!(
                    "expected the token in {var} to use only A-Z a-z 0-9 - . _ ~ + / (RFC 6750 b64token), got other characters"
                )
            } else if token.starts_with(API_KEY_PREFIX) {
                format!(
                    "expected a token not starting with {API_KEY_PREFIX:?} (reserved for API keys), got one that does in {var}"
                )
            } else {
                return Some(static_token::digest(token.as_bytes()));
            };
            problems.add(path, problem);
            None
        }
        (None, Some(hex)) => {
            let digest = decode_sha256_hex(hex);
            if digest.is_none() {
                problems.add(
                    format!("{path}.token_sha256"),
                    format!(
                        "expected 64 hexadecimal characters, got {} characters",
                        hex.len()
                    ),
                );
            }
            digest
        }
        (env, digest) => {
            let got = if env.is_some() && digest.is_some() {
                "both"
            } else {
                "neither"
            };
            problems.add(
                path,
                format!("expected exactly one of token_env or token_sha256, got {got}"),
            );
            None
        }
    }
}

fn decode_sha256_hex(hex: &str) -> Option<TokenDigest> {
    let mut digest = [0u8; 32];
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(digest)
}

/// Subjects, roles and scopes travel in headers and in RFC 6750 `scope` attributes:
/// visible ASCII, no spaces, no quotes or backslashes.
fn label(value: &str, path: &str, problems: &mut Problems) {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| (b'!'..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if !ok {
        problems.add(
            path,
            format!("expected visible ASCII without spaces, quotes or backslashes, got {value:?}"),
        );
    }
}

mod failure_limit;
mod jwt;
mod routes;
#[cfg(test)]
mod tests;
