//! The credentials and plugin configurations the tests share: a local admin token read
//! from the VM's environment (`token_env`) and a `system_admin` service token known only
//! by its SHA-256 (`token_sha256`).

use serde_json::{Value, json};

/// The environment variable holding [`ADMIN_TOKEN`] in the Wasm VM.
pub const ADMIN_TOKEN_ENV: &str = "PORTCULLIS_TEST_ADMIN_TOKEN";

/// The local admin's token (at least 50 characters, as `token_env` tokens must be).
pub const ADMIN_TOKEN: &str = "pc_test_local_admin_4f1c9e2a7b3d8e6f0a5c1b9d2e7f3a8c6b0d4e";

/// The service token with role `system_admin`.
pub const SERVICE_TOKEN: &str = "pc_test_service_ci_9b2e7d4a1f6c3e8b0d5a2f7c4e9b1d6a3f8c0e5b";

/// `printf %s "$SERVICE_TOKEN" | sha256sum`: the only form the configuration holds.
pub const SERVICE_TOKEN_SHA256: &str =
    "c53f39e14d9f454d314f9ad128be19c797ae322b7fe9299a296f027ac37d5fb0";

/// Well-formed but configured nowhere.
pub const UNKNOWN_TOKEN: &str = "pc_test_unknown_0000000000000000000000000000000000000000000";

/// The local admin's scopes.
pub const ADMIN_SCOPES: [&str; 2] = ["reports:read", "reports:write"];

/// The Wasm VM environment every fixture configuration needs.
pub const ENV: [(&str, &str); 1] = [(ADMIN_TOKEN_ENV, ADMIN_TOKEN)];

/// The two static tokens: `local-admin` (role `admin`, [`ADMIN_SCOPES`]) and `ci` (role
/// `system_admin`, no scopes).
pub fn static_tokens() -> Value {
    json!([
        {"name": "local-admin", "token_env": ADMIN_TOKEN_ENV,
         "subject": "local-admin", "role": "admin", "scopes": ADMIN_SCOPES},
        {"name": "ci", "token_sha256": SERVICE_TOKEN_SHA256,
         "subject": "ci", "role": "system_admin", "scopes": []}
    ])
}

/// An `enforce` configuration with [`static_tokens`] and `routes`.
pub fn enforce(routes: Value) -> Value {
    json!({
        "mode": "enforce",
        "realm": "portcullis",
        "static_tokens": static_tokens(),
        "routes": routes,
    })
}

/// The route table most tests use: `/health` public for GET and HEAD, `/docs/` optional,
/// `/admin/` for `system_admin`, `/reports/status` public but the rest of `/reports/`
/// needing `reports:read` (`/reports/shadowed` too: the first match wins), `/exports/`
/// needing both report scopes and `/billing/` needing `billing:read`; everything else
/// required.
pub fn routes() -> Value {
    json!([
        {"exact": "/health", "methods": ["GET", "HEAD"], "access": "public"},
        {"prefix": "/docs/", "access": "optional"},
        {"prefix": "/admin/", "roles": ["system_admin"]},
        {"exact": "/reports/status", "access": "public"},
        {"prefix": "/reports/", "scopes": {"any_of": ["reports:read"]}},
        {"exact": "/reports/shadowed", "access": "public"},
        {"prefix": "/exports/", "scopes": {"all_of": ["reports:read", "reports:write"]}},
        {"prefix": "/billing/", "scopes": {"any_of": ["billing:read"]}}
    ])
}

/// The Wasm VM environment of the syncer (and filter) when API keys are synced.
pub const SYNC_ENV: [(&str, &str); 2] = [
    (ADMIN_TOKEN_ENV, ADMIN_TOKEN),
    ("PORTCULLIS_SYNC_TOKEN", crate::control_plane::SYNC_TOKEN),
];

/// [`enforce`] with API keys enabled.
pub fn with_api_keys(routes: Value) -> Value {
    let mut config = enforce(routes);
    config["api_keys"] = json!({"enabled": true});
    config
}

/// The syncer's configuration: the `portcullis_control_plane` cluster, the sync token from
/// the VM's environment, and short long-polls so tests end promptly.
pub fn syncer() -> Value {
    json!({
        "cluster": "portcullis_control_plane",
        "sync_token_env": "PORTCULLIS_SYNC_TOKEN",
        "wait_secs": 5,
        "backoff_initial_ms": 100,
        "backoff_max_ms": 1000,
    })
}
