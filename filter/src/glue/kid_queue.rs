//! The workers' end of the unknown-`kid` queue (`shared::UNKNOWN_KID_QUEUE`), which the
//! syncer registers: a worker posts the `kid` its verifier could not find, and the syncer
//! reports it to the control-plane (`syncer::kid_reports`).

use super::proxy_host::log;
use crate::shared::UNKNOWN_KID_QUEUE;
use crate::syncer::kid_reports;
use crate::wire::UnknownKid;
use proxy_wasm::hostcalls;
use proxy_wasm::types::LogLevel;
use std::cell::Cell;

/// A worker's handle on the queue, found on first use: the syncer may register it after
/// the worker is configured.
#[derive(Debug)]
pub struct KidQueue {
    /// The `vm_id` the filter and the syncer share.
    vm_id: String,
    id: Cell<Option<u32>>,
}

impl KidQueue {
    /// The queue of this worker's VM.
    pub fn new() -> Self {
        let vm_id = hostcalls::get_property(vec!["plugin_vm_id"])
            .ok()
            .flatten()
            .and_then(|id| String::from_utf8(id).ok())
            .unwrap_or_default();
        KidQueue {
            vm_id,
            id: Cell::new(None),
        }
    }

    /// Posts `report` for the syncer; without a syncer (no queue) it is dropped, logged.
    pub fn post(&self, report: &UnknownKid) {
        let id = match self.id.get() {
            Some(id) => id,
            None => match hostcalls::resolve_shared_queue(&self.vm_id, UNKNOWN_KID_QUEUE) {
                Ok(Some(id)) => {
                    self.id.set(Some(id));
                    id
                }
                _ => {
                    log(
                        LogLevel::Debug,
                        &format!(
                            "jwt: unknown kid {:?} of provider {:?} not reported: no sync service in vm {:?}",
                            report.kid, report.provider, self.vm_id
                        ),
                    );
                    return;
                }
            },
        };
        if let Some(message) = kid_reports::message(report)
            && hostcalls::enqueue_shared_queue(id, Some(&message)).is_err()
        {
            log(LogLevel::Warn, "jwt: unknown kid report not queued");
        }
    }
}
