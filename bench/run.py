#!/usr/bin/env python3
"""`make bench`: Portcullis against no filter, an empty proxy-wasm filter and Envoy's native
api_key_auth and jwt_authn, each in a fresh single-worker Envoy on loopback under the same
wrk load; then revocation and key-creation latency through the real control-plane, and the
memory of Portcullis's verified-token cache.

Rounds interleave the configurations in a rotating order so a slow spell on a shared machine
falls on every configuration rather than on one. Envoy CPU per request is the figure to
trust; req/s and p99 move with whatever else the machine is doing. The API-key row and the
latencies share one control-plane (a fresh SQLite file) started before the first round. The
JWT rows' keys and tokens are minted before the first round, and a simd128 build of the
filter is made (incrementally, in target/simd) when a row needs it.

`--only` (default: `$BENCH_ROWS`, else every row not marked opt-in) takes names, shell
patterns such as `'*jwt_rs256*'`, and `all`.
"""

import argparse
import contextlib
import fnmatch
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import configs
import jwt_configs
import jwt_report
import jwt_tokens
import latency
import ratelimit_rows
import ratelimit_service
import report
import simd_wasm
import token_cache_memory
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


def parse_args(everything: list[configs.Configuration]) -> argparse.Namespace:
    """Command-line options; `everything` holds the configurations `--only` may pick from.
    `args.only` comes back as the list of chosen names."""
    names = [c.name for c in everything]
    defaults = ",".join(c.name for c in everything if not c.opt_in)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all configurations")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each measured run")
    parser.add_argument("--only", default=os.environ.get("BENCH_ROWS") or defaults,
                        help="comma-separated names or shell patterns, or `all`, of: "
                             f"{','.join(names)} (default: $BENCH_ROWS, else every row "
                             "but the opt-in simd ones)")
    parser.add_argument("--token-cache-secs", type=int, default=3,
                        help="seconds of distinct EdDSA tokens per token-cache memory sample, "
                             "one full and one empty cache per round (0 skips)")
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
    patterns = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in patterns if p != "all" and not fnmatch.filter(names, p)]
    if unknown:
        parser.error(f"--only {','.join(unknown)} matches no configuration; "
                     f"expected some of {','.join(names)}")
    args.only = [n for n in names
                 if any(p == "all" or fnmatch.fnmatchcase(n, p) for p in patterns)]
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    if args.revocations < 0 or args.creations < 0 or args.token_cache_secs < 0:
        parser.error("--revocations, --creations and --token-cache-secs cannot be negative")
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


@dataclass(frozen=True)
class Load:
    """What one configuration's requests carry, and what its pre-flight sends."""

    # The fixed `Authorization` value of every request, or None for a round-robin run.
    authorization: str | None
    # For a distinct-token row: the token file, sent round robin from its second token.
    tokens: Path | None
    # A credential that must get 200 (for a round-robin row, the file's first token).
    accepted: str
    # A credential the filter must refuse, shaped so it has to check it to refuse it.
    wrong: str


def load_for(configuration: configs.Configuration, api_key: str,
             key_sets: dict[str, jwt_tokens.KeySet]) -> Load:
    """The credentials of `configuration`: an API key the control-plane minted, a JWT the
    bench minted (the same one, or a distinct one per request), or the static bench token."""
    if configuration.syncer is not None:
        # Well formed: the filter must look it up to refuse it.
        return Load(f"Bearer {api_key}", None, f"Bearer {api_key}", f"Bearer {UNKNOWN_KEY}")
    if configuration.jwt is not None:
        key_set = key_sets[configuration.jwt.algorithm]
        # Right issuer and key id: only the signature check can refuse it.
        wrong = f"Bearer {key_set.forged}"
        if configuration.jwt.distinct_tokens:
            return Load(None, key_set.tokens_file, f"Bearer {key_set.token}", wrong)
        return Load(f"Bearer {key_set.token}", None, f"Bearer {key_set.token}", wrong)
    return Load(configs.AUTHORIZATION, None, configs.AUTHORIZATION, "Bearer wrong")


def preflight(envoy: Envoy, configuration: configs.Configuration, load: Load) -> None:
    """The bench credential must get 200; for an auth filter, a missing or wrong one must not.

    The 200 proves the load about to run is accepted credentials rather than cheap refusals;
    the refusals prove the filter is really in the path and checks the credential. For API
    keys, the 200 comes once the first sync lands, and the wrong key is well formed, so the
    filter must look it up to refuse it; a wrong JWT differs from a good one only in its
    signature.
    """
    if configuration.syncer is not None:
        status = accepted_after_sync(envoy, load.accepted)
    else:
        status = status_of(envoy.listener_url, {"Authorization": load.accepted})
    if status != 200:
        raise BenchError(f"{configuration.name}: pre-flight with the bench credential got "
                         f"{status}, expected 200")
    if not configuration.enforces_auth:
        return
    for label, headers in (("without a credential", {}),
                           ("with a wrong credential", {"Authorization": load.wrong})):
        status = status_of(envoy.listener_url, headers)
        if status == 200:
            raise BenchError(f"{configuration.name}: pre-flight {label} got 200, expected a "
                             "refusal: is the filter in the path?")


def measure(binary: Path, configuration: configs.Configuration, duration: int,
            plane: ControlPlane | None, load: Load,
            key_sets: dict[str, jwt_tokens.KeySet]) -> dict:
    """One fresh Envoy, pre-flight, warm-up, then the measured run. A round-robin run
    continues where its warm-up stopped, so no token is sent twice to one Envoy (unless the
    token file ran out, which the record says)."""
    bootstrap = configs.bootstrap(configuration, plane.port if plane else 0,
                                  key_sets={alg: k.jwks for alg, k in key_sets.items()})
    robin = (wrk.RoundRobin(jwt_tokens.ROUND_ROBIN_SCRIPT, load.tokens, start=1)
             if load.tokens is not None else None)
    with Envoy(binary, bootstrap) as envoy:
        envoy.wait_ready()
        preflight(envoy, configuration, load)
        warmup = wrk.run(envoy.listener_url, WARMUP_SECS, load.authorization, robin)
        if robin is not None and warmup.round_robin is not None:
            robin = replace(robin, start=warmup.round_robin.next_index)
        cpu_before = envoy.cpu_secs()
        result = wrk.run(envoy.listener_url, duration, load.authorization, robin)
        cpu_secs = envoy.cpu_secs() - cpu_before
        rss_mib = envoy.rss_mib()
    measured = {
        "configuration": configuration.name,
        "requests": result.requests,
        "requests_per_sec": result.requests_per_sec,
        "p99_micros": result.p99_micros,
        "envoy_cpu_secs": cpu_secs,
        "cpu_micros_per_request": cpu_secs * 1e6 / result.requests,
        "rss_mib": rss_mib,
        "socket_errors": result.socket_errors,
    }
    if robin is not None:
        if warmup.round_robin is None or result.round_robin is None:
            raise BenchError(f"{configuration.name}: wrk printed no round-robin report")
        measured["distinct_tokens"] = {
            "in_file": result.round_robin.tokens,
            "measured_from_index": robin.start,
            "next_index": result.round_robin.next_index,
            # Times the file ran out in warm-up and measured run together: 0 means no token
            # reached this Envoy twice.
            "wraps": warmup.round_robin.wraps + result.round_robin.wraps,
        }
    return measured


def check_prerequisites(args: argparse.Namespace, needed: list[configs.Configuration]) -> None:
    """Fail before starting anything, with the command that fixes it."""
    if not os.access(args.envoy, os.X_OK):
        raise BenchError(f"no Envoy at {args.envoy}: run `make setup`")
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not on PATH: install it (Debian: apt-get install wrk)")
    for configuration in needed:
        for wasm in configuration.wasm_files:
            # The simd128 build is the bench's own, made after these checks.
            if not wasm.is_file() and not wasm.is_relative_to(simd_wasm.TARGET_DIR):
                raise BenchError(f"{configuration.name} needs {wasm.relative_to(REPO_ROOT)}: "
                                 "run `make wasm`")
    if any(c.needs_rate_limit_service for c in needed) and shutil.which("redis-server") is None:
        raise BenchError("redis-server is not on PATH: run `make setup` (Debian: redis-server)")
    if any(c.syncer for c in needed) and not os.access(args.control_plane, os.X_OK):
        raise BenchError(f"no control-plane binary at {args.control_plane}: run `make bench`, "
                         "which builds it (cargo build --release -p portcullis-control-plane)")
    if any(c.jwt for c in needed):
        jwt_tokens.check_node()


def run_rounds(args: argparse.Namespace, chosen: list[configs.Configuration],
               plane: ControlPlane | None, api_key: str,
               key_sets: dict[str, jwt_tokens.KeySet]) -> list[dict]:
    """Every round over the chosen configurations, each round in a rotated order."""
    runs = []
    for round_index in range(args.rounds):
        shift = round_index % len(chosen)
        for configuration in chosen[shift:] + chosen[:shift]:
            load = load_for(configuration, api_key, key_sets)
            measured = measure(args.envoy, configuration, args.duration, plane, load, key_sets)
            run = {"round": round_index + 1, **measured}
            runs.append(run)
            wrapped = run.get("distinct_tokens", {}).get("wraps", 0)
            print(f"  round {run['round']} {configuration.name:<34} "
                  f"{run['requests_per_sec']:>9.0f} req/s  p99 {run['p99_micros']:>6.0f} µs  "
                  f"{run['cpu_micros_per_request']:>7.2f} CPU µs/req  "
                  f"{run['rss_mib']:>6.1f} MiB"
                  + (f"  (token file ran out {wrapped}x: tokens repeated)" if wrapped else ""),
                  flush=True)
    return runs


def measure_latencies(args: argparse.Namespace, api_key_config: configs.Configuration,
                      plane: ControlPlane, api_key: str) -> dict:
    """Revocations through a fresh API-key Envoy, then key creations with its syncer still
    attached (as in production, each creation wakes the syncer's long-poll)."""
    with Envoy(args.envoy, configs.bootstrap(api_key_config, plane.port)) as envoy:
        envoy.wait_ready()
        preflight(envoy, api_key_config, load_for(api_key_config, api_key, {}))
        found = {}
        if args.revocations:
            print(f"  {args.revocations} revocation(s) through Envoy", flush=True)
            found.update(latency.revocations(plane, envoy.listener_url, args.revocations))
        if args.creations:
            print(f"  {args.creations} key creation(s)", flush=True)
            found["creation"] = latency.creations(plane, args.creations)
    return found


def bench(args: argparse.Namespace, everything: list[configs.Configuration]) -> None:
    """All rounds, the latencies and the token-cache memory, then the report on stdout and
    the JSON record."""
    chosen = [c for c in everything if c.name in args.only]
    latency_config = configs.for_latency(WASM_DIR)
    wants_latency = args.revocations > 0 or args.creations > 0
    needed = chosen + ([latency_config] if wants_latency else [])
    wants_cache_memory = args.token_cache_secs > 0 and any(
        c.jwt is not None and c.name.startswith("portcullis_") for c in chosen)
    check_prerequisites(args, needed)
    started = datetime.now(timezone.utc)
    envoy_version = version(args.envoy)
    print(f"envoy {envoy_version}; {args.rounds} round(s) of {len(chosen)} configuration(s), "
          f"{args.duration}s each; {args.revocations} revocation(s), {args.creations} "
          "key creation(s)", flush=True)
    if any(w.is_relative_to(simd_wasm.TARGET_DIR) for c in chosen for w in c.wasm_files):
        simd_wasm.build()

    with contextlib.ExitStack() as stack:
        key_sets: dict[str, jwt_tokens.KeySet] = {}
        mint_secs = 0.0
        counts = jwt_tokens.counts_for(
            [c.jwt for c in chosen if c.jwt is not None], WARMUP_SECS, args.duration,
            (token_cache_memory.ALGORITHM, args.token_cache_secs) if wants_cache_memory else None)
        if counts:
            print(f"  JWTs needed: {', '.join(f'{n} {alg}' for alg, n in counts.items())}",
                  flush=True)
            mint_started = time.monotonic()
            key_sets = jwt_tokens.prepare(OUT_DIR / "jwt", counts)
            mint_secs = time.monotonic() - mint_started
        plane, api_key = None, ""
        if any(c.syncer for c in needed):
            plane = stack.enter_context(ControlPlane(args.control_plane))
            plane.wait_ready()
            api_key = [plane.create_key(f"bench-{i}") for i in range(BENCH_KEYS)][0]["key"]
        if any(c.needs_rate_limit_service for c in chosen) and plane is not None:
            service = stack.enter_context(ratelimit_service.RateLimitService(
                args.control_plane, plane, ratelimit_rows.RLS_PORT))
            service.wait_ready()
        runs = run_rounds(args, chosen, plane, api_key, key_sets)
        latencies = {}
        if wants_latency and plane is not None:
            latencies = measure_latencies(args, latency_config, plane, api_key)
        cache_memory = {}
        if wants_cache_memory:
            print(f"  verified-token cache memory: {args.rounds} full/empty pair(s)", flush=True)
            cache_memory = token_cache_memory.measure(
                args.envoy, WASM_DIR / "portcullis.wasm", key_sets[token_cache_memory.ALGORITHM],
                args.rounds, args.token_cache_secs)

    decisions = rls_decisions(args)
    summary = report.medians(runs, [c.name for c in chosen])
    ratios = report.ratios(summary)
    comparisons = jwt_report.comparisons(summary)
    judged = report.goals(ratios, latencies) + jwt_report.goals(summary)
    print()
    print(report.render(summary, {c.name: c.description for c in chosen}, args.rounds,
                        latencies))
    jwt_text = jwt_report.render(comparisons, cache_memory)
    if jwt_text:
        print(jwt_text)
    if decisions:
        print("\nrate-limit service alone (bench/ratelimit.rs, real Redis):")
        print("\n".join(f"  {line}" for line in decisions))
    if judged:
        print(report.render_goals(judged))
    record = {
        "date": started.isoformat(timespec="seconds"),
        "envoy_version": envoy_version,
        "wrk_command": wrk.command("<listener>", args.duration,
                                   "Bearer <bench token, or an API key for portcullis_api_key>"),
        "wrk_command_distinct_tokens": wrk.command(
            "<listener>", args.duration, None,
            wrk.RoundRobin(Path("round_robin.lua"), Path("<minted token file>"),
                           start="<where the warm-up stopped>")),
        "warmup_secs": WARMUP_SECS,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "configurations": {c.name: c.description for c in chosen},
        "runs": runs,
        "medians": summary,
        "ratios": ratios,
        "jwt": {
            "issuer": jwt_tokens.ISSUER,
            "audience": jwt_tokens.AUDIENCE,
            "portcullis_cache_size": jwt_tokens.TOKEN_CACHE_SIZE,
            "native_jwt_cache_size": jwt_configs.NATIVE_CACHE_SIZE,
            "keys": {"RS256": "RSA 2048, e=65537", "ES256": "P-256", "EdDSA": "Ed25519"},
            "tokens_minted": {alg: k.count for alg, k in key_sets.items()},
            "tokens_expire_at": {alg: k.expires_at for alg, k in key_sets.items()},
            "mint_or_reuse_secs": mint_secs,
            "simd_rustflags": simd_wasm.FLAG,
            "comparisons": comparisons,
            "token_cache_memory": cache_memory,
        },
        "control_plane": {
            "store": "sqlite, a fresh temporary file",
            "keys_before_rounds": BENCH_KEYS if plane else 0,
            "revocations": args.revocations,
            "creations": args.creations,
            "creations_with_syncers_attached": 1 if args.creations else 0,
        },
        "latency_ms": latencies,
        "ratelimit_service_decisions": decisions,
        "goals": judged,
    }
    path = report.write(record, OUT_DIR, started)
    print(f"\nwrote {path.relative_to(REPO_ROOT)} and {(OUT_DIR / 'latest.json').relative_to(REPO_ROOT)}")


def rls_decisions(args: argparse.Namespace) -> list[str]:
    """The RLS decisions-per-second lines of the `ratelimit_bench` example, which `make bench`
    builds beside the control-plane; nothing when it is not built or no RLS row ran."""
    example = args.control_plane.parent / "examples" / "ratelimit_bench"
    if ratelimit_rows.RLS not in args.only or not os.access(example, os.X_OK):
        return []
    print("  rate-limit decisions per second (ratelimit_bench)", flush=True)
    done = subprocess.run([str(example)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"ratelimit_bench failed: {done.stderr.strip()}")
    return [line for line in done.stdout.splitlines() if "decisions/s" in line]


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so every running Envoy and control-plane is stopped on the
    # way out.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    rows = configs.all_configurations(WASM_DIR)
    api_key_row = next(c for c in rows if c.name == report.API_KEY)
    everything = (rows + ratelimit_rows.all_configurations(api_key_row)
                  + jwt_configs.all_configurations(WASM_DIR, simd_wasm.WASM_DIR))
    args = parse_args(everything)
    try:
        bench(args, everything)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
