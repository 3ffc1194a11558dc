//! `portcullis tiers …`: list, read, set and delete rate-limit tiers (bootstrap admin).

use super::{CliError, Connection, encode, limit_arg, run_and_print, show};
use reqwest::Method;
use serde_json::{Value, json};

/// `portcullis tiers`: manage rate-limit tiers on a running control-plane.
#[derive(Debug, clap::Args)]
pub struct TiersArgs {
    /// Where the control-plane is.
    #[command(flatten)]
    pub connection: Connection,
    /// What to do.
    #[command(subcommand)]
    pub command: TiersCommand,
}

/// One tier operation. Limits are `120/minute` (second, minute, hour, day) or `unlimited`.
#[derive(Debug, clap::Subcommand)]
pub enum TiersCommand {
    /// List every tier.
    List,
    /// Show one tier.
    Get {
        /// Tier name.
        name: String,
    },
    /// Create a tier, or replace all three limits of an existing one.
    Set {
        /// Tier name, `[a-z0-9_-]{1,32}`.
        name: String,
        /// Per client IP before authentication (only the `default` tier's applies).
        #[arg(long, value_parser = limit_arg)]
        per_ip: Value,
        /// Per API key in the tier.
        #[arg(long, value_parser = limit_arg)]
        per_key: Value,
        /// Per org, over the org's callers in the tier.
        #[arg(long, value_parser = limit_arg)]
        per_org: Value,
    },
    /// Delete a tier no unrevoked key uses (never `default`).
    Delete {
        /// Tier name.
        name: String,
    },
}

/// Runs one `portcullis tiers` command, printing its result.
pub async fn run(args: TiersArgs) -> Result<(), CliError> {
    let path = |name: &str| format!("/v1/tiers/{}", encode(name));
    let request = match &args.command {
        TiersCommand::List => (Method::GET, "/v1/tiers".to_owned(), None),
        TiersCommand::Get { name } => (Method::GET, path(name), None),
        TiersCommand::Set {
            name,
            per_ip,
            per_key,
            per_org,
        } => (
            Method::PUT,
            path(name),
            Some(json!({"per_ip": per_ip, "per_key": per_key, "per_org": per_org})),
        ),
        TiersCommand::Delete { name } => (Method::DELETE, path(name), None),
    };
    run_and_print(&args.connection, request, |value| match &args.command {
        TiersCommand::List => print_list(value),
        _ => print_tier(value),
    })
    .await
    .map(|_| ())
}

fn print_tier(tier: &Value) {
    for field in [
        "name",
        "per_ip",
        "per_key",
        "per_org",
        "created_at",
        "updated_at",
    ] {
        println!("{field:<10} {}", show(&tier[field]));
    }
}

fn print_list(list: &Value) {
    let items = list["items"].as_array().map_or(&[][..], Vec::as_slice);
    println!("{:<32} {:<16} {:<16} PER_ORG", "NAME", "PER_IP", "PER_KEY");
    for tier in items {
        println!(
            "{:<32} {:<16} {:<16} {}",
            show(&tier["name"]),
            show(&tier["per_ip"]),
            show(&tier["per_key"]),
            show(&tier["per_org"])
        );
    }
}
