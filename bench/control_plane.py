"""The real control-plane (`portcullis serve`) for the bench: started on a loopback port with
a fresh SQLite file, called over one keep-alive connection, stopped on exit.

It listens on port 0 and the bench reads the bound address from its start-up log line, so
there is no race between choosing a port and binding it.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from envoy import BenchError

# Fixed bench tokens, not secrets: they only ever reach a control-plane and an Envoy on
# loopback. Both are at least 32 characters, as `portcullis serve` requires.
ADMIN_TOKEN = "PcBenchAdmin-" * 4
SYNC_TOKEN = "PcBenchSync-" * 4
# Where the syncer finds the sync token in its VM's environment.
SYNC_TOKEN_ENV = "PORTCULLIS_SYNC_TOKEN"
# The org every bench key belongs to.
ORG_ID = "bench"

_START_DEADLINE_SECS = 30.0
_STOP_DEADLINE_SECS = 10.0
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_LISTENING = re.compile(r"control-plane listening.*?address=(\d+\.\d+\.\d+\.\d+):(\d+)")

# The API-key format (filter/src/api_key.rs): `sk_` + 22 base62 characters + the base62
# CRC32 of everything before, 6 characters, left-padded with `0`.
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_LEN = 6


def well_formed_key(random_part: str) -> str:
    """A key with a valid checksum around `random_part` (22 base62 characters), which the
    filter therefore looks up rather than refusing on its shape."""
    body = "sk_" + random_part
    value = zlib.crc32(body.encode())
    digits = ""
    for _ in range(_CHECKSUM_LEN):
        digits = _BASE62[value % 62] + digits
        value //= 62
    return body + digits


class ControlPlane:
    """A `portcullis serve` child with its own temporary directory, database and log."""

    def __init__(self, binary: Path):
        self._dir = tempfile.TemporaryDirectory(prefix="portcullis-bench-cp-")
        work = Path(self._dir.name)
        self._log_path = work / "control-plane.log"
        self._log = self._log_path.open("wb")
        env = {**os.environ, "PORTCULLIS_ADMIN_TOKEN": ADMIN_TOKEN,
               SYNC_TOKEN_ENV: SYNC_TOKEN, "RUST_LOG": "info"}
        self._process = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", "--db", str(work / "bench.db")],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )
        self.port = 0
        self._connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> "ControlPlane":
        return self

    def __exit__(self, exc_type, _exc, _tb) -> None:
        self.stop()
        if exc_type is not None and issubclass(exc_type, Exception):
            self.print_log()
        self._dir.cleanup()

    def print_log(self) -> None:
        """The control-plane's log on stderr, for a failed run."""
        log = self._log_text().strip()
        sys.stderr.write(f"--- control-plane log (pid {self._process.pid}) ---\n"
                         f"{log or '(empty)'}\n--- end of control-plane log ---\n")

    def _log_text(self) -> str:
        # The log is coloured even into a file: strip the escapes before reading it.
        return _ANSI_ESCAPE.sub("", self._log_path.read_text(errors="replace"))

    def wait_ready(self) -> None:
        """Poll until the log names the bound address and `GET /readyz` answers 200."""
        deadline = time.monotonic() + _START_DEADLINE_SECS
        while not self.port:
            self._check_alive_before(deadline, "its `control-plane listening` log line")
            found = _LISTENING.search(self._log_text())
            if found:
                self.port = int(found.group(2))
            else:
                time.sleep(0.05)
        while True:
            self._check_alive_before(deadline, "GET /readyz to answer 200")
            try:
                if self.call("GET", "/readyz")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                self._disconnect()
            time.sleep(0.05)

    def _check_alive_before(self, deadline: float, waiting_for: str) -> None:
        code = self._process.poll()
        if code is not None:
            raise BenchError(f"control-plane exited with status {code} while waiting for "
                             f"{waiting_for}")
        if time.monotonic() > deadline:
            raise BenchError(f"control-plane not ready after {_START_DEADLINE_SECS:.0f}s "
                             f"waiting for {waiting_for}")

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """One request as the bootstrap admin over the kept-alive connection: status, JSON.

        A kept-alive connection the server closed while idle (between the rounds, say) is
        replaced once; a fresh connection that fails is an error.
        """
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body)
        reused = self._connection is not None
        if self._connection is None:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            self._connection.request(method, path, body=payload, headers=headers)
            reply = self._connection.getresponse()
            data = reply.read()
        except ConnectionError:  # http.client.RemoteDisconnected among them
            self._disconnect()
            if not reused:
                raise
            return self.call(method, path, body)
        if reply.will_close:
            self._disconnect()
        return reply.status, json.loads(data) if data else {}

    def create_key(self, name: str) -> dict:
        """A new key in the bench org with scope `read`; the reply holds `id` and `key`."""
        status, reply = self.call("POST", "/v1/keys",
                                  {"name": name, "org_id": ORG_ID, "scopes": ["read"]})
        if status != 201:
            raise BenchError(f"POST /v1/keys answered {status}, expected 201: {reply}")
        return reply

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key; returns once the control-plane has answered."""
        status, reply = self.call("DELETE", f"/v1/keys/{key_id}")
        if status != 200:
            raise BenchError(f"DELETE /v1/keys/{key_id} answered {status}, expected 200: {reply}")

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        """SIGTERM (a graceful drain), then SIGKILL if it is still there after the deadline."""
        self._disconnect()
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=_STOP_DEADLINE_SECS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
