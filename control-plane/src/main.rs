//! `portcullis`: the control-plane server (`serve`), the operator's CLI (`keys`, `tiers`,
//! `orgs`, `ratelimit export`), the rate-limit service (`ratelimit serve`) and the offline
//! token explainer (`jwt verify`).

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use portcullis_control_plane::api::admin_auth::AdminToken;
use portcullis_control_plane::api::sync_auth::SyncToken;
use portcullis_control_plane::jwks::FetchSettings;
use portcullis_control_plane::jwt_verify::{self, JwtArgs, JwtCommand};
use portcullis_control_plane::store::sqlite::SqliteStore;
use portcullis_control_plane::{ServeConfig, cli, ratelimit, run, shutdown, sync, system_clock};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Portcullis: API-key and JWT authentication at the Envoy edge.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the control-plane (tokens from PORTCULLIS_ADMIN_TOKEN and PORTCULLIS_SYNC_TOKEN).
    Serve(ServeArgs),
    /// Manage API keys on a running control-plane.
    Keys(cli::keys::KeysArgs),
    /// Manage rate-limit tiers on a running control-plane.
    Tiers(cli::tiers::TiersArgs),
    /// Read and set orgs' rate limits on a running control-plane.
    Orgs(cli::orgs::OrgsArgs),
    /// Rate limits: run the rate-limit service, or export a control-plane's tiers for Envoy.
    #[command(subcommand)]
    Ratelimit(RatelimitCommand),
    /// Work with JWTs offline, using the filter's own verifier.
    Jwt(JwtArgs),
}

#[derive(Debug, Subcommand)]
enum RatelimitCommand {
    /// Run the rate-limit service Envoy's ratelimit filter calls (gRPC, counters in Redis).
    Serve(ratelimit::command::RatelimitArgs),
    /// Print a control-plane's tiers as envoyproxy/ratelimit YAML or local_ratelimit filters.
    Export(cli::export::ExportArgs),
}

/// The environment variable holding the token the sidecars' syncers present.
const SYNC_TOKEN_ENV: &str = "PORTCULLIS_SYNC_TOKEN";

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SQLite database file; created and migrated on start.
    #[arg(long, env = "PORTCULLIS_DB", default_value = "portcullis.db")]
    db: PathBuf,
    /// JSON file of OIDC providers (`{"providers": [...]}`), upserted by issuer on start.
    #[arg(long, env = "PORTCULLIS_PROVIDERS")]
    providers: Option<PathBuf>,
    /// Least seconds between two refetches of one provider's key set caused by tokens with
    /// an unknown `kid` (reported by the sidecars).
    #[arg(
        long,
        env = "PORTCULLIS_JWKS_MIN_KID_REFRESH_SECS",
        default_value_t = 30
    )]
    jwks_min_kid_refresh_secs: i64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_logging();
            match serve(args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Ratelimit(RatelimitCommand::Serve(args)) => {
            init_logging();
            match ratelimit::command::start(args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Jwt(JwtArgs {
            command: JwtCommand::Verify(args),
        }) => jwt_verify::run(&args),
        Command::Ratelimit(RatelimitCommand::Export(args)) => exit(cli::export::run(args).await),
        Command::Keys(args) => exit(cli::keys::run(args).await),
        Command::Tiers(args) => exit(cli::tiers::run(args).await),
        Command::Orgs(args) => exit(cli::orgs::run(args).await),
    }
}

/// The exit of a CLI command: its error, if any, on stderr.
fn exit(result: Result<(), cli::CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // From the environment only: a flag would show the token in `ps` and shell history.
    let token = std::env::var(cli::TOKEN_ENV)
        .with_context(|| format!("{} must be set to serve", cli::TOKEN_ENV))?;
    let admin_token =
        AdminToken::new(&token).with_context(|| format!("{} refused", cli::TOKEN_ENV))?;
    let sync_token = std::env::var(SYNC_TOKEN_ENV).with_context(|| {
        format!(
            "{SYNC_TOKEN_ENV} must be set to serve: the sidecars' syncers authenticate to \
             GET /v1/sync with it (at least 32 characters of A-Z a-z 0-9 -._~+/)"
        )
    })?;
    let sync_token =
        SyncToken::new(&sync_token).with_context(|| format!("{SYNC_TOKEN_ENV} refused"))?;
    let store = SqliteStore::open(&args.db)
        .with_context(|| format!("cannot open the database {}", args.db.display()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let config = ServeConfig {
        store: Arc::new(store),
        admin_token,
        sync_token,
        sync_page_size: sync::PAGE_SIZE,
        clock: system_clock(),
        providers_file: args.providers,
        jwks: FetchSettings {
            min_kid_refresh_secs: args.jwks_min_kid_refresh_secs,
            ..FetchSettings::default()
        },
    };
    run(config, listener, shutdown::signal()).await
}
