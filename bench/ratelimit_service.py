"""The rate-limit service the bench's RLS row asks: a `redis-server` on a free loopback port
(persistence off) and `portcullis ratelimit serve --control-plane …` following the bench's
control-plane, whose `default` tier is first raised so that no bench request is ever
limited. Both are stopped on exit; their logs are printed when something failed.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import control_plane
from envoy import BenchError

_START_DEADLINE_SECS = 20.0
# Counted, never reached: a billion an hour per key and per org.
NEVER_TRIPPING = {"requests_per_unit": 1_000_000_000, "unit": "hour"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RateLimitService:
    """Redis and the service, as a context manager."""

    def __init__(self, binary: Path, plane: control_plane.ControlPlane, grpc_port: int):
        status, reply = plane.call("PUT", "/v1/tiers/default", {
            "per_ip": NEVER_TRIPPING, "per_key": NEVER_TRIPPING, "per_org": NEVER_TRIPPING})
        if status not in (200, 201):
            raise BenchError(f"PUT /v1/tiers/default answered {status}: {reply}")
        self._dir = tempfile.TemporaryDirectory(prefix="portcullis-bench-rls-")
        work = Path(self._dir.name)
        redis_port, http_port = _free_port(), _free_port()
        self._logs = [work / "redis.log", work / "ratelimit.log"]
        self._processes = []
        self._processes.append(self._spawn(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(work)], self._logs[0], {}))
        self._processes.append(self._spawn(
            [str(binary), "ratelimit", "serve", "--control-plane",
             f"http://127.0.0.1:{plane.port}", "--redis", f"redis://127.0.0.1:{redis_port}",
             "--grpc-listen", f"127.0.0.1:{grpc_port}", "--http-listen",
             f"127.0.0.1:{http_port}", "--response-headers", "retry-after"],
            self._logs[1], {control_plane.SYNC_TOKEN_ENV: control_plane.SYNC_TOKEN}))
        self._ready_url = f"http://127.0.0.1:{http_port}/readyz"

    @staticmethod
    def _spawn(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
        try:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log.open("wb"),
                                    stderr=subprocess.STDOUT, env={**os.environ, **env})
        except FileNotFoundError as missing:
            raise BenchError(f"cannot start {argv[0]}: {missing} (Debian: redis-server)")

    def __enter__(self) -> "RateLimitService":
        return self

    def __exit__(self, exc_type, _exc, _tb) -> None:
        for process in reversed(self._processes):
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if exc_type is not None and issubclass(exc_type, Exception):
            for log in self._logs:
                text = log.read_text(errors="replace").strip() if log.exists() else ""
                sys.stderr.write(f"--- {log.name} ---\n{text or '(empty)'}\n")
        self._dir.cleanup()

    def wait_ready(self) -> None:
        """Poll `/readyz` (configuration loaded, Redis answering) until it says 200."""
        deadline = time.monotonic() + _START_DEADLINE_SECS
        while True:
            for process in self._processes:
                if process.poll() is not None:
                    raise BenchError(f"{process.args[0]} exited with status {process.returncode}")
            try:
                with urllib.request.urlopen(self._ready_url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"the rate-limit service not ready after {_START_DEADLINE_SECS:.0f}s")
            time.sleep(0.05)
