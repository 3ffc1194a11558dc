//! Buckets shared by several secrets, and revoked or expired secrets forgotten after the
//! retention so their memory is freed.

use super::*;

/// An entry whose digest starts with the bucket bytes `bucket` and ends with `tail`.
fn in_bucket(bucket: &str, tail: &str, status: KeyStatus) -> KeyEntry {
    let mut entry = entry(tail, status);
    entry.digest = format!("{bucket}{}", tail.repeat(30));
    entry.key_id = format!("key_{bucket}{tail}");
    entry
}

fn lookup(host: &FakeHost, entry: &KeyEntry) -> Option<shared::StoredKey> {
    shared::lookup(host, &parse_digest(&entry.digest).unwrap()).unwrap()
}

#[test]
fn secrets_sharing_a_bucket_are_found_and_changed_independently() {
    let (host, mut syncer) = (host(), syncer());
    let one = in_bucket("abcd", "01", KeyStatus::Active);
    let two = in_bucket("abcd", "02", KeyStatus::Active);
    reply(
        &mut syncer,
        &host,
        &page(1, true, vec![one.clone(), two.clone()], None),
    );
    assert_eq!(lookup(&host, &one).unwrap().key_id, "key_abcd01");
    assert_eq!(lookup(&host, &two).unwrap().key_id, "key_abcd02");

    let revoked = in_bucket("abcd", "01", KeyStatus::Revoked);
    reply(&mut syncer, &host, &page(2, false, vec![revoked], None));
    assert_eq!(lookup(&host, &one).unwrap().status, KeyStatus::Revoked);
    assert_eq!(lookup(&host, &two).unwrap().status, KeyStatus::Active);
}

#[test]
fn a_revoked_secret_is_kept_for_the_retention_then_swept_away() {
    let (host, mut syncer) = (host(), syncer());
    reply(
        &mut syncer,
        &host,
        &page(1, true, vec![entry(ALICE, KeyStatus::Active)], None),
    );
    reply(
        &mut syncer,
        &host,
        &page(2, false, vec![entry(ALICE, KeyStatus::Revoked)], None),
    );
    host.set_now(NOW + i64::try_from(RETENTION).unwrap() - 1);
    assert_eq!(syncer.sweep(&host, shared::BUCKETS).unwrap(), 0);
    assert_eq!(record(&host, ALICE).unwrap().status, KeyStatus::Revoked);

    host.set_now(NOW + i64::try_from(RETENTION).unwrap());
    assert_eq!(syncer.sweep(&host, shared::BUCKETS).unwrap(), 1);
    assert_eq!(record(&host, ALICE), None);
    let bucket = shared::bucket_key(shared::bucket_of(&[0xaa; 32]));
    assert_eq!(
        host.shared(&bucket),
        None,
        "an emptied bucket is stored empty"
    );
}

#[test]
fn a_secret_revoked_longer_ago_than_the_retention_is_never_published() {
    let (host, mut syncer) = (host(), syncer());
    let mut old = entry(ALICE, KeyStatus::Revoked);
    old.revoked_at = Some(NOW - i64::try_from(RETENTION).unwrap());
    reply(&mut syncer, &host, &page(1, true, vec![old], None));
    assert_eq!(record(&host, ALICE), None);
    assert_eq!(synced(&host).as_deref(), Some("1"));
}

#[test]
fn an_expired_secret_is_forgotten_when_its_bucket_is_next_written() {
    let (host, mut syncer) = (host(), syncer());
    let mut expiring = in_bucket("abcd", "01", KeyStatus::Active);
    expiring.expires_at = Some(NOW);
    reply(
        &mut syncer,
        &host,
        &page(1, true, vec![expiring.clone()], None),
    );
    assert!(lookup(&host, &expiring).is_some());

    host.set_now(NOW + i64::try_from(RETENTION).unwrap());
    let neighbour = in_bucket("abcd", "02", KeyStatus::Active);
    reply(
        &mut syncer,
        &host,
        &page(2, false, vec![neighbour.clone()], None),
    );
    assert_eq!(lookup(&host, &expiring), None);
    assert!(lookup(&host, &neighbour).is_some());
}

#[test]
fn a_sweep_walks_the_buckets_in_turn_and_writes_only_those_it_changes() {
    let host = FailingHost {
        inner: host(),
        allowed: Cell::new(usize::MAX),
    };
    let mut syncer = syncer();
    let revoked = in_bucket("0003", "01", KeyStatus::Revoked);
    reply(
        &mut syncer,
        &host,
        &page(1, true, vec![revoked.clone()], None),
    );
    host.inner.set_now(NOW + i64::try_from(RETENTION).unwrap());
    host.allowed.set(0);
    assert_eq!(
        syncer.sweep(&host, 3).unwrap(),
        0,
        "buckets 0 to 2 are clean"
    );
    assert!(
        syncer.sweep(&host, 1).is_err(),
        "bucket 3 needs a write, which fails"
    );
    host.allowed.set(1);
    syncer.sweep_next = 3;
    assert_eq!(syncer.sweep(&host, 1).unwrap(), 1);
    assert_eq!(lookup(&host.inner, &revoked), None);
}

#[test]
fn with_no_retention_a_revocation_forgets_the_secret_at_once() {
    let host = host();
    let mut plane = plane();
    plane.retention = Duration::ZERO;
    let mut syncer = Syncer::new(&plane, 1);
    reply(
        &mut syncer,
        &host,
        &page(1, true, vec![entry(ALICE, KeyStatus::Active)], None),
    );
    reply(
        &mut syncer,
        &host,
        &page(2, false, vec![entry(ALICE, KeyStatus::Revoked)], None),
    );
    assert_eq!(record(&host, ALICE), None);
}
