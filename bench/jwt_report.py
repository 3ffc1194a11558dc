"""The JWT rows' comparisons and the issue's JWT goals, judged on the medians.

Each comparison is one row against another, both ways the bench measures speed: by Envoy
CPU per request (the steady figure) and by req/s. Ratios read as in `report`: above 1 means
the first row does better. A gap is the first row's extra cost per request: in CPU µs, and
by req/s as the extra wall time per request of the saturated worker (1e6/req/s).
"""

from jwt_tokens import ALGORITHMS

FLOOR = "wasm_floor"
STATIC_TOKEN = "portcullis_static_token"

# The goals.
CACHED_VS_NATIVE_CACHED = 0.92
CACHED_GAP_TO_FLOOR_MICROS = 1.5
UNCACHED_RS256_VS_NATIVE = 0.70


def _tag(alg: str) -> str:
    return alg.lower()


def _pairs() -> list[tuple[str, str]]:
    """Every (row, compared with) the report shows, goals first."""
    pairs = []
    for alg in ALGORITHMS:
        tag = _tag(alg)
        pairs += [
            (f"portcullis_jwt_{tag}_cached", f"native_jwt_{tag}_cached"),
            (f"portcullis_jwt_{tag}_cached", FLOOR),
            (f"portcullis_jwt_{tag}_cached", STATIC_TOKEN),
            (f"portcullis_jwt_{tag}_uncached", f"native_jwt_{tag}_uncached"),
            (f"portcullis_jwt_{tag}_uncached_simd", f"native_jwt_{tag}_uncached"),
            (f"portcullis_jwt_{tag}_uncached_simd", f"portcullis_jwt_{tag}_uncached"),
        ]
    pairs.append(("portcullis_jwt_rs256_cached_simd", "portcullis_jwt_rs256_cached"))
    return pairs


def compare(summary: dict[str, dict[str, float]], row: str, other: str) -> dict[str, float]:
    """`row` against `other`: throughput and CPU ratios, and the gaps per request."""
    mine, theirs = summary[row], summary[other]
    return {
        "throughput": mine["requests_per_sec"] / theirs["requests_per_sec"],
        "cpu": theirs["cpu_micros_per_request"] / mine["cpu_micros_per_request"],
        "added_cpu_micros_per_request":
            mine["cpu_micros_per_request"] - theirs["cpu_micros_per_request"],
        "added_micros_per_request_by_throughput":
            1e6 / mine["requests_per_sec"] - 1e6 / theirs["requests_per_sec"],
    }


def comparisons(summary: dict[str, dict[str, float]]) -> dict[str, dict[str, dict[str, float]]]:
    """Every comparison whose two rows both ran, as {row: {"vs_<other>": figures}}."""
    found: dict[str, dict[str, dict[str, float]]] = {}
    for row, other in _pairs():
        if row in summary and other in summary:
            found.setdefault(row, {})[f"vs_{other}"] = compare(summary, row, other)
    return found


def goals(summary: dict[str, dict[str, float]]) -> list[dict]:
    """The JWT goals whose rows ran: judged on CPU per request, with the req/s view judged
    against the same threshold beside it."""
    judged = []

    def ratio_goal(row: str, other: str, minimum: float) -> None:
        if row not in summary or other not in summary:
            return
        found = compare(summary, row, other)
        judged.append({
            "text": f"{row} >= {minimum}x {other}",
            "judged_on": "cpu per request",
            "value": found["cpu"],
            "throughput_ratio": found["throughput"],
            "met": found["cpu"] >= minimum,
            "met_by_throughput": found["throughput"] >= minimum,
        })

    for alg in ALGORITHMS:
        ratio_goal(f"portcullis_jwt_{_tag(alg)}_cached", f"native_jwt_{_tag(alg)}_cached",
                   CACHED_VS_NATIVE_CACHED)
    for alg in ALGORITHMS:
        row = f"portcullis_jwt_{_tag(alg)}_cached"
        if row not in summary or FLOOR not in summary:
            continue
        found = compare(summary, row, FLOOR)
        judged.append({
            "text": f"{row} within {CACHED_GAP_TO_FLOOR_MICROS} µs of {FLOOR}",
            "judged_on": "added cpu µs per request",
            "unit": " µs",
            "value": found["added_cpu_micros_per_request"],
            "throughput_gap_micros": found["added_micros_per_request_by_throughput"],
            "met": found["added_cpu_micros_per_request"] <= CACHED_GAP_TO_FLOOR_MICROS,
            "met_by_throughput":
                found["added_micros_per_request_by_throughput"] <= CACHED_GAP_TO_FLOOR_MICROS,
        })
    ratio_goal("portcullis_jwt_rs256_uncached", "native_jwt_rs256_uncached",
               UNCACHED_RS256_VS_NATIVE)
    return judged


def render(found: dict[str, dict[str, dict[str, float]]], cache_memory: dict) -> str:
    """The comparisons and the token-cache memory, or "" when no JWT row ran."""
    lines = []
    if found:
        lines += ["", "JWT compared (above 1.00x means the first row does better; gaps are "
                      "the first row's extra µs per request):"]
        for row, against in found.items():
            for key, c in against.items():
                lines.append(
                    f"  {row:<34} {key:<37} CPU {c['cpu']:.3f}x "
                    f"({c['added_cpu_micros_per_request']:+7.2f} µs)   req/s "
                    f"{c['throughput']:.3f}x ({c['added_micros_per_request_by_throughput']:+7.2f} µs)")
    if cache_memory:
        median = cache_memory["median_delta_kib"]
        lines += [
            "",
            f"verified-token cache memory per worker, cache_size {cache_memory['cache_size']} "
            f"full minus 0 ({cache_memory['method']}; median of "
            f"{len(cache_memory['samples'])}):",
            f"  Wasm linear memory resident {median['wasm_resident_kib']:+.0f} KiB "
            f"({cache_memory['bytes_per_entry_wasm_resident']:.0f} bytes per entry), "
            f"its size {median['wasm_size_kib']:+.0f} KiB; whole Envoy RSS "
            f"{median['envoy_rss_kib']:+.0f} KiB (noisy: V8's compiled code moves it too)",
        ]
    return "\n".join(lines)
