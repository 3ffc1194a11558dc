//! `portcullis jwt verify`: the offline token explainer. It judges one token against a
//! JWKS file with the filter's own verifier ([`portcullis::jwt::Providers::verify`]), so
//! its verdict is the filter's, and prints one JSON object:
//! `{"valid": bool, "code": "…", "message": "…", "claims": {…} | null}`.
//!
//! `code` is [`VALID_CODE`] for a token that verifies, else the filter's reply code for
//! the rejection; `message` is the rejection's text with the expected and actual values,
//! and never contains the token. `claims` are shown only when the signature verified:
//! for a valid token, or one rejected by a claim check (expiry, audience, ...) or by the
//! claim mapping, which the verifier runs only after the signature. A token that fails
//! before or at the signature shows `null`: its claims are whatever its sender wrote.
//!
//! The provider is built as the filter builds one: the key set inline, the algorithms
//! its keys declare (asymmetric only), `exp` required, the default token size limit and
//! the `auto` claims profile. The filter picks a provider by the token's `iss`, so
//! without `--issuer` the provider's issuer is the token's own `iss`, read unverified
//! only to configure the check: the issuer check then always passes. A token with no
//! string `iss` is rejected even so, as the filter, which matches providers by `iss`,
//! would never accept it.
//!
//! Exit status: 0 valid, 1 rejected (JSON on stdout), 2 the invocation cannot be judged:
//! usage errors, or a JWKS file that cannot be read or parsed or holds no usable key, or
//! no token (a message on stderr, nothing on stdout).

use crate::system_clock;
use clap::builder::NonEmptyStringValueParser;
use portcullis::config::ConfigError;
use portcullis::jwt::jwk::SkippedKey;
use portcullis::jwt::provider::{
    DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY_SECS, ProfileConfig,
};
use portcullis::jwt::{Jwks, JwksError, JwtRejection, ProviderConfig, Providers, json, token};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The `code` of a token that verifies.
pub const VALID_CODE: &str = "valid";
/// The token argument that means "read the token from standard input".
const STDIN: &str = "-";
/// The name of the one provider, as rejection messages quote it.
const PROVIDER_NAME: &str = "jwks";
/// The provider's issuer when neither `--issuer` nor the token gives one; a token can
/// never match it, as only a token without a non-empty string `iss` gets here.
const NO_ISSUER: &str = "(no issuer)";
/// The exit status of a rejected token.
const EXIT_REJECTED: u8 = 1;
/// The exit status of an invocation that cannot be judged (as clap's usage errors).
const EXIT_UNUSABLE: u8 = 2;

/// `portcullis jwt`: work with JWTs offline.
#[derive(Debug, clap::Args)]
pub struct JwtArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: JwtCommand,
}

/// One JWT operation.
#[derive(Debug, clap::Subcommand)]
pub enum JwtCommand {
    /// Judge a token as the filter would, and explain the verdict as JSON.
    Verify(VerifyArgs),
}

/// `portcullis jwt verify`: the provider's rules as flags, and the token.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Prints {\"valid\", \"code\", \"message\", \"claims\"} as one JSON line. \
Exit status: 0 valid, 1 rejected, 2 unusable (bad flags, JWKS file or no token; \
the reason on stderr, nothing on stdout)."
)]
pub struct VerifyArgs {
    /// The JWKS file (`{"keys": [...]}`) whose keys verify the signature.
    #[arg(long, value_name = "FILE")]
    pub jwks: PathBuf,
    /// The exact `iss` required; without it, the token's own `iss` is used.
    #[arg(long, value_name = "ISS", value_parser = NonEmptyStringValueParser::new())]
    pub issuer: Option<String>,
    /// An accepted `aud` (repeatable, any-of, exact match); without it, no check.
    #[arg(long = "audience", value_name = "AUD", value_parser = NonEmptyStringValueParser::new())]
    pub audiences: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_LEEWAY_SECS,
        value_parser = clap::value_parser!(u64).range(..=MAX_LEEWAY_SECS)
    )]
    pub leeway_secs: u64,
    /// The time of the check, Unix seconds; the system clock if unset.
    #[arg(long, value_name = "UNIX_SECS")]
    pub now: Option<i64>,
    /// A claim that must be present and not null (repeatable).
    #[arg(
        long = "require-claim",
        value_name = "NAME",
        value_parser = NonEmptyStringValueParser::new()
    )]
    pub required_claims: Vec<String>,
    /// The token, or `-` to read it from standard input (which keeps it out of `ps` and
    /// shell history).
    #[arg(value_name = "TOKEN | -")]
    pub token: String,
}

/// What `portcullis jwt verify` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the filter would accept the token.
    pub valid: bool,
    /// [`VALID_CODE`], or the filter's reply code for the rejection.
    pub code: &'static str,
    /// What passed, or which check failed with the expected and actual values.
    pub message: String,
    /// The token's claims, only when its signature verified.
    pub claims: Option<Map<String, Value>>,
}

impl Verdict {
    /// 0 when valid, 1 when rejected.
    pub fn exit_code(&self) -> ExitCode {
        if self.valid {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_REJECTED)
        }
    }
}

/// Why a token cannot be judged.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// The JWKS file cannot be read.
    #[error("cannot read the jwks file {path}: {source}")]
    ReadJwks {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The JWKS file is not a usable key set.
    #[error("the jwks file {path} is refused: {source}")]
    Jwks {
        /// The file.
        path: PathBuf,
        /// Why.
        source: JwksError,
    },
    /// Standard input cannot be read as text.
    #[error("cannot read the token from standard input: {0}")]
    ReadToken(io::Error),
    /// No token to judge.
    #[error("expected a token{0}, got nothing")]
    NoToken(&'static str),
    /// The flags do not make a valid provider.
    #[error("the flags do not make a valid provider: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Provider(Vec<ConfigError>),
}

/// A JWKS file, checked: its document for the provider, and the keys left out.
#[derive(Debug)]
pub struct KeySet {
    document: Value,
    skipped: Vec<SkippedKey>,
}

/// Judges the token, prints the verdict on stdout (or the error on stderr) and returns
/// the exit status.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let judged = load_jwks(&args.jwks).and_then(|keys| {
        // A skipped key can explain a `no key with kid` rejection.
        for key in &keys.skipped {
            eprintln!("warning: jwks key left out: {key}");
        }
        let token = read_token(&args.token, io::stdin().lock())?;
        let now = args.now.unwrap_or_else(|| system_clock()());
        judge(args, keys, &token, now)
    });
    match judged {
        // Serialized from the struct, so the fields keep the documented order.
        Ok(verdict) => match serde_json::to_string(&verdict) {
            Ok(line) => {
                println!("{line}");
                verdict.exit_code()
            }
            Err(err) => {
                eprintln!("error: cannot print the verdict: {err}");
                ExitCode::from(EXIT_UNUSABLE)
            }
        },
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}

/// Reads and checks the JWKS file with the filter's parser, which refuses a set without
/// a usable key.
pub fn load_jwks(path: &Path) -> Result<KeySet, UsageError> {
    let bytes = std::fs::read(path).map_err(|source| UsageError::ReadJwks {
        path: path.to_owned(),
        source,
    })?;
    let refused = |source| UsageError::Jwks {
        path: path.to_owned(),
        source,
    };
    let jwks = Jwks::parse(&bytes).map_err(refused)?;
    let document = json::parse_object(&bytes).map_err(|e| refused(e.into()))?;
    Ok(KeySet {
        document: Value::Object(document),
        skipped: jwks.skipped().to_vec(),
    })
}

/// The token as given, or standard input without surrounding whitespace for `-`.
pub fn read_token(arg: &str, mut stdin: impl Read) -> Result<String, UsageError> {
    let token = if arg == STDIN {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(UsageError::ReadToken)?;
        match text.trim() {
            "" => return Err(UsageError::NoToken(" on standard input")),
            token => token.to_owned(),
        }
    } else {
        arg.to_owned()
    };
    if token.is_empty() {
        return Err(UsageError::NoToken(""));
    }
    Ok(token)
}

/// Verifies `token` at `now` (Unix seconds) with one provider made of `args` and `keys`.
pub fn judge(
    args: &VerifyArgs,
    keys: KeySet,
    token: &str,
    now: i64,
) -> Result<Verdict, UsageError> {
    let issuer = args.issuer.clone().or_else(|| unverified_issuer(token));
    let config = ProviderConfig {
        name: PROVIDER_NAME.to_owned(),
        issuer: issuer.clone().unwrap_or_else(|| NO_ISSUER.to_owned()),
        audiences: args.audiences.clone(),
        algorithms: Vec::new(),
        leeway_secs: args.leeway_secs,
        require_exp: true,
        required_claims: args.required_claims.clone(),
        authorized_parties: Vec::new(),
        typ: None,
        max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        secret_env: None,
        jwks: Some(keys.document),
        claims_profile: ProfileConfig::Auto,
        implied_scopes: BTreeMap::new(),
    };
    let providers =
        Providers::from_configs(&[config], "jwt verify", |_| None).map_err(UsageError::Provider)?;
    let verdict = match providers.verify(token, now) {
        Ok(identity) => Verdict {
            valid: true,
            code: VALID_CODE,
            message: format!(
                "jwt signature and claims verify; subject {:?}, `exp` {}",
                identity.subject,
                identity
                    .expires_at
                    .map_or_else(|| "absent".to_owned(), |exp| exp.to_string())
            ),
            claims: claims(token),
        },
        Err(rejection) => {
            let rejection = match rejection {
                // The placeholder issuer is no expectation of the user's.
                JwtRejection::UnknownIssuer { actual, .. } if issuer.is_none() => {
                    JwtRejection::UnknownIssuer {
                        expected: Vec::new(),
                        actual,
                    }
                }
                other => other,
            };
            Verdict {
                valid: false,
                code: rejection.code().as_str(),
                message: rejection.to_string(),
                claims: signature_verified(&rejection)
                    .then(|| claims(token))
                    .flatten(),
            }
        }
    };
    Ok(verdict)
}

/// The token's `iss`, unverified: it only configures the issuer check, as the filter's
/// provider selection uses it. `None` unless a non-empty string.
fn unverified_issuer(token: &str) -> Option<String> {
    let compact = token::parse(token).ok()?;
    let iss = compact.claims.get("iss")?.as_str()?;
    (!iss.is_empty()).then(|| iss.to_owned())
}

/// The token's claims, decoded; call only once the signature verified.
fn claims(token: &str) -> Option<Map<String, Value>> {
    token::parse(token).ok().map(|compact| compact.claims)
}

/// Whether the verifier had verified the signature when it rejected: it checks the
/// claims and maps the identity only after the signature (see its order of checks).
/// No wildcard: a new rejection must be placed here before it compiles.
fn signature_verified(rejection: &JwtRejection) -> bool {
    match rejection {
        JwtRejection::Claims(_) | JwtRejection::Mapping(_) => true,
        JwtRejection::TooLarge { .. }
        | JwtRejection::Malformed(_)
        | JwtRejection::Header(_)
        | JwtRejection::UnknownIssuer { .. }
        | JwtRejection::AlgorithmNotAllowed { .. }
        | JwtRejection::KeysNotLoaded { .. }
        | JwtRejection::NoKey { .. }
        | JwtRejection::BadSignature { .. } => false,
    }
}

#[cfg(test)]
mod tests;
