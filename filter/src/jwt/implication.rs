//! Scopes implied by roles and by other scopes (`org:admin` implies the member scopes,
//! `write` implies `read`), configured per provider and closed transitively once.

use std::collections::{BTreeMap, BTreeSet};

/// A transitive implication map: a role or scope → every scope it grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Implications {
    closure: BTreeMap<String, BTreeSet<String>>,
}

impl Implications {
    /// The closure of `direct`, where each key (a role or scope) grants its values, and
    /// each granted value grants what it implies in turn. Cycles are harmless.
    pub fn new(direct: &BTreeMap<String, Vec<String>>) -> Implications {
        let mut closure = BTreeMap::new();
        for start in direct.keys() {
            let mut granted = BTreeSet::new();
            let mut pending: Vec<&String> = direct.get(start).into_iter().flatten().collect();
            while let Some(next) = pending.pop() {
                if granted.insert(next.clone()) {
                    pending.extend(direct.get(next).into_iter().flatten());
                }
            }
            closure.insert(start.clone(), granted);
        }
        Implications { closure }
    }

    /// Every scope implied by any of `held` (roles and scopes).
    pub fn implied<'a>(&'a self, held: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
        held.into_iter()
            .filter_map(|name| self.closure.get(name))
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn implications(pairs: &[(&str, &[&str])]) -> Implications {
        let direct = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
        Implications::new(&direct)
    }

    #[test]
    fn an_admin_role_implies_member_scopes_transitively() {
        let map = implications(&[
            ("org:admin", &["keys:write", "org:member"]),
            ("org:member", &["keys:read"]),
        ]);
        let implied: Vec<_> = map.implied(["org:admin"]).into_iter().collect();
        assert_eq!(implied, ["keys:read", "keys:write", "org:member"]);
        let member: Vec<_> = map.implied(["org:member"]).into_iter().collect();
        assert_eq!(member, ["keys:read"]);
    }

    #[test]
    fn a_scope_implies_lesser_scopes() {
        let map = implications(&[("admin", &["write"]), ("write", &["read"])]);
        let implied: Vec<_> = map.implied(["write", "other"]).into_iter().collect();
        assert_eq!(implied, ["read"]);
    }

    #[test]
    fn a_cycle_terminates() {
        let map = implications(&[("a", &["b"]), ("b", &["a"])]);
        let implied: Vec<_> = map.implied(["a"]).into_iter().collect();
        assert_eq!(implied, ["a", "b"]);
    }
}
