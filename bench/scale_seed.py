"""Seed and churn the control-plane's SQLite file directly, for the scale bench.

Creating a million keys through `POST /v1/keys` takes minutes, so the scale bench writes the
rows itself, exactly as the store would have (control-plane/src/store/sqlite/writes.rs):
each key is its own mutation under the store's revision contract (store/mod.rs) — the key
row and its first secret, the next revision, one change-log row for the secret's digest and
one audit event — only all of them in a single transaction with `executemany`.

The database must already carry the schema: start `portcullis serve` on it once first, so
the store's own migrations create it. Only the keys the bench presents get real secrets
(the filter's key format, SHA-256 digest); every other key gets 32 random bytes as its
digest, which nothing ever presents.
"""

import hashlib
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from control_plane import ORG_ID, well_formed_key

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ACTOR = "admin"
# Key ids are `key_` + 16 base62 characters (control-plane/src/keys.rs); the seeded ones are
# a 5-character tag and a counter, so the bench can name them again for the churn.
_SEEDED_TAG = "Scale"
_CHURN_TAG = "Churn"


@dataclass(frozen=True)
class PresentedKey:
    """A seeded key whose secret the bench holds and sends through Envoy."""

    key_id: str
    secret: str


@dataclass(frozen=True)
class Seeded:
    """What `seed` wrote and how long it took."""

    keys: int
    revision: int
    presented: list[PresentedKey]
    insert_secs: float
    checkpoint_secs: float


def _key_id(tag: str, index: int) -> str:
    digits = ""
    while index:
        index, rest = divmod(index, 62)
        digits = _BASE62[rest] + digits
    return "key_" + tag + digits.rjust(11, "0")


def _random_secret() -> str:
    return well_formed_key("".join(secrets.choice(_BASE62) for _ in range(22)))


def _connect(db: Path) -> sqlite3.Connection:
    # Autocommit mode: the transactions below are explicit `BEGIN IMMEDIATE`, as the store's.
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("PRAGMA foreign_keys = ON")
    # Bench data, not production: a crash mid-seed just means seeding again.
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1048576")  # 1 GiB of page cache, in KiB
    return conn


def _insert_keys(conn: sqlite3.Connection, ids: list[str], digests: list[bytes],
                 names: list[str], prefixes: list[str], first_revision: int, now: int) -> None:
    """Key rows, first secrets, one change row and one audit event per key, the key at
    position i committing at revision `first_revision + i`."""
    conn.executemany(
        "INSERT INTO keys (id, org_id, name, prefix, scopes, roles, tier, meta, enabled, "
        "expires_at, created_at, updated_at, revoked_at) "
        "VALUES (?, ?, ?, ?, '[\"read\"]', '[]', NULL, '{}', 1, NULL, ?, ?, NULL)",
        ((key_id, ORG_ID, name, prefix, now, now)
         for key_id, name, prefix in zip(ids, names, prefixes)))
    conn.executemany(
        "INSERT INTO key_secrets (digest, key_id, retires_at, created_at) VALUES (?, ?, NULL, ?)",
        ((digest, key_id, now) for key_id, digest in zip(ids, digests)))
    conn.executemany("INSERT INTO changes (revision, digest) VALUES (?, ?)",
                     ((first_revision + i, digest) for i, digest in enumerate(digests)))
    conn.executemany(
        "INSERT INTO audit (at, actor, action, org_id, key_id, revision) "
        "VALUES (?, ?, 'key.create', ?, ?, ?)",
        ((now, _ACTOR, ORG_ID, key_id, first_revision + i) for i, key_id in enumerate(ids)))


def _revision(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT value FROM revision WHERE id = 1").fetchone()[0]


def _checkpoint(conn: sqlite3.Connection) -> float:
    """Fold the WAL into the database file so the control-plane starts on a small WAL."""
    started = time.monotonic()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.monotonic() - started


def seed(db: Path, total: int, presented: int) -> Seeded:
    """`total` live keys in the bench org, the first `presented` of them with real secrets."""
    if not 0 < presented <= total:
        raise ValueError(f"presented keys {presented} must be within 1..{total}")
    now = int(time.time())
    shown = [PresentedKey(_key_id(_SEEDED_TAG, i), _random_secret()) for i in range(presented)]
    ids = [_key_id(_SEEDED_TAG, i) for i in range(total)]
    random_bytes = os.urandom(32 * (total - presented))
    digests = [hashlib.sha256(k.secret.encode()).digest() for k in shown]
    digests += [random_bytes[i:i + 32] for i in range(0, len(random_bytes), 32)]
    prefixes = [k.secret[:7] for k in shown] + ["sk_" + k[-4:] for k in ids[presented:]]
    names = [f"scale-{i}" for i in range(total)]
    conn = _connect(db)
    try:
        started = time.monotonic()
        conn.execute("BEGIN IMMEDIATE")
        base = _revision(conn)
        _insert_keys(conn, ids, digests, names, prefixes, base + 1, now)
        conn.execute("UPDATE revision SET value = ? WHERE id = 1", (base + total,))
        conn.execute("COMMIT")
        insert_secs = time.monotonic() - started
        checkpoint_secs = _checkpoint(conn)
        revision = _revision(conn)
    finally:
        conn.close()
    return Seeded(total, revision, shown, insert_secs, checkpoint_secs)


def churn(db: Path, count: int, keep: set[str], round_index: int) -> dict:
    """Create `count` new keys and revoke `count` live seeded ones (never those in `keep`),
    one revision each, in one transaction on the live database; `round_index` keeps the
    new keys' ids apart between rounds. Returns the revisions it spans and its duration.

    The control-plane only learns of a revision through its own writes, so this wakes no
    long-poll: the caller makes one API mutation afterwards, whose delta carries these too.
    """
    now = int(time.time())
    conn = _connect(db)
    try:
        started = time.monotonic()
        conn.execute("BEGIN IMMEDIATE")
        victims = [(key_id, digest) for key_id, digest in conn.execute(
            "SELECT k.id, s.digest FROM keys k JOIN key_secrets s ON s.key_id = k.id "
            "WHERE k.revoked_at IS NULL AND k.id LIKE ? ORDER BY k.id LIMIT ?",
            (f"key_{_SEEDED_TAG}%", count + len(keep)),
        ) if key_id not in keep][:count]
        if len(victims) < count:
            raise ValueError(f"only {len(victims)} live seeded keys to revoke, {count} asked")
        base = _revision(conn)
        ids = [_key_id(f"{_CHURN_TAG}{round_index}", i) for i in range(count)]
        digests = [os.urandom(32) for _ in range(count)]
        _insert_keys(conn, ids, digests, [f"churn-{i}" for i in range(count)],
                     ["sk_" + k[-4:] for k in ids], base + 1, now)
        revoke_base = base + count + 1
        conn.executemany("UPDATE keys SET revoked_at = ?, updated_at = ? WHERE id = ?",
                         ((now, now, key_id) for key_id, _ in victims))
        conn.executemany("INSERT INTO changes (revision, digest) VALUES (?, ?)",
                         ((revoke_base + i, digest) for i, (_, digest) in enumerate(victims)))
        conn.executemany(
            "INSERT INTO audit (at, actor, action, org_id, key_id, revision) "
            "VALUES (?, ?, 'key.revoke', ?, ?, ?)",
            ((now, _ACTOR, ORG_ID, key_id, revoke_base + i)
             for i, (key_id, _) in enumerate(victims)))
        last = base + 2 * count
        conn.execute("UPDATE revision SET value = ? WHERE id = 1", (last,))
        conn.execute("COMMIT")
        secs = time.monotonic() - started
    finally:
        conn.close()
    return {"created": count, "revoked": count, "from_revision": base + 1,
            "to_revision": last, "db_write_secs": secs}
