"""The JWT rows' keys and tokens, minted at bench time by `mint_tokens.mjs` on the machine's
Node.js (20 or later, nothing from npm): one key pair per algorithm, its public JWK set, and
a file of tokens that differ only in `jti`, kept under target/bench/jwt/<alg>/ for the next
runs of the day.

A row with the same token on every request sends the first one. A row with distinct tokens
sends them in order through `round_robin.lua`, enough of them that the run never comes back
to one (and if a run ever outpaced the estimate, the file starts over after far more
distinct tokens than the filter's LRU cache holds, so even then no request can hit it).
"""

import base64
import json
import math
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from configs import JwtLoad
from envoy import BenchError

ISSUER = "https://issuer.bench"
AUDIENCE = "bench"
ALGORITHMS = ("RS256", "ES256", "EdDSA")
# Tokens live a day, and a later run reuses them while they have REUSE_MARGIN_SECS left
# (far more than a bench run lasts: an expired token would be refused, and both caches drop
# an entry at its `exp`). Minting ~100,000 RS256 tokens takes over a minute.
TTL_SECS = 24 * 3600
REUSE_MARGIN_SECS = 2 * 3600
# The verified-token cache size the Portcullis rows configure: the filter's default
# (DEFAULT_CAPACITY in filter/src/jwt/token_cache.rs), set explicitly so a change of default
# does not silently change what the bench measures.
TOKEN_CACHE_SIZE = 1024
# Request rates the distinct-token rows are not expected to exceed, which size the token
# files: what the architecture's Wasm verification costs allow one worker on the reference
# machine (RS256 with simd128 ≈ 45 µs + the 17 µs floor; EdDSA ≈ 65 µs; ES256 ≈ 520 µs), with
# headroom. RSA signing costs about a millisecond a token, so over-minting RS256 costs time.
PEAK_REQUESTS_PER_SEC = {"RS256": 16_000, "ES256": 4_000, "EdDSA": 16_000}
# Whatever the estimate, far more distinct tokens than the cache holds.
MIN_DISTINCT_TOKENS = 8 * TOKEN_CACHE_SIZE
REPO_ROOT = Path(__file__).resolve().parent.parent
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
    # The tokens' `exp` (Unix seconds).
    expires_at: int


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


def prepare(directory: Path, counts: dict[str, int]) -> dict[str, KeySet]:
    """Per algorithm, a key set and at least `counts[alg]` tokens (and two): the ones a
    previous run left in `directory/<alg>` while they are enough and valid for a while yet,
    else freshly minted there (into a temporary directory renamed into place, so an
    interrupted mint leaves nothing half-written)."""
    directory.mkdir(parents=True, exist_ok=True)
    found = {}
    for alg, count in counts.items():
        count = max(2, count)
        home = directory / alg
        reused = _reusable(home, alg, count)
        if reused is not None:
            print(f"  reusing {reused.count} {alg} token(s) from "
                  f"{home.relative_to(REPO_ROOT)}, valid "
                  f"{(reused.expires_at - time.time()) / 3600:.1f} h more", flush=True)
            found[alg] = reused
            continue
        fresh = Path(tempfile.mkdtemp(prefix=f".{alg}-", dir=directory))
        try:
            _mint(fresh, alg, count)
            shutil.rmtree(home, ignore_errors=True)
            fresh.rename(home)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
        found[alg] = _read(home, alg)
    return found


def _mint(directory: Path, algorithm: str, count: int) -> None:
    args = ["node", str(MINT_SCRIPT), "--out", str(directory), "--issuer", ISSUER,
            "--audience", AUDIENCE, "--ttl-secs", str(TTL_SECS), f"{algorithm}={count}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise BenchError(f"minting {algorithm} tokens failed (status {done.returncode}): "
                         f"{done.stderr.strip()}")
    for line in done.stdout.splitlines():
        print(f"  {line}", flush=True)


def _reusable(home: Path, algorithm: str, count: int) -> KeySet | None:
    """The key set in `home` if it holds `count` tokens for this issuer and audience that
    stay valid for REUSE_MARGIN_SECS; None otherwise."""
    if not (home / "tokens").is_file() or not (home / "jwks.json").is_file():
        return None
    try:
        key_set = _read(home, algorithm)
    except (OSError, ValueError, StopIteration, BenchError):
        return None
    claims = _claims(key_set.token)
    fits = (claims.get("iss") == ISSUER and claims.get("aud") == AUDIENCE
            and key_set.count >= count
            and key_set.expires_at >= time.time() + REUSE_MARGIN_SECS)
    return key_set if fits else None


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _read(home: Path, algorithm: str) -> KeySet:
    tokens_file = home / "tokens"
    with tokens_file.open() as lines:
        first, second = next(lines).strip(), next(lines).strip()
    with tokens_file.open() as lines:
        count = sum(1 for line in lines if line.strip())
    return KeySet(
        algorithm=algorithm,
        jwks=json.loads((home / "jwks.json").read_text()),
        tokens_file=tokens_file,
        count=count,
        token=first,
        forged=first.rsplit(".", 1)[0] + "." + second.rsplit(".", 1)[1],
        expires_at=_claims(first)["exp"],
    )
