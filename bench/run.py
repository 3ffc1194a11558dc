#!/usr/bin/env python3
"""`make bench`: Portcullis against no filter, an empty proxy-wasm filter and Envoy's native
api_key_auth, each in a fresh single-worker Envoy on loopback under the same wrk load; then
revocation and key-creation latency through the real control-plane.

Rounds interleave the configurations in a rotating order so a slow spell on a shared machine
falls on every configuration rather than on one. Envoy CPU per request is the figure to
trust; req/s and p99 move with whatever else the machine is doing. The API-key row and the
latencies share one control-plane (a fresh SQLite file) started before the first round.
"""

import argparse
import contextlib
import os
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import configs
import latency
import report
import wrk
from control_plane import ControlPlane, well_formed_key
from envoy import BenchError, Envoy, version

REPO_ROOT = Path(__file__).resolve().parent.parent
WASM_DIR = REPO_ROOT / "target" / "wasm32-wasip1" / "release"
OUT_DIR = REPO_ROOT / "target" / "bench"
WARMUP_SECS = 1
# Keys created before any Envoy starts, so the API-key row looks one up among several.
BENCH_KEYS = 10
# How long a fresh Envoy may take to apply its first snapshot and accept the bench key.
FIRST_SYNC_DEADLINE_SECS = 15.0
# Well-formed (valid checksum) but never issued: the filter must look it up and refuse it.
UNKNOWN_KEY = well_formed_key("PcBenchUnknownKey00000")


def parse_args(names: list[str]) -> argparse.Namespace:
    """Command-line options; `names` are the configurations `--only` may pick from."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all configurations")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each measured run")
    parser.add_argument("--only", default=",".join(names),
                        help=f"comma-separated subset of: {','.join(names)}")
    parser.add_argument("--revocations", type=int, default=100,
                        help="revocations timed through Envoy (0 skips)")
    parser.add_argument("--creations", type=int, default=500,
                        help="POST /v1/keys timed on the control-plane (0 skips)")
    parser.add_argument("--envoy", type=Path, default=REPO_ROOT / ".venv" / "bin" / "envoy",
                        help="Envoy binary (default: the one `make setup` installs)")
    parser.add_argument("--control-plane", type=Path,
                        default=REPO_ROOT / "target" / "release" / "portcullis",
                        help="control-plane binary (default: the release build `make bench` makes)")
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown configuration(s) {','.join(sorted(unknown))}; "
                     f"expected some of {','.join(names)}")
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    if args.revocations < 0 or args.creations < 0:
        parser.error("--revocations and --creations cannot be negative")
    return args


def status_of(url: str, headers: dict[str, str]) -> int:
    """The status of one GET, refusals included (urllib raises on them)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as refused:
        return refused.code


def accepted_after_sync(envoy: Envoy, authorization: str) -> int:
    """Poll until the credential gets 200 (the syncer applied its first snapshot) or the
    deadline passes; return the last status."""
    deadline = time.monotonic() + FIRST_SYNC_DEADLINE_SECS
    while True:
        status = status_of(envoy.listener_url, {"Authorization": authorization})
        if status == 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def preflight(envoy: Envoy, configuration: configs.Configuration, authorization: str) -> None:
    """The bench credential must get 200; for an auth filter, a missing or wrong one must not.

    The 200 proves the load about to run is accepted credentials rather than cheap refusals;
    the refusals prove the filter is really in the path and checks the credential. For API
    keys, the 200 comes once the first sync lands, and the wrong key is well formed, so the
    filter must look it up to refuse it.
    """
    if configuration.syncer is not None:
        status = accepted_after_sync(envoy, authorization)
    else:
        status = status_of(envoy.listener_url, {"Authorization": authorization})
    if status != 200:
        raise BenchError(f"{configuration.name}: pre-flight with the bench credential got "
                         f"{status}, expected 200")
    if not configuration.enforces_auth:
        return
    wrong = f"Bearer {UNKNOWN_KEY}" if configuration.syncer is not None else "Bearer wrong"
    for label, headers in (("without a credential", {}),
                           ("with a wrong credential", {"Authorization": wrong})):
        status = status_of(envoy.listener_url, headers)
        if status == 200:
            raise BenchError(f"{configuration.name}: pre-flight {label} got 200, expected a "
                             "refusal: is the filter in the path?")


def measure(binary: Path, configuration: configs.Configuration, duration: int,
            plane: ControlPlane | None, api_key: str) -> dict:
    """One fresh Envoy, pre-flight, warm-up, then the measured run."""
    authorization = f"Bearer {api_key}" if configuration.syncer else configs.AUTHORIZATION
    with Envoy(binary, configs.bootstrap(configuration, plane.port if plane else 0)) as envoy:
        envoy.wait_ready()
        preflight(envoy, configuration, authorization)
        wrk.run(envoy.listener_url, WARMUP_SECS, authorization)
        cpu_before = envoy.cpu_secs()
        result = wrk.run(envoy.listener_url, duration, authorization)
        cpu_secs = envoy.cpu_secs() - cpu_before
        rss_mib = envoy.rss_mib()
    return {
        "configuration": configuration.name,
        "requests": result.requests,
        "requests_per_sec": result.requests_per_sec,
        "p99_micros": result.p99_micros,
        "envoy_cpu_secs": cpu_secs,
        "cpu_micros_per_request": cpu_secs * 1e6 / result.requests,
        "rss_mib": rss_mib,
        "socket_errors": result.socket_errors,
    }


def check_prerequisites(args: argparse.Namespace, needed: list[configs.Configuration]) -> None:
    """Fail before starting anything, with the command that fixes it."""
    if not os.access(args.envoy, os.X_OK):
        raise BenchError(f"no Envoy at {args.envoy}: run `make setup`")
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH: install it (Debian: apt-get install wrk)")
    for configuration in needed:
        for wasm in configuration.wasm_files:
            if not wasm.is_file():
                raise BenchError(f"{configuration.name} needs {wasm.relative_to(REPO_ROOT)}: "
                                 "run `make wasm`")
    if any(c.syncer for c in needed) and not os.access(args.control_plane, os.X_OK):
        raise BenchError(f"no control-plane binary at {args.control_plane}: run `make bench`, "
                         "which builds it (cargo build --release -p portcullis-control-plane)")


def run_rounds(args: argparse.Namespace, chosen: list[configs.Configuration],
               plane: ControlPlane | None, api_key: str) -> list[dict]:
    """Every round over the chosen configurations, each round in a rotated order."""
    runs = []
    for round_index in range(args.rounds):
        shift = round_index % len(chosen)
        for configuration in chosen[shift:] + chosen[:shift]:
            measured = measure(args.envoy, configuration, args.duration, plane, api_key)
            run = {"round": round_index + 1, **measured}
            runs.append(run)
            print(f"  round {run['round']} {configuration.name:<26} "
                  f"{run['requests_per_sec']:>9.0f} req/s  p99 {run['p99_micros']:>6.0f} µs  "
                  f"{run['cpu_micros_per_request']:>6.2f} CPU µs/req  "
                  f"{run['rss_mib']:>6.1f} MiB", flush=True)
    return runs


def measure_latencies(args: argparse.Namespace, api_key_config: configs.Configuration,
                      plane: ControlPlane, api_key: str) -> dict:
    """Revocations through a fresh API-key Envoy, then key creations with its syncer still
    attached (as in production, each creation wakes the syncer's long-poll)."""
    with Envoy(args.envoy, configs.bootstrap(api_key_config, plane.port)) as envoy:
        envoy.wait_ready()
        preflight(envoy, api_key_config, f"Bearer {api_key}")
        found = {}
        if args.revocations:
            print(f"  {args.revocations} revocation(s) through Envoy", flush=True)
            found.update(latency.revocations(plane, envoy.listener_url, args.revocations))
        if args.creations:
            print(f"  {args.creations} key creation(s)", flush=True)
            found["creation"] = latency.creations(plane, args.creations)
    return found


def bench(args: argparse.Namespace, everything: list[configs.Configuration]) -> None:
    """All rounds and the latencies, then the report on stdout and the JSON record."""
    wanted = set(args.only.split(","))
    chosen = [c for c in everything if c.name in wanted]
    api_key_config = next(c for c in everything if c.name == report.API_KEY)
    wants_latency = args.revocations > 0 or args.creations > 0
    needed = chosen + ([api_key_config] if wants_latency and api_key_config not in chosen else [])
    check_prerequisites(args, needed)
    started = datetime.now(timezone.utc)
    envoy_version = version(args.envoy)
    print(f"envoy {envoy_version}; {args.rounds} round(s) of {len(chosen)} configuration(s), "
          f"{args.duration}s each; {args.revocations} revocation(s), {args.creations} "
          "key creation(s)", flush=True)

    with contextlib.ExitStack() as stack:
        plane, api_key = None, ""
        if any(c.syncer for c in needed):
            plane = stack.enter_context(ControlPlane(args.control_plane))
            plane.wait_ready()
            api_key = [plane.create_key(f"bench-{i}") for i in range(BENCH_KEYS)][0]["key"]
        runs = run_rounds(args, chosen, plane, api_key)
        latencies = {}
        if wants_latency and plane is not None:
            latencies = measure_latencies(args, api_key_config, plane, api_key)

    summary = report.medians(runs, [c.name for c in chosen])
    ratios = report.ratios(summary)
    judged = report.goals(ratios, latencies)
    print()
    print(report.render(summary, {c.name: c.description for c in chosen}, args.rounds,
                        latencies, judged))
    record = {
        "date": started.isoformat(timespec="seconds"),
        "envoy_version": envoy_version,
        "wrk_command": wrk.command("<listener>", args.duration,
                                   "Bearer <bench token, or an API key for portcullis_api_key>"),
        "warmup_secs": WARMUP_SECS,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "configurations": {c.name: c.description for c in chosen},
        "runs": runs,
        "medians": summary,
        "ratios": ratios,
        "control_plane": {
            "store": "sqlite, a fresh temporary file",
            "keys_before_rounds": BENCH_KEYS if plane else 0,
            "revocations": args.revocations,
            "creations": args.creations,
            "creations_with_syncers_attached": 1 if args.creations else 0,
        },
        "latency_ms": latencies,
        "goals": judged,
    }
    path = report.write(record, OUT_DIR, started)
    print(f"\nwrote {path.relative_to(REPO_ROOT)} and {(OUT_DIR / 'latest.json').relative_to(REPO_ROOT)}")


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so every running Envoy and control-plane is stopped on the
    # way out.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    everything = configs.all_configurations(WASM_DIR)
    args = parse_args([c.name for c in everything])
    try:
        bench(args, everything)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
