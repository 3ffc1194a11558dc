//! Expiry, generation changes, LRU eviction, and the memory a full cache holds.

use super::*;
use crate::jwt::JwtIdentity;

const NOW: i64 = 1_800_000_000;

fn key(n: u32) -> TokenKey {
    TokenKey::of(&format!("token-{n}"))
}

#[test]
fn a_cached_token_is_found_until_its_exp() {
    let mut cache = TokenCache::new(8);
    cache.insert(key(1), "alice", Some(NOW + 60), NOW, 0);
    assert_eq!(cache.get(&key(1), NOW + 59, 0), Some(&"alice"));
    assert_eq!(cache.get(&key(1), NOW + 60, 0), None);
    assert!(cache.is_empty(), "the expired entry is dropped");
}

#[test]
fn a_token_already_past_exp_is_not_stored() {
    let mut cache = TokenCache::new(8);
    cache.insert(key(1), "late", Some(NOW), NOW, 0);
    assert!(cache.is_empty());
}

#[test]
fn a_token_without_exp_is_kept_until_evicted() {
    let mut cache = TokenCache::new(8);
    cache.insert(key(1), "forever", None, NOW, 0);
    assert_eq!(cache.get(&key(1), i64::MAX, 0), Some(&"forever"));
}

#[test]
fn a_new_key_generation_drops_every_entry() {
    let mut cache = TokenCache::new(8);
    cache.insert(key(1), "a", Some(NOW + 60), NOW, 3);
    cache.insert(key(2), "b", Some(NOW + 60), NOW, 3);
    assert_eq!(cache.get(&key(1), NOW, 4), None);
    assert!(cache.is_empty());
    cache.insert(key(3), "c", Some(NOW + 60), NOW, 4);
    assert_eq!(cache.get(&key(3), NOW, 4), Some(&"c"));
}

#[test]
fn the_least_recently_used_token_is_evicted_first() {
    let mut cache = TokenCache::new(2);
    cache.insert(key(1), 1, None, NOW, 0);
    cache.insert(key(2), 2, None, NOW, 0);
    assert_eq!(cache.get(&key(1), NOW, 0), Some(&1));
    cache.insert(key(3), 3, None, NOW, 0);
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get(&key(2), NOW, 0), None);
    assert_eq!(cache.get(&key(1), NOW, 0), Some(&1));
    assert_eq!(cache.get(&key(3), NOW, 0), Some(&3));
}

#[test]
fn a_zero_capacity_cache_stores_nothing() {
    let mut cache = TokenCache::new(0);
    cache.insert(key(1), 1, None, NOW, 0);
    assert!(cache.is_empty());
}

#[test]
fn keys_differ_for_tokens_differing_in_one_byte() {
    assert_ne!(TokenKey::of("eyJ.a.b"), TokenKey::of("eyJ.a.c"));
    assert_eq!(TokenKey::of("eyJ.a.b"), TokenKey::of("eyJ.a.b"));
}

fn typical_identity(n: usize) -> JwtIdentity {
    JwtIdentity {
        provider: "clerk".into(),
        subject: format!("user_2abcdefghijklmnopqrstu{n:04}"),
        client_id: None,
        org_id: Some("org_2abcdefghijklmnopqrstuvw".into()),
        org_role: Some("org:admin".into()),
        roles: vec!["org:admin".into()],
        permissions: vec!["org:invoices:read".into(), "org:invoices:write".into()],
        scopes: vec![
            "keys:read".into(),
            "keys:write".into(),
            "org:invoices:read".into(),
            "org:invoices:write".into(),
        ],
        expires_at: Some(NOW + 60),
        issuer: "https://issuer.example".into(),
        claim_headers: vec![],
    }
}

/// Heap bytes an identity owns (string and vector buffers).
fn heap_bytes(id: &JwtIdentity) -> usize {
    let strings = |v: &Vec<String>| {
        v.capacity() * size_of::<String>() + v.iter().map(String::capacity).sum::<usize>()
    };
    id.provider.capacity()
        + id.subject.capacity()
        + id.client_id.as_ref().map_or(0, String::capacity)
        + id.org_id.as_ref().map_or(0, String::capacity)
        + id.org_role.as_ref().map_or(0, String::capacity)
        + strings(&id.roles)
        + strings(&id.permissions)
        + strings(&id.scopes)
}

#[test]
fn memory_of_a_full_default_cache() {
    // One node per entry (key, value, exp, two list pointers) plus a table slot (a
    // pointer and a control byte); hashbrown keeps the table at most 7/8 full.
    let node = size_of::<TokenKey>() + size_of::<Entry<JwtIdentity>>() + 2 * size_of::<usize>();
    let slot = (size_of::<usize>() + 1) * 8 / 7;
    let mut cache = TokenCache::default();
    let mut heap = 0;
    for n in 0..DEFAULT_CAPACITY + 10 {
        let id = typical_identity(n);
        if n < DEFAULT_CAPACITY {
            heap += heap_bytes(&id);
        }
        cache.insert(TokenKey::of(&n.to_string()), id, Some(NOW + 60), NOW, 0);
    }
    assert_eq!(cache.len(), DEFAULT_CAPACITY);
    let per_entry = node + slot + heap / DEFAULT_CAPACITY;
    let total = per_entry * DEFAULT_CAPACITY;
    println!("token cache: {per_entry} bytes per entry, {total} bytes for {DEFAULT_CAPACITY}");
    assert!(per_entry < 1024, "{per_entry} bytes per entry");
    assert!(total < 1024 * 1024, "{total} bytes in all");
}
