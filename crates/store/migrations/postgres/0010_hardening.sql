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
-- never outlives its creator. Keys whose creator is already gone are revoked here.
DELETE FROM api_keys WHERE created_by NOT IN (SELECT id FROM users);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_created_by_fkey
    FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE CASCADE;
CREATE INDEX api_keys_creator ON api_keys (created_by);
