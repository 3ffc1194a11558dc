//! Bucket encoding: round trips, upserts, and every malformed value read as unreadable.

use super::*;

fn entry() -> KeyEntry {
    KeyEntry {
        digest: String::new(),
        key_id: "key_abc".into(),
        org_id: "acme".into(),
        scopes: vec!["reports:read".into(), "reports:write".into()],
        roles: vec!["admin".into()],
        tier: Some("gold".into()),
        expires_at: Some(1_900_000_000),
        revoked_at: None,
        status: KeyStatus::Active,
    }
}

fn record(first: u8, generation: u32) -> Record {
    Record::new([first; 32], &entry(), generation, i64::MAX)
}

#[test]
fn a_record_is_found_by_its_digest_with_every_field() {
    let mut bucket = Bucket::default();
    bucket.upsert(record(1, 7));
    bucket.upsert(record(2, 7));
    let bytes = bucket.encode();
    let stored = find(&bytes, &[2; 32]).unwrap().unwrap();
    assert_eq!(stored.key_id, "key_abc");
    assert_eq!(stored.org_id, "acme");
    assert_eq!(stored.tier.as_deref(), Some("gold"));
    assert_eq!(stored.scopes, ["reports:read", "reports:write"]);
    assert_eq!(stored.roles, ["admin"]);
    assert_eq!(stored.expires_at, Some(1_900_000_000));
    assert_eq!(stored.status, KeyStatus::Active);
    assert_eq!(find(&bytes, &[3; 32]), Ok(None));
}

#[test]
fn empty_lists_tier_and_expiry_round_trip_as_absent() {
    let mut e = entry();
    e.scopes.clear();
    e.roles.clear();
    e.tier = None;
    e.expires_at = None;
    e.status = KeyStatus::Revoked;
    let mut bucket = Bucket::default();
    bucket.upsert(Record::new([9; 32], &e, 1, 5));
    let stored = find(&bucket.encode(), &[9; 32]).unwrap().unwrap();
    assert!(stored.scopes.is_empty() && stored.roles.is_empty());
    assert_eq!((stored.tier, stored.expires_at), (None, None));
    assert_eq!(stored.status, KeyStatus::Revoked);
}

#[test]
fn decode_reads_back_what_encode_wrote_and_upsert_replaces_by_digest() {
    let mut bucket = Bucket::default();
    bucket.upsert(record(1, 1));
    bucket.upsert(record(2, 1));
    bucket.upsert(record(1, 2));
    assert_eq!(bucket.len(), 2);
    let decoded = Bucket::decode(&bucket.encode()).unwrap();
    assert_eq!(decoded, bucket);
    assert!(
        decoded
            .records
            .iter()
            .any(|r| r.digest == [1; 32] && r.generation == 2)
    );
}

#[test]
fn an_empty_bucket_encodes_to_nothing_and_an_empty_value_is_an_empty_bucket() {
    let mut bucket = Bucket::default();
    bucket.upsert(record(1, 1));
    assert_eq!(bucket.retain(|r| r.generation == 2), 1);
    assert!(bucket.is_empty());
    assert!(bucket.encode().is_empty());
    assert_eq!(Bucket::decode(&[]), Ok(Bucket::default()));
    assert_eq!(find(&[], &[1; 32]), Ok(None));
}

#[test]
fn truncated_trailing_or_foreign_bytes_are_unreadable_never_a_record() {
    let mut bucket = Bucket::default();
    bucket.upsert(record(1, 1));
    bucket.upsert(record(2, 1));
    let bytes = bucket.encode();
    // From 2: the version byte alone reads as an empty bucket, which is harmless.
    for cut in 2..bytes.len() {
        let cut_bytes = &bytes[..cut];
        // Cut at a record boundary, the bytes are a smaller bucket; elsewhere, unreadable.
        if let Ok(smaller) = Bucket::decode(cut_bytes) {
            assert_eq!(smaller.len(), 1, "cut at {cut}");
        }
        // A record entirely before the cut may still be found; the one cut never is.
        assert!(
            !matches!(find(cut_bytes, &[2; 32]), Ok(Some(_))),
            "cut at {cut}"
        );
    }
    let mut other_version = bytes.clone();
    other_version[0] = 1;
    assert_eq!(find(&other_version, &[1; 32]), Err(Unreadable));
    let mut trailing = bytes;
    trailing.push(0);
    assert_eq!(Bucket::decode(&trailing), Err(Unreadable));
}

#[test]
fn a_body_with_trailing_bytes_or_a_bad_status_is_unreadable() {
    let mut bad = record(1, 1);
    bad.body.push(0);
    let mut bucket = Bucket::default();
    bucket.upsert(bad);
    assert_eq!(find(&bucket.encode(), &[1; 32]), Err(Unreadable));
    let mut bad = record(1, 1);
    bad.body[0] = 7;
    bucket.upsert(bad);
    assert_eq!(find(&bucket.encode(), &[1; 32]), Err(Unreadable));
}
