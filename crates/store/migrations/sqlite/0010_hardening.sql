-- `/ready` proves that the database takes writes by writing this one row.
CREATE TABLE write_probe (
    id         BIGINT PRIMARY KEY,
    written_at BIGINT NOT NULL
);

-- A repeated Idempotency-Key must come with the same request: what the first one asked for,
-- as a digest.
ALTER TABLE messages ADD COLUMN idempotency_fingerprint TEXT;

-- Sign-in tokens end all at once (a password change moves the generation on) or one by one
-- (signing out lists the token until it would have expired anyway).
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

-- An API key belongs to the person who created it: deleting them deletes their keys, so a key
-- never outlives its creator (SQLite adds a foreign key only by rebuilding the table). Keys
-- whose creator is already gone are revoked here.
CREATE TABLE api_keys_owned (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_by      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    role            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
INSERT INTO api_keys_owned
    SELECT id, organization_id, created_by, name, prefix, key_hash, role, created_at, last_used_at
    FROM api_keys WHERE created_by IN (SELECT id FROM users);
DROP TABLE api_keys;
ALTER TABLE api_keys_owned RENAME TO api_keys;
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at);
CREATE INDEX api_keys_creator ON api_keys (created_by);
