"""The JWT rows' keys and tokens, minted at bench time by `mint_tokens.mjs` on the machine's
Node.js (20 or later, nothing from npm): one key pair per algorithm, its public JWK set, and
a file of tokens that differ only in `jti`.

A row with the same token on every request sends the first one. A row with distinct tokens
sends them in order through `round_robin.lua`, enough of them that the run never comes back
to one (and if a run ever outpaced the estimate, the file starts over after far more
distinct tokens than the filter's LRU cache holds, so even then no request can hit it).
"""

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from configs import JwtLoad
from envoy import BenchError

ISSUER = "https://issuer.bench"
AUDIENCE = "bench"
ALGORITHMS = ("RS256", "ES256", "EdDSA")
# Long enough to outlast a whole bench run: an expired token would be refused, and both
# caches drop an entry at its `exp`.
TTL_SECS = 4 * 3600
# The verified-token cache size the Portcullis rows configure: the filter's default
# (DEFAULT_CAPACITY in filter/src/jwt/token_cache.rs), set explicitly so a change of default
# does not silently change what the bench measures.
TOKEN_CACHE_SIZE = 1024
# Request rates the distinct-token rows are not expected to exceed on this machine kind
# (measured rates of the simd128 build, plus headroom), which size the token files. RSA
# signing costs about a millisecond a token, so over-minting RS256 costs bench time.
PEAK_REQUESTS_PER_SEC = {"RS256": 16_000, "ES256": 4_000, "EdDSA": 16_000}
# Whatever the estimate, far more distinct tokens than the cache holds.
MIN_DISTINCT_TOKENS = 8 * TOKEN_CACHE_SIZE
MINT_SCRIPT = Path(__file__).resolve().parent / "mint_tokens.mjs"
ROUND_ROBIN_SCRIPT = Path(__file__).resolve().parent / "round_robin.lua"
_MIN_NODE_MAJOR = 20


@dataclass(frozen=True)
class KeySet:
    """One algorithm's minted key set and tokens."""

    algorithm: str
    # The public JWK set (`{"keys": [jwk]}`), `kid`, `alg` and `use` set.
    jwks: dict
    # One token a line, all valid until the bench is long over.
    tokens_file: Path
    count: int
    # The token of the same-token rows (the first of the file).
    token: str
    # The first token's header and payload with the second's signature: well formed, from
    # the right issuer and key id, and refused only by the signature check.
    forged: str


def distinct_tokens_needed(algorithm: str, warmup_secs: float, duration_secs: float) -> int:
    """Tokens for one warm-up and one measured run of a distinct-token row, no token twice."""
    estimate = math.ceil(PEAK_REQUESTS_PER_SEC[algorithm] * (warmup_secs + duration_secs))
    return max(estimate, MIN_DISTINCT_TOKENS)


def counts_for(loads: list[JwtLoad], warmup_secs: float, duration_secs: float,
               extra: tuple[str, float] | None = None) -> dict[str, int]:
    """Tokens to mint per algorithm the `loads` use: enough distinct ones for a warm-up and
    a measured run when a load sends distinct tokens, else the two a same-token row and its
    pre-flight use; `extra` asks for distinct tokens of one more (algorithm, run seconds)."""
    counts: dict[str, int] = {}
    for load in loads:
        needed = (distinct_tokens_needed(load.algorithm, warmup_secs, duration_secs)
                  if load.distinct_tokens else 2)
        counts[load.algorithm] = max(counts.get(load.algorithm, 0), needed)
    if extra is not None:
        alg, secs = extra
        counts[alg] = max(counts.get(alg, 0), distinct_tokens_needed(alg, 0, secs))
    return counts


def check_node() -> None:
    """Fail early, with the fix, when there is no Node.js 20 or later to mint with."""
    node = shutil.which("node")
    if node is None:
        raise BenchError("the JWT rows mint tokens with Node.js 20 or later: none on PATH "
                         "(Debian: apt-get install nodejs)")
    found = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30,
                           check=True).stdout.strip()
    if int(found.lstrip("v").split(".")[0]) < _MIN_NODE_MAJOR:
        raise BenchError(f"the JWT rows need Node.js {_MIN_NODE_MAJOR} or later, got {found}")


def mint(directory: Path, counts: dict[str, int]) -> dict[str, KeySet]:
    """Key sets and `counts[alg]` tokens (at least two) per algorithm, written under
    `directory`."""
    counts = {alg: max(2, count) for alg, count in counts.items()}
    args = ["node", str(MINT_SCRIPT), "--out", str(directory), "--issuer", ISSUER,
            "--audience", AUDIENCE, "--ttl-secs", str(TTL_SECS),
            *(f"{alg}={count}" for alg, count in counts.items())]
    done = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise BenchError(f"minting tokens failed (status {done.returncode}): "
                         f"{done.stderr.strip()}")
    for line in done.stdout.splitlines():
        print(f"  {line}", flush=True)
    return {alg: _read(directory, alg, count) for alg, count in counts.items()}


def _read(directory: Path, algorithm: str, count: int) -> KeySet:
    tokens_file = directory / f"{algorithm}.tokens"
    with tokens_file.open() as lines:
        first, second = next(lines).strip(), next(lines).strip()
    found = sum(1 for _ in tokens_file.open())
    if found != count:
        raise BenchError(f"{tokens_file}: expected {count} tokens, got {found}")
    return KeySet(
        algorithm=algorithm,
        jwks=json.loads((directory / f"{algorithm}.jwks.json").read_text()),
        tokens_file=tokens_file,
        count=count,
        token=first,
        forged=first.rsplit(".", 1)[0] + "." + second.rsplit(".", 1)[1],
    )
