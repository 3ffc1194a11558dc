//! Route rules: which requests need a credential, and what that credential must hold.
//!
//! Rules are tried in configuration order and the first match wins; a request no rule
//! matches needs a credential (fail closed).

use crate::identity::Identity;

/// Whether a route needs a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing is checked and no identity is set (health checks).
    Public,
    /// Anonymous requests pass; a presented credential must be valid.
    Optional,
    /// A valid credential is required.
    Required,
}

/// How a rule matches the request path (the query string is ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The path equals this.
    Exact(String),
    /// The path starts with this.
    Prefix(String),
}

/// What an authenticated identity must hold on a route. Empty lists require nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// At least one of these scopes.
    pub scopes_any_of: Vec<String>,
    /// Every one of these scopes.
    pub scopes_all_of: Vec<String>,
    /// The identity's role is one of these.
    pub roles: Vec<String>,
}

/// Why an identity does not meet a route's [`Requirement`]; the message is for the log
/// and the client, and names what was required and what was held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmet {
    /// A scope requirement failed (RFC 6750 §3.1 `insufficient_scope`).
    #[error("requires scopes {required}; the credential holds [{held}]")]
    Scopes {
        /// The requirement, in words.
        required: String,
        /// The scopes RFC 6750 §3's `scope` attribute advertises.
        advertised: Vec<String>,
        /// The scopes the identity holds.
        held: String,
    },
    /// None of the identity's roles is allowed.
    #[error("requires role {expected:?}; the credential has roles {actual:?}")]
    Role {
        /// The allowed roles.
        expected: Vec<String>,
        /// The identity's roles.
        actual: Vec<String>,
    },
}

impl Requirement {
    /// Checks `identity` against the requirement: roles first, then scopes.
    pub fn check(&self, identity: &Identity) -> Result<(), Unmet> {
        if !self.roles.is_empty() && !self.roles.iter().any(|r| identity.has_role(r)) {
            return Err(Unmet::Role {
                expected: self.roles.clone(),
                actual: identity.roles.clone(),
            });
        }
        let all_held = self.scopes_all_of.iter().all(|s| identity.has_scope(s));
        let any_held = self.scopes_any_of.is_empty()
            || self.scopes_any_of.iter().any(|s| identity.has_scope(s));
        if all_held && any_held {
            return Ok(());
        }
        Err(Unmet::Scopes {
            required: self.describe_scopes(),
            advertised: self
                .scopes_all_of
                .iter()
                .chain(&self.scopes_any_of)
                .cloned()
                .collect(),
            held: identity.scopes.join(" "),
        })
    }

    fn describe_scopes(&self) -> String {
        match (self.scopes_all_of.is_empty(), self.scopes_any_of.is_empty()) {
            (false, true) => format!("all of {:?}", self.scopes_all_of),
            (true, false) => format!("one of {:?}", self.scopes_any_of),
            _ => format!(
                "all of {:?} and one of {:?}",
                self.scopes_all_of, self.scopes_any_of
            ),
        }
    }
}

/// One route rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The path it matches.
    pub path: PathMatch,
    /// The methods it matches; empty matches every method.
    pub methods: Vec<String>,
    /// Whether a credential is needed.
    pub access: Access,
    /// What the credential must hold.
    pub requirement: Requirement,
}

impl Route {
    fn matches(&self, method: &str, path: &str) -> bool {
        let path_matches = match &self.path {
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
        };
        path_matches && (self.methods.is_empty() || self.methods.iter().any(|m| m == method))
    }
}

/// The route rules in order, and the rule for requests none of them matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    routes: Vec<Route>,
    fallback: Route,
}

impl Policy {
    /// A policy trying `routes` in order; anything else requires a credential.
    pub fn new(routes: Vec<Route>) -> Self {
        let fallback = Route {
            path: PathMatch::Prefix(String::new()),
            methods: Vec::new(),
            access: Access::Required,
            requirement: Requirement::default(),
        };
        Policy { routes, fallback }
    }

    /// The first rule matching `method` and `path` (`:path`, query string included).
    pub fn route_for(&self, method: &str, path: &str) -> &Route {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        self.routes
            .iter()
            .find(|r| r.matches(method, path))
            .unwrap_or(&self.fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Method;

    fn route(path: PathMatch, methods: &[&str], access: Access) -> Route {
        Route {
            path,
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            access,
            requirement: Requirement::default(),
        }
    }

    fn identity(role: &str, scopes: &[&str]) -> Identity {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        Identity::new(Method::StaticToken, "sub".into(), vec![role.into()], scopes)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn first_matching_rule_wins() {
        let policy = Policy::new(vec![
            route(PathMatch::Exact("/health".into()), &["GET"], Access::Public),
            route(PathMatch::Prefix("/".into()), &[], Access::Optional),
        ]);
        assert_eq!(policy.route_for("GET", "/health").access, Access::Public);
        assert_eq!(policy.route_for("POST", "/health").access, Access::Optional);
        assert_eq!(policy.route_for("GET", "/healthz").access, Access::Optional);
    }

    #[test]
    fn query_string_is_ignored_when_matching() {
        let policy = Policy::new(vec![route(
            PathMatch::Exact("/health".into()),
            &[],
            Access::Public,
        )]);
        assert_eq!(
            policy.route_for("GET", "/health?probe=1").access,
            Access::Public
        );
    }

    #[test]
    fn unmatched_requests_require_a_credential() {
        let policy = Policy::new(vec![route(
            PathMatch::Prefix("/docs/".into()),
            &[],
            Access::Public,
        )]);
        assert_eq!(policy.route_for("GET", "/api/x").access, Access::Required);
        assert_eq!(policy.route_for("GET", "/docs").access, Access::Required);
    }

    #[test]
    fn role_outside_the_allowed_list_is_unmet() {
        let req = Requirement {
            roles: strings(&["system_admin"]),
            ..Requirement::default()
        };
        assert!(req.check(&identity("system_admin", &[])).is_ok());
        let err = req.check(&identity("admin", &[])).unwrap_err();
        assert!(matches!(err, Unmet::Role { ref actual, .. } if actual == &["admin"]));
        assert_eq!(
            err.to_string(),
            r#"requires role ["system_admin"]; the credential has roles ["admin"]"#
        );
    }

    #[test]
    fn any_of_scopes_needs_one() {
        let req = Requirement {
            scopes_any_of: strings(&["a", "b"]),
            ..Requirement::default()
        };
        assert!(req.check(&identity("r", &["b"])).is_ok());
        assert!(req.check(&identity("r", &["c"])).is_err());
    }

    #[test]
    fn all_of_scopes_needs_every_one() {
        let req = Requirement {
            scopes_all_of: strings(&["a", "b"]),
            ..Requirement::default()
        };
        assert!(req.check(&identity("r", &["b", "a", "c"])).is_ok());
        let err = req.check(&identity("r", &["a"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"requires scopes all of ["a", "b"]; the credential holds [a]"#
        );
    }

    #[test]
    fn unmet_scopes_advertise_every_required_scope() {
        let req = Requirement {
            scopes_all_of: strings(&["a"]),
            scopes_any_of: strings(&["b", "c"]),
            ..Requirement::default()
        };
        match req.check(&identity("r", &["a"])) {
            Err(Unmet::Scopes { advertised, .. }) => assert_eq!(advertised, ["a", "b", "c"]),
            other => panic!("expected unmet scopes, got {other:?}"),
        }
    }

    #[test]
    fn empty_requirement_is_always_met() {
        assert!(Requirement::default().check(&identity("", &[])).is_ok());
    }
}
