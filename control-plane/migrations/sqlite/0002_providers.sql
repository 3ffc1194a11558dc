-- OIDC providers: their verification settings, the last good JWKS of each and its fetch
-- status. A merged migration is never edited: add a new numbered file instead.

-- A deleted provider stays as a tombstone (deleted_at set) so sidecars learn of the
-- deletion from providers_changed_since; only live providers must have distinct issuers.
CREATE TABLE providers (
    id                    TEXT    NOT NULL PRIMARY KEY,
    issuer                TEXT    NOT NULL,  -- copy of settings.issuer, for the index below
    settings              TEXT    NOT NULL,  -- JSON object (store::Provider)
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    deleted_at            INTEGER,
    -- The revision of the last settings change: a fetch started under older settings is
    -- not saved.
    settings_revision     INTEGER NOT NULL CHECK (settings_revision >= 1),
    -- The revision of the last change of settings, JWKS or existence: the sync reads
    -- rows with revision > since.
    revision              INTEGER NOT NULL CHECK (revision >= settings_revision),
    jwks                  TEXT,              -- normalized JWKS JSON, NULL until a good fetch
    jwks_fetched_at       INTEGER,
    jwks_next_refresh_at  INTEGER,
    jwks_last_error       TEXT,
    jwks_last_error_at    INTEGER,
    jwks_failures         INTEGER NOT NULL DEFAULT 0 CHECK (jwks_failures >= 0)
) STRICT;

CREATE UNIQUE INDEX providers_live_issuer ON providers (issuer) WHERE deleted_at IS NULL;
CREATE INDEX providers_by_revision ON providers (revision);
