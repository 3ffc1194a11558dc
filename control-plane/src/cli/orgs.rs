//! `portcullis orgs …`: an org's rate limits, and its own per-org limit.

use super::{CliError, Connection, encode, limit_arg, run_and_print, show};
use reqwest::Method;
use serde_json::{Value, json};

/// `portcullis orgs`: read and set orgs' rate limits on a running control-plane.
#[derive(Debug, clap::Args)]
pub struct OrgsArgs {
    /// Where the control-plane is.
    #[command(flatten)]
    pub connection: Connection,
    /// What to do.
    #[command(subcommand)]
    pub command: OrgsCommand,
}

/// One org operation.
#[derive(Debug, clap::Subcommand)]
pub enum OrgsCommand {
    /// Show an org's own limit and what its callers get in each tier.
    Get {
        /// Org id.
        org_id: String,
    },
    /// Set the org's own per-org limit, replacing every tier's (bootstrap admin).
    SetLimit {
        /// Org id.
        org_id: String,
        /// `120/minute` (second, minute, hour, day) or `unlimited`.
        #[arg(value_parser = limit_arg, required_unless_present = "clear")]
        limit: Option<Value>,
        /// Remove the org's own limit: each tier's applies again.
        #[arg(long, conflicts_with = "limit")]
        clear: bool,
    },
}

/// Runs one `portcullis orgs` command, printing its result.
pub async fn run(args: OrgsArgs) -> Result<(), CliError> {
    let path = |org: &str| format!("/v1/orgs/{}", encode(org));
    let request = match &args.command {
        OrgsCommand::Get { org_id } => (Method::GET, path(org_id), None),
        OrgsCommand::SetLimit { org_id, limit, .. } => (
            Method::PATCH,
            path(org_id),
            Some(json!({"rate_limit": limit.clone().unwrap_or(Value::Null)})),
        ),
    };
    run_and_print(&args.connection, request, print_org)
        .await
        .map(|_| ())
}

fn print_org(org: &Value) {
    println!("org_id     {}", show(&org["org_id"]));
    println!("rate_limit {}", show(&org["rate_limit"]));
    println!("{:<32} {:<16} PER_ORG", "TIER", "PER_KEY");
    let effective = org["effective"].as_array().map_or(&[][..], Vec::as_slice);
    for tier in effective {
        println!(
            "{:<32} {:<16} {}",
            show(&tier["tier"]),
            show(&tier["per_key"]),
            show(&tier["per_org"])
        );
    }
}
