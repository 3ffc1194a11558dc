-- Keys, their secret digests, the revision counter, the change log and the audit log.
-- Timestamps are INTEGER unix seconds (UTC); JSON columns hold serde_json text.
-- A merged migration is never edited: add a new numbered file instead.

CREATE TABLE keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    org_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,  -- JSON array of strings
    roles       TEXT    NOT NULL,  -- JSON array of strings
    tier        TEXT,
    meta        TEXT    NOT NULL,  -- JSON object
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    expires_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

-- Keyset pagination walks (created_at, id), within one org or across all of them.
CREATE INDEX keys_by_org_created ON keys (org_id, created_at, id);
CREATE INDEX keys_by_created ON keys (created_at, id);

-- Every secret a key has had; retires_at is NULL for the current one and the end of the
-- grace period for a rotated-out one. Rows are kept so the change log can name them.
CREATE TABLE key_secrets (
    digest      BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
    key_id      TEXT    NOT NULL REFERENCES keys (id),
    retires_at  INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX key_secrets_by_key ON key_secrets (key_id);

-- One row: the latest committed revision. A counter rather than MAX(changes.revision) so a
-- revision is never reused, even if the change log is ever compacted.
CREATE TABLE revision (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL CHECK (value >= 0)
) STRICT;

INSERT INTO revision (id, value) VALUES (1, 0);

-- One row per secret digest touched at a revision; sidecars read it with revision > since.
-- No foreign key on digest: a future purge of dead keys must be able to keep the entries
-- that tell sidecars to delete them.
CREATE TABLE changes (
    revision  INTEGER NOT NULL,
    digest    BLOB    NOT NULL,
    PRIMARY KEY (revision, digest)
) STRICT, WITHOUT ROWID;

-- Append-only. No foreign key on key_id so the trail outlives any future key purge.
CREATE TABLE audit (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    org_id    TEXT    NOT NULL,
    key_id    TEXT    NOT NULL,
    revision  INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_by_org ON audit (org_id, id);
