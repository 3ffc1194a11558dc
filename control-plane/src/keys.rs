//! Key domain rules: minting secrets and ids, digests, and turning a validated request into
//! the record to store. No SQL and no HTTP: the API layer calls these before the store.

use crate::store::{Digest, KeyRecord, NewKey, UnixSecs};
use portcullis::api_key::{BASE62, RANDOM_LEN, compose, display_prefix};
use sha2::{Digest as _, Sha256};
use std::fmt;

mod validation;

use validation::check_spec;
pub use validation::{check_grace, check_identifier, check_patch};

/// Key ids are `key_` + this many base62 characters.
pub const ID_LEN: usize = 16;

/// Why a key or a change to it was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A field failed validation; `field` is its JSON path (`scopes[1]`).
    #[error("`{field}` {reason}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong with it, with expected and actual values.
        reason: String,
    },
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(getrandom::Error),
}

/// A freshly minted secret: shown to the caller once, stored only as `digest`.
pub struct Minted {
    /// The full key (`sk_…`); never logged.
    pub secret: String,
    /// SHA-256 of `secret`.
    pub digest: Digest,
    /// What listings and logs show (`sk_AbCd`).
    pub prefix: String,
}

impl fmt::Debug for Minted {
    // A derived Debug would print the secret into any log line that formats this value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Minted")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// What an operator asks for when creating a key, before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySpec {
    /// Human label.
    pub name: String,
    /// Owning org.
    pub org_id: String,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Roles held.
    pub roles: Vec<String>,
    /// Rate-limit tier.
    pub tier: Option<String>,
    /// When the key stops working.
    pub expires_at: Option<UnixSecs>,
    /// Operator metadata.
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// SHA-256 of a secret: the only form in which a key is stored or pushed.
pub fn digest(secret: &str) -> Digest {
    Sha256::digest(secret.as_bytes()).into()
}

/// `len` uniformly random base62 characters.
fn random_base62(len: usize) -> Result<String, KeyError> {
    // Rejection sampling: 248 = 4 * 62, so keeping bytes below 248 makes `byte % 62`
    // uniform; a plain `% 62` over 0..=255 would favour the first eight characters.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(KeyError::Random)?;
        for &byte in buf.iter().filter(|&&b| b < LIMIT) {
            if out.len() == len {
                break;
            }
            if let Some(&c) = BASE62.get(usize::from(byte % 62)) {
                out.push(char::from(c));
            }
        }
    }
    Ok(out)
}

/// A new secret in the filter's key format, with its digest and display prefix.
pub fn mint_secret() -> Result<Minted, KeyError> {
    let secret = compose(&random_base62(RANDOM_LEN)?);
    Ok(Minted {
        digest: digest(&secret),
        prefix: display_prefix(&secret).to_owned(),
        secret,
    })
}

/// A new key id: `key_` + 16 base62 characters. Not secret; stable across rotation.
pub fn mint_id() -> Result<String, KeyError> {
    Ok(format!("key_{}", random_base62(ID_LEN)?))
}

/// Validates `spec` and mints the key: the record to store and the secret to show once.
pub fn create(spec: KeySpec, now: UnixSecs) -> Result<(NewKey, Minted), KeyError> {
    check_spec(&spec, now)?;
    let minted = mint_secret()?;
    let record = KeyRecord {
        id: mint_id()?,
        org_id: spec.org_id,
        name: spec.name,
        prefix: minted.prefix.clone(),
        scopes: spec.scopes,
        roles: spec.roles,
        tier: spec.tier,
        meta: spec.meta,
        enabled: true,
        expires_at: spec.expires_at,
        created_at: now,
        updated_at: now,
        revoked_at: None,
    };
    let new = NewKey {
        record,
        digest: minted.digest,
    };
    Ok((new, minted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis::api_key::{KEY_LEN, is_well_formed};

    pub(super) const NOW: UnixSecs = 1_800_000_000;

    /// A valid key spec; `validation`'s tests change one field at a time.
    pub(super) fn spec() -> KeySpec {
        KeySpec {
            name: "ci deploys".into(),
            org_id: "acme".into(),
            scopes: vec!["read:keys".into()],
            roles: vec!["admin".into()],
            tier: Some("gold".into()),
            expires_at: Some(NOW + 60),
            meta: serde_json::Map::new(),
        }
    }

    #[test]
    fn minted_secrets_are_well_formed_and_distinct() {
        let a = mint_secret().unwrap();
        let b = mint_secret().unwrap();
        assert!(is_well_formed(&a.secret));
        assert_eq!(a.secret.len(), KEY_LEN);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.digest, digest(&a.secret));
        assert_eq!(a.prefix, display_prefix(&a.secret));
    }

    #[test]
    fn minted_ids_are_key_and_sixteen_base62_characters() {
        let id = mint_id().unwrap();
        let tail = id.strip_prefix("key_").unwrap();
        assert_eq!(tail.len(), ID_LEN);
        assert!(tail.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn debug_of_a_minted_secret_never_shows_it() {
        let minted = mint_secret().unwrap();
        assert!(!format!("{minted:?}").contains(&minted.secret));
    }

    #[test]
    fn digest_is_sha256_of_the_secret() {
        assert_eq!(
            digest("abc")[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256(\"abc\") starts ba7816bf"
        );
    }

    #[test]
    fn a_valid_spec_becomes_an_enabled_record_with_the_minted_prefix() {
        let (new, minted) = create(spec(), NOW).unwrap();
        assert_eq!(new.digest, minted.digest);
        assert_eq!(new.record.prefix, minted.prefix);
        assert!(new.record.enabled && new.record.revoked_at.is_none());
        assert_eq!(new.record.created_at, NOW);
    }
}
