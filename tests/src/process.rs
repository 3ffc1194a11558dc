//! A child process whose output goes to a log file and which is killed when dropped, so a
//! failing or panicking test never leaves an Envoy or an upstream behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running child with stdout and stderr captured in one file.
pub struct Process {
    name: &'static str,
    child: Child,
    log_path: PathBuf,
}

impl Process {
    /// Spawns `command` with stdout and stderr appended to `log_path`.
    pub fn spawn(name: &'static str, mut command: Command, log_path: &Path) -> Self {
        let log = File::create(log_path).expect("create child log file");
        let log_for_stderr = log.try_clone().expect("clone child log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name} ({command:?}): {error}"));
        Self {
            name,
            child,
            log_path: log_path.to_path_buf(),
        }
    }

    /// The exit status, if the child has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Everything the child has written so far.
    pub fn log(&self) -> String {
        let bytes = std::fs::read(&self.log_path).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Writes the child's log to stderr under a banner naming it.
    pub fn print_log(&self) {
        eprintln!(
            "===== {} log ({}) =====\n{}",
            self.name,
            self.log_path.display(),
            self.log()
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
