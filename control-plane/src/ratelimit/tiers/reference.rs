//! Tiers as envoyproxy/ratelimit configuration: the descriptor tree of domain
//! [`super::DOMAIN`], as the in-memory [`RateLimitConfig`] `portcullis ratelimit serve` runs
//! and as that project's YAML, which [`super::super::yaml`] reads back to the same tree.
//!
//! One-entry rules are top-level descriptors; two-entry rules nest under a `tier: <name>`
//! descriptor that has no limit of its own:
//!
//! ```yaml
//! domain: portcullis
//! descriptors:
//! - key: remote_address          # stage 0, per client address
//!   rate_limit: {unit: minute, requests_per_unit: 60}
//! - key: auth_failure            # failed credentials per client, which the filter reports
//!   rate_limit: {unit: minute, requests_per_unit: 60}
//! - key: key_id                  # keys without a tier: the default tier's limit
//!   rate_limit: {unit: minute, requests_per_unit: 120}
//! - key: tier
//!   value: gold
//!   descriptors:
//!   - key: key_id                # every gold key, each counted on its own
//!     rate_limit: {unit: minute, requests_per_unit: 1000}
//!   - key: key_id
//!     value: key_AbC             # this key's override beats the line above
//!     rate_limit: {unlimited: true}
//! ```

use super::{Rule, rules};
use crate::ratelimit::config::{
    ConfigError, Descriptor, Domain, Quota, RateLimit, RateLimitConfig,
};
use crate::ratelimit::window::Unit;
use crate::store::{Limit, LimitUnit, RateLimitPolicy};
use serde::Serialize;
use std::collections::HashMap;

/// Why a policy could not be rendered; neither happens for a policy the store returned.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The tree is not a valid configuration.
    #[error("rendered rate-limit configuration is invalid: {0}")]
    Invalid(#[from] ConfigError),
    /// The YAML writer failed.
    #[error("cannot write rate-limit YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
}

/// The descriptor tree of `policy`. Besides the rules Envoy's rate-limit filters send, it
/// counts the filter's own `(auth_failure=<client>)` reports of failed credentials (its
/// `failure_limit.rls`), limited like the per-IP rule by the `default` tier's `per_ip`, so
/// the filter's default of 60 failures a minute and this service agree.
pub fn domain(policy: &RateLimitPolicy) -> Domain {
    let mut descriptors: Vec<Descriptor> = Vec::new();
    // Where each `tier` parent sits in `descriptors`.
    let mut parents: HashMap<(&'static str, Option<String>), usize> = HashMap::new();
    for Rule { entries, limit, .. } in rules(policy) {
        let mut entries = entries.into_iter();
        let (Some(first), second) = (entries.next(), entries.next()) else {
            continue;
        };
        let Some(second) = second else {
            descriptors.push(leaf(first.key, first.value, limit));
            continue;
        };
        let at = *parents
            .entry((first.key, first.value.clone()))
            .or_insert_with(|| {
                descriptors.push(Descriptor {
                    key: first.key.to_owned(),
                    value: first.value,
                    rate_limit: None,
                    shadow_mode: false,
                    descriptors: Vec::new(),
                });
                descriptors.len() - 1
            });
        if let Some(parent) = descriptors.get_mut(at) {
            parent
                .descriptors
                .push(leaf(second.key, second.value, limit));
        }
    }
    let failures = leaf(
        portcullis::failure_limit::DESCRIPTOR_KEY,
        None,
        policy.default_tier().per_ip,
    );
    // Beside the per-IP rule, the other one counted per client address.
    descriptors.insert(descriptors.len().min(1), failures);
    Domain {
        name: super::DOMAIN.to_owned(),
        descriptors,
    }
}

fn leaf(key: &str, value: Option<String>, limit: Limit) -> Descriptor {
    let quota = match limit {
        Limit::PerUnit(rate) => Quota::Limited {
            requests_per_unit: rate.requests_per_unit,
            unit: window_unit(rate.unit),
        },
        Limit::Unlimited => Quota::Unlimited,
    };
    Descriptor {
        key: key.to_owned(),
        value,
        rate_limit: Some(RateLimit {
            quota,
            name: None,
            replaces: Vec::new(),
        }),
        shadow_mode: false,
        descriptors: Vec::new(),
    }
}

fn window_unit(unit: LimitUnit) -> Unit {
    match unit {
        LimitUnit::Second => Unit::Second,
        LimitUnit::Minute => Unit::Minute,
        LimitUnit::Hour => Unit::Hour,
        LimitUnit::Day => Unit::Day,
    }
}

/// The configuration `portcullis ratelimit serve` would run for `policy`.
pub fn config(policy: &RateLimitPolicy) -> Result<RateLimitConfig, ConfigError> {
    RateLimitConfig::new(vec![domain(policy)])
}

/// `policy` as an envoyproxy/ratelimit YAML file, checked to be a valid configuration first.
pub fn yaml(policy: &RateLimitPolicy) -> Result<String, RenderError> {
    let config = config(policy)?;
    let header = format!(
        "# envoyproxy/ratelimit configuration rendered by the Portcullis control-plane at \
         revision {}.\n# Change tiers and overrides through its API (portcullis tiers, \
         portcullis orgs set-limit,\n# portcullis keys update --rate-limit), not here: the \
         next export replaces this file.\n",
        policy.revision
    );
    let body = config
        .domains()
        .map(|d| {
            serde_norway::to_string(&DomainYaml {
                domain: &d.name,
                descriptors: d.descriptors.iter().map(DescriptorYaml::from).collect(),
            })
        })
        .collect::<Result<String, _>>()?;
    Ok(header + &body)
}

/// A domain as the reference's YAML writes it.
#[derive(Serialize)]
struct DomainYaml<'a> {
    domain: &'a str,
    descriptors: Vec<DescriptorYaml<'a>>,
}

#[derive(Serialize)]
struct DescriptorYaml<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<LimitYaml>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    descriptors: Vec<DescriptorYaml<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LimitYaml {
    PerUnit {
        unit: &'static str,
        requests_per_unit: u32,
    },
    Unlimited {
        unlimited: bool,
    },
}

impl<'a> From<&'a Descriptor> for DescriptorYaml<'a> {
    fn from(d: &'a Descriptor) -> Self {
        Self {
            key: &d.key,
            value: d.value.as_deref(),
            rate_limit: d.rate_limit.as_ref().map(|r| match r.quota {
                Quota::Limited {
                    requests_per_unit,
                    unit,
                } => LimitYaml::PerUnit {
                    unit: unit.name(),
                    requests_per_unit,
                },
                Quota::Unlimited => LimitYaml::Unlimited { unlimited: true },
            }),
            descriptors: d.descriptors.iter().map(Self::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
