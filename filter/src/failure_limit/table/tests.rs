//! Table encoding and counting: round trips, every malformed value, fixed windows, eviction.

use super::*;

fn client(text: &str) -> Client {
    Client::of(text.parse().unwrap())
}

/// 10:00:00 UTC on some day: a multiple of every window length used here.
const T0: i64 = 1_800_000_000 - 1_800_000_000 % 86_400;

fn minute(now: i64) -> Window {
    Window::at(now, 60)
}

#[test]
fn windows_are_aligned_to_multiples_of_their_length() {
    assert_eq!(
        Window::at(T0 + 59, 60),
        Window {
            start: T0,
            secs: 60
        }
    );
    assert_eq!(Window::at(T0 + 60, 60).start, T0 + 60);
    assert_eq!(Window::at(T0 + 3_599, 3_600).end(), T0 + 3_600);
    assert_eq!(Window::at(-1, 60).start, -60, "rem_euclid, never a panic");
    assert_eq!(
        Window::at(5, 0).secs,
        1,
        "a zero length is read as one second"
    );
}

#[test]
fn failures_count_up_within_a_window_and_restart_in_the_next() {
    let mut table = Table::default();
    let a = client("10.0.0.1");
    assert_eq!(table.count_failure(a, minute(T0), T0, 60), 1);
    assert_eq!(table.count_failure(a, minute(T0 + 30), T0 + 30, 60), 2);
    assert_eq!(table.count_failure(a, minute(T0 + 60), T0 + 60, 60), 1);
    assert_eq!(table.get(a).unwrap().count_in(minute(T0 + 60)), 1);
    assert_eq!(table.get(a).unwrap().count_in(minute(T0 + 120)), 0);
}

#[test]
fn a_table_round_trips_through_its_bytes() {
    let mut table = Table::default();
    table.count_failure(client("10.0.0.1"), minute(T0), T0, 60);
    table.count_failure(client("2001:db8::1"), minute(T0), T0, 60);
    table.block(client("10.0.0.2"), minute(T0), T0, 60, T0 + 45, (5, 3_600));
    let bytes = table.encode();
    assert_eq!(bytes.len(), 1 + 3 * ENTRY_LEN);
    assert_eq!(Table::decode(&bytes), Ok(table));
    assert_eq!(Table::decode(&[]), Ok(Table::default()));
    assert_eq!(Table::decode(&[VERSION]), Ok(Table::default()));
}

#[test]
fn every_truncation_and_wrong_version_is_unreadable() {
    let mut table = Table::default();
    table.count_failure(client("10.0.0.1"), minute(T0), T0, 60);
    table.count_failure(client("10.0.0.2"), minute(T0), T0, 60);
    let bytes = table.encode();
    for len in 2..bytes.len() {
        if (len - 1) % ENTRY_LEN != 0 {
            assert_eq!(Table::decode(&bytes[..len]), Err(Unreadable), "{len} bytes");
        }
    }
    let mut other = bytes.clone();
    other[0] = VERSION + 1;
    assert_eq!(Table::decode(&other), Err(Unreadable));
    let mut longer = bytes;
    longer.push(0);
    assert_eq!(Table::decode(&longer), Err(Unreadable));
}

#[test]
fn more_entries_than_a_bucket_holds_are_unreadable() {
    let mut bytes = vec![VERSION];
    bytes.extend(std::iter::repeat_n(0u8, (MAX_ENTRIES + 1) * ENTRY_LEN));
    assert_eq!(Table::decode(&bytes), Err(Unreadable));
}

#[test]
fn any_bytes_decode_without_panicking() {
    let mut seed = 0x2545_f491_u32;
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let _ = Table::decode(&bytes);
        let mut with_version = vec![VERSION];
        with_version.extend_from_slice(&bytes);
        let _ = Table::decode(&with_version);
    }
}

#[test]
fn a_write_drops_the_entries_of_past_windows_but_keeps_live_blocks() {
    let mut table = Table::default();
    let old = client("10.0.0.100");
    let blocked = client("10.0.0.101");
    table.count_failure(old, minute(T0), T0, 60);
    table.block(blocked, minute(T0), T0, 60, T0 + 600, (5, 3_600));
    table.count_failure(client("10.0.0.1"), minute(T0 + 60), T0 + 60, 60);
    assert!(
        table.get(old).is_none(),
        "last window's count no longer matters"
    );
    assert_eq!(table.get(blocked).unwrap().blocked_until, T0 + 600);
    assert_eq!(table.entries().len(), 2);
}

#[test]
fn a_full_bucket_forgets_the_client_with_fewest_failures_and_keeps_blocked_ones() {
    let mut table = Table::default();
    let window = minute(T0);
    let near = client("10.0.0.1");
    let blocked = client("10.0.0.2");
    for _ in 0..59 {
        table.count_failure(near, window, T0, 60);
    }
    table.block(blocked, window, T0, 60, T0 + 600, (5, 3_600));
    for i in 0..MAX_ENTRIES - 2 {
        let c = client(&format!("10.0.1.{i}"));
        for _ in 0..=i {
            table.count_failure(c, window, T0, 60);
        }
    }
    table.count_failure(client("10.0.2.1"), window, T0, 60);
    assert!(
        table.get(client("10.0.1.0")).is_none(),
        "one failure: first to go"
    );
    assert_eq!(table.get(near).unwrap().count, 59);
    assert_eq!(table.get(blocked).unwrap().blocked_until, T0 + 600);
}

#[test]
fn a_block_outlives_its_window_and_is_never_shortened() {
    let mut table = Table::default();
    let c = client("10.0.0.1");
    table.block(c, minute(T0), T0, 60, T0 + 3_600, (5, 3_600));
    table.block(c, minute(T0), T0, 60, T0 + 10, (1, 1));
    table.count_failure(client("10.0.0.2"), minute(T0 + 120), T0 + 120, 60);
    assert_eq!(table.get(c).unwrap().blocked_until, T0 + 3_600);
    assert_eq!(table.get(c).unwrap().blocked_limit, (5, 3_600));
}
