//! Descriptor matching: which configured rule, if any, applies to one request descriptor.
//!
//! The configuration is a tree per domain; a request descriptor is a list of entries, matched
//! one entry per level. At each level the most specific node wins: an exact `value`, then a
//! wildcard value (`/api/*`, first in configuration order), then the key alone (any value).
//! A rule applies only where the descriptor ends: a descriptor with more entries than the
//! tree has levels, or ending above the rule, matches nothing (the reference's rule, its
//! README example 4).
//!
//! The tree is compiled once per configuration, so a lookup allocates nothing.

use super::config::{Descriptor, Quota, RateLimitConfig};
use super::metrics::{Metrics, RuleCounters};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use std::collections::HashMap;
use std::sync::Arc;

/// A configured limit, ready to apply.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Where it is configured, `domain.key_value.key`; its metrics label.
    pub path: String,
    /// What it allows.
    pub quota: Quota,
    /// The name `replaces` refers to.
    pub name: Option<String>,
    /// The names of the limits it replaces.
    pub replaces: Vec<String>,
    /// Count and report, but answer OK.
    pub shadow_mode: bool,
    /// Its counters.
    pub counters: Arc<RuleCounters>,
}

/// A compiled configuration: domain → tree.
#[derive(Debug, Default)]
pub struct Matcher {
    domains: HashMap<String, Level>,
}

/// One level of a tree: the nodes by entry key.
type Level = HashMap<String, KeyNodes>;

/// The nodes of one level that share a key, by specificity.
#[derive(Debug, Default)]
struct KeyNodes {
    exact: HashMap<String, Node>,
    wildcard: Vec<(Pattern, Node)>,
    any: Option<Node>,
}

#[derive(Debug, Default)]
struct Node {
    rule: Option<Rule>,
    children: Level,
}

impl Matcher {
    /// Compiles `config`, attaching each rule's counters from `metrics`.
    pub fn new(config: &RateLimitConfig, metrics: &Metrics) -> Matcher {
        let domains = config
            .domains()
            .map(|d| (d.name.clone(), compile(&d.name, &d.descriptors, metrics)))
            .collect();
        Matcher { domains }
    }

    /// Whether `domain` is configured.
    pub fn has_domain(&self, domain: &str) -> bool {
        self.domains.contains_key(domain)
    }

    /// The rule for `entries` in `domain`, if one applies.
    pub fn find(&self, domain: &str, entries: &[Entry]) -> Option<&Rule> {
        let mut level = self.domains.get(domain)?;
        let (last, parents) = entries.split_last()?;
        for entry in parents {
            level = &level.get(&entry.key)?.select(&entry.value)?.children;
        }
        level.get(&last.key)?.select(&last.value)?.rule.as_ref()
    }
}

impl KeyNodes {
    fn select(&self, value: &str) -> Option<&Node> {
        self.exact
            .get(value)
            .or_else(|| {
                self.wildcard
                    .iter()
                    .find(|(pattern, _)| pattern.matches(value))
                    .map(|(_, node)| node)
            })
            .or(self.any.as_ref())
    }
}

fn compile(parent: &str, descriptors: &[Descriptor], metrics: &Metrics) -> Level {
    let mut level = Level::new();
    for descriptor in descriptors {
        let path = format!("{parent}.{}", descriptor.path_segment());
        let node = Node {
            rule: descriptor.rate_limit.as_ref().map(|limit| Rule {
                quota: limit.quota,
                name: limit.name.clone(),
                replaces: limit.replaces.clone(),
                shadow_mode: descriptor.shadow_mode,
                counters: metrics.rule(&path),
                path: path.clone(),
            }),
            children: compile(&path, &descriptor.descriptors, metrics),
        };
        let nodes = level.entry(descriptor.key.clone()).or_default();
        match &descriptor.value {
            None => nodes.any = Some(node),
            Some(value) if value.contains('*') => nodes.wildcard.push((Pattern::new(value), node)),
            Some(value) => {
                nodes.exact.insert(value.clone(), node);
            }
        }
    }
    level
}

/// A value with `*` wildcards, each matching any run of characters (possibly empty).
#[derive(Debug)]
struct Pattern {
    /// The literal text between the stars; at least two parts.
    parts: Vec<String>,
}

impl Pattern {
    fn new(value: &str) -> Pattern {
        Pattern {
            parts: value.split('*').map(str::to_owned).collect(),
        }
    }

    fn matches(&self, value: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return value == first;
        };
        if value.len() < first.len() + last.len() {
            return false;
        }
        let Some(inner) = value
            .strip_prefix(first.as_str())
            .and_then(|v| v.strip_suffix(last.as_str()))
        else {
            return false;
        };
        // Each literal in order, as early as possible: leaves the most room for the rest.
        let mut remaining = inner;
        for part in middle {
            match remaining.find(part.as_str()) {
                Some(at) => remaining = &remaining[at + part.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
