//! Local replies: the only place a denial becomes a status, headers and a JSON body.
//!
//! 401 and 400 carry `WWW-Authenticate: Bearer` with the RFC 6750 §3 error attribute; a 403
//! for missing scopes carries `insufficient_scope` and the `scope` needed. Bodies share one
//! shape, `{"error", "code", "message", "retryable"}`, and never echo a credential. A 429
//! for too many failed credentials carries `retry-after` and the `x-ratelimit-*` headers the
//! rate-limit service writes (draft-polli-ratelimit-headers-03).

use crate::api_key::KeyRejection;
use crate::decision::{Code, Denial};
use crate::identity::{HEADER_PREFIX, Identity};
use crate::policy::Unmet;
use serde::Serialize;

/// A reply the filter sends instead of forwarding the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u32,
    /// Response headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
    message: String,
    retryable: bool,
}

/// The reply for `denial`, naming `realm` in `WWW-Authenticate`.
pub fn render(denial: &Denial, realm: &str) -> Reply {
    let code = denial.code();
    let (status, error) = match code {
        Code::InvalidRequest => (400, "bad_request"),
        Code::MissingCredentials
        | Code::InvalidCredentials
        | Code::ExpiredCredentials
        | Code::RevokedCredentials
        | Code::UntrustedNetwork => (401, "unauthorized"),
        Code::InsufficientScope | Code::Forbidden => (403, "forbidden"),
        Code::NotReady => (503, "unavailable"),
        Code::RateLimited => (429, "too_many_requests"),
    };
    let message = match denial {
        Denial::MissingCredentials => {
            "this route requires a credential: send Authorization: Bearer <token> or X-API-Key"
                .to_owned()
        }
        Denial::InvalidCredentials => "the presented credential is not valid".to_owned(),
        Denial::UntrustedNetwork { .. } => {
            "zero-auth mode accepts requests only from its trusted networks".to_owned()
        }
        Denial::ApiKey(KeyRejection::Expired { .. }) => "the API key has expired".to_owned(),
        Denial::ApiKey(KeyRejection::Revoked { .. }) => "the API key has been revoked".to_owned(),
        Denial::ApiKey(KeyRejection::NotReady) => {
            "API keys are not loaded yet; retry shortly".to_owned()
        }
        // Unknown, disabled, malformed or unreadable: one answer, so a client learns
        // nothing about which keys exist.
        Denial::ApiKey(_) => "the presented credential is not valid".to_owned(),
        // Which check failed goes to the log only: the client learns expiry and readiness.
        Denial::Jwt(rejection) => match rejection.code() {
            Code::ExpiredCredentials => "the token has expired".to_owned(),
            Code::NotReady => "token signing keys are not loaded yet; retry shortly".to_owned(),
            _ => "the presented credential is not valid".to_owned(),
        },
        Denial::RateLimited(blocked) => format!(
            "too many failed credentials from this client; retry in {} seconds",
            blocked.retry_after_secs
        ),
        Denial::InvalidRequest(_) | Denial::Unmet(_) => denial.to_string(),
    };
    let body = Body {
        error,
        code: code.as_str(),
        message,
        retryable: matches!(code, Code::NotReady | Code::RateLimited),
    };
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("cache-control", "no-store".to_owned()),
    ];
    if let Some(challenge) = challenge(denial, realm) {
        headers.push(("www-authenticate", challenge));
    }
    if let Denial::RateLimited(blocked) = denial {
        let (limit, window) = (blocked.limit, blocked.window_secs);
        let reset = blocked.retry_after_secs.to_string();
        headers.extend([
            ("retry-after", reset.clone()),
            ("x-ratelimit-limit", format!("{limit}, {limit};w={window}")),
            ("x-ratelimit-remaining", "0".to_owned()),
            ("x-ratelimit-reset", reset),
        ]);
    }
    Reply {
        status,
        headers,
        // Serializing a struct of strings and a bool cannot fail; an empty body would
        // still be a correct denial.
        body: serde_json::to_string(&body).unwrap_or_default(),
    }
}

/// The reply when the filter cannot decide at all (its configuration is missing or Envoy
/// refused a header operation): 503, failing closed.
pub fn unavailable() -> Reply {
    let body = Body {
        error: "unavailable",
        code: "unavailable",
        message: "the authentication filter cannot decide this request".to_owned(),
        retryable: true,
    };
    Reply {
        status: 503,
        headers: vec![("content-type", "application/json".to_owned())],
        body: serde_json::to_string(&body).unwrap_or_default(),
    }
}

/// The whoami answer: 200 with the caller's identity as JSON, as the upstream would see it
/// in the `x-auth-*` headers (roles and scopes as arrays).
pub fn whoami(identity: &Identity) -> Reply {
    let mut body = serde_json::Map::new();
    for (name, value) in identity.headers() {
        let field = name
            .strip_prefix(HEADER_PREFIX)
            .unwrap_or(name)
            .replace('-', "_");
        body.insert(field, serde_json::Value::from(value));
    }
    body.insert(
        "roles".into(),
        serde_json::Value::from(identity.roles.clone()),
    );
    body.insert(
        "scopes".into(),
        serde_json::Value::from(identity.scopes.clone()),
    );
    body.remove("role");
    Reply {
        status: 200,
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("cache-control", "no-store".to_owned()),
        ],
        body: serde_json::Value::Object(body).to_string(),
    }
}

/// The `WWW-Authenticate` value (RFC 6750 §3): no error attribute when no credential was
/// presented (§3.1), none on a role denial, which is not a token problem.
fn challenge(denial: &Denial, realm: &str) -> Option<String> {
    let base = format!("Bearer realm=\"{realm}\"");
    match denial {
        Denial::MissingCredentials | Denial::UntrustedNetwork { .. } => Some(base),
        Denial::InvalidCredentials
        | Denial::ApiKey(KeyRejection::Revoked { .. })
        | Denial::ApiKey(KeyRejection::Expired { .. })
        | Denial::ApiKey(KeyRejection::Malformed)
        | Denial::ApiKey(KeyRejection::Unknown { .. })
        | Denial::ApiKey(KeyRejection::Disabled { .. })
        | Denial::ApiKey(KeyRejection::Corrupt { .. }) => {
            Some(format!("{base}, error=\"invalid_token\""))
        }
        Denial::ApiKey(KeyRejection::NotReady) => None,
        Denial::Jwt(rejection) if rejection.code() == Code::NotReady => None,
        Denial::Jwt(_) => Some(format!("{base}, error=\"invalid_token\"")),
        Denial::InvalidRequest(_) => Some(format!("{base}, error=\"invalid_request\"")),
        Denial::Unmet(Unmet::Scopes { advertised, .. }) => Some(format!(
            "{base}, error=\"insufficient_scope\", scope=\"{}\"",
            advertised.join(" ")
        )),
        Denial::Unmet(Unmet::Role { .. }) | Denial::RateLimited(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::ExtractError;
    use serde_json::Value;

    fn header<'r>(reply: &'r Reply, name: &str) -> Option<&'r str> {
        reply
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn body(reply: &Reply) -> Value {
        serde_json::from_str(&reply.body).unwrap()
    }

    #[test]
    fn missing_credentials_is_401_with_a_bare_bearer_challenge() {
        let reply = render(&Denial::MissingCredentials, "portcullis");
        assert_eq!(reply.status, 401);
        assert_eq!(
            header(&reply, "www-authenticate"),
            Some(r#"Bearer realm="portcullis""#)
        );
        assert_eq!(header(&reply, "content-type"), Some("application/json"));
        let body = body(&reply);
        assert_eq!(body["error"], "unauthorized");
        assert_eq!(body["code"], "missing_credentials");
        assert_eq!(body["retryable"], false);
    }

    #[test]
    fn invalid_credentials_is_401_invalid_token() {
        let reply = render(&Denial::InvalidCredentials, "api");
        assert_eq!(reply.status, 401);
        assert_eq!(
            header(&reply, "www-authenticate"),
            Some(r#"Bearer realm="api", error="invalid_token""#)
        );
        assert_eq!(body(&reply)["code"], "invalid_credentials");
    }

    #[test]
    fn malformed_headers_are_400_invalid_request() {
        let reply = render(&ExtractError::DuplicateAuthorization.into(), "api");
        assert_eq!(reply.status, 400);
        assert_eq!(
            header(&reply, "www-authenticate"),
            Some(r#"Bearer realm="api", error="invalid_request""#)
        );
        let body = body(&reply);
        assert_eq!(body["error"], "bad_request");
        assert_eq!(
            body["message"],
            "the request has more than one authorization header"
        );
    }

    #[test]
    fn missing_scope_is_403_advertising_the_scope() {
        let unmet = Unmet::Scopes {
            required: r#"one of ["reports:read"]"#.into(),
            advertised: vec!["reports:read".into()],
            held: String::new(),
        };
        let reply = render(&unmet.into(), "api");
        assert_eq!(reply.status, 403);
        assert_eq!(
            header(&reply, "www-authenticate"),
            Some(r#"Bearer realm="api", error="insufficient_scope", scope="reports:read""#)
        );
        assert_eq!(body(&reply)["code"], "insufficient_scope");
    }

    #[test]
    fn wrong_role_is_403_forbidden_without_a_challenge() {
        let unmet = Unmet::Role {
            expected: vec!["system_admin".into()],
            actual: vec!["admin".into()],
        };
        let reply = render(&unmet.into(), "api");
        assert_eq!(reply.status, 403);
        assert_eq!(header(&reply, "www-authenticate"), None);
        assert_eq!(body(&reply)["code"], "forbidden");
    }

    #[test]
    fn expired_and_revoked_keys_are_401_invalid_token_with_their_codes() {
        for (rejection, code) in [
            (
                KeyRejection::Expired {
                    key_id: "key_1".into(),
                    expires_at: 1,
                    now: 2,
                },
                "expired_credentials",
            ),
            (
                KeyRejection::Revoked {
                    key_id: "key_1".into(),
                },
                "revoked_credentials",
            ),
        ] {
            let reply = render(&rejection.into(), "api");
            assert_eq!(reply.status, 401);
            assert_eq!(
                header(&reply, "www-authenticate"),
                Some(r#"Bearer realm="api", error="invalid_token""#)
            );
            assert_eq!(body(&reply)["code"], code);
            assert!(!reply.body.contains("key_1"), "the key id stays in the log");
        }
    }

    #[test]
    fn unknown_and_disabled_keys_look_the_same_to_the_client() {
        let unknown = render(
            &KeyRejection::Unknown {
                prefix: "sk_ab".into(),
            }
            .into(),
            "api",
        );
        let disabled = render(
            &KeyRejection::Disabled {
                key_id: "key_1".into(),
            }
            .into(),
            "api",
        );
        assert_eq!(unknown, disabled);
        assert_eq!(body(&unknown)["code"], "invalid_credentials");
    }

    #[test]
    fn not_ready_is_a_retryable_503() {
        let reply = render(&KeyRejection::NotReady.into(), "api");
        assert_eq!(reply.status, 503);
        let body = body(&reply);
        assert_eq!(
            (body["code"].as_str(), body["retryable"].as_bool()),
            (Some("not_ready"), Some(true))
        );
    }

    #[test]
    fn too_many_failures_is_a_retryable_429_with_retry_after_and_ratelimit_headers() {
        let blocked = crate::failure_limit::Blocked {
            limit: 60,
            window_secs: 60,
            retry_after_secs: 17,
        };
        let reply = render(&Denial::RateLimited(blocked), "api");
        assert_eq!(reply.status, 429);
        assert_eq!(header(&reply, "retry-after"), Some("17"));
        assert_eq!(header(&reply, "x-ratelimit-limit"), Some("60, 60;w=60"));
        assert_eq!(header(&reply, "x-ratelimit-remaining"), Some("0"));
        assert_eq!(header(&reply, "x-ratelimit-reset"), Some("17"));
        assert_eq!(header(&reply, "www-authenticate"), None);
        assert_eq!(header(&reply, "content-type"), Some("application/json"));
        let body = body(&reply);
        assert_eq!(body["error"], "too_many_requests");
        assert_eq!(body["code"], "rate_limited");
        assert_eq!(body["retryable"], true);
        assert_eq!(
            body["message"],
            "too many failed credentials from this client; retry in 17 seconds"
        );
    }

    #[test]
    fn untrusted_peer_in_zero_auth_is_401() {
        let reply = render(
            &Denial::UntrustedNetwork {
                peer: "10.0.0.1".into(),
            },
            "api",
        );
        assert_eq!(reply.status, 401);
        assert_eq!(body(&reply)["code"], "untrusted_network");
        assert!(!reply.body.contains("10.0.0.1"));
    }
}
