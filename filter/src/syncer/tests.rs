//! The sync loop against an in-memory host: snapshots, deltas, resets, and every failure
//! leaving the last good state in place.

use super::*;
use crate::host::fake::FakeHost;
use crate::host::{CounterId, GaugeId, HostError, Versioned};
use crate::wire::KeyStatus;
use std::cell::Cell;
use std::time::Duration;

const ALICE: &str = "aa";
const BOB: &str = "bb";
const CAROL: &str = "cc";
const RETENTION: u64 = 600;
const NOW: i64 = 1_800_000_000;

fn plane() -> ControlPlane {
    ControlPlane {
        cluster: "cp".into(),
        authority: "control-plane".into(),
        token: "t".repeat(32),
        wait: Duration::from_secs(30),
        timeout: Duration::from_secs(35),
        backoff_initial: Duration::from_millis(250),
        backoff_max: Duration::from_millis(4_000),
        retention: Duration::from_secs(RETENTION),
    }
}

fn syncer() -> Syncer {
    Syncer::new(&plane(), 42)
}

/// An entry whose digest is the byte pair `who` repeated.
fn entry(who: &str, status: KeyStatus) -> KeyEntry {
    KeyEntry {
        digest: who.repeat(32),
        key_id: format!("key_{who}"),
        org_id: "acme".into(),
        scopes: vec!["read".into()],
        roles: vec![],
        tier: None,
        expires_at: None,
        revoked_at: (status == KeyStatus::Revoked).then_some(NOW),
        status,
    }
}

fn page(revision: u64, reset: bool, entries: Vec<KeyEntry>, cursor: Option<&str>) -> Vec<u8> {
    let page = SyncPage {
        revision,
        reset,
        entries,
        cursor: cursor.map(str::to_owned),
        providers: vec![],
    };
    serde_json::to_vec(&page).unwrap()
}

fn reply(syncer: &mut Syncer, host: &impl Host, body: &[u8]) -> Outcome {
    syncer.on_response(host, Some(200), Some(body))
}

fn record(host: &FakeHost, who: &str) -> Option<shared::StoredKey> {
    let digest = parse_digest(&who.repeat(32)).unwrap();
    shared::lookup(host, &digest).unwrap()
}

/// A host at `NOW`.
fn host() -> FakeHost {
    let host = FakeHost::default();
    host.set_now(NOW);
    host
}

fn synced(host: &FakeHost) -> Option<String> {
    host.shared(shared::SYNCED)
        .map(|v| String::from_utf8(v).unwrap())
}

/// A host whose shared-data writes fail after `allowed` successes.
struct FailingHost {
    inner: FakeHost,
    allowed: Cell<usize>,
}

impl Host for FailingHost {
    fn now(&self) -> i64 {
        self.inner.now()
    }
    fn shared(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.shared(key)
    }
    fn set_shared(&self, key: &str, value: &[u8]) -> Result<(), HostError> {
        match self.allowed.get() {
            0 => Err(HostError {
                call: "set_shared_data",
                detail: format!("CasMismatch for {key}"),
            }),
            n => {
                self.allowed.set(n - 1);
                self.inner.set_shared(key, value)
            }
        }
    }
    fn shared_versioned(&self, key: &str) -> Option<Versioned> {
        self.inner.shared_versioned(key)
    }
    fn set_shared_if(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<bool, HostError> {
        self.inner.set_shared_if(key, value, cas)
    }
    fn define_counter(&self, name: &str) -> Result<CounterId, HostError> {
        self.inner.define_counter(name)
    }
    fn add(&self, counter: CounterId, count: u64) {
        self.inner.add(counter, count);
    }
    fn define_gauge(&self, name: &str) -> Result<GaugeId, HostError> {
        self.inner.define_gauge(name)
    }
    fn set_gauge(&self, gauge: GaugeId, value: u64) {
        self.inner.set_gauge(gauge, value);
    }
}

#[test]
fn a_snapshot_over_two_pages_then_a_delta_reach_shared_data() {
    let (host, mut syncer) = (host(), syncer());
    assert_eq!(syncer.next_path(), "/v1/sync?wait=0");

    let first = page(7, true, vec![entry(ALICE, KeyStatus::Active)], Some("p2"));
    let outcome = reply(&mut syncer, &host, &first);
    assert_eq!(outcome.next(), Next::Now);
    assert_eq!(outcome.severity(), Severity::Debug);
    assert_eq!(record(&host, ALICE).unwrap().key_id, "key_aa");
    assert_eq!(
        synced(&host),
        None,
        "a half snapshot is not a complete state"
    );
    assert_eq!(syncer.next_path(), "/v1/sync?since=7&wait=0&cursor=p2");

    let last = page(7, false, vec![entry(BOB, KeyStatus::Active)], None);
    let outcome = reply(&mut syncer, &host, &last);
    assert_eq!(
        outcome.to_string(),
        "sync: snapshot complete at revision 7: 1 entries in its last page, 0 dropped"
    );
    assert_eq!(outcome.severity(), Severity::Info);
    assert_eq!(synced(&host).as_deref(), Some("7"));
    assert!(record(&host, BOB).is_some());
    assert_eq!(syncer.next_path(), "/v1/sync?since=7&wait=30");

    let delta = page(9, false, vec![entry(ALICE, KeyStatus::Revoked)], None);
    let outcome = reply(&mut syncer, &host, &delta);
    assert_eq!(outcome.to_string(), "sync: delta to revision 9: 1 entries");
    assert_eq!(record(&host, ALICE).unwrap().status, KeyStatus::Revoked);
    assert_eq!(synced(&host).as_deref(), Some("9"));
    assert_eq!(syncer.next_path(), "/v1/sync?since=9&wait=30");
}

#[test]
fn a_reset_snapshot_empties_the_secrets_it_no_longer_lists() {
    let (host, mut syncer) = (host(), syncer());
    let all = vec![
        entry(ALICE, KeyStatus::Active),
        entry(BOB, KeyStatus::Active),
    ];
    reply(&mut syncer, &host, &page(3, true, all, None));

    let first = page(8, true, vec![entry(BOB, KeyStatus::Active)], Some("next"));
    reply(&mut syncer, &host, &first);
    assert!(
        record(&host, ALICE).is_some(),
        "kept until the snapshot ends"
    );
    let last = page(8, false, vec![entry(CAROL, KeyStatus::Active)], None);
    let outcome = reply(&mut syncer, &host, &last);

    assert!(outcome.to_string().ends_with("1 dropped"), "{outcome}");
    assert_eq!(record(&host, ALICE), None);
    assert!(record(&host, BOB).is_some() && record(&host, CAROL).is_some());
    assert_eq!(synced(&host).as_deref(), Some("8"));
}

#[test]
fn a_reset_in_the_middle_of_a_snapshot_starts_the_listing_again() {
    let (host, mut syncer) = (host(), syncer());
    reply(
        &mut syncer,
        &host,
        &page(1, true, vec![entry(ALICE, KeyStatus::Active)], Some("a")),
    );
    reply(
        &mut syncer,
        &host,
        &page(2, true, vec![entry(BOB, KeyStatus::Active)], None),
    );
    assert_eq!(
        record(&host, ALICE),
        None,
        "the restarted snapshot never listed it"
    );
    assert_eq!(synced(&host).as_deref(), Some("2"));
}

#[test]
fn failures_leave_shared_data_and_the_revision_untouched() {
    let (host, mut syncer) = (host(), syncer());
    reply(
        &mut syncer,
        &host,
        &page(5, true, vec![entry(ALICE, KeyStatus::Active)], None),
    );
    let before = (record(&host, ALICE), synced(&host), syncer.next_path());

    let revoke_bob = page(6, false, vec![entry(BOB, KeyStatus::Revoked)], None);
    let outcomes = [
        syncer.on_response(&host, Some(500), Some(&revoke_bob)),
        syncer.on_response(&host, Some(503), None),
        syncer.on_response(&host, None, None),
        syncer.on_response(&host, Some(200), None),
        reply(&mut syncer, &host, b"<html>bad gateway</html>"),
        reply(&mut syncer, &host, br#"{"revision": 6, "reset": false}"#),
        reply(
            &mut syncer,
            &host,
            br#"{"revision": -1, "reset": false, "entries": [], "cursor": null}"#,
        ),
        reply(&mut syncer, &host, &page(6, false, vec![], Some("stray"))),
        reply(
            &mut syncer,
            &host,
            &page(4, false, vec![entry(BOB, KeyStatus::Active)], None),
        ),
        syncer.on_dispatch_error("BadArgument".into()),
    ];
    for outcome in &outcomes {
        assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome}");
        assert_eq!(outcome.severity(), Severity::Warn);
    }
    assert_eq!(
        (record(&host, ALICE), synced(&host), syncer.next_path()),
        before
    );
    assert_eq!(record(&host, BOB), None);
}

#[test]
fn pauses_after_failures_grow_to_the_max_with_jitter_and_reset_on_success() {
    let (host, mut syncer) = (host(), syncer());
    let mut ceiling = 250;
    for n in 1..=8 {
        let outcome = syncer.on_response(&host, Some(502), None);
        let Next::After(pause) = outcome.next() else {
            panic!("a failure must pause: {outcome}");
        };
        let ms = u64::try_from(pause.as_millis()).unwrap();
        assert!(
            (ceiling / 2..=ceiling).contains(&ms),
            "failure {n}: {ms} ms"
        );
        assert!(outcome.to_string().contains(&format!("({n} in a row)")));
        ceiling = (ceiling * 2).min(4_000);
    }
    reply(&mut syncer, &host, &page(1, true, vec![], None));
    let Next::After(pause) = syncer.on_response(&host, Some(502), None).next() else {
        panic!("a failure must pause");
    };
    assert!(pause <= Duration::from_millis(250));
}

#[test]
fn a_malformed_digest_is_skipped_without_affecting_the_other_entries() {
    let (host, mut syncer) = (host(), syncer());
    let mut short = entry(BOB, KeyStatus::Active);
    short.digest.truncate(10);
    let mut not_hex = entry(CAROL, KeyStatus::Active);
    not_hex.digest = "zz".repeat(32);
    let mut multibyte = entry(CAROL, KeyStatus::Active);
    multibyte.digest = "é".repeat(32);
    let entries = vec![short, entry(ALICE, KeyStatus::Active), not_hex, multibyte];
    let outcome = reply(&mut syncer, &host, &page(2, true, entries, None));

    let Outcome::Applied { applied, .. } = &outcome else {
        panic!("{outcome}");
    };
    assert_eq!((applied.entries, applied.skipped.len()), (1, 3));
    assert_eq!(outcome.severity(), Severity::Warn);
    assert!(
        outcome
            .to_string()
            .ends_with("first: entry 0 (key_bb): digest of 10 characters is not 64 hex digits"),
        "{outcome}"
    );
    assert!(record(&host, ALICE).is_some());
    assert_eq!(synced(&host).as_deref(), Some("2"));
}

#[test]
fn a_quiet_long_poll_changes_nothing_and_polls_again_at_once() {
    let (host, mut syncer) = (host(), syncer());
    reply(&mut syncer, &host, &page(4, true, vec![], None));
    let outcome = reply(&mut syncer, &host, &page(4, false, vec![], None));
    assert!(matches!(outcome, Outcome::Unchanged));
    assert_eq!(
        (outcome.next(), outcome.severity()),
        (Next::Now, Severity::Debug)
    );
    assert_eq!(syncer.next_path(), "/v1/sync?since=4&wait=30");
}

#[test]
fn a_client_error_mid_snapshot_abandons_it_but_a_server_error_retries_the_cursor() {
    let (host, mut syncer) = (host(), syncer());
    reply(&mut syncer, &host, &page(3, true, vec![], Some("c1")));
    syncer.on_response(&host, Some(503), None);
    assert_eq!(syncer.next_path(), "/v1/sync?since=3&wait=0&cursor=c1");
    syncer.on_response(&host, Some(410), None);
    assert_eq!(syncer.next_path(), "/v1/sync?wait=0");
    assert_eq!(synced(&host), None);
}

#[test]
fn a_snapshot_page_behind_the_previous_one_is_refused() {
    let (host, mut syncer) = (host(), syncer());
    reply(&mut syncer, &host, &page(3, true, vec![], Some("c1")));
    let outcome = reply(
        &mut syncer,
        &host,
        &page(2, false, vec![entry(ALICE, KeyStatus::Active)], None),
    );
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome}");
    assert_eq!(record(&host, ALICE), None);
    assert_eq!(syncer.next_path(), "/v1/sync?since=3&wait=0&cursor=c1");
}

#[test]
fn an_empty_snapshot_at_revision_zero_is_followed_by_a_long_poll_since_zero() {
    let (host, mut syncer) = (host(), syncer());
    let outcome = reply(&mut syncer, &host, &page(0, true, vec![], None));
    assert_eq!(outcome.next(), Next::Now);
    assert_eq!(synced(&host).as_deref(), Some("0"));
    assert_eq!(syncer.next_path(), "/v1/sync?since=0&wait=30");
}

#[test]
fn a_delta_answering_a_request_for_a_snapshot_is_refused() {
    let (host, mut syncer) = (host(), syncer());
    let outcome = reply(
        &mut syncer,
        &host,
        &page(4, false, vec![entry(ALICE, KeyStatus::Active)], None),
    );
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome}");
    assert_eq!(record(&host, ALICE), None);
    assert_eq!(syncer.next_path(), "/v1/sync?wait=0");
}

#[test]
fn a_failed_write_applies_nothing_further_and_asks_for_the_page_again() {
    let host = FailingHost {
        inner: host(),
        allowed: Cell::new(1),
    };
    let mut syncer = syncer();
    let entries = vec![
        entry(ALICE, KeyStatus::Active),
        entry(BOB, KeyStatus::Active),
    ];
    let outcome = reply(&mut syncer, &host, &page(5, true, entries.clone(), None));
    assert!(
        outcome
            .to_string()
            .ends_with("host call `set_shared_data` failed: CasMismatch for portcullis/b/bbbb"),
        "{outcome}"
    );
    assert_eq!(synced(&host.inner), None);
    assert_eq!(syncer.next_path(), "/v1/sync?wait=0");

    host.allowed.set(usize::MAX);
    reply(&mut syncer, &host, &page(5, true, entries, None));
    assert!(record(&host.inner, BOB).is_some());
    assert_eq!(synced(&host.inner).as_deref(), Some("5"));
}

#[test]
fn cursors_are_percent_encoded_in_the_next_request() {
    let (host, mut syncer) = (host(), syncer());
    reply(
        &mut syncer,
        &host,
        &page(12, true, vec![], Some("a+b/c=d&e é~_.-")),
    );
    assert_eq!(
        syncer.next_path(),
        "/v1/sync?since=12&wait=0&cursor=a%2Bb%2Fc%3Dd%26e%20%C3%A9~_.-"
    );
}

#[test]
fn body_errors_never_quote_what_the_body_held() {
    let digest = "ab".repeat(32);
    let body =
        format!(r#"{{"revision": "{digest}", "reset": false, "entries": [], "cursor": null}}"#);
    let outcome = reply(&mut syncer(), &FakeHost::default(), body.as_bytes());
    let message = outcome.to_string();
    assert!(!message.contains(&digest), "{message}");
    assert!(
        message.contains("invalid type: string \"…\", expected u64"),
        "{message}"
    );

    let escaped = format!(r#"{{"revision": "a\"{digest}", "reset": false}}"#);
    let message = reply(&mut syncer(), &FakeHost::default(), escaped.as_bytes()).to_string();
    assert!(!message.contains(&digest), "{message}");
}

#[test]
fn digests_decode_in_either_case_and_nothing_else() {
    assert_eq!(parse_digest(&"Ab".repeat(32)), Some([0xab; 32]));
    assert_eq!(parse_digest(&"ab".repeat(31)), None);
    assert_eq!(parse_digest(&format!("+{}", "a".repeat(63))), None);
}

#[test]
fn the_sidecar_name_is_a_safe_header_value() {
    assert_eq!(sidecar_name("envoy-1.default"), "envoy-1.default");
    assert_eq!(sidecar_name("node one\n"), "node_one_");
    assert_eq!(sidecar_name(""), "unknown");
}

mod providers;
mod retention;
