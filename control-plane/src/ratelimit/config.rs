//! The rate-limit configuration in memory: domains, each a tree of descriptors, some with a
//! limit. It is what the service matches requests against, and it can be built three ways:
//! from envoyproxy/ratelimit YAML ([`super::yaml`]), by hand, or from the control-plane's
//! tiers ([`super::tiers::reference`]).
//!
//! [`RateLimitConfig::new`] is the only way to get one, and it validates the whole of it, so a
//! running service never holds a configuration the reference service would refuse.

use super::window::Unit;
use std::collections::{BTreeMap, HashSet};

/// A validated set of domains, ready for [`super::Service::replace_config`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitConfig {
    domains: BTreeMap<String, Domain>,
}

/// One domain: the namespace a request names in `RateLimitRequest.domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The domain's name, unique in a configuration.
    pub name: String,
    /// The top level of the descriptor tree.
    pub descriptors: Vec<Descriptor>,
}

/// A node of a descriptor tree: matches one entry of a request's descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The entry key to match.
    pub key: String,
    /// The entry value to match; `None` matches any value, and each value is then counted
    /// separately. A `*` matches any run of characters (`/api/*/action`).
    pub value: Option<String>,
    /// The limit that applies when a request's descriptor ends at this node.
    pub rate_limit: Option<RateLimit>,
    /// Count and report, but always answer OK.
    pub shadow_mode: bool,
    /// The next level, matched against the request's next entry.
    pub descriptors: Vec<Descriptor>,
}

/// What a matched descriptor allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How many hits, per what.
    pub quota: Quota,
    /// A name other limits can replace.
    pub name: Option<String>,
    /// Names of limits this one replaces when both match one request.
    pub replaces: Vec<String>,
}

/// How many hits a limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// At most `requests_per_unit` hits in each window of `unit`; 0 refuses every hit.
    Limited {
        /// Hits allowed per window.
        requests_per_unit: u32,
        /// The window length.
        unit: Unit,
    },
    /// Never limited and never counted in Redis.
    Unlimited,
}

/// Why a configuration was refused. `path` names the descriptor the way the reference
/// service's statistics do: `domain.key_value.key`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A domain with an empty name.
    #[error("domain name is empty: expected a non-empty `domain`")]
    EmptyDomain,
    /// Two domains with one name.
    #[error("domain {0:?} is defined twice: expected each domain once")]
    DuplicateDomain(String),
    /// A descriptor with an empty key.
    #[error("{path}: descriptor key is empty: expected a non-empty `key`")]
    EmptyKey {
        /// Where.
        path: String,
    },
    /// An empty value, which would silently mean "any value" in the reference service.
    #[error(
        "{path}: descriptor value is empty: expected a value, or no `value` to match any value"
    )]
    EmptyValue {
        /// Where.
        path: String,
    },
    /// Two descriptors with the same key and value at one level.
    #[error("{path}: duplicate descriptor: expected each key and value once per level")]
    DuplicateDescriptor {
        /// Where.
        path: String,
    },
    /// An empty `replaces` name.
    #[error("{path}: replaces an empty name: expected the `name` of another limit")]
    EmptyReplaces {
        /// Where.
        path: String,
    },
    /// A limit that replaces itself.
    #[error("{path}: limit {name:?} replaces itself: expected the name of another limit")]
    ReplacesItself {
        /// Where.
        path: String,
        /// The limit's own name.
        name: String,
    },
}

impl RateLimitConfig {
    /// Validates `domains` whole: unique non-empty domain names, non-empty keys and values,
    /// unique `key`/`key_value` pairs per level, and `replaces` naming other limits.
    pub fn new(domains: Vec<Domain>) -> Result<RateLimitConfig, ConfigError> {
        let mut by_name = BTreeMap::new();
        for domain in domains {
            if domain.name.is_empty() {
                return Err(ConfigError::EmptyDomain);
            }
            validate_level(&domain.name, &domain.descriptors)?;
            if by_name.contains_key(&domain.name) {
                return Err(ConfigError::DuplicateDomain(domain.name));
            }
            by_name.insert(domain.name.clone(), domain);
        }
        Ok(RateLimitConfig { domains: by_name })
    }

    /// The domains, by name.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        self.domains.values()
    }

    /// The domain called `name`.
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.get(name)
    }
}

impl Descriptor {
    /// The descriptor's name in a path: `key` or `key_value`, as the reference service's
    /// statistics name it.
    pub fn path_segment(&self) -> String {
        match &self.value {
            Some(value) => format!("{}_{value}", self.key),
            None => self.key.clone(),
        }
    }
}

fn validate_level(parent: &str, descriptors: &[Descriptor]) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for descriptor in descriptors {
        let path = format!("{parent}.{}", descriptor.path_segment());
        if descriptor.key.is_empty() {
            return Err(ConfigError::EmptyKey { path });
        }
        if descriptor.value.as_deref() == Some("") {
            return Err(ConfigError::EmptyValue { path });
        }
        if !seen.insert((&descriptor.key, &descriptor.value)) {
            return Err(ConfigError::DuplicateDescriptor { path });
        }
        if let Some(limit) = &descriptor.rate_limit {
            for replaced in &limit.replaces {
                if replaced.is_empty() {
                    return Err(ConfigError::EmptyReplaces { path });
                }
                if limit.name.as_ref() == Some(replaced) {
                    return Err(ConfigError::ReplacesItself {
                        path,
                        name: replaced.clone(),
                    });
                }
            }
        }
        validate_level(&path, &descriptor.descriptors)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(key: &str, value: Option<&str>, per_minute: u32) -> Descriptor {
        Descriptor {
            key: key.to_owned(),
            value: value.map(str::to_owned),
            rate_limit: Some(RateLimit {
                quota: Quota::Limited {
                    requests_per_unit: per_minute,
                    unit: Unit::Minute,
                },
                name: None,
                replaces: Vec::new(),
            }),
            shadow_mode: false,
            descriptors: Vec::new(),
        }
    }

    fn domain(name: &str, descriptors: Vec<Descriptor>) -> Domain {
        Domain {
            name: name.to_owned(),
            descriptors,
        }
    }

    #[test]
    fn a_config_built_by_hand_is_validated_and_found_by_domain() {
        let config = RateLimitConfig::new(vec![
            domain("edge", vec![leaf("remote_address", None, 60)]),
            domain("portcullis", vec![leaf("tier", Some("free"), 120)]),
        ])
        .unwrap();
        assert_eq!(config.domains().count(), 2);
        assert_eq!(
            config.domain("edge").unwrap().descriptors[0].key,
            "remote_address"
        );
        assert!(config.domain("nope").is_none());
    }

    #[test]
    fn a_key_and_the_same_key_with_a_value_may_sit_side_by_side() {
        RateLimitConfig::new(vec![domain(
            "edge",
            vec![
                leaf("remote_address", None, 10),
                leaf("remote_address", Some("50.0.0.5"), 0),
            ],
        )])
        .unwrap();
    }

    #[test]
    fn duplicate_descriptors_at_one_level_are_refused_by_path() {
        let mut parent = leaf("tier", Some("free"), 1);
        parent.rate_limit = None;
        parent.descriptors = vec![leaf("key_id", None, 1), leaf("key_id", None, 2)];
        let err = RateLimitConfig::new(vec![domain("rl", vec![parent])]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::DuplicateDescriptor {
                path: "rl.tier_free.key_id".to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            "rl.tier_free.key_id: duplicate descriptor: expected each key and value once per level"
        );
    }

    #[test]
    fn duplicate_domains_are_refused() {
        let err = RateLimitConfig::new(vec![domain("rl", vec![]), domain("rl", vec![])]);
        assert_eq!(err, Err(ConfigError::DuplicateDomain("rl".to_owned())));
    }

    #[test]
    fn empty_names_are_refused() {
        assert_eq!(
            RateLimitConfig::new(vec![domain("", vec![])]),
            Err(ConfigError::EmptyDomain)
        );
        let err = RateLimitConfig::new(vec![domain("rl", vec![leaf("", None, 1)])]);
        assert_eq!(
            err,
            Err(ConfigError::EmptyKey {
                path: "rl.".to_owned()
            })
        );
        let err = RateLimitConfig::new(vec![domain("rl", vec![leaf("k", Some(""), 1)])]);
        assert_eq!(
            err,
            Err(ConfigError::EmptyValue {
                path: "rl.k_".to_owned()
            })
        );
    }

    #[test]
    fn a_limit_cannot_replace_itself_or_nothing() {
        let mut own = leaf("k", None, 1);
        if let Some(limit) = &mut own.rate_limit {
            limit.name = Some("a".to_owned());
            limit.replaces = vec!["a".to_owned()];
        }
        let err = RateLimitConfig::new(vec![domain("rl", vec![own.clone()])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rl.k: limit \"a\" replaces itself: expected the name of another limit"
        );
        if let Some(limit) = &mut own.rate_limit {
            limit.replaces = vec![String::new()];
        }
        let err = RateLimitConfig::new(vec![domain("rl", vec![own])]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::EmptyReplaces {
                path: "rl.k".to_owned()
            }
        );
    }
}
