//! Counting failures in shared data: the limit, its window, contention between workers and
//! the rate-limit service's answers.

use super::*;
use crate::api_key::KeyRejection;
use crate::host::fake::FakeHost;
use crate::policy::Unmet;

/// The start of an hour (1,800,000,000 = 500,000 hours).
const T0: i64 = 1_800_000_000;

fn limit(requests_per_unit: u32) -> FailureLimit {
    FailureLimit {
        requests_per_unit,
        window_secs: 60,
        rls: None,
    }
}

fn client(text: &str) -> Client {
    Client::of(text.parse().unwrap())
}

fn host_at(now: i64) -> FakeHost {
    let host = FakeHost::default();
    host.set_now(now);
    prepare(&host).unwrap();
    host
}

#[test]
fn the_limit_th_failure_is_allowed_and_the_next_attempt_is_refused_until_the_window_ends() {
    let host = host_at(T0 + 10);
    let (limit, a) = (limit(3), client("10.0.0.1"));
    for expected in 1..=3 {
        assert_eq!(limit.blocked(&host, a), None, "attempt {expected}");
        assert_eq!(limit.record_failure(&host, a).unwrap(), expected);
    }
    let blocked = limit.blocked(&host, a).unwrap();
    assert_eq!(
        blocked,
        Blocked {
            limit: 3,
            window_secs: 60,
            retry_after_secs: 50
        }
    );
    assert_eq!(limit.blocked(&host, client("10.0.0.2")), None);
    host.set_now(T0 + 59);
    assert_eq!(limit.blocked(&host, a).unwrap().retry_after_secs, 1);
    host.set_now(T0 + 60);
    assert_eq!(limit.blocked(&host, a), None, "a new window starts at zero");
    assert_eq!(limit.record_failure(&host, a).unwrap(), 1);
}

#[test]
fn addresses_of_one_ipv6_slash_64_share_a_count() {
    let host = host_at(T0);
    let limit = limit(2);
    limit.record_failure(&host, client("2001:db8::1")).unwrap();
    limit.record_failure(&host, client("2001:db8::2")).unwrap();
    assert!(limit.blocked(&host, client("2001:db8::ffff")).is_some());
    assert!(limit.blocked(&host, client("2001:db8:0:1::1")).is_none());
}

#[test]
fn only_presented_credentials_that_fail_are_counted() {
    let unknown = Denial::ApiKey(KeyRejection::Unknown {
        prefix: "sk_ab".into(),
    });
    let revoked = Denial::ApiKey(KeyRejection::Revoked {
        key_id: "key_1".into(),
    });
    assert!(counts(&unknown) && counts(&revoked) && counts(&Denial::InvalidCredentials));
    let scope = Denial::Unmet(Unmet::Role {
        expected: vec!["admin".into()],
        actual: vec![],
    });
    for denial in [
        Denial::MissingCredentials,
        Denial::ApiKey(KeyRejection::NotReady),
        scope,
    ] {
        assert!(!counts(&denial), "{denial:?}");
    }
}

#[test]
fn a_write_lost_to_another_worker_is_retried_on_the_new_value() {
    let host = host_at(T0);
    let (limit, a) = (limit(60), client("10.0.0.1"));
    limit.record_failure(&host, a).unwrap();
    host.interfere(CAS_ATTEMPTS - 1);
    assert_eq!(limit.record_failure(&host, a).unwrap(), 2);
}

#[test]
fn a_count_is_given_up_after_every_attempt_lost() {
    let host = host_at(T0);
    let (limit, a) = (limit(60), client("10.0.0.1"));
    limit.record_failure(&host, a).unwrap();
    host.interfere(CAS_ATTEMPTS);
    assert!(matches!(
        limit.record_failure(&host, a),
        Err(Lost::Contended)
    ));
    assert_eq!(limit.record_failure(&host, a).unwrap(), 2);
}

#[test]
fn prepare_creates_every_table_once_and_keeps_counts() {
    let host = host_at(T0);
    let (limit, a) = (limit(60), client("10.0.0.1"));
    limit.record_failure(&host, a).unwrap();
    prepare(&host).unwrap();
    assert_eq!(limit.record_failure(&host, a).unwrap(), 2);
    assert!(host.shared_versioned("portcullis/f/000").is_some());
    assert!(host.shared_versioned("portcullis/f/3ff").is_some());
    assert!(host.shared_versioned("portcullis/f/400").is_none());
}

#[test]
fn an_unreadable_table_blocks_nobody_and_is_rewritten_by_the_next_failure() {
    let host = host_at(T0);
    let (limit, a) = (limit(1), client("10.0.0.1"));
    limit.record_failure(&host, a).unwrap();
    let key = table_key(bucket_of(a));
    host.set_shared(&key, b"\x09garbage").unwrap();
    assert_eq!(limit.blocked(&host, a), None);
    assert_eq!(limit.record_failure(&host, a).unwrap(), 1);
    assert!(limit.blocked(&host, a).is_some());
}

#[test]
fn over_limit_from_the_service_blocks_the_client_here_for_the_reset_it_gives() {
    let host = host_at(T0 + 10);
    let (limit, a) = (limit(60), client("10.0.0.1"));
    let answer = rls::tests::over_limit(5, 3, 1_234);
    let verdict = limit.record_answer(&host, a, 0, &answer);
    let RlsVerdict::OverLimit { blocked, recorded } = verdict else {
        panic!("{verdict:?}")
    };
    assert!(recorded.is_ok());
    assert_eq!(
        blocked,
        Blocked {
            limit: 5,
            window_secs: 3_600,
            retry_after_secs: 1_234
        }
    );
    assert_eq!(
        limit.blocked(&host, a),
        Some(blocked),
        "with the service's limit, beyond this Envoy's own window"
    );
    host.set_now(T0 + 10 + 1_234);
    assert_eq!(limit.blocked(&host, a), None);
}

#[test]
fn of_a_local_and_a_global_block_the_longer_one_is_reported() {
    let host = host_at(T0 + 10);
    let (limit, a) = (limit(1), client("10.0.0.1"));
    limit.record_answer(&host, a, 0, &rls::tests::over_limit(5, 2, 20));
    limit.record_failure(&host, a).unwrap();
    let local = limit.blocked(&host, a).unwrap();
    assert_eq!((local.limit, local.retry_after_secs), (1, 50));
    limit.record_answer(&host, a, 0, &rls::tests::over_limit(5, 3, 500));
    let global = limit.blocked(&host, a).unwrap();
    assert_eq!(
        (global.limit, global.window_secs, global.retry_after_secs),
        (5, 3_600, 500)
    );
}

#[test]
fn under_limit_failed_calls_and_garbage_answers_leave_the_denial_as_it_was() {
    let host = host_at(T0);
    let (limit, a) = (limit(60), client("10.0.0.1"));
    assert!(matches!(
        limit.record_answer(&host, a, 0, &rls::tests::under_limit()),
        RlsVerdict::UnderLimit
    ));
    assert!(matches!(
        limit.record_answer(&host, a, 0, &[]),
        RlsVerdict::UnderLimit
    ));
    for (status, body) in [(4, &[][..]), (14, &[][..]), (0, &[0x0a, 0x05, 0x01][..])] {
        assert!(matches!(
            limit.record_answer(&host, a, status, body),
            RlsVerdict::Failed(_)
        ));
    }
    assert_eq!(limit.blocked(&host, a), None);
}

#[test]
fn tables_are_spread_and_named_in_three_hex_digits() {
    let mut seen = std::collections::HashSet::new();
    for i in 0..=255u8 {
        let index = bucket_of(client(&format!("10.0.{i}.1")));
        assert!(index < TABLES);
        seen.insert(index);
    }
    assert!(seen.len() > 200, "{} distinct tables", seen.len());
    assert_eq!(table_key(0x2a), "portcullis/f/02a");
}
