"""Summaries of the bench: medians per configuration, Portcullis-vs-others ratios, the
issue's goals judged, the printed report, and the JSON record under target/bench/.

Medians over rounds rather than means, because one round disturbed by a neighbour on a
shared machine should not move the result.
"""

import json
import statistics
from datetime import datetime
from pathlib import Path

STATIC_TOKEN = "portcullis_static_token"
API_KEY = "portcullis_api_key"
PORTCULLIS_ROWS = (STATIC_TOKEN, API_KEY)
FLOOR = "wasm_floor"
NATIVE = "native_api_key_auth"
# The price of the global rate limit: the RLS row against the same route without it.
RLS = "portcullis_api_key_rls"
RLS_BASELINE = "portcullis_api_key_upstream"

# The throughput goals as (row, compared with, minimum ratio), judged on CPU per
# request: req/s moves 13-18% between runs here.
RATIO_GOALS = (
    (STATIC_TOKEN, FLOOR, 0.95),
    (API_KEY, FLOOR, 0.95),
    (API_KEY, NATIVE, 0.90),
)
# The latency goals as (figure, its label, maximum p99 in ms).
LATENCY_GOALS = (
    ("revocation", "revocation p99 (DELETE returned -> first 401 through Envoy)", 50.0),
    ("creation", "key creation p99 (POST /v1/keys on SQLite)", 5.0),
)

FIGURES = ("requests_per_sec", "p99_micros", "cpu_micros_per_request", "rss_mib")


def medians(runs: list[dict], names: list[str]) -> dict[str, dict[str, float]]:
    """Median of each figure per configuration over all its rounds, in the order of `names`,
    with the spread of CPU per request over the rounds ((max - min) / median), which says how
    far to trust a difference between two rows."""
    summary = {}
    for name in names:
        mine = [run for run in runs if run["configuration"] == name]
        row = {figure: statistics.median(run[figure] for run in mine) for figure in FIGURES}
        cpu = [run["cpu_micros_per_request"] for run in mine]
        row["cpu_spread"] = (max(cpu) - min(cpu)) / row["cpu_micros_per_request"]
        summary[name] = row
    return summary


def ratios(summary: dict[str, dict[str, float]]) -> dict[str, dict[str, dict[str, float]]]:
    """Each Portcullis row against the floor and against native api_key_auth, where both ran.

    `throughput` is Portcullis req/s over the other's, and `cpu` is the other's CPU per
    request over Portcullis's: in both, above 1 means Portcullis does better.
    """
    found = {}
    for row in PORTCULLIS_ROWS:
        mine = summary.get(row)
        if mine is None:
            continue
        against = {
            f"vs_{other}": {
                "throughput": mine["requests_per_sec"] / summary[other]["requests_per_sec"],
                "cpu": summary[other]["cpu_micros_per_request"] / mine["cpu_micros_per_request"],
                "added_cpu_micros_per_request":
                    mine["cpu_micros_per_request"] - summary[other]["cpu_micros_per_request"],
            }
            for other in (FLOOR, NATIVE)
            if other in summary
        }
        if against:
            found[row] = against
    if RLS in summary and RLS_BASELINE in summary:
        mine, other = summary[RLS], summary[RLS_BASELINE]
        found[RLS] = {f"vs_{RLS_BASELINE}": {
            "throughput": mine["requests_per_sec"] / other["requests_per_sec"],
            "cpu": other["cpu_micros_per_request"] / mine["cpu_micros_per_request"],
            "added_cpu_micros_per_request":
                mine["cpu_micros_per_request"] - other["cpu_micros_per_request"],
            "p99_ratio": mine["p99_micros"] / other["p99_micros"],
        }}
    return found


def goals(found_ratios: dict, latency: dict) -> list[dict]:
    """Every goal whose figures this run measured, each with its value and verdict."""
    judged = []
    for row, other, minimum in RATIO_GOALS:
        ratio = found_ratios.get(row, {}).get(f"vs_{other}")
        if ratio is None:
            continue
        judged.append({
            "text": f"{row} >= {minimum}x {other}",
            "judged_on": "cpu per request",
            "value": ratio["cpu"],
            "throughput_ratio": ratio["throughput"],
            "met": ratio["cpu"] >= minimum,
        })
    for figure, label, maximum in LATENCY_GOALS:
        measured = latency.get(figure)
        if measured is None:
            continue
        judged.append({
            "text": f"{label} <= {maximum:g} ms",
            "judged_on": "p99_ms",
            "value": measured["p99_ms"],
            "met": measured["p99_ms"] <= maximum,
        })
    return judged


def render(summary: dict[str, dict[str, float]], descriptions: dict[str, str], rounds: int,
           latency: dict) -> str:
    """The human-readable report: the table, the ratios and the latencies."""
    lines = [
        f"medians over {rounds} round(s); Envoy --concurrency 1, CPU is user+system of the "
        "whole Envoy process; spread: (max - min) / median of CPU over the rounds",
        "",
        f"{'configuration':<34} {'req/s':>9} {'p99 µs':>8} {'CPU µs/req':>11} {'spread':>7} "
        f"{'RSS MiB':>8}",
    ]
    for name, row in summary.items():
        lines.append(f"{name:<34} {row['requests_per_sec']:>9.0f} {row['p99_micros']:>8.0f} "
                     f"{row['cpu_micros_per_request']:>11.2f} {row['cpu_spread']:>6.0%} "
                     f"{row['rss_mib']:>8.1f}")
    lines.append("")
    lines.extend(f"  {name}: {text}" for name, text in descriptions.items() if name in summary)
    found = ratios(summary)
    if found:
        lines += ["", "Portcullis compared (above 1.00x means Portcullis does better):"]
        for row, against in found.items():
            for key, ratio in against.items():
                added = ratio["added_cpu_micros_per_request"]
                p99 = (f"   p99 {ratio['p99_ratio']:.2f}x theirs" if "p99_ratio" in ratio
                       else "")
                lines.append(f"  {row:<23} {key:<23} throughput {ratio['throughput']:.3f}x   "
                             f"CPU {ratio['cpu']:.3f}x ({added:+.2f} µs/req){p99}")
        lines.append("  (throughput: its req/s / theirs; CPU: their µs/req / its µs/req)")
    else:
        lines += ["", "(no Portcullis row run: no ratios)"]
    if latency:
        lines += ["", "control-plane latencies (ms):"]
        for figure, label in (("revocation", "revocation: DELETE returned -> first 401"),
                              ("propagation", "new key: POST returned -> first 200"),
                              ("creation", "key creation: POST /v1/keys round trip")):
            if figure in latency:
                measured = latency[figure]
                lines.append(f"  {label:<42} p50 {measured['p50_ms']:>7.2f}  "
                             f"p99 {measured['p99_ms']:>7.2f}  max {measured['max_ms']:>7.2f}  "
                             f"(n={measured['count']})")
        if "revocation" in latency:
            lines.append(f"  ({latency['revocation']['refused_on_first_request']} revocation(s) "
                         "already refused on the first request after DELETE returned)")
    return "\n".join(lines)


def render_goals(judged: list[dict]) -> str:
    """One line per goal: met or MISS on the figure it is judged on, with the req/s view
    beside it (and that view's own verdict where the goal states one)."""
    lines = ["", "goals:"] if judged else []
    for goal in judged:
        verdict = "met " if goal["met"] else "MISS"
        unit = goal.get("unit", " ms" if goal["judged_on"] == "p99_ms" else "x")
        extra = ""
        if "throughput_ratio" in goal:
            extra = f" (req/s {goal['throughput_ratio']:.3f}x"
        elif "throughput_gap_micros" in goal:
            extra = f" (by req/s {goal['throughput_gap_micros']:+.2f} µs"
        if extra:
            if "met_by_throughput" in goal:
                extra += ", met" if goal["met_by_throughput"] else ", MISS"
            extra += ")"
        value = f"{goal['value']:+.2f}" if unit == " µs" else f"{goal['value']:.3f}"
        lines.append(f"  {verdict} {goal['text']}: {value}{unit}{extra}")
    return "\n".join(lines)


def write(record: dict, out_dir: Path, started: datetime) -> Path:
    """Write the record as bench-<UTC timestamp>.json and latest.json; return the former."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2) + "\n"
    path = out_dir / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return path
