"""Drive load with wrk and read its report: requests, req/s, p99 and any bad responses.

One wrk thread with 16 connections keeps Envoy's single worker busy while leaving the
second core to wrk, so on a two-core machine the two do not fight for one CPU. A run either
sends one fixed `Authorization` value or, through `round_robin.lua`, the next token of a
file on every request.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from envoy import BenchError

THREADS = 1
CONNECTIONS = 16

_UNIT_TO_MICROS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


@dataclass(frozen=True)
class RoundRobin:
    """A run that sends the tokens of `tokens_file` in order, from index `start`."""

    script: Path
    tokens_file: Path
    start: int = 0


@dataclass(frozen=True)
class RoundRobinReport:
    """Where a round-robin run stopped: the index the next run should start at, and how
    often it used the whole file up and started over."""

    next_index: int
    wraps: int
    tokens: int


@dataclass(frozen=True)
class WrkResult:
    """What one measured wrk run saw."""

    requests: int
    requests_per_sec: float
    p99_micros: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    # Only for a round-robin run.
    round_robin: RoundRobinReport | None = None


def command(url: str, duration_secs: float, authorization: str | None,
            round_robin: RoundRobin | None = None) -> list[str]:
    """The wrk invocation every run uses; only the duration differs for the warm-up, and
    the credential: a fixed header, or a token file sent round robin."""
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration_secs:g}s", "--latency"]
    if authorization is not None:
        args += ["-H", f"Authorization: {authorization}"]
    if round_robin is not None:
        args += ["-s", str(round_robin.script)]
    args.append(url)
    if round_robin is not None:
        args += ["--", str(round_robin.tokens_file), str(round_robin.start)]
    return args


def run(url: str, duration_secs: float, authorization: str | None,
        round_robin: RoundRobin | None = None) -> WrkResult:
    """Run wrk and parse its report; raise if any response was not 2xx/3xx."""
    args = command(url, duration_secs, authorization, round_robin)
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration_secs + 30)
    if done.returncode != 0:
        raise BenchError(f"wrk exited with status {done.returncode}: {done.stderr.strip()}")
    result = parse(done.stdout)
    if result.non_2xx_3xx:
        raise BenchError(f"wrk saw {result.non_2xx_3xx} non-2xx/3xx responses of "
                         f"{result.requests}; expected all 200\n{done.stdout}")
    if result.requests == 0:
        raise BenchError(f"wrk completed no requests\n{done.stdout}")
    return result


def parse(report: str) -> WrkResult:
    """Read the figures out of wrk 4's text report (`--latency` adds the percentiles)."""
    requests = re.search(r"^\s*(\d+) requests in ", report, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", report, re.MULTILINE)
    p99 = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", report, re.MULTILINE)
    if not (requests and rate and p99):
        raise BenchError(f"cannot parse wrk report:\n{report}")
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", report)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       report)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"),
                             (int(n) for n in errors.groups()))) if errors else {}
    robin = re.search(r"^round robin: next (\d+) wraps (\d+) tokens (\d+)$", report,
                      re.MULTILINE)
    return WrkResult(
        round_robin=RoundRobinReport(*(int(n) for n in robin.groups())) if robin else None,
        requests=int(requests.group(1)),
        requests_per_sec=float(rate.group(1)),
        p99_micros=float(p99.group(1)) * _UNIT_TO_MICROS[p99.group(2)],
        non_2xx_3xx=int(bad.group(1)) if bad else 0,
        socket_errors=socket_errors,
    )
