//! envoyproxy/ratelimit's YAML configuration format: parsing one document, and loading a file
//! or a directory of `*.yaml`/`*.yml` files (one domain each) into a [`RateLimitConfig`].
//!
//! The format, one document per domain:
//!
//! ```yaml
//! domain: edge
//! descriptors:
//!   - key: remote_address          # any value, each counted on its own
//!     rate_limit: {unit: minute, requests_per_unit: 60}
//!   - key: remote_address
//!     value: 50.0.0.5              # beats the key-only entry above
//!     rate_limit: {unit: second, requests_per_unit: 0}
//! ```
//!
//! As in the reference, unknown fields are errors and `unit` is case-insensitive. Fields the
//! reference reads that change nothing here are accepted and ignored: `detailed_metric` and
//! `value_to_metric` (metrics are labelled by configured rule, never by request values, so
//! their cardinality stays bounded) and `metadata` (the reference only echoes it as dynamic
//! metadata when an opt-in setting is on). Fields that would change decisions and are not
//! implemented (`quota_mode`, `share_threshold: true`) are refused rather than ignored.
//! Two stricter rules than the reference: `requests_per_unit` must be written out (the
//! reference reads a missing count as 0, which refuses every request), and an empty `value`
//! is an error rather than "any value".

use super::config::{ConfigError, Descriptor, Domain, Quota, RateLimit, RateLimitConfig};
use super::window::{Unit, UnknownUnit};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One file: a domain and its descriptor tree, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// The domain's name.
    pub domain: String,
    /// The top level of the tree.
    #[serde(default)]
    pub descriptors: Vec<DescriptorConfig>,
}

/// One descriptor, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptorConfig {
    /// The entry key.
    pub key: String,
    /// The entry value; absent matches any value.
    pub value: Option<String>,
    /// The limit at this node.
    pub rate_limit: Option<LimitConfig>,
    /// Count, report, always answer OK.
    #[serde(default)]
    pub shadow_mode: bool,
    /// Accepted and ignored: see the module documentation.
    #[serde(default)]
    pub detailed_metric: bool,
    /// Accepted and ignored: see the module documentation.
    #[serde(default)]
    pub value_to_metric: bool,
    /// Accepted and ignored: see the module documentation.
    pub metadata: Option<serde_norway::Value>,
    /// Not implemented; `true` is refused.
    #[serde(default)]
    pub quota_mode: bool,
    /// Not implemented; `true` is refused.
    #[serde(default)]
    pub share_threshold: bool,
    /// The next level.
    #[serde(default)]
    pub descriptors: Vec<DescriptorConfig>,
}

/// A `rate_limit` block, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    /// `second`, `minute`, `hour`, `day`, `week`, `month` or `year`.
    pub unit: Option<String>,
    /// Hits per unit; required unless `unlimited`.
    pub requests_per_unit: Option<u32>,
    /// Never limited, never counted.
    #[serde(default)]
    pub unlimited: bool,
    /// A name `replaces` can refer to.
    pub name: Option<String>,
    /// The limits this one replaces.
    #[serde(default)]
    pub replaces: Vec<ReplacesConfig>,
}

/// One entry of `replaces`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacesConfig {
    /// The replaced limit's `name`.
    pub name: String,
}

/// Why a configuration could not be loaded. Each names the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file or directory could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// What.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A directory with no `*.yaml` or `*.yml` file.
    #[error("{path}: no *.yaml or *.yml file: expected at least one domain")]
    EmptyDirectory {
        /// What.
        path: PathBuf,
    },
    /// Not YAML of this format (unknown field, wrong type, negative count).
    #[error("{file}: {source}")]
    Syntax {
        /// Which file.
        file: String,
        /// The parser's message, with line and column.
        source: serde_norway::Error,
    },
    /// A `rate_limit` block that is not valid.
    #[error("{file}: {path}: {problem}")]
    Field {
        /// Which file.
        file: String,
        /// The descriptor's path, `domain.key_value.key`.
        path: String,
        /// What is wrong, with expected and actual values.
        problem: String,
    },
    /// Valid fields, invalid whole (duplicates and the like).
    #[error("{file}: {source}")]
    Invalid {
        /// Which file (or files, for a domain defined twice).
        file: String,
        /// What is wrong.
        source: ConfigError,
    },
}

/// Parses one YAML document into a domain; `file` only names it in errors.
pub fn parse_domain(file: &str, text: &str) -> Result<Domain, LoadError> {
    let parsed: DomainConfig =
        serde_norway::from_str(text).map_err(|source| LoadError::Syntax {
            file: file.to_owned(),
            source,
        })?;
    let descriptors = convert_level(file, &parsed.domain, parsed.descriptors)?;
    let domain = Domain {
        name: parsed.domain,
        descriptors,
    };
    // Validate the file on its own too, so a mistake names the file it is in.
    RateLimitConfig::new(vec![domain.clone()]).map_err(|source| LoadError::Invalid {
        file: file.to_owned(),
        source,
    })?;
    Ok(domain)
}

/// Parses one YAML document into a configuration of one domain.
pub fn parse(file: &str, text: &str) -> Result<RateLimitConfig, LoadError> {
    let domain = parse_domain(file, text)?;
    RateLimitConfig::new(vec![domain]).map_err(|source| LoadError::Invalid {
        file: file.to_owned(),
        source,
    })
}

/// Loads a file, or every `*.yaml`/`*.yml` file directly in a directory (hidden files
/// skipped, in name order). A domain defined in two files is an error naming both.
pub fn load(path: &Path) -> Result<RateLimitConfig, LoadError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let metadata = std::fs::metadata(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    if !metadata.is_dir() {
        return parse(&path.display().to_string(), &read(path)?);
    }
    let mut files = Vec::new();
    let entries = std::fs::read_dir(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if is_yaml && !name.starts_with('.') && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(LoadError::EmptyDirectory {
            path: path.to_owned(),
        });
    }
    files.sort();
    let mut domains: Vec<(String, Domain)> = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let domain = parse_domain(&name, &read(&file)?)?;
        if let Some((first, _)) = domains.iter().find(|(_, d)| d.name == domain.name) {
            return Err(LoadError::Invalid {
                file: format!("{first} and {name}"),
                source: ConfigError::DuplicateDomain(domain.name),
            });
        }
        domains.push((name, domain));
    }
    RateLimitConfig::new(domains.into_iter().map(|(_, d)| d).collect()).map_err(|source| {
        LoadError::Invalid {
            file: path.display().to_string(),
            source,
        }
    })
}

fn convert_level(
    file: &str,
    parent: &str,
    descriptors: Vec<DescriptorConfig>,
) -> Result<Vec<Descriptor>, LoadError> {
    descriptors
        .into_iter()
        .map(|d| {
            let segment = match &d.value {
                Some(value) => format!("{}_{value}", d.key),
                None => d.key.clone(),
            };
            let path = format!("{parent}.{segment}");
            let refuse = |problem: &str| LoadError::Field {
                file: file.to_owned(),
                path: path.clone(),
                problem: problem.to_owned(),
            };
            if d.quota_mode {
                return Err(refuse(
                    "quota_mode is not supported: expected it absent or false",
                ));
            }
            if d.share_threshold {
                return Err(refuse(
                    "share_threshold is not supported: expected it absent or false",
                ));
            }
            let rate_limit = d
                .rate_limit
                .map(|r| convert_limit(r).map_err(|problem| refuse(&problem)))
                .transpose()?;
            Ok(Descriptor {
                descriptors: convert_level(file, &path, d.descriptors)?,
                key: d.key,
                value: d.value,
                rate_limit,
                shadow_mode: d.shadow_mode,
            })
        })
        .collect()
}

fn convert_limit(fields: LimitConfig) -> Result<RateLimit, String> {
    let quota = if fields.unlimited {
        // As the reference: a unit next to `unlimited` is a contradiction worth reporting.
        if let Some(unit) = fields.unit {
            return Err(format!(
                "unlimited limit has unit {unit:?}: expected no unit when unlimited is true"
            ));
        }
        Quota::Unlimited
    } else {
        let unit: Unit = fields
            .unit
            .ok_or("rate_limit has no unit: expected one of second, minute, hour, day, week, month, year")?
            .parse()
            .map_err(|e: UnknownUnit| e.to_string())?;
        let requests_per_unit = fields.requests_per_unit.ok_or(
            "rate_limit has no requests_per_unit: expected a count (0 refuses every request)",
        )?;
        Quota::Limited {
            requests_per_unit,
            unit,
        }
    };
    Ok(RateLimit {
        quota,
        name: fields.name,
        replaces: fields.replaces.into_iter().map(|r| r.name).collect(),
    })
}

#[cfg(test)]
mod tests;
