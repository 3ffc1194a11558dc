#!/usr/bin/env python3
"""Scale bench (opt-in): Portcullis with a million API keys against the same Envoy with ten.

Measures what issue 4 asks at scale, with Envoy running two workers (`--concurrency 2`,
unlike `make bench`'s one): the full-sync time of N keys (Envoy start until an unknown key
gets 401 instead of 503 not_ready: the snapshot is complete; a seeded key is accepted as soon
as its own page lands, so its first 200 comes earlier and is reported too), Envoy RSS with N keys
against 10 keys and against no filter, Envoy CPU per request with N keys against 10 keys,
and optionally RSS across churn (keys created and revoked while wrk runs).

The N keys are written straight into the control-plane's SQLite file (see scale_seed.py):
seeding time is bench set-up, reported apart, not a product figure.
"""

import argparse
import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import configs
import scale_report
import scale_seed
import wrk
from control_plane import ControlPlane, well_formed_key
from envoy import BenchError, version
from scale_procs import ScaleEnvoy, SeededControlPlane, rss_mib, status_of, wait_for_status

REPO_ROOT = Path(__file__).resolve().parent.parent
WASM_DIR = REPO_ROOT / "target" / "wasm32-wasip1" / "release"
OUT_DIR = REPO_ROOT / "target" / "bench"
CONCURRENCY = 2
SMALL_KEYS = 10
# Churn rounds; each revokes its own canary through the API.
CHURN_ROUNDS = 2
# Seeded keys with real secrets: the one wrk sends, and a canary per churn round.
PRESENTED = 1 + CHURN_ROUNDS
# The control-plane's snapshot page size (control-plane/src/sync.rs, `PAGE_SIZE`).
PAGE_SIZE = 1000
WARMUP_SECS = 1
# Let allocations from the sync settle before reading RSS.
SETTLE_SECS = 2.0
UNKNOWN_KEY = well_formed_key("PcScaleUnknownKey00000")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000, help="keys seeded (N)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per Envoy")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--churn", type=int, default=100_000,
                        help="keys created and as many revoked under load, per round (0 skips)")
    parser.add_argument("--churn-secs", type=int, default=30,
                        help="seconds of wrk load the churn runs under")
    parser.add_argument("--retention-secs", type=int, default=0,
                        help="how long the syncer keeps revoked secrets (answered "
                             "revoked_credentials) before freeing them; the product default "
                             "is 3600, 0 frees them at once so the churn shows the floor")
    parser.add_argument("--sync-deadline", type=float, default=900.0,
                        help="seconds a fresh Envoy may take to apply its first snapshot")
    parser.add_argument("--envoy", type=Path, default=REPO_ROOT / ".venv" / "bin" / "envoy")
    parser.add_argument("--control-plane", type=Path,
                        default=REPO_ROOT / "target" / "release" / "portcullis")
    args = parser.parse_args()
    if args.keys < SMALL_KEYS or args.rounds < 1 or args.duration < 1:
        parser.error(f"--keys must be at least {SMALL_KEYS}; --rounds, --duration at least 1")
    if not 0 <= args.churn * CHURN_ROUNDS <= args.keys - PRESENTED:
        parser.error(f"--churn must be within 0..{(args.keys - PRESENTED) // CHURN_ROUNDS}")
    return args


def check_prerequisites(args: argparse.Namespace) -> None:
    """Fail before starting anything, with the command that fixes it."""
    if not os.access(args.envoy, os.X_OK):
        raise BenchError(f"no Envoy at {args.envoy}: run `make setup`")
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH: install it (Debian: apt-get install wrk)")
    if not (WASM_DIR / "portcullis.wasm").is_file():
        raise BenchError("no target/wasm32-wasip1/release/portcullis.wasm: run `make wasm`")
    if not os.access(args.control_plane, os.X_OK):
        raise BenchError(f"no control-plane binary at {args.control_plane}: run "
                         "cargo build --release -p portcullis-control-plane")


def seed_database(args: argparse.Namespace, db: Path) -> scale_seed.Seeded:
    """Migrate a fresh database with the control-plane itself, then seed it."""
    with SeededControlPlane(args.control_plane, db) as plane:
        plane.wait_ready()
    print(f"seeding {args.keys:,} keys into the control-plane's SQLite file", flush=True)
    seeded = scale_seed.seed(db, args.keys, PRESENTED)
    print(f"  {seeded.insert_secs:.1f}s insert, {seeded.checkpoint_secs:.1f}s checkpoint, "
          f"revision {seeded.revision:,}", flush=True)
    return seeded


def start_synced(args: argparse.Namespace, stack: contextlib.ExitStack, port: int,
                 authorization: str) -> tuple[ScaleEnvoy, dict]:
    """A fresh API-key Envoy, timed from spawn to the first 200 for `authorization`, with
    the pre-flight refusals that prove the filter is in the path and looks keys up."""
    configuration = next(c for c in configs.all_configurations(WASM_DIR)
                         if c.name == "portcullis_api_key")
    envoy = stack.enter_context(
        ScaleEnvoy(args.envoy, configs.bootstrap(configuration, port, args.retention_secs),
                   CONCURRENCY))
    envoy.wait_ready()
    ready_at = time.monotonic()
    # A key is accepted as soon as its own entry lands, which may be mid-snapshot; an
    # unknown key gets 503 not_ready until the snapshot is complete and 401 after: the
    # switch is the full-sync time.
    accepted_at, seen = wait_for_status(envoy, authorization, 200, args.sync_deadline)
    synced_at, _ = wait_for_status(envoy, f"Bearer {UNKNOWN_KEY}", 401, args.sync_deadline)
    # Envoy writes its log file in batches: the line may land seconds after the 200.
    deadline = time.monotonic() + 20
    lines = envoy.sync_lines()
    while (not any(what.startswith("sync: snapshot complete") for _, what in lines)
           and time.monotonic() < deadline):
        time.sleep(0.1)
        lines = envoy.sync_lines()
    first_poll = next((when for when, what in lines if what.startswith("sync: polling")), None)
    complete = next(((when, what) for when, what in lines
                     if what.startswith("sync: snapshot complete")), None)
    for label, credential in (("without a credential", None),
                              ("with an unknown key", f"Bearer {UNKNOWN_KEY}")):
        status = status_of(envoy.listener_url, credential)
        if status == 200:
            raise BenchError(f"pre-flight {label} got 200, expected a refusal")
    time.sleep(SETTLE_SECS)
    return envoy, {
        "envoy_start_to_ready_secs": ready_at - envoy.started,
        "envoy_start_to_first_200_secs": accepted_at - envoy.started,
        "envoy_start_to_synced_secs": synced_at - envoy.started,
        "statuses_before_first_200": {str(k): v for k, v in seen.items()},
        "syncer_log_first_poll_to_complete_secs":
            (complete[0] - first_poll).total_seconds() if complete and first_poll else None,
        "syncer_complete_line": complete[1] if complete else None,
        "syncer_lines": [f"{when:%H:%M:%S.%f} {what}" for when, what in lines[:20]],
        "rss_mib_synced": envoy.rss_mib(),
    }


def measure(envoy: ScaleEnvoy, authorization: str, duration: int) -> dict:
    """One measured wrk run: Envoy CPU per request (all threads), req/s, p99."""
    cpu_before = envoy.cpu_secs()
    result = wrk.run(envoy.listener_url, duration, authorization)
    cpu_secs = envoy.cpu_secs() - cpu_before
    return {"requests": result.requests, "requests_per_sec": result.requests_per_sec,
            "p99_micros": result.p99_micros,
            "cpu_micros_per_request": cpu_secs * 1e6 / result.requests}


def median_of(runs: list[dict], figure: str) -> float:
    values = sorted(run[figure] for run in runs)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def churn_under_load(args: argparse.Namespace, envoy: ScaleEnvoy, plane: SeededControlPlane,
                     db: Path, load_key: scale_seed.PresentedKey,
                     canaries: list[scale_seed.PresentedKey]) -> dict:
    """CHURN_ROUNDS rounds, each creating and revoking `--churn` keys in the database while
    wrk runs, then revoking one canary through the API (which wakes the syncer's long-poll;
    its delta carries the churn too) and waiting for the canary's 401 through Envoy: by then
    everything is applied. RSS is read before and after each round: the first round also
    raises the allocator's high-water mark (Envoy keeps freed memory for reuse), so whether
    revoked keys are kept shows in the rounds after it."""
    authorization = f"Bearer {load_key.secret}"
    rounds = []
    rss_before = envoy.rss_mib()
    keep = {load_key.key_id, *(canary.key_id for canary in canaries)}
    for round_index, canary in enumerate(canaries):
        print(f"churn round {round_index + 1}: {args.churn:,} created + {args.churn:,} revoked "
              f"under {args.churn_secs}s of load", flush=True)
        rss_start = envoy.rss_mib()
        load = subprocess.Popen(wrk.command(envoy.listener_url, args.churn_secs, authorization),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            written = scale_seed.churn(db, args.churn, keep, round_index)
            plane.revoke_key(canary.key_id)
            deleted_at = time.monotonic()
            revoked_at, _ = wait_for_status(envoy, f"Bearer {canary.secret}", 401,
                                            args.sync_deadline, interval_secs=0.005)
            time.sleep(SETTLE_SECS)
            applied_before_load_ended = load.poll() is None
            out, err = load.communicate(timeout=args.churn_secs + 60)
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        if load.returncode != 0:
            raise BenchError(f"wrk exited with status {load.returncode}: {err.strip()}")
        traffic = wrk.parse(out)
        still = status_of(envoy.listener_url, authorization)
        if still != 200:
            raise BenchError(f"after the churn the load key got {still}, expected 200")
        rss_end = envoy.rss_mib()
        print(f"  canary 401 {revoked_at - deleted_at:.2f}s after DELETE; RSS "
              f"{rss_start:.1f} -> {rss_end:.1f} MiB", flush=True)
        rounds.append({
            **written,
            "delete_to_canary_401_secs": revoked_at - deleted_at,
            "applied_before_load_ended": applied_before_load_ended,
            "rss_mib_start": rss_start,
            "rss_mib_end": rss_end,
            "wrk": {"requests": traffic.requests, "requests_per_sec": traffic.requests_per_sec,
                    "non_2xx_3xx": traffic.non_2xx_3xx},
        })
    return {
        "retention_secs": args.retention_secs,
        "per_round": args.churn,
        "rss_mib_before": rss_before,
        "rss_mib_after": rounds[-1]["rss_mib_end"],
        "live_keys_after": args.keys,
        "rounds": rounds,
    }


def bench(args: argparse.Namespace) -> None:
    check_prerequisites(args)
    started = datetime.now(timezone.utc)
    envoy_version = version(args.envoy)
    print(f"envoy {envoy_version}; {args.keys:,} keys, --concurrency {CONCURRENCY}", flush=True)
    envoys: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portcullis-scale-")))
        db = work / "scale.db"
        seeded = seed_database(args, db)
        load_key, *canaries = seeded.presented

        # Baseline: the same Envoy with no filter, for the RSS the filter adds.
        no_filter = next(c for c in configs.all_configurations(WASM_DIR) if c.name == "no_filter")
        with ScaleEnvoy(args.envoy, configs.bootstrap(no_filter), CONCURRENCY) as bare:
            bare.wait_ready()
            time.sleep(SETTLE_SECS)
            synced = bare.rss_mib()
            wrk.run(bare.listener_url, WARMUP_SECS, configs.AUTHORIZATION)
            run = measure(bare, configs.AUTHORIZATION, args.duration)
            envoys["no_filter"] = {"rss_mib_synced": synced, "rss_mib_loaded": bare.rss_mib(),
                                   **run}
        print(f"  no filter: {envoys['no_filter']['rss_mib_loaded']:.1f} MiB", flush=True)

        small_plane = stack.enter_context(ControlPlane(args.control_plane))
        small_plane.wait_ready()
        small_key = [small_plane.create_key(f"scale-small-{i}")
                     for i in range(SMALL_KEYS)][0]["key"]
        small, small_sync = start_synced(args, stack, small_plane.port, f"Bearer {small_key}")
        print(f"  {SMALL_KEYS} keys: first 200 after "
              f"{small_sync['envoy_start_to_first_200_secs']:.2f}s", flush=True)

        plane = stack.enter_context(SeededControlPlane(args.control_plane, db))
        plane.wait_ready()
        print(f"full sync of {args.keys:,} keys", flush=True)
        large, large_sync = start_synced(args, stack, plane.port, f"Bearer {load_key.secret}")
        print(f"  seeded key's first 200 after {large_sync['envoy_start_to_first_200_secs']:.2f}s, "
              f"snapshot complete (unknown key 503 -> 401) after "
              f"{large_sync['envoy_start_to_synced_secs']:.2f}s; "
              f"{large_sync['syncer_complete_line']}", flush=True)
        plane_rss_after_sync = rss_mib(plane.pid)

        targets = {"small": (small, f"Bearer {small_key}"),
                   "large": (large, f"Bearer {load_key.secret}")}
        for envoy, authorization in targets.values():
            wrk.run(envoy.listener_url, WARMUP_SECS, authorization)
        runs: dict[str, list[dict]] = {"small": [], "large": []}
        for round_index in range(args.rounds):
            order = ["small", "large"] if round_index % 2 == 0 else ["large", "small"]
            for name in order:
                envoy, authorization = targets[name]
                runs[name].append(measure(envoy, authorization, args.duration))
                r = runs[name][-1]
                print(f"  round {round_index + 1} {name:<5} {r['requests_per_sec']:>8.0f} req/s"
                      f"  {r['cpu_micros_per_request']:>6.2f} CPU µs/req", flush=True)
        for name, label, sync in (("small", f"portcullis_{SMALL_KEYS}_keys", small_sync),
                                  ("large", f"portcullis_{args.keys}_keys", large_sync)):
            envoy = targets[name][0]
            envoys[label] = {"rss_mib_synced": sync["rss_mib_synced"],
                             "rss_mib_loaded": envoy.rss_mib(),
                             "requests_per_sec": median_of(runs[name], "requests_per_sec"),
                             "cpu_micros_per_request":
                                 median_of(runs[name], "cpu_micros_per_request"),
                             "p99_micros": median_of(runs[name], "p99_micros"),
                             "runs": runs[name]}
        churn = (churn_under_load(args, large, plane, db, load_key, canaries)
                 if args.churn else None)

    small_row = envoys[f"portcullis_{SMALL_KEYS}_keys"]
    large_row = envoys[f"portcullis_{args.keys}_keys"]
    added_by_keys = large_row["rss_mib_loaded"] - small_row["rss_mib_loaded"]
    record = {
        "date": started.isoformat(timespec="seconds"),
        "envoy_version": envoy_version,
        "keys": args.keys,
        "concurrency": CONCURRENCY,
        "rounds": args.rounds,
        "duration_secs": args.duration,
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "wrk_command": wrk.command("<listener>", args.duration, "Bearer <a seeded key>"),
        "seeding": {"note": "bench set-up (direct SQLite inserts), not a product figure",
                    "insert_secs": seeded.insert_secs,
                    "checkpoint_secs": seeded.checkpoint_secs, "revision": seeded.revision},
        "full_sync": {**large_sync, "page_size": PAGE_SIZE,
                      "pages": math.ceil(args.keys / PAGE_SIZE),
                      "small_envoy": small_sync,
                      "control_plane_rss_mib_after_sync": plane_rss_after_sync},
        "envoys": envoys,
        "memory": {
            "added_by_filter_mib": large_row["rss_mib_loaded"]
                                   - envoys["no_filter"]["rss_mib_loaded"],
            "added_by_keys_mib": added_by_keys,
            "added_by_keys_bytes_per_key": added_by_keys * 2**20 / (args.keys - SMALL_KEYS),
        },
        "per_request": {
            "cpu_ratio_small_over_large": small_row["cpu_micros_per_request"]
                                          / large_row["cpu_micros_per_request"],
            "rps_ratio_large_over_small": large_row["requests_per_sec"]
                                          / small_row["requests_per_sec"],
        },
        "churn": churn,
    }
    record["goals"] = scale_report.goals(record)
    print()
    print(scale_report.render(record))
    path = scale_report.write(record, OUT_DIR, started)
    print(f"\nwrote {path.relative_to(REPO_ROOT)}")


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so every child is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    args = parse_args()
    try:
        bench(args)
    except BenchError as error:
        print(f"scale bench: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
