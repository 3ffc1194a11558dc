//! `portcullis keys …`: create, list, read, change, revoke and rotate API keys.

use super::{CliError, Connection, encode, limit_arg, run_and_print, show};
use reqwest::Method;
use serde_json::{Map, Value, json};

/// `portcullis keys`: manage API keys on a running control-plane.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    /// Where the control-plane is.
    #[command(flatten)]
    pub connection: Connection,
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// One key operation.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret (shown only once).
    Create {
        /// Human label.
        #[arg(long)]
        name: String,
        /// Owning org.
        #[arg(long)]
        org_id: String,
        /// A scope to grant (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A role to give (repeatable); `admin` may manage the org's keys.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Rate-limit tier.
        #[arg(long)]
        tier: Option<String>,
        /// Expiry, Unix seconds.
        #[arg(long)]
        expires_at: Option<i64>,
        /// Metadata, a JSON object.
        #[arg(long)]
        meta: Option<String>,
    },
    /// List keys, oldest first.
    List {
        /// Only this org.
        #[arg(long)]
        org_id: Option<String>,
        /// Page size (1 to 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Cursor from the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one key.
    Get {
        /// Key id.
        id: String,
    },
    /// Change a key's metadata.
    Update {
        /// Key id.
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// Replace the scopes with these (repeatable).
        #[arg(long = "scope", conflicts_with = "clear_scopes")]
        scopes: Vec<String>,
        /// Remove every scope.
        #[arg(long)]
        clear_scopes: bool,
        /// Replace the roles with these (repeatable).
        #[arg(long = "role", conflicts_with = "clear_roles")]
        roles: Vec<String>,
        /// Remove every role.
        #[arg(long)]
        clear_roles: bool,
        /// New tier.
        #[arg(long, conflicts_with = "clear_tier")]
        tier: Option<String>,
        /// Remove the tier.
        #[arg(long)]
        clear_tier: bool,
        /// New expiry, Unix seconds.
        #[arg(long, conflicts_with = "clear_expiry")]
        expires_at: Option<i64>,
        /// Remove the expiry.
        #[arg(long)]
        clear_expiry: bool,
        /// New metadata, a JSON object.
        #[arg(long)]
        meta: Option<String>,
        /// Enable the key.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the key.
        #[arg(long)]
        disable: bool,
        /// The key's own per-key limit, replacing its tier's: `120/minute` or `unlimited`.
        #[arg(long, value_parser = limit_arg, conflicts_with = "clear_rate_limit")]
        rate_limit: Option<Value>,
        /// Remove the key's own limit: its tier's applies again.
        #[arg(long)]
        clear_rate_limit: bool,
    },
    /// Revoke a key at once.
    Revoke {
        /// Key id.
        id: String,
    },
    /// Give a key a new secret; the old one works until the grace ends.
    Rotate {
        /// Key id.
        id: String,
        /// Seconds the old secret keeps working (0 to 2592000).
        #[arg(long)]
        grace_secs: u64,
    },
}

/// Runs one `portcullis keys` command, printing its result.
pub async fn run(args: KeysArgs) -> Result<(), CliError> {
    let request = request(&args.command)?;
    let value = run_and_print(&args.connection, request, |value| match &args.command {
        KeysCommand::List { .. } => print_page(value),
        _ => print_key(value),
    })
    .await?;
    if let (false, Value::String(secret)) = (args.connection.json, &value["key"]) {
        println!("key        {secret}");
        eprintln!("warning: store this key now; it will not be shown again");
    }
    Ok(())
}

/// The HTTP method, path with query, and JSON body of a command.
fn request(command: &KeysCommand) -> Result<(Method, String, Option<Value>), CliError> {
    Ok(match command {
        KeysCommand::Create {
            name,
            org_id,
            scopes,
            roles,
            tier,
            expires_at,
            meta,
        } => {
            let mut body =
                json!({"name": name, "org_id": org_id, "scopes": scopes, "roles": roles});
            set(&mut body, "tier", tier.as_ref().map(|t| json!(t)));
            set(&mut body, "expires_at", expires_at.map(|t| json!(t)));
            set(
                &mut body,
                "meta",
                meta.as_deref().map(parse_meta).transpose()?,
            );
            (Method::POST, "/v1/keys".to_owned(), Some(body))
        }
        KeysCommand::List {
            org_id,
            limit,
            cursor,
        } => {
            let query: Vec<String> = [
                org_id.as_ref().map(|o| format!("org_id={}", encode(o))),
                limit.map(|l| format!("limit={l}")),
                cursor.as_ref().map(|c| format!("cursor={}", encode(c))),
            ]
            .into_iter()
            .flatten()
            .collect();
            let path = if query.is_empty() {
                "/v1/keys".to_owned()
            } else {
                format!("/v1/keys?{}", query.join("&"))
            };
            (Method::GET, path, None)
        }
        KeysCommand::Get { id } => (Method::GET, key_path(id), None),
        KeysCommand::Update {
            id,
            name,
            scopes,
            clear_scopes,
            roles,
            clear_roles,
            tier,
            clear_tier,
            expires_at,
            clear_expiry,
            meta,
            enable,
            disable,
            rate_limit,
            clear_rate_limit,
        } => {
            let mut body = json!({});
            set(&mut body, "name", name.as_ref().map(|n| json!(n)));
            set(
                &mut body,
                "scopes",
                (!scopes.is_empty() || *clear_scopes).then(|| json!(scopes)),
            );
            set(
                &mut body,
                "roles",
                (!roles.is_empty() || *clear_roles).then(|| json!(roles)),
            );
            set(
                &mut body,
                "tier",
                tier.as_ref()
                    .map(|t| json!(t))
                    .or(clear_tier.then_some(Value::Null)),
            );
            set(
                &mut body,
                "expires_at",
                expires_at
                    .map(|t| json!(t))
                    .or(clear_expiry.then_some(Value::Null)),
            );
            set(
                &mut body,
                "meta",
                meta.as_deref().map(parse_meta).transpose()?,
            );
            set(
                &mut body,
                "enabled",
                (*enable || *disable).then_some(json!(*enable)),
            );
            set(
                &mut body,
                "rate_limit",
                rate_limit
                    .clone()
                    .or(clear_rate_limit.then_some(Value::Null)),
            );
            (Method::PATCH, key_path(id), Some(body))
        }
        KeysCommand::Revoke { id } => (Method::DELETE, key_path(id), None),
        KeysCommand::Rotate { id, grace_secs } => (
            Method::POST,
            format!("{}/rotate", key_path(id)),
            Some(json!({"grace_secs": grace_secs})),
        ),
    })
}

fn set(body: &mut Value, field: &str, value: Option<Value>) {
    if let (Value::Object(map), Some(value)) = (body, value) {
        map.insert(field.to_owned(), value);
    }
}

fn parse_meta(text: &str) -> Result<Value, CliError> {
    serde_json::from_str::<Map<String, Value>>(text)
        .map(Value::Object)
        .map_err(|e| CliError::Meta(e.to_string()))
}

fn key_path(id: &str) -> String {
    format!("/v1/keys/{}", encode(id))
}

fn status(key: &Value) -> &'static str {
    if !key["revoked_at"].is_null() {
        "revoked"
    } else if key["enabled"] == Value::Bool(false) {
        "disabled"
    } else {
        "active"
    }
}

fn print_key(key: &Value) {
    println!("id         {}", show(&key["id"]));
    println!("prefix     {}", show(&key["prefix"]));
    println!("name       {}", show(&key["name"]));
    println!("org_id     {}", show(&key["org_id"]));
    println!("status     {}", status(key));
    for field in [
        "scopes",
        "roles",
        "tier",
        "rate_limit",
        "expires_at",
        "created_at",
        "updated_at",
        "revoked_at",
    ] {
        println!("{field:<10} {}", show(&key[field]));
    }
    if key["meta"].as_object().is_some_and(|m| !m.is_empty()) {
        println!("meta       {}", key["meta"]);
    }
}

fn print_page(page: &Value) {
    let items = page["items"].as_array().map_or(&[][..], Vec::as_slice);
    println!(
        "{:<21} {:<8} {:<16} {:<8} NAME",
        "ID", "PREFIX", "ORG", "STATUS"
    );
    for key in items {
        println!(
            "{:<21} {:<8} {:<16} {:<8} {}",
            show(&key["id"]),
            show(&key["prefix"]),
            show(&key["org_id"]),
            status(key),
            show(&key["name"])
        );
    }
    if let Value::String(cursor) = &page["next_cursor"] {
        println!("more: --cursor {cursor}");
    }
}
