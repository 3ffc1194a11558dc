"""What Portcullis's verified-token cache costs in memory per worker, measured: the same load
of distinct tokens through a filter with the cache at its default size (so it ends full,
having evicted all along) and through one with `cache_size: 0` (nothing stored). Verifying
every token, the code V8 compiled for it and the transient allocations are the same in
both, so the difference is the full cache.

Two views of that difference: the Wasm linear memory the VMs have touched (its resident
pages, read from smaps; the precise one, since only the worker VM's memory changes), and
the whole Envoy RSS (which also moves with V8's compiled code, so it is noisy at this
scale). Wasm memory is never handed back, so both are high-water marks, in pages.

EdDSA because it is the cheapest to mint and to verify; the cached identity is the bench
token's (a subject and one scope), smaller than a typical Clerk or OAuth identity.
"""

import statistics
from pathlib import Path

import configs
import jwt_configs
import jwt_tokens
import wrk
from envoy import BenchError, Envoy

ALGORITHM = "EdDSA"
FULL = jwt_tokens.TOKEN_CACHE_SIZE


def _after_load(binary: Path, wasm: Path, key_set: jwt_tokens.KeySet, cache_size: int,
                secs: int) -> dict[str, int]:
    """Wasm linear memory (resident and size) and Envoy RSS, in KiB, after `secs` of
    distinct tokens through a filter with `cache_size`."""
    filter_entry = configs.wasm_filter(
        "portcullis", "portcullis", "portcullis", wasm,
        jwt_configs.portcullis_jwt_config(key_set.jwks, cache_size), {})
    configuration = configs.Configuration(f"token_cache_{cache_size}", "", (filter_entry,),
                                          True, (wasm,))
    robin = wrk.RoundRobin(jwt_tokens.ROUND_ROBIN_SCRIPT, key_set.tokens_file, start=0)
    with Envoy(binary, configs.bootstrap(configuration)) as envoy:
        envoy.wait_ready()
        result = wrk.run(envoy.listener_url, secs, None, robin)
        if result.requests < 2 * FULL:
            raise BenchError(f"token-cache memory: {result.requests} requests in {secs}s, "
                             f"expected at least {2 * FULL} to fill the cache")
        memories = envoy.wasm_memory_kib()
        return {
            "wasm_memories": len(memories),
            "wasm_resident_kib": sum(rss for _, rss in memories),
            "wasm_size_kib": sum(size for size, _ in memories),
            "envoy_rss_kib": round(envoy.rss_mib() * 1024),
        }


def measure(binary: Path, wasm: Path, key_set: jwt_tokens.KeySet, pairs: int,
            secs: int) -> dict:
    """`pairs` full-vs-empty pairs, alternating which runs first; the medians of the
    differences."""
    samples = []
    for index in range(pairs):
        order = (FULL, 0) if index % 2 == 0 else (0, FULL)
        found = {size: _after_load(binary, wasm, key_set, size, secs) for size in order}
        delta = {figure: found[FULL][figure] - found[0][figure]
                 for figure in ("wasm_resident_kib", "wasm_size_kib", "envoy_rss_kib")}
        samples.append({"full": found[FULL], "empty": found[0], "delta": delta})
        print(f"    pair {index + 1}: Wasm memory resident {found[FULL]['wasm_resident_kib']} "
              f"vs {found[0]['wasm_resident_kib']} KiB, Envoy RSS "
              f"{found[FULL]['envoy_rss_kib']} vs {found[0]['envoy_rss_kib']} KiB", flush=True)
    median = {figure: statistics.median(s["delta"][figure] for s in samples)
              for figure in ("wasm_resident_kib", "wasm_size_kib", "envoy_rss_kib")}
    return {
        "method": f"measured: {secs}s of distinct {ALGORITHM} tokens, cache_size {FULL} "
                  "minus cache_size 0",
        "algorithm": ALGORITHM,
        "cache_size": FULL,
        "median_delta_kib": median,
        "bytes_per_entry_wasm_resident": median["wasm_resident_kib"] * 1024 / FULL,
        "samples": samples,
    }
