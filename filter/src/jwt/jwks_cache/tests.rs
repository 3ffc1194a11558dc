//! A worker's verifier against an in-memory host: synced providers, rebuilds on change,
//! unknown keys looked up at once, and the token cache following the key set.

use super::*;
use crate::host::fake::FakeHost;
use crate::jwt::algorithm::Algorithm;
use crate::jwt::testkit::{self, ISSUER, NOW};
use serde_json::{Value, json};

fn settings(inline: &[Value]) -> JwtSettings {
    let providers: Vec<ProviderConfig> = inline
        .iter()
        .map(|c| serde_json::from_value(c.clone()).unwrap())
        .collect();
    JwtSettings {
        providers,
        secrets: BTreeMap::new(),
        cache_size: 16,
        claim_headers: vec![],
    }
}

/// Publishes `configs` (by name) as the syncer would.
fn publish(host: &FakeHost, configs: &[Value]) {
    let map: BTreeMap<String, Value> = configs
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c.clone()))
        .collect();
    host.set_shared(shared::PROVIDERS, &serde_json::to_vec(&map).unwrap())
        .unwrap();
}

fn synced_config(kid: &str, key: &testkit::TestKey) -> Value {
    json!({"name": "prv_1", "issuer": ISSUER, "audiences": ["api"],
           "jwks": {"keys": [key.jwk(Some(kid), Some("ES256"))]}})
}

fn token(kid: &str, key: &testkit::TestKey) -> String {
    key.mint(
        Algorithm::Es256,
        &json!({"alg": "ES256", "kid": kid}),
        &testkit::good_claims(),
    )
}

fn host() -> FakeHost {
    let host = FakeHost::default();
    host.set_now(NOW);
    host
}

#[test]
fn a_synced_provider_verifies_on_the_first_token_without_waiting_for_a_tick() {
    let host = host();
    let mut cache = JwksCache::new(&settings(&[]));
    let key = testkit::p256(1);
    publish(&host, &[synced_config("ec-1", &key)]);
    let identity = cache.verify(&token("ec-1", &key), &host).unwrap();
    assert_eq!(
        (identity.subject.as_str(), identity.issuer.as_str()),
        ("user_1", ISSUER)
    );
}

#[test]
fn a_rotated_key_set_accepts_new_tokens_and_drops_cached_old_ones() {
    let host = host();
    let mut cache = JwksCache::new(&settings(&[]));
    let (old, new) = (testkit::p256(1), testkit::p256(2));
    publish(&host, &[synced_config("ec-1", &old)]);
    let old_token = token("ec-1", &old);
    assert!(cache.verify(&old_token, &host).is_ok());

    publish(&host, &[synced_config("ec-2", &new)]);
    assert!(cache.refresh(&host).is_empty());
    assert!(cache.verify(&token("ec-2", &new), &host).is_ok());
    assert!(
        matches!(
            cache.verify(&old_token, &host),
            Err(JwtRejection::NoKey { .. })
        ),
        "the cached identity went with its key set"
    );
}

#[test]
fn an_unknown_kid_looks_at_shared_data_at_most_once_a_second() {
    let host = host();
    let mut cache = JwksCache::new(&settings(&[]));
    let (old, new) = (testkit::p256(1), testkit::p256(2));
    publish(&host, &[synced_config("ec-1", &old)]);
    assert!(cache.verify(&token("ec-1", &old), &host).is_ok());
    assert!(cache.verify(&token("ec-2", &new), &host).is_err());
    publish(&host, &[synced_config("ec-2", &new)]);
    assert!(
        cache.verify(&token("ec-2", &new), &host).is_err(),
        "looked already this second"
    );
    host.set_now(NOW + 1);
    assert!(cache.verify(&token("ec-2", &new), &host).is_ok());
}

#[test]
fn a_kid_still_unknown_after_looking_is_handed_over_for_reporting_once() {
    let host = host();
    let mut cache = JwksCache::new(&settings(&[]));
    let (old, new) = (testkit::p256(1), testkit::p256(2));
    publish(&host, &[synced_config("ec-1", &old)]);
    assert!(cache.verify(&token("ec-1", &old), &host).is_ok());
    assert_eq!(cache.take_unknown_kid(), None);
    host.set_now(NOW + 1);
    assert!(cache.verify(&token("ec-2", &new), &host).is_err());
    let report = cache.take_unknown_kid().unwrap();
    assert_eq!(
        (report.provider.as_str(), report.kid.as_str()),
        ("prv_1", "ec-2")
    );
    assert!(cache.verify(&token("ec-2", &new), &host).is_err());
    assert_eq!(cache.take_unknown_kid(), None, "once a second at most");
}

#[test]
fn a_synced_provider_clashing_with_an_inline_one_is_left_out_and_reported() {
    let host = host();
    let mut cache = JwksCache::new(&settings(&[testkit::main_config()]));
    publish(&host, &[synced_config("ec-1", &testkit::p256(1))]);
    let problems = cache.refresh(&host);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let rsa_token = testkit::rsa().mint(
        Algorithm::Rs256,
        &json!({"alg": "RS256", "kid": "rsa-1"}),
        &testkit::good_claims(),
    );
    assert!(
        cache.verify(&rsa_token, &host).is_ok(),
        "the inline provider still works"
    );
}

#[test]
fn an_expired_token_is_never_served_from_the_cache() {
    let host = host();
    let mut cache = JwksCache::new(&settings(&[]));
    let key = testkit::p256(1);
    publish(&host, &[synced_config("ec-1", &key)]);
    let token = token("ec-1", &key);
    assert!(cache.verify(&token, &host).is_ok());
    host.set_now(NOW + 300 + 5);
    assert_eq!(
        cache.verify(&token, &host).unwrap_err().code().as_str(),
        "expired_credentials"
    );
}
