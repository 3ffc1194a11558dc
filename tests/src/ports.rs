//! Free loopback ports for Envoy's listener and admin interface and for the demo upstream.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// Ports already handed out by [`free`] in this process.
static ISSUED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A loopback port that was free a moment ago: bind port 0, read the port, release it.
/// Never the same port twice in one process, so tests running side by side cannot pick
/// each other's ports; another process may still take it (callers retry then).
pub fn free() -> u16 {
    let mut issued = ISSUED.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("bind 127.0.0.1:0")
            .port();
        if issued.insert(port) {
            return port;
        }
    }
}
