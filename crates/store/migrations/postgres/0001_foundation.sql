-- Organizations, their people and their API keys.
-- Timestamps are Unix milliseconds (UTC); flags are 0/1 so both dialects read them alike.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL,
    skills          TEXT NOT NULL DEFAULT '[]',
    max_chats       BIGINT,
    is_active       BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    last_login_at   BIGINT
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_organization ON users (organization_id, created_at);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_by      TEXT NOT NULL,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    role            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at);
