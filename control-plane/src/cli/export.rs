//! `portcullis ratelimit export`: the control-plane's tiers and overrides rendered for Envoy,
//! printed as the API returns them, ready to save as a file.

use super::{CliError, call};
use reqwest::Method;

/// Which rendering to print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// envoyproxy/ratelimit YAML, for that service or `portcullis ratelimit serve --config`.
    #[default]
    Yaml,
    /// Envoy `local_ratelimit` filters (JSON), for one Envoy with no rate-limit service.
    Local,
}

/// `portcullis ratelimit export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Control-plane base URL.
    #[arg(long, env = "PORTCULLIS_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Fetches the rendering and prints it (JSON pretty-printed).
pub async fn run(args: ExportArgs) -> Result<(), CliError> {
    let path = match args.format {
        Format::Yaml => "/v1/ratelimit/config",
        Format::Local => "/v1/ratelimit/local",
    };
    let answer = call(&args.url, Method::GET, path, None).await?;
    match args.format {
        Format::Yaml => print!("{}", answer.text),
        Format::Local => {
            let value = answer.json()?;
            // Pretty-printing a parsed value cannot fail.
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or(answer.text)
            );
        }
    }
    Ok(())
}
