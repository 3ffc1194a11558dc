//! One Envoy 1.40 running the release filter in front of its own demo upstream, on free
//! loopback ports, with its configuration and logs in a private temporary directory.
//!
//! Dropping an [`Envoy`] kills Envoy and the upstream; if the test is panicking, the Envoy
//! log, the access log and the upstream log are printed to stderr first.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::client::Request;
use crate::envoy_config::{self, Placement};
use crate::launch::{self, Launch, Outcome};
use crate::paths;
use crate::poll;
use crate::process::Process;
use crate::response::Response;
use crate::temp_dir::TempDir;
use crate::upstream::Upstream;

/// How long an access log line may take to reach the file.
const ACCESS_LOG_TIMEOUT: Duration = Duration::from_secs(10);

/// A running Envoy with the filter, killed on drop.
pub struct Envoy {
    process: Process,
    upstream: Upstream,
    listener: SocketAddr,
    admin: SocketAddr,
    access_log: PathBuf,
    /// Held, not read: declared last so it is removed after both processes are gone.
    _dir: TempDir,
}

impl Envoy {
    /// Starts Envoy with the filter configured by `plugin_config` (the plugin's JSON) and
    /// `env` as the Wasm VM's environment, and waits until it is ready.
    pub fn start(plugin_config: impl Display, env: &[(&str, &str)]) -> Self {
        let plugin_config = plugin_config.to_string();
        Self::ready(launch::start(
            true,
            &|placement| envoy_config::render(placement, &plugin_config, env),
            &[],
        ))
    }

    /// Starts Envoy with the filter and the syncer, which long-polls the control-plane on
    /// `control_plane_port` (nothing need listen there yet), and waits until it is ready.
    pub fn start_with_sync(
        plugin_config: impl Display,
        env: &[(&str, &str)],
        control_plane_port: u16,
        syncer_config: impl Display,
    ) -> Self {
        let plugin_config = plugin_config.to_string();
        let syncer_config = syncer_config.to_string();
        Self::ready(launch::start(
            true,
            &|placement| {
                envoy_config::render_with_sync(
                    placement,
                    &plugin_config,
                    env,
                    control_plane_port,
                    &syncer_config,
                )
            },
            &[],
        ))
    }

    /// Starts Envoy with the shipped `envoy/envoy.yaml` (ports and `.wasm` path relocated,
    /// its control-plane cluster pointed at `control_plane_port`), `env` set in Envoy's own
    /// environment, and waits until it is ready.
    pub fn start_shipped(env: &[(&str, &str)], control_plane_port: u16) -> Self {
        let shipped =
            std::fs::read_to_string(paths::shipped_envoy_config()).expect("read envoy/envoy.yaml");
        Self::ready(launch::start(
            true,
            &|placement| envoy_config::relocate_shipped(&shipped, placement, control_plane_port),
            env,
        ))
    }

    /// Starts Envoy with the configuration `render` makes for fresh ports (a shipped one,
    /// relocated), `env` set in Envoy's own environment, and waits until it is ready.
    pub fn start_configured(render: &dyn Fn(&Placement) -> String, env: &[(&str, &str)]) -> Self {
        Self::ready(launch::start(true, render, env))
    }

    /// Starts Envoy with a plugin configuration the filter must refuse, and returns Envoy's
    /// log once Envoy has exited (or logged the refusal). Panics if Envoy becomes ready.
    pub fn start_expecting_refusal(plugin_config: impl Display, env: &[(&str, &str)]) -> String {
        let plugin_config = plugin_config.to_string();
        let (launch, outcome) = launch::start(
            false,
            &|placement| envoy_config::render(placement, &plugin_config, env),
            &[],
        );
        let log = launch.process.log();
        match outcome {
            Outcome::Ready => {
                panic!("Envoy accepted a configuration it should refuse; its log:\n{log}")
            }
            Outcome::Exited | Outcome::LoggedRefusal => log,
        }
    }

    fn ready((launch, outcome): (Launch, Outcome)) -> Self {
        match (outcome, launch.upstream) {
            (Outcome::Ready, Some(upstream)) => Self {
                process: launch.process,
                upstream,
                listener: launch.listener,
                admin: launch.admin,
                access_log: launch.access_log,
                _dir: launch.dir,
            },
            _ => panic!(
                "Envoy did not start serving; its log:\n{}",
                launch.process.log()
            ),
        }
    }

    /// Sends `request` to the listener.
    pub fn send(&self, request: &Request) -> Response {
        request.send(self.listener)
    }

    /// Sends a plain GET for `target` to the listener.
    pub fn get(&self, target: &str) -> Response {
        self.send(&Request::get(target))
    }

    /// The value of the stat `name` as the admin interface reports it, for example
    /// `wasmcustom.portcullis.allowed` (Envoy prefixes a Wasm plugin's own metrics with
    /// `wasmcustom.`). Panics, listing the `portcullis` stats, when there is no such stat.
    pub fn counter(&self, name: &str) -> u64 {
        let stats = self.stats();
        let value = stats
            .iter()
            .find(|(stat, _)| stat == name)
            .map(|(_, value)| *value);
        value.unwrap_or_else(|| {
            let known: Vec<&str> = stats
                .iter()
                .map(|(stat, _)| stat.as_str())
                .filter(|stat| stat.contains("portcullis"))
                .collect();
            panic!("no stat {name:?}; the portcullis stats are {known:?}")
        })
    }

    /// Waits until the stat `name` equals `expected`; panics with its last value if it does
    /// not within a few seconds.
    pub fn wait_for_counter(&self, name: &str, expected: u64) {
        let mut last = None;
        let reached = poll::until(Duration::from_secs(5), || {
            last = self
                .stats()
                .into_iter()
                .find(|(stat, _)| stat == name)
                .map(|(_, value)| value);
            (last == Some(expected)).then_some(())
        });
        assert!(
            reached.is_some(),
            "stat {name} is {last:?}, expected {expected}"
        );
    }

    /// Every counter and gauge with a numeric value, from `/stats?format=json`.
    pub fn stats(&self) -> Vec<(String, u64)> {
        let response = Request::get("/stats?format=json").send(self.admin);
        assert_eq!(response.status, 200, "admin /stats: {response}");
        let body = response.json();
        body["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|stat| Some((stat["name"].as_str()?.to_string(), stat["value"].as_u64()?)))
            .collect()
    }

    /// The access log written so far (empty for the shipped configuration, which logs to
    /// Envoy's stdout).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(&self.access_log).unwrap_or_default()
    }

    /// Waits until an access log line contains `needle`, and returns that line.
    pub fn wait_for_access_log(&self, needle: &str) -> String {
        let found = poll::until(ACCESS_LOG_TIMEOUT, || {
            self.access_log()
                .lines()
                .find(|line| line.contains(needle))
                .map(str::to_string)
        });
        found.unwrap_or_else(|| {
            panic!(
                "no access log line containing {needle:?} within {ACCESS_LOG_TIMEOUT:?}; the access log:\n{}",
                self.access_log()
            )
        })
    }

    /// Envoy's own log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process.print_log();
            eprintln!(
                "===== access log ({}) =====\n{}",
                self.access_log.display(),
                self.access_log()
            );
            self.upstream.print_log();
        }
    }
}
