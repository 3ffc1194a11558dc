//! `RevisionFeed`: how a committed change wakes the long-polls held on this replica.
//!
//! Every mutating handler publishes the store's revision after its call succeeds; a held
//! long-poll waits on the feed for a revision above its `since`, never polling the store.
//! The feed only ever moves forward, so publishes that race each other cannot make it go
//! back. When the server starts shutting down the feed is closed and every held long-poll
//! answers at once instead of holding the drain for up to its `wait`.

use std::time::Duration;
use tokio::sync::watch;

/// The latest committed revision this replica knows of, and whether it is shutting down.
#[derive(Debug, Clone)]
pub struct RevisionFeed {
    latest: watch::Sender<u64>,
    closing: watch::Sender<bool>,
}

impl RevisionFeed {
    /// A feed starting at `revision`, the store's revision when the server starts.
    pub fn new(revision: u64) -> Self {
        Self {
            latest: watch::Sender::new(revision),
            closing: watch::Sender::new(false),
        }
    }

    /// Records that `revision` has committed and wakes the long-polls waiting below it.
    pub fn publish(&self, revision: u64) {
        self.latest.send_if_modified(|latest| {
            let is_newer = revision > *latest;
            if is_newer {
                *latest = revision;
            }
            is_newer
        });
    }

    /// Ends every held long-poll, now and later: the server is draining.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Waits until a revision above `since` is published, `wait` passes or the feed is
    /// closed, whichever comes first. The current value is checked first, so a change
    /// published before the call is not missed.
    pub async fn wait_past(&self, since: u64, wait: Duration) {
        let mut latest = self.latest.subscribe();
        let mut closing = self.closing.subscribe();
        // Both senders live as long as `self`, so `wait_for` cannot fail here; either way
        // the caller answers with whatever the store holds now.
        tokio::select! {
            _ = latest.wait_for(|revision| *revision > since) => {}
            _ = closing.wait_for(|is_closing| *is_closing) => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Longer than any test runs: a wait that ends was ended by the feed.
    const LONG: Duration = Duration::from_secs(3600);
    /// A generous deadline for something that should happen at once.
    const PROMPTLY: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn a_waiter_wakes_when_a_later_revision_is_published() {
        let feed = RevisionFeed::new(3);
        let waiter = tokio::spawn({
            let feed = feed.clone();
            async move { feed.wait_past(3, LONG).await }
        });
        tokio::task::yield_now().await;
        feed.publish(4);
        tokio::time::timeout(PROMPTLY, waiter)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_change_published_before_the_wait_returns_at_once() {
        let feed = RevisionFeed::new(3);
        feed.publish(5);
        tokio::time::timeout(PROMPTLY, feed.wait_past(4, LONG))
            .await
            .unwrap();
    }

    #[test]
    fn the_feed_never_goes_back() {
        // Two handlers may publish out of commit order; the older one must not win.
        let feed = RevisionFeed::new(3);
        feed.publish(7);
        feed.publish(5);
        assert_eq!(*feed.latest.borrow(), 7);
    }

    #[tokio::test]
    async fn closing_ends_a_wait_and_every_later_one() {
        let feed = RevisionFeed::new(3);
        let waiter = tokio::spawn({
            let feed = feed.clone();
            async move { feed.wait_past(3, LONG).await }
        });
        tokio::task::yield_now().await;
        feed.close();
        tokio::time::timeout(PROMPTLY, waiter)
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(PROMPTLY, feed.wait_past(3, LONG))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn without_a_change_the_wait_ends_after_its_duration() {
        let feed = RevisionFeed::new(3);
        tokio::time::timeout(PROMPTLY, feed.wait_past(3, Duration::from_millis(10)))
            .await
            .unwrap();
    }
}
