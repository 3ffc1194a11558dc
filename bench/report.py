"""Summaries of the bench: medians per configuration, Portcullis-vs-others ratios, the
printed table, and the JSON record under target/bench/.

Medians over rounds rather than means, because one round disturbed by a neighbour on a
shared machine should not move the result.
"""

import json
import statistics
from datetime import datetime
from pathlib import Path

PORTCULLIS = "portcullis_static_token"
FLOOR = "wasm_floor"
NATIVE = "native_api_key_auth"
# The goal, judged on CPU per request: req/s moves 13-18% between runs here.
GOAL_RATIO = 0.95

FIGURES = ("requests_per_sec", "p99_micros", "cpu_micros_per_request", "rss_mib")


def medians(runs: list[dict], names: list[str]) -> dict[str, dict[str, float]]:
    """Median of each figure per configuration over all its rounds, in the order of `names`."""
    return {
        name: {
            figure: statistics.median(run[figure] for run in runs if run["configuration"] == name)
            for figure in FIGURES
        }
        for name in names
    }


def ratios(summary: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Portcullis against the floor and against native api_key_auth, where both ran.

    `throughput` is Portcullis req/s over the other's, and `cpu` is the other's CPU per
    request over Portcullis's: in both, above 1 means Portcullis does better.
    """
    mine = summary.get(PORTCULLIS)
    if mine is None:
        return {}
    return {
        f"vs_{other}": {
            "throughput": mine["requests_per_sec"] / summary[other]["requests_per_sec"],
            "cpu": summary[other]["cpu_micros_per_request"] / mine["cpu_micros_per_request"],
            "added_cpu_micros_per_request":
                mine["cpu_micros_per_request"] - summary[other]["cpu_micros_per_request"],
        }
        for other in (FLOOR, NATIVE)
        if other in summary
    }


def render(summary: dict[str, dict[str, float]], descriptions: dict[str, str], rounds: int) -> str:
    """The human-readable report: the table, the ratios, and the goal line."""
    lines = [
        f"medians over {rounds} round(s); Envoy --concurrency 1, CPU is user+system of the "
        "whole Envoy process",
        "",
        f"{'configuration':<26} {'req/s':>9} {'p99 µs':>8} {'CPU µs/req':>11} {'RSS MiB':>8}",
    ]
    for name, row in summary.items():
        lines.append(f"{name:<26} {row['requests_per_sec']:>9.0f} {row['p99_micros']:>8.0f} "
                     f"{row['cpu_micros_per_request']:>11.2f} {row['rss_mib']:>8.1f}")
    lines.append("")
    lines.extend(f"  {name}: {text}" for name, text in descriptions.items() if name in summary)
    found = ratios(summary)
    if not found:
        lines += ["", f"({PORTCULLIS} not run: no ratios)"]
        return "\n".join(lines)
    lines += ["", "Portcullis compared (above 1.00x means Portcullis does better):"]
    for key, ratio in found.items():
        lines.append(f"  {key:<25} throughput {ratio['throughput']:.3f}x (its req/s / theirs)   "
                     f"CPU {ratio['cpu']:.3f}x (their µs/req / its µs/req, "
                     f"{ratio['added_cpu_micros_per_request']:+.2f} µs/req)")
    floor = found.get(f"vs_{FLOOR}")
    if floor:
        verdict = "pass" if floor["cpu"] >= GOAL_RATIO else "miss"
        lines += ["", f"goal: static-token request >= {GOAL_RATIO}x the empty-Wasm floor: "
                      f"{verdict} (CPU per request {floor['cpu']:.3f}x; "
                      f"req/s {floor['throughput']:.3f}x)"]
    return "\n".join(lines)


def write(record: dict, out_dir: Path, started: datetime) -> Path:
    """Write the record as bench-<UTC timestamp>.json and latest.json; return the former."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2) + "\n"
    path = out_dir / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return path
