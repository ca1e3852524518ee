-- Contacts, messages (incoming, and outgoing with the outbox), conversations and the event log.

CREATE TABLE contacts (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    phone_number     TEXT NOT NULL,
    name             TEXT,
    -- name, phone and tags folded for search (Arabic letter forms unified, diacritics removed).
    search_text      TEXT NOT NULL,
    profile_pic_url  TEXT,
    is_blocked       BIGINT NOT NULL DEFAULT 0,
    tags             TEXT NOT NULL DEFAULT '[]',
    notes            TEXT,
    last_message_at  BIGINT,
    related_user     TEXT,
    related_customer TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_organization_phone ON contacts (organization_id, phone_number);
CREATE INDEX contacts_organization_recent ON contacts (organization_id, last_message_at);

CREATE TABLE messages (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id        TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    -- WhatsApp's id. For outgoing messages it is chosen before the first send attempt, so a
    -- retry after a crash re-sends the same id and the engine/WhatsApp drop the duplicate.
    message_id        TEXT NOT NULL,
    contact_id        TEXT NOT NULL,
    contact_phone     TEXT NOT NULL,
    from_number       TEXT NOT NULL,
    to_number         TEXT NOT NULL,
    direction         TEXT NOT NULL,
    type              TEXT NOT NULL,
    text              TEXT,
    caption           TEXT,
    media_path        TEXT,
    mime_type         TEXT,
    filename          TEXT,
    media_size        BIGINT,
    ptt               BIGINT NOT NULL DEFAULT 0,
    status            TEXT NOT NULL,
    sent_at           BIGINT,
    delivered_at      BIGINT,
    read_at           BIGINT,
    error_message     TEXT,
    idempotency_key   TEXT,
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT NOT NULL DEFAULT 0,
    related_user      TEXT,
    created_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_session_message ON messages (session_id, message_id);
CREATE UNIQUE INDEX messages_idempotency ON messages (organization_id, idempotency_key);
CREATE INDEX messages_organization_recent ON messages (organization_id, created_at);
CREATE INDEX messages_contact_recent ON messages (organization_id, contact_phone, created_at);
CREATE INDEX messages_outbox ON messages (session_id, status, next_attempt_at);

CREATE TABLE conversations (
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id       TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    contact_id       TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    last_message_id  TEXT NOT NULL,
    last_message_at  BIGINT NOT NULL,
    unread_count     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, contact_id)
);
CREATE INDEX conversations_recent ON conversations (organization_id, last_message_at);

-- Every event an organization's webhooks and live clients hear about, written in the same
-- transaction as the change it describes, so no event is lost and none is invented.
CREATE TABLE events (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    type             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX events_organization_recent ON events (organization_id, created_at);
