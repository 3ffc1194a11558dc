//! JWT providers travel beside the keys: a reset replaces the set, a delta changes one.

use super::*;
use crate::wire::ProviderEntry;

fn provider(id: &str, issuer: &str, revision: u64) -> ProviderEntry {
    let config = serde_json::json!({"name": id, "issuer": issuer});
    ProviderEntry {
        id: id.to_owned(),
        revision,
        config: Some(serde_json::from_value(config).unwrap()),
    }
}

fn with_providers(revision: u64, reset: bool, providers: Vec<ProviderEntry>) -> Vec<u8> {
    let page = SyncPage {
        revision,
        reset,
        entries: vec![],
        cursor: None,
        providers,
    };
    serde_json::to_vec(&page).unwrap()
}

fn issuers(host: &FakeHost) -> Vec<(String, String)> {
    let bytes = host.shared(shared::PROVIDERS).unwrap();
    let map: BTreeMap<String, ProviderConfig> = serde_json::from_slice(&bytes).unwrap();
    map.into_iter().map(|(id, c)| (id, c.issuer)).collect()
}

#[test]
fn a_reset_replaces_the_providers_and_a_delta_changes_one_at_a_time() {
    let (host, mut syncer) = (host(), syncer());
    let first = vec![provider("a", "https://a", 1), provider("b", "https://b", 1)];
    reply(&mut syncer, &host, &with_providers(1, true, first));
    assert_eq!(issuers(&host).len(), 2);

    let delta = vec![
        provider("b", "https://b2", 2),
        ProviderEntry {
            id: "a".into(),
            revision: 2,
            config: None,
        },
    ];
    reply(&mut syncer, &host, &with_providers(2, false, delta));
    assert_eq!(issuers(&host), [("b".to_owned(), "https://b2".to_owned())]);

    reply(
        &mut syncer,
        &host,
        &with_providers(3, true, vec![provider("c", "https://c", 3)]),
    );
    assert_eq!(issuers(&host), [("c".to_owned(), "https://c".to_owned())]);
}

#[test]
fn a_delta_without_providers_leaves_them_alone() {
    let (host, mut syncer) = (host(), syncer());
    reply(
        &mut syncer,
        &host,
        &with_providers(1, true, vec![provider("a", "https://a", 1)]),
    );
    reply(
        &mut syncer,
        &host,
        &page(2, false, vec![entry(ALICE, KeyStatus::Active)], None),
    );
    assert_eq!(issuers(&host).len(), 1);
}
