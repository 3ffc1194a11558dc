//! `Host` over proxy-wasm hostcalls, plus the few host helpers the glue shares.

use crate::host::{CounterId, GaugeId, Host, HostError, Versioned};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{LogLevel, MetricType, Status};
use std::time::UNIX_EPOCH;

/// The host as Envoy provides it.
pub struct ProxyHost;

impl Host for ProxyHost {
    fn now(&self) -> i64 {
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }

    fn shared(&self, key: &str) -> Option<Vec<u8>> {
        match hostcalls::get_shared_data(key) {
            Ok((Some(value), _)) if !value.is_empty() => Some(value),
            _ => None,
        }
    }

    fn set_shared(&self, key: &str, value: &[u8]) -> Result<(), HostError> {
        hostcalls::set_shared_data(key, Some(value), None).map_err(|status| HostError {
            call: "set_shared_data",
            // Never the key: it holds a secret's digest.
            detail: format!("{status:?}"),
        })
    }

    fn shared_versioned(&self, key: &str) -> Option<Versioned> {
        match hostcalls::get_shared_data(key) {
            Ok((value, Some(cas))) => Some(Versioned {
                value: value.unwrap_or_default(),
                cas,
            }),
            _ => None,
        }
    }

    fn set_shared_if(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<bool, HostError> {
        match hostcalls::set_shared_data(key, Some(value), cas) {
            Ok(()) => Ok(true),
            Err(Status::CasMismatch) => Ok(false),
            Err(status) => Err(HostError {
                call: "set_shared_data",
                detail: format!("{status:?}"),
            }),
        }
    }

    fn define_counter(&self, name: &str) -> Result<CounterId, HostError> {
        hostcalls::define_metric(MetricType::Counter, name)
            .map(CounterId)
            .map_err(|status| HostError {
                call: "define_metric",
                detail: format!("{status:?} for {name}"),
            })
    }

    fn define_gauge(&self, name: &str) -> Result<GaugeId, HostError> {
        hostcalls::define_metric(MetricType::Gauge, name)
            .map(GaugeId)
            .map_err(|status| HostError {
                call: "define_metric",
                detail: format!("{status:?} for {name}"),
            })
    }

    fn set_gauge(&self, gauge: GaugeId, value: u64) {
        let _ = hostcalls::record_metric(gauge.0, value);
    }

    fn add(&self, counter: CounterId, count: u64) {
        // A lost count never fails a request.
        let _ = hostcalls::increment_metric(counter.0, i64::try_from(count).unwrap_or(i64::MAX));
    }
}

/// Logs `message` at `level`; a failed log call has nowhere to be reported.
pub fn log(level: LogLevel, message: &str) {
    let _ = hostcalls::log(level, message);
}

/// Whether Envoy's `wasm` log component would print `level`, so callers can skip
/// formatting messages nobody reads.
pub fn logs_at(level: LogLevel) -> bool {
    hostcalls::get_log_level().is_ok_and(|current| current as u32 <= level as u32)
}
