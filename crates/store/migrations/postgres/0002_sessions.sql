-- WhatsApp sessions: one linked number of an organization. The engine's own credentials live
-- elsewhere (encrypted); this row is what the API shows.
CREATE TABLE sessions (
    id                      TEXT PRIMARY KEY,
    organization_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    engine                  TEXT NOT NULL,
    phone_number            TEXT,
    status                  TEXT NOT NULL,
    last_disconnect_reason  TEXT,
    last_connected          BIGINT,
    last_disconnected       BIGINT,
    connection_attempts     BIGINT NOT NULL DEFAULT 0,
    is_active               BIGINT NOT NULL DEFAULT 1,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE UNIQUE INDEX sessions_organization_name ON sessions (organization_id, name);
CREATE INDEX sessions_active ON sessions (is_active, status);
