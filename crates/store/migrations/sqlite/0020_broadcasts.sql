-- Broadcasts (SPEC §15). `audience` and `message` are JSON written from checked values
-- (`wasl_domain::broadcast`, `wasl_domain::automation`). The audience is fixed into
-- `broadcast_recipients` when the broadcast starts; `next_seq` is the next recipient to hand
-- to the outbox and `next_send_at` when (pacing), so a restart goes on where it stopped.
-- `revision` grows with every change and every hand-over: a runner hands recipients over only
-- by moving the broadcast on from the revision it read, in the transaction that writes their
-- outbox messages, so no recipient is handed over twice. `claimed_until`: on PostgreSQL,
-- until when the node running it holds it.
CREATE TABLE broadcasts (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    session_name    TEXT NOT NULL,
    audience        TEXT NOT NULL,
    message         TEXT NOT NULL,
    send_at         BIGINT,
    pacing          TEXT NOT NULL,
    status          TEXT NOT NULL,
    waiting_reason  TEXT,
    total           BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    next_seq        BIGINT NOT NULL DEFAULT 0,
    next_send_at    BIGINT,
    revision        BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT
);
CREATE INDEX broadcasts_recent ON broadcasts (organization_id, created_at, id);
-- What the runner has to do: broadcasts to start or to go on with.
CREATE INDEX broadcasts_due ON broadcasts (next_send_at, id) WHERE next_send_at IS NOT NULL;

-- One row per recipient, numbered in the order they are sent to. `status`: queued (waiting
-- or in the outbox: `message_id` says which), skipped (with `reason`: opted_out, blocked,
-- invalid, duplicate) or cancelled. Once handed over, where it stands is its message's status.
CREATE TABLE broadcast_recipients (
    broadcast_id  TEXT NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    phone         TEXT NOT NULL,
    contact_id    TEXT,
    status        TEXT NOT NULL,
    reason        TEXT,
    message_id    TEXT,
    dispatched_at BIGINT,
    PRIMARY KEY (broadcast_id, seq)
);
-- The same number twice is one recipient; the second is kept only as a skipped duplicate.
CREATE UNIQUE INDEX broadcast_recipients_phone ON broadcast_recipients (broadcast_id, phone)
    WHERE reason IS NULL OR reason <> 'duplicate';
-- A number's broadcast messages of the last 24 hours (the daily cap).
CREATE INDEX broadcast_recipients_dispatched ON broadcast_recipients (dispatched_at)
    WHERE dispatched_at IS NOT NULL;
