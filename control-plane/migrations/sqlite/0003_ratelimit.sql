-- Rate-limit tiers, per-key and per-org overrides. Limits are JSON text (store::Limit):
-- {"requests_per_unit": N, "unit": "second|minute|hour|day"} or "unlimited".
-- A merged migration is never edited: add a new numbered file instead.

CREATE TABLE tiers (
    name        TEXT    NOT NULL PRIMARY KEY,
    per_ip      TEXT    NOT NULL,
    per_key     TEXT    NOT NULL,
    per_org     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The tier keys without one, and callers without a key, fall into; never deleted.
INSERT INTO tiers (name, per_ip, per_key, per_org, created_at, updated_at)
VALUES ('default',
        '{"requests_per_unit":60,"unit":"minute"}',
        '{"requests_per_unit":120,"unit":"minute"}',
        '{"requests_per_unit":300,"unit":"minute"}',
        unixepoch(), unixepoch());

-- Keys could name any tier before tiers existed. Each name in use becomes a tier with the
-- default limits, so every existing key still names a tier and sidecars keep sending the
-- tier they already have.
INSERT INTO tiers (name, per_ip, per_key, per_org, created_at, updated_at)
SELECT DISTINCT k.tier, d.per_ip, d.per_key, d.per_org, unixepoch(), unixepoch()
FROM keys k, tiers d
WHERE d.name = 'default' AND k.tier IS NOT NULL AND k.tier <> 'default';

-- A key's own per-key limit, replacing its tier's; NULL: none.
ALTER TABLE keys ADD COLUMN rate_limit TEXT;

CREATE INDEX keys_by_tier ON keys (tier) WHERE revoked_at IS NULL;

-- An org's own per-org limit, replacing every tier's. Orgs exist only as the org_id of
-- keys, so a row here is the whole of an org's stored state.
CREATE TABLE org_limits (
    org_id      TEXT    NOT NULL PRIMARY KEY,
    rate_limit  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
