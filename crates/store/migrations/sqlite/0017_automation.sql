-- Automation I (SPEC §13, §14): templates, quick replies, the media library, auto-replies,
-- opting out, and the queue that lets automation consider each customer's message once.
--
-- `metadata`: what sent an outgoing message (an automation's kind and id) and the template it
-- rendered, as JSON; NULL for messages a person or an integration sent.
ALTER TABLE messages ADD COLUMN metadata TEXT;
-- When the customer wrote a stop word; NULL while subscribed.
ALTER TABLE contacts ADD COLUMN opted_out_at BIGINT;
-- The organization's stop and start words as JSON; NULL keeps the defaults.
ALTER TABLE organizations ADD COLUMN opt_out_words TEXT;

CREATE TABLE media_library (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    filename        TEXT,
    size            BIGINT NOT NULL,
    path            TEXT NOT NULL,
    created_by      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX media_library_recent ON media_library (organization_id, created_at, id);

-- A template's name exists once per language, as at Meta. Header and buttons are JSON written
-- only from checked values (`wasl_domain::template`).
CREATE TABLE templates (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    language        TEXT NOT NULL,
    category        TEXT NOT NULL,
    header          TEXT,
    content         TEXT NOT NULL,
    footer          TEXT,
    buttons         TEXT NOT NULL,
    search_text     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX templates_name_language ON templates (organization_id, name, language);

-- `owner_id`: the person a personal quick reply belongs to; NULL for the organization's.
-- A short code is unique among what one person sees of a kind: the organization's, or theirs.
-- `search_text`: the short code folded, a line feed, then the content folded.
CREATE TABLE quick_replies (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    owner_id        TEXT REFERENCES users(id) ON DELETE CASCADE,
    short_code      TEXT NOT NULL,
    content         TEXT NOT NULL,
    media_id        TEXT REFERENCES media_library(id) ON DELETE RESTRICT,
    search_text     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX quick_replies_organization_code ON quick_replies (organization_id, short_code) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX quick_replies_personal_code ON quick_replies (owner_id, short_code) WHERE owner_id IS NOT NULL;

-- Responses and conditions are JSON written only from checked values and read back through
-- the same checks (`wasl_domain::automation`).
CREATE TABLE auto_replies (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    match_type       TEXT NOT NULL,
    trigger_text     TEXT NOT NULL,
    response         TEXT NOT NULL,
    conditions       TEXT NOT NULL,
    away_response    TEXT,
    session_name     TEXT,
    priority         BIGINT NOT NULL,
    cooldown_minutes BIGINT NOT NULL,
    is_active        BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX auto_replies_organization ON auto_replies (organization_id, priority);

-- Every customer's message waits here, written in the transaction that stores it, until
-- automation has considered it (opt-out words, auto-replies): the row is deleted in the
-- transaction that stores the answer, so a crash neither skips a message nor answers it twice.
-- `claimed_until`: a node holds the row until then (PostgreSQL, where several nodes share the
-- queue; a SQLite database has one wasl and its one worker reads the queue in order).
CREATE TABLE automation_queue (
    message_id      TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    claimed_until   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX automation_queue_due ON automation_queue (claimed_until, created_at);
