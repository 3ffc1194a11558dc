//! Route rules in the plugin configuration: input types and their validation.

use super::{Problems, label};
use crate::policy::{Access, PathMatch, Requirement, Route};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteConfig {
    exact: Option<String>,
    prefix: Option<String>,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    access: AccessConfig,
    scopes: Option<ScopesConfig>,
    roles: Option<Vec<String>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum AccessConfig {
    Public,
    Optional,
    #[default]
    Required,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopesConfig {
    any_of: Option<Vec<String>>,
    all_of: Option<Vec<String>>,
}

/// The route at `path`, or `None` after recording its problems.
pub(super) fn route(input: &RouteConfig, path: &str, problems: &mut Problems) -> Option<Route> {
    let before = problems.0.len();
    let matcher = match (&input.exact, &input.prefix) {
        (Some(p), None) => Some(PathMatch::Exact(p.clone())),
        (None, Some(p)) => Some(PathMatch::Prefix(p.clone())),
        (exact, _) => {
            let got = if exact.is_some() { "both" } else { "neither" };
            problems.add(
                path,
                format!("expected exactly one of exact or prefix, got {got}"),
            );
            None
        }
    };
    for (field, value) in [("exact", &input.exact), ("prefix", &input.prefix)] {
        if let Some(value) = value.as_ref().filter(|v| !v.starts_with('/')) {
            problems.add(
                format!("{path}.{field}"),
                format!("expected a path starting with '/', got {value:?}"),
            );
        }
    }
    for (i, method) in input.methods.iter().enumerate() {
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
            problems.add(
                format!("{path}.methods[{i}]"),
                format!("expected an upper-case HTTP method such as GET, got {method:?}"),
            );
        }
    }
    let requirement = Requirement {
        scopes_any_of: list(
            input.scopes.as_ref().and_then(|s| s.any_of.as_ref()),
            &format!("{path}.scopes.any_of"),
            problems,
        ),
        scopes_all_of: list(
            input.scopes.as_ref().and_then(|s| s.all_of.as_ref()),
            &format!("{path}.scopes.all_of"),
            problems,
        ),
        roles: list(input.roles.as_ref(), &format!("{path}.roles"), problems),
    };
    if let Some(ScopesConfig {
        any_of: None,
        all_of: None,
    }) = &input.scopes
    {
        problems.add(
            format!("{path}.scopes"),
            "expected any_of or all_of, got neither",
        );
    }
    let access = match input.access {
        AccessConfig::Public => Access::Public,
        AccessConfig::Optional => Access::Optional,
        AccessConfig::Required => Access::Required,
    };
    if access == Access::Public && requirement != Requirement::default() {
        problems.add(format!("{path}.access"), "expected optional or required on a route with scopes or roles, got public (a public route checks nothing)");
    }
    let path = matcher?;
    (problems.0.len() == before).then(|| Route {
        path,
        methods: input.methods.clone(),
        access,
        requirement,
    })
}

/// A list of scopes or roles: absent is no requirement, present must be non-empty labels.
fn list(values: Option<&Vec<String>>, path: &str, problems: &mut Problems) -> Vec<String> {
    let Some(values) = values else {
        return Vec::new();
    };
    if values.is_empty() {
        problems.add(path, "expected at least one entry, got an empty list");
    }
    for (i, value) in values.iter().enumerate() {
        label(value, &format!("{path}[{i}]"), problems);
    }
    values.clone()
}
