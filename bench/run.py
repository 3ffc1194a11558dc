#!/usr/bin/env python3
"""`make bench`: Portcullis against no filter, an empty proxy-wasm filter and Envoy's native
api_key_auth, each in a fresh single-worker Envoy on loopback under the same wrk load.

Rounds interleave the configurations in a rotating order so a slow spell on a shared machine
falls on every configuration rather than on one. Envoy CPU per request is the figure to
trust; req/s and p99 move with whatever else the machine is doing.
"""

import argparse
import os
import shutil
import signal
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import configs
import report
import wrk
from envoy import BenchError, Envoy, version

REPO_ROOT = Path(__file__).resolve().parent.parent
WASM_DIR = REPO_ROOT / "target" / "wasm32-wasip1" / "release"
OUT_DIR = REPO_ROOT / "target" / "bench"
WARMUP_SECS = 1


def parse_args(names: list[str]) -> argparse.Namespace:
    """Command-line options; `names` are the configurations `--only` may pick from."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all configurations")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each measured run")
    parser.add_argument("--only", default=",".join(names),
                        help=f"comma-separated subset of: {','.join(names)}")
    parser.add_argument("--envoy", type=Path, default=REPO_ROOT / ".venv" / "bin" / "envoy",
                        help="Envoy binary (default: the one `make setup` installs)")
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown configuration(s) {','.join(sorted(unknown))}; "
                     f"expected some of {','.join(names)}")
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def status_of(url: str, headers: dict[str, str]) -> int:
    """The status of one GET, refusals included (urllib raises on them)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as refused:
        return refused.code


def preflight(envoy: Envoy, configuration: configs.Configuration) -> None:
    """The bench credential must get 200; for an auth filter, a missing or wrong one must not.

    The 200 proves the load about to run is accepted credentials rather than cheap refusals;
    the refusals prove the filter is really in the path and checks the credential.
    """
    status = status_of(envoy.listener_url, {"Authorization": configs.AUTHORIZATION})
    if status != 200:
        raise BenchError(f"{configuration.name}: pre-flight with the bench credential got "
                         f"{status}, expected 200")
    if not configuration.enforces_auth:
        return
    for label, headers in (("without a credential", {}),
                           ("with a wrong credential", {"Authorization": "Bearer wrong"})):
        status = status_of(envoy.listener_url, headers)
        if status == 200:
            raise BenchError(f"{configuration.name}: pre-flight {label} got 200, expected a "
                             "refusal: is the filter in the path?")


def measure(binary: Path, configuration: configs.Configuration, duration: int) -> dict:
    """One fresh Envoy, pre-flight, warm-up, then the measured run."""
    with Envoy(binary, configs.bootstrap(configuration)) as envoy:
        envoy.wait_ready()
        preflight(envoy, configuration)
        wrk.run(envoy.listener_url, WARMUP_SECS, configs.AUTHORIZATION)
        cpu_before = envoy.cpu_secs()
        result = wrk.run(envoy.listener_url, duration, configs.AUTHORIZATION)
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


def check_prerequisites(binary: Path, chosen: list[configs.Configuration]) -> None:
    """Fail before starting anything, with the command that fixes it."""
    if not os.access(binary, os.X_OK):
        raise BenchError(f"no Envoy at {binary}: run `make setup`")
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH: install it (Debian: apt-get install wrk)")
    for configuration in chosen:
        for wasm in configuration.wasm_files:
            if not wasm.is_file():
                raise BenchError(f"{configuration.name} needs {wasm.relative_to(REPO_ROOT)}: "
                                 "run `make wasm`")


def bench(args: argparse.Namespace, everything: list[configs.Configuration]) -> None:
    """All rounds, then the report on stdout and the JSON record."""
    wanted = set(args.only.split(","))
    chosen = [c for c in everything if c.name in wanted]
    check_prerequisites(args.envoy, chosen)
    started = datetime.now(timezone.utc)
    envoy_version = version(args.envoy)
    print(f"envoy {envoy_version}; {args.rounds} round(s) of {len(chosen)} configuration(s), "
          f"{args.duration}s each", flush=True)

    runs = []
    for round_index in range(args.rounds):
        shift = round_index % len(chosen)
        for configuration in chosen[shift:] + chosen[:shift]:
            run = {"round": round_index + 1, **measure(args.envoy, configuration, args.duration)}
            runs.append(run)
            print(f"  round {run['round']} {configuration.name:<26} "
                  f"{run['requests_per_sec']:>9.0f} req/s  p99 {run['p99_micros']:>6.0f} µs  "
                  f"{run['cpu_micros_per_request']:>6.2f} CPU µs/req  "
                  f"{run['rss_mib']:>6.1f} MiB", flush=True)

    summary = report.medians(runs, [c.name for c in chosen])
    print()
    print(report.render(summary, {c.name: c.description for c in chosen}, args.rounds))
    ratios = report.ratios(summary)
    vs_floor = ratios.get(f"vs_{report.FLOOR}")
    record = {
        "date": started.isoformat(timespec="seconds"),
        "envoy_version": envoy_version,
        "wrk_command": wrk.command("<listener>", args.duration, "Bearer <bench token>"),
        "warmup_secs": WARMUP_SECS,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "configurations": {c.name: c.description for c in chosen},
        "runs": runs,
        "medians": summary,
        "ratios": ratios,
        "goal": None if vs_floor is None else {
            "text": f"static-token request >= {report.GOAL_RATIO}x the empty-Wasm floor",
            "judged_on": "cpu",
            "cpu_ratio": vs_floor["cpu"],
            "throughput_ratio": vs_floor["throughput"],
            "met": vs_floor["cpu"] >= report.GOAL_RATIO,
        },
    }
    path = report.write(record, OUT_DIR, started)
    print(f"\nwrote {path.relative_to(REPO_ROOT)} and {(OUT_DIR / 'latest.json').relative_to(REPO_ROOT)}")


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so every running Envoy is stopped on the way out.
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
