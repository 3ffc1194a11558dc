//! The key format, and verifying a presented key against published records.

use super::*;
use crate::host::fake::FakeHost;
use crate::wire::KeyEntry;

const RANDOM: &str = "0123456789abcdefghijKL";

#[test]
fn a_composed_key_is_well_formed() {
    let key = compose(RANDOM);
    assert_eq!(key.len(), KEY_LEN);
    assert!(key.starts_with("sk_0123456789abcdefghijKL"));
    assert!(is_well_formed(&key));
}

#[test]
fn the_checksum_is_base62_crc32_of_prefix_and_random_part() {
    let crc = crc32fast::hash(b"sk_0123456789abcdefghijKL");
    let mut expected = String::new();
    let mut v = crc;
    for _ in 0..CHECKSUM_LEN {
        expected.insert(0, char::from(BASE62[(v % 62) as usize]));
        v /= 62;
    }
    assert_eq!(checksum("sk_0123456789abcdefghijKL"), expected);
}

#[test]
fn a_single_changed_character_fails_the_checksum() {
    let key = compose(RANDOM);
    for at in PREFIX.len()..KEY_LEN {
        let mut bytes = key.clone().into_bytes();
        bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
        let typo = String::from_utf8(bytes).unwrap();
        assert!(!is_well_formed(&typo), "{typo}");
    }
}

#[test]
fn wrong_prefix_length_or_alphabet_is_malformed() {
    let key = compose(RANDOM);
    assert!(!is_well_formed(&key.replacen("sk_", "pk_", 1)));
    assert!(!is_well_formed(&key[..KEY_LEN - 1]));
    assert!(!is_well_formed(&format!("{key}0")));
    assert!(!is_well_formed(&compose("0123456789abcdefghij-_")));
    assert!(!is_well_formed(""));
    assert!(!is_well_formed(&format!("sk_{}", "é".repeat(14))));
    assert!(!is_well_formed(&format!("sk_{}x", "é".repeat(13) + "a")));
}

#[test]
fn display_prefix_shows_four_random_characters() {
    assert_eq!(display_prefix(&compose(RANDOM)), "sk_0123");
    assert_eq!(display_prefix("sk"), "sk_");
}

const NOW: i64 = 1_800_000_000;

fn published(host: &FakeHost, key: &str, status: KeyStatus, expires_at: Option<i64>) {
    let entry = KeyEntry {
        digest: String::new(),
        key_id: "key_1".into(),
        org_id: "acme".into(),
        scopes: vec!["reports:read".into()],
        roles: vec!["admin".into()],
        tier: Some("gold".into()),
        expires_at,
        revoked_at: (status == KeyStatus::Revoked).then_some(NOW),
        status,
    };
    shared::publish(host, &static_token::digest(key.as_bytes()), &entry);
}

fn synced_host() -> FakeHost {
    let host = FakeHost::default();
    host.set_now(NOW);
    host.set_shared(shared::SYNCED, b"1").unwrap();
    host
}

#[test]
fn a_published_active_key_authenticates_with_its_identity() {
    let host = synced_host();
    let key = compose(RANDOM);
    published(&host, &key, KeyStatus::Active, Some(NOW + 1));
    let identity = verify(&key, &host).unwrap();
    assert_eq!(identity.subject, "key_1");
    let headers: Vec<_> = identity.headers().collect();
    assert!(headers.contains(&("x-auth-method", "api_key")));
    assert!(headers.contains(&("x-auth-key-id", "key_1")));
    assert!(headers.contains(&("x-auth-org", "acme")));
    assert!(headers.contains(&("x-auth-tier", "gold")));
    assert!(headers.contains(&("x-auth-scopes", "reports:read")));
}

#[test]
fn a_malformed_key_is_refused_before_any_lookup() {
    let host = FakeHost::default();
    let mut typo = compose(RANDOM);
    typo.pop();
    typo.push('x');
    assert_eq!(verify(&typo, &host), Err(KeyRejection::Malformed));
}

#[test]
fn an_unknown_key_is_unknown_after_sync_and_not_ready_before() {
    let key = compose(RANDOM);
    assert_eq!(
        verify(&key, &FakeHost::default()),
        Err(KeyRejection::NotReady)
    );
    let rejection = verify(&key, &synced_host()).unwrap_err();
    assert_eq!(
        rejection,
        KeyRejection::Unknown {
            prefix: "sk_0123".into()
        }
    );
    assert!(!rejection.to_string().contains(&key));
}

#[test]
fn revoked_and_disabled_keys_are_refused() {
    let host = synced_host();
    let key = compose(RANDOM);
    published(&host, &key, KeyStatus::Revoked, None);
    assert_eq!(
        verify(&key, &host),
        Err(KeyRejection::Revoked {
            key_id: "key_1".into()
        })
    );
    published(&host, &key, KeyStatus::Disabled, None);
    assert_eq!(
        verify(&key, &host),
        Err(KeyRejection::Disabled {
            key_id: "key_1".into()
        })
    );
}

#[test]
fn a_key_is_expired_from_its_expiry_second_on() {
    let host = synced_host();
    let key = compose(RANDOM);
    published(&host, &key, KeyStatus::Active, Some(NOW));
    assert_eq!(
        verify(&key, &host),
        Err(KeyRejection::Expired {
            key_id: "key_1".into(),
            expires_at: NOW,
            now: NOW
        })
    );
}

#[test]
fn an_unreadable_record_is_refused_never_accepted() {
    let host = synced_host();
    let key = compose(RANDOM);
    let digest = static_token::digest(key.as_bytes());
    let bucket = shared::bucket_key(shared::bucket_of(&digest));
    host.set_shared(&bucket, b"\x01garbage").unwrap();
    assert_eq!(
        verify(&key, &host),
        Err(KeyRejection::Corrupt {
            prefix: "sk_0123".into()
        })
    );
}
