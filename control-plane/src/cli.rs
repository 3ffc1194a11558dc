//! The operator's CLI: `portcullis keys …`, `tiers …`, `orgs …` and `ratelimit export`, each
//! a client of the control-plane's HTTP API.
//!
//! It authenticates with `PORTCULLIS_ADMIN_TOKEN` (the bootstrap token or an admin key),
//! prints compact human output by default and the API's JSON verbatim with `--json`. An API
//! error becomes `error: <code>: <message>` and a non-zero exit. Limits are written
//! `120/minute` or `unlimited` and checked before anything is sent.

pub mod export;
pub mod keys;
pub mod orgs;
pub mod tiers;

use crate::ratelimit::tiers::TierError;
use crate::ratelimit::tiers::validation::parse_limit;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The environment variable holding the credential the CLI sends.
pub const TOKEN_ENV: &str = "PORTCULLIS_ADMIN_TOKEN";

/// Where the control-plane is and how to print its answers.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// Control-plane base URL.
    #[arg(
        long,
        env = "PORTCULLIS_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// Print the API's JSON response verbatim, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Why a CLI command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No credential in the environment.
    #[error("{TOKEN_ENV} is not set: export the admin token or an admin key")]
    NoToken,
    /// The API refused the request.
    #[error("{code}: {message}")]
    Api {
        /// The error body's `code`.
        code: String,
        /// The error body's `message`.
        message: String,
    },
    /// The control-plane could not be reached or its answer not read.
    #[error("request to {url} failed: {source}")]
    Http {
        /// What was requested.
        url: String,
        /// Why it failed.
        source: reqwest::Error,
    },
    /// An answer that is not the API's JSON.
    #[error("unexpected answer {status}: {body}")]
    Unexpected {
        /// The HTTP status.
        status: StatusCode,
        /// The start of the body.
        body: String,
    },
    /// A `--meta` value that is not a JSON object.
    #[error("--meta must be a JSON object: {0}")]
    Meta(String),
}

/// A successful answer: its status and body.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body as sent.
    pub text: String,
}

impl Answer {
    /// The body as JSON, or `Unexpected` when it is not.
    pub fn json(&self) -> Result<Value, CliError> {
        serde_json::from_str(&self.text).map_err(|_| self.unexpected())
    }

    fn unexpected(&self) -> CliError {
        CliError::Unexpected {
            status: self.status,
            body: self.text.chars().take(200).collect(),
        }
    }
}

/// Sends one request with the token from [`TOKEN_ENV`]; a non-2xx answer is an error,
/// `Api` when it carries the API's error body.
pub async fn call(
    base: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Answer, CliError> {
    let token = std::env::var(TOKEN_ENV).map_err(|_| CliError::NoToken)?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let http = |source| CliError::Http {
        url: url.clone(),
        source,
    };
    let mut builder = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(token);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let response = builder.send().await.map_err(http)?;
    let status = response.status();
    let answer = Answer {
        status,
        text: response.text().await.map_err(http)?,
    };
    if status.is_success() {
        return Ok(answer);
    }
    let parsed: Option<Value> = serde_json::from_str(&answer.text).ok();
    Err(match parsed.as_ref().map(|v| (&v["code"], &v["message"])) {
        Some((Value::String(code), Value::String(message))) => CliError::Api {
            code: code.clone(),
            message: message.clone(),
        },
        _ => answer.unexpected(),
    })
}

/// Sends a request and prints the answer: verbatim with `--json`, else through `print`.
pub async fn run_and_print(
    connection: &Connection,
    (method, path, body): (Method, String, Option<Value>),
    print: impl FnOnce(&Value),
) -> Result<Value, CliError> {
    let answer = call(&connection.url, method, &path, body.as_ref()).await?;
    let value = answer.json()?;
    if connection.json {
        println!("{}", answer.text);
    } else {
        print(&value);
    }
    Ok(value)
}

/// A limit flag (`120/minute` or `unlimited`) as the API's JSON, checked by the API's rules.
pub fn limit_arg(text: &str) -> Result<Value, TierError> {
    let limit = parse_limit("LIMIT", text)?;
    // Serializing a limit cannot fail; `Null` would be refused by the API anyway.
    Ok(serde_json::to_value(limit).unwrap_or(Value::Null))
}

/// Percent-encodes everything outside RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Shows a JSON value compactly: strings bare, `null` as `-`, lists space-separated, limits
/// as `120/minute`.
pub fn show(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(" "),
        Value::Object(fields) => match (&fields.get("requests_per_unit"), &fields.get("unit")) {
            (Some(count), Some(Value::String(unit))) => format!("{count}/{unit}"),
            _ => value.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits_show_as_they_are_typed() {
        let typed = limit_arg("120/minute").unwrap();
        assert_eq!(typed, json!({"requests_per_unit": 120, "unit": "minute"}));
        assert_eq!(show(&typed), "120/minute");
        assert_eq!(show(&limit_arg("unlimited").unwrap()), "unlimited");
        assert!(limit_arg("120/week").is_err());
    }

    #[test]
    fn encoding_keeps_unreserved_characters_only() {
        assert_eq!(encode("key_A-1.~"), "key_A-1.~");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
