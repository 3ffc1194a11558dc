"""Latencies the user of the control-plane sees: how soon a revoked key stops working
through Envoy, how soon a new key starts working, and how long `POST /v1/keys` takes.

Each loop uses one HTTP/1.1 keep-alive connection per server, so what is timed is the
control-plane, the syncer and the filter rather than TCP handshakes.
"""

import http.client
import math
import time
from urllib.parse import urlsplit

from control_plane import ControlPlane
from envoy import BenchError

# How long one key may take to start or stop working through Envoy before the bench gives
# up: two orders of magnitude above the revocation goal.
STEP_DEADLINE_SECS = 5.0


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50, p99 (nearest rank) and max of `samples_ms`, with the sample count."""
    ordered = sorted(samples_ms)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"count": len(ordered), "p50_ms": rank(0.50), "p99_ms": rank(0.99),
            "max_ms": ordered[-1]}


class EnvoyProbe:
    """GETs through Envoy's listener with a bearer credential, over one kept-alive connection."""

    def __init__(self, listener_url: str):
        parts = urlsplit(listener_url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path or "/"
        self._connection: http.client.HTTPConnection | None = None

    def status(self, key: str) -> int:
        """The status Envoy answers for `Authorization: Bearer <key>`."""
        reused = self._connection is not None
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=5)
        try:
            self._connection.request("GET", self._path, headers={"Authorization": f"Bearer {key}"})
            reply = self._connection.getresponse()
            reply.read()
        except ConnectionError:
            # A kept-alive connection Envoy closed between two requests: reconnect once.
            self.close()
            if not reused:
                raise
            return self.status(key)
        if reply.will_close:
            self.close()
        return reply.status

    def close(self) -> None:
        """Close the connection; the next request opens another."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def wait_for(self, key: str, wanted: int, passing: int, what: str) -> tuple[float, int]:
        """Poll until Envoy answers `wanted` for `key`, allowing only `passing` meanwhile;
        return the monotonic time the answer arrived and how many requests it took."""
        deadline = time.perf_counter() + STEP_DEADLINE_SECS
        polls = 0
        while True:
            status = self.status(key)
            now = time.perf_counter()
            polls += 1
            if status == wanted:
                return now, polls
            if status != passing:
                raise BenchError(f"{what}: Envoy answered {status}, expected {passing} until "
                                 f"{wanted}")
            if now > deadline:
                raise BenchError(f"{what}: Envoy still answered {status} after "
                                 f"{STEP_DEADLINE_SECS:.0f}s, expected {wanted}")


def revocations(plane: ControlPlane, listener_url: str, count: int) -> dict:
    """`count` times: create a key, poll until Envoy accepts it, revoke it, and time from
    `DELETE` returning to Envoy's first 401. The create-to-first-200 time comes for free.

    The control-plane wakes the syncer's long-poll when the change commits, before its reply
    reaches the client, so the first request after `DELETE` is often already refused: the
    figure then is one round trip through Envoy, the resolution of this measurement.
    """
    probe = EnvoyProbe(listener_url)
    revoked_ms: list[float] = []
    propagated_ms: list[float] = []
    refused_at_once = 0
    try:
        for index in range(count):
            created = plane.create_key(f"bench-revocation-{index}")
            created_at = time.perf_counter()
            accepted_at, _ = probe.wait_for(created["key"], 200, 401,
                                            f"new key {created['id']} (revocation {index + 1})")
            propagated_ms.append((accepted_at - created_at) * 1e3)
            plane.revoke_key(created["id"])
            revoked_at = time.perf_counter()
            refused_at, polls = probe.wait_for(created["key"], 401, 200,
                                               f"revoked key {created['id']} (revocation {index + 1})")
            revoked_ms.append((refused_at - revoked_at) * 1e3)
            refused_at_once += polls == 1
    finally:
        probe.close()
    return {"revocation": {**percentiles(revoked_ms), "refused_on_first_request": refused_at_once},
            "propagation": percentiles(propagated_ms)}


def creations(plane: ControlPlane, count: int) -> dict:
    """`count` sequential `POST /v1/keys`, each timed from sending to the whole reply read."""
    samples_ms = []
    for index in range(count):
        started = time.perf_counter()
        plane.create_key(f"bench-creation-{index}")
        samples_ms.append((time.perf_counter() - started) * 1e3)
    return percentiles(samples_ms)
