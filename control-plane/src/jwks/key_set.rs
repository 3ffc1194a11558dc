//! A provider's JWKS (RFC 7517 §5) reduced to the keys the filter may verify with.
//!
//! [`usable_keys`] is the one entry point: bytes in, a [`NormalizedJwks`] out, or why not.
//! The normalized set is deterministic (public members only, canonical base64url, sorted by
//! `kid`), so an issuer that reorders or re-pads its keys does not look like a key change
//! and bump the revision. It can later be swapped for the filter's own JWK parser.

use super::JwksError;
use super::jwk::{self, KeyDefect, UsableKey};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// The most keys kept from one JWKS: the set is pushed to every sidecar.
pub const MAX_KEYS: usize = 64;

/// A key of the fetched JWKS that is not kept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedKey {
    /// Its position in the fetched `keys` array.
    pub index: usize,
    /// Why it is not kept.
    pub defect: KeyDefect,
}

/// The usable keys of a JWKS, and the ones left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedJwks {
    /// Usable keys sorted by `kid` (keys without one last, in document order).
    pub keys: Vec<UsableKey>,
    /// Keys left out, in document order.
    pub rejected: Vec<RejectedKey>,
}

#[derive(Serialize)]
struct KeySetJson<'a> {
    keys: &'a [UsableKey],
}

impl NormalizedJwks {
    /// The stored and pushed form: `{"keys": [...]}` with the usable keys only.
    pub fn to_json(&self) -> String {
        // Structs of strings always serialize.
        serde_json::to_string(&KeySetJson { keys: &self.keys }).unwrap_or_default()
    }

    /// The `kid`s of the usable keys.
    pub fn kids(&self) -> BTreeSet<String> {
        self.keys.iter().filter_map(|k| k.kid.clone()).collect()
    }
}

/// Parses a JWKS and keeps its usable keys; a set with none is an error that lists why
/// each key was left out.
pub fn usable_keys(body: &[u8]) -> Result<NormalizedJwks, JwksError> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| JwksError::NotJson(e.to_string()))?;
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwksError::NotAKeySet)?;
    let mut keys: Vec<UsableKey> = Vec::new();
    let mut rejected = Vec::new();
    let mut kids = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let verdict = jwk::check(entry).and_then(|key| match &key.kid {
            Some(kid) if !kids.insert(kid.clone()) => Err(KeyDefect::DuplicateKid(kid.clone())),
            _ if keys.len() >= MAX_KEYS => Err(KeyDefect::TooMany(MAX_KEYS)),
            _ => Ok(key),
        });
        match verdict {
            Ok(key) => keys.push(key),
            Err(defect) => rejected.push(RejectedKey { index, defect }),
        }
    }
    if keys.is_empty() {
        let reasons: Vec<String> = rejected
            .iter()
            .map(|r| format!("keys[{}] {}", r.index, r.defect))
            .collect();
        return Err(JwksError::NoUsableKey {
            count: entries.len(),
            reasons: reasons.join("; "),
        });
    }
    // A stable sort: keys without a `kid` keep their document order after the others.
    keys.sort_by(|a, b| match (&a.kid, &b.kid) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(NormalizedJwks { keys, rejected })
}

/// The `kid`s of a stored normalized JWKS (empty if it does not parse).
pub fn stored_kids(json: &str) -> BTreeSet<String> {
    usable_keys(json.as_bytes())
        .map(|set| set.kids())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ed(kid: &str, byte: u8) -> Value {
        use base64::Engine as _;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([byte; 32]);
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x})
    }

    fn body(keys: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn usable_keys_are_kept_and_the_rest_listed_with_their_defect() {
        let set = usable_keys(&body(vec![
            ed("b", 2),
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            ed("a", 1),
        ]))
        .unwrap();
        assert_eq!(set.kids().into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            set.rejected,
            [RejectedKey {
                index: 1,
                defect: KeyDefect::Symmetric
            }]
        );
    }

    #[test]
    fn reordering_the_same_keys_normalizes_to_the_same_json() {
        let one = usable_keys(&body(vec![ed("a", 1), ed("b", 2)])).unwrap();
        let two = usable_keys(&body(vec![ed("b", 2), ed("a", 1)])).unwrap();
        assert_eq!(one.to_json(), two.to_json());
        assert_eq!(stored_kids(&one.to_json()), one.kids());
    }

    #[test]
    fn a_repeated_kid_keeps_the_first_key_only() {
        let set = usable_keys(&body(vec![ed("a", 1), ed("a", 2)])).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.rejected[0].defect, KeyDefect::DuplicateKid("a".into()));
    }

    #[test]
    fn keys_beyond_the_limit_are_left_out() {
        let many = (0..=MAX_KEYS).map(|i| ed(&format!("k{i:03}"), 1)).collect();
        let set = usable_keys(&body(many)).unwrap();
        assert_eq!(set.keys.len(), MAX_KEYS);
        assert_eq!(set.rejected[0].defect, KeyDefect::TooMany(MAX_KEYS));
    }

    #[test]
    fn a_set_with_no_usable_key_is_an_error_naming_each_defect() {
        let err = usable_keys(&body(vec![
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "PQC"}),
        ]))
        .unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, JwksError::NoUsableKey { count: 2, .. }),
            "{text}"
        );
        assert!(
            text.contains("keys[0] is a symmetric") && text.contains("keys[1] has `kty`"),
            "{text}"
        );
        assert!(matches!(
            usable_keys(&body(vec![])),
            Err(JwksError::NoUsableKey { count: 0, .. })
        ));
    }

    #[test]
    fn a_body_that_is_not_a_key_set_is_an_error() {
        assert!(matches!(
            usable_keys(b"{\"keys\": ["),
            Err(JwksError::NotJson(_))
        ));
        assert!(matches!(usable_keys(b"[]"), Err(JwksError::NotAKeySet)));
        assert!(matches!(
            usable_keys(b"{\"keys\": {}}"),
            Err(JwksError::NotAKeySet)
        ));
    }
}
