"""One Envoy under test: start it, wait until it serves, read its CPU and memory, stop it.

Envoy runs with one worker so CPU per request is one worker's cost, and with a dynamic base
id so a leftover Envoy (or a developer's `make run`) cannot clash with its shared memory.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


class BenchError(Exception):
    """A run could not be measured; the message says what was expected and what was seen."""


_CLOCK_TICKS_PER_SEC = os.sysconf("SC_CLK_TCK")
_START_DEADLINE_SECS = 60.0
_STOP_DEADLINE_SECS = 10.0
# The first line of a mapping in /proc/<pid>/smaps: range, permissions, offset, device,
# inode, then the path (blank for anonymous memory).
_SMAPS_HEADER = re.compile(r"^(?P<start>[0-9a-f]+)-(?P<end>[0-9a-f]+) (?P<perms>\S{4}) \S+ "
                           r"\S+ \d+\s*(?P<path>.*)$")


def version(binary: Path) -> str:
    """The version line Envoy prints, e.g. `<sha>/1.40.0/Clean/RELEASE/BoringSSL`."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return out.split("version:", 1)[-1].strip()


class Envoy:
    """An Envoy child process with its own working directory, config file and log file."""

    def __init__(self, binary: Path, bootstrap: dict, concurrency: int = 1,
                 extra_flags: tuple[str, ...] = ()):
        self._dir = tempfile.TemporaryDirectory(prefix="portcullis-bench-")
        work = Path(self._dir.name)
        self._config = work / "envoy.json"
        self._config.write_text(json.dumps(bootstrap, indent=2))
        self._admin_path = work / "admin-address"
        self._log_path = work / "envoy.log"
        self._log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            [str(binary), "-c", str(self._config), "--concurrency", str(concurrency),
             "--log-level", "warn", *extra_flags,
             "--use-dynamic-base-id", "--admin-address-path", str(self._admin_path)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.admin_url = ""
        self.listener_url = ""

    def __enter__(self) -> "Envoy":
        return self

    def __exit__(self, exc_type, _exc, _tb) -> None:
        self.stop()
        # Whatever went wrong, Envoy's own account of it is usually the answer; an interrupt
        # is the user stopping the bench and needs no log.
        if exc_type is not None and issubclass(exc_type, Exception):
            log = self._log_path.read_text(errors="replace").strip() or "(empty)"
            sys.stderr.write(f"--- envoy log (pid {self.pid}) ---\n{log}\n--- end of envoy log ---\n")
        self._dir.cleanup()

    @property
    def pid(self) -> int:
        """The Envoy process id (the wrapper script execs Envoy, so it is Envoy's own)."""
        return self._process.pid

    def wait_ready(self) -> None:
        """Poll until admin `/ready` says LIVE, then learn the listener's bound port."""
        deadline = time.monotonic() + _START_DEADLINE_SECS
        while not self._admin_path.exists() or not self._admin_path.read_text().strip():
            self._check_alive_before(deadline, "admin address file")
            time.sleep(0.05)
        self.admin_url = "http://" + self._admin_path.read_text().strip()
        while True:
            self._check_alive_before(deadline, "admin /ready to answer LIVE")
            try:
                with urllib.request.urlopen(self.admin_url + "/ready", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        with urllib.request.urlopen(self.admin_url + "/listeners?format=json", timeout=5) as reply:
            statuses = json.load(reply)["listener_statuses"]
        address = statuses[0]["local_address"]["socket_address"]
        self.listener_url = f"http://{address['address']}:{address['port_value']}/"

    def _check_alive_before(self, deadline: float, waiting_for: str) -> None:
        code = self._process.poll()
        if code is not None:
            raise BenchError(f"envoy exited with status {code} while waiting for {waiting_for}")
        if time.monotonic() > deadline:
            raise BenchError(f"envoy not ready after {_START_DEADLINE_SECS:.0f}s "
                             f"waiting for {waiting_for}")

    def cpu_secs(self) -> float:
        """User plus system CPU of every Envoy thread so far, from /proc/<pid>/stat."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # The command name may hold spaces and parentheses: split after its closing one.
        # The remaining fields start at field 3 (state), so utime (14) and stime (15) sit
        # at offsets 11 and 12.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS_PER_SEC

    def rss_mib(self) -> float:
        """Resident memory now (VmRSS), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise BenchError(f"no VmRSS line in /proc/{self.pid}/status")

    def wasm_memory_kib(self) -> list[tuple[int, int]]:
        """(size, resident) in KiB of each Wasm VM's linear memory, read from
        /proc/<pid>/smaps: V8 reserves gigabytes of address space per memory (guard
        regions) and makes only its current size accessible, so a memory is a read-write
        anonymous mapping directly followed by an inaccessible one of at least 1 GiB. Empty
        if no mapping looks like that (another runtime, or a V8 that lays memory out
        differently)."""
        mappings = []
        for line in Path(f"/proc/{self.pid}/smaps").read_text().splitlines():
            head = _SMAPS_HEADER.match(line)
            if head:
                start, end = int(head["start"], 16), int(head["end"], 16)
                mappings.append({"start": start, "end": end, "perms": head["perms"],
                                 "anonymous": not head["path"], "rss_kib": 0})
            elif line.startswith("Rss:") and mappings:
                mappings[-1]["rss_kib"] = int(line.split()[1])
        return [
            ((m["end"] - m["start"]) // 1024, m["rss_kib"])
            for m, after in zip(mappings, mappings[1:])
            if m["perms"] == "rw-p" and m["anonymous"] and after["perms"] == "---p"
            and after["start"] == m["end"] and after["end"] - after["start"] >= 1 << 30
        ]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if Envoy is still there after the deadline."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=_STOP_DEADLINE_SECS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
