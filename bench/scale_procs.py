"""The scale bench's children: Envoy with several workers and the syncer's log on, and a
control-plane on a database the bench seeded itself.

Both reuse `envoy.Envoy` and `control_plane.ControlPlane` for readiness, CPU, memory, calls
and shutdown; only the start-up differs (worker count, log level, database path).
"""

import os
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import control_plane
from control_plane import ControlPlane
from envoy import BenchError, Envoy

# `[2026-11-23 07:36:25.730][123][info][wasm] [...] wasm log ...: sync: ...`
_LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\].*?(sync: .*)$", re.MULTILINE)


class ScaleEnvoy(Envoy):
    """An Envoy with `concurrency` workers whose Wasm log (the syncer's) is kept at info.

    `started` is the monotonic time just before the process was spawned, the origin of the
    full-sync time.
    """

    def __init__(self, binary: Path, bootstrap: dict, concurrency: int):
        self.started = time.monotonic()
        super().__init__(binary, bootstrap, concurrency, ("--component-log-level", "wasm:info"))

    def sync_lines(self) -> list[tuple[datetime, str]]:
        """The syncer's log lines so far, with Envoy's timestamps."""
        text = self._log_path.read_text(errors="replace")
        return [(datetime.strptime(when, "%Y-%m-%d %H:%M:%S.%f"), what)
                for when, what in _LOG_LINE.findall(text)]

    def check_alive(self) -> None:
        """Raise if Envoy has exited."""
        code = self._process.poll()
        if code is not None:
            raise BenchError(f"envoy exited with status {code}")


class SeededControlPlane(ControlPlane):
    """`portcullis serve` on the database file `db`, which outlives it: started once on a
    fresh path it only migrates; started again it serves what the bench seeded there."""

    def __init__(self, binary: Path, db: Path):
        # Same layout as `ControlPlane.__init__`; only the database path differs.
        self._dir = tempfile.TemporaryDirectory(prefix="portcullis-scale-cp-")
        self._log_path = Path(self._dir.name) / "control-plane.log"
        self._log = self._log_path.open("wb")
        env = {**os.environ, "PORTCULLIS_ADMIN_TOKEN": control_plane.ADMIN_TOKEN,
               control_plane.SYNC_TOKEN_ENV: control_plane.SYNC_TOKEN, "RUST_LOG": "info"}
        self._process = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", "--db", str(db)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )
        self.port = 0
        self._connection = None

    @property
    def pid(self) -> int:
        """The control-plane's process id."""
        return self._process.pid


def status_of(url: str, authorization: str | None) -> int:
    """The status of one GET, refusals included (urllib raises on them)."""
    headers = {"Authorization": authorization} if authorization else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as refused:
        return refused.code


def wait_for_status(envoy: ScaleEnvoy, authorization: str, wanted: int,
                    deadline_secs: float, interval_secs: float = 0.02) -> tuple[float, dict]:
    """Poll until a request with `authorization` gets `wanted`; return when (monotonic) and
    how many of each other status were seen on the way. Raise at the deadline."""
    deadline = time.monotonic() + deadline_secs
    seen: dict[int, int] = {}
    while True:
        envoy.check_alive()
        status = status_of(envoy.listener_url, authorization)
        now = time.monotonic()
        if status == wanted:
            return now, seen
        seen[status] = seen.get(status, 0) + 1
        if now > deadline:
            raise BenchError(f"no {wanted} after {deadline_secs:.0f}s; statuses seen: {seen}")
        time.sleep(interval_secs)


def rss_mib(pid: int) -> float:
    """Resident memory of any process now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS line in /proc/{pid}/status")
