//! `portcullis serve --providers FILE`: providers declared in a JSON file, checked whole
//! and upserted by issuer at start, audited as actor `config`.
//!
//! The file is `{"providers": [<ProviderConfig>, ...]}`. A provider whose issuer is in the
//! store already is updated only when its settings differ, so restarting with the same
//! file writes nothing. Providers absent from the file are left alone: the file adds and
//! changes, the API deletes. Start-up code, so errors are `anyhow`.

use super::{ProviderConfig, ProviderError, check, mint_id};
use crate::store::{Actor, Provider, ProviderPatch, Store, UnixSecs};
use anyhow::Context as _;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

/// The audit actor of changes made from the file.
pub const ACTOR: &str = "config";

/// The file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    providers: Vec<ProviderConfig>,
}

/// What an upsert did, for the start-up log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upserted {
    /// Providers created.
    pub created: usize,
    /// Providers whose settings changed.
    pub updated: usize,
    /// Providers already as the file says.
    pub unchanged: usize,
}

/// Reads and checks every provider in the file at `path`; one bad field refuses the whole
/// file, named by its path (`providers[1].audiences[0]`).
pub fn load(path: &Path) -> anyhow::Result<Vec<Provider>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the providers file {}", path.display()))?;
    parse(&text).with_context(|| format!("providers file {} refused", path.display()))
}

fn parse(text: &str) -> anyhow::Result<Vec<Provider>> {
    let file: ProvidersFile = serde_json::from_str(text).context("not a valid providers file")?;
    let mut issuers = BTreeSet::new();
    let mut providers = Vec::with_capacity(file.providers.len());
    for (i, config) in file.providers.into_iter().enumerate() {
        let provider = check(config).map_err(|err| match err {
            ProviderError::Invalid { field, reason } => {
                anyhow::anyhow!("`providers[{i}].{field}` {reason}")
            }
            other => other.into(),
        })?;
        if !issuers.insert(provider.issuer.clone()) {
            anyhow::bail!(
                "`providers[{i}].issuer` {:?} appears twice: one provider per issuer",
                provider.issuer
            );
        }
        providers.push(provider);
    }
    Ok(providers)
}

/// Creates or updates each provider by issuer, as actor [`ACTOR`].
pub fn upsert(
    store: &dyn Store,
    providers: Vec<Provider>,
    now: UnixSecs,
) -> anyhow::Result<Upserted> {
    let actor = Actor(ACTOR.to_owned());
    let existing = store.list_providers()?;
    let mut done = Upserted::default();
    for provider in providers {
        match existing
            .iter()
            .find(|r| r.provider.issuer == provider.issuer)
        {
            None => {
                store.create_provider(&mint_id()?, &provider, &actor, now)?;
                done.created += 1;
            }
            Some(record) if record.provider == provider => done.unchanged += 1,
            Some(record) => {
                store.update_provider(
                    &record.id,
                    &ProviderPatch::replacing_with(provider),
                    &actor,
                    now,
                )?;
                done.updated += 1;
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_valid_providers_parses_with_defaults() {
        let providers = parse(
            r#"{"providers": [
                {"issuer": "https://a.example"},
                {"issuer": "http://127.0.0.1:9000", "jwks_uri": "http://127.0.0.1:9000/k"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(providers[0].leeway_secs, 5);
    }

    #[test]
    fn a_bad_field_is_named_with_its_position_in_the_file() {
        let err = parse(
            r#"{"providers": [{"issuer": "https://a.example"}, {"issuer": "http://b.example"}]}"#,
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("`providers[1].issuer`"),
            "{err:#}"
        );
    }

    #[test]
    fn the_same_issuer_twice_is_refused() {
        let err = parse(
            r#"{"providers": [{"issuer": "https://a.example"}, {"issuer": "https://a.example"}]}"#,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("appears twice"), "{err:#}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse(r#"{"providers": [{"issuer": "https://a.example", "audience": "x"}]}"#)
            .unwrap_err();
        assert!(format!("{err:#}").contains("audience"), "{err:#}");
    }
}
