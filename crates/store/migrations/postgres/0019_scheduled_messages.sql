-- Scheduled messages (SPEC §15). A schedule keeps its first occurrence as a local time in the
-- organization's zone (`schedule_local`, `2027-03-15T09:00`) and its repetition, so that every
-- later occurrence is computed in local time; `next_run_at` is the next one's instant (UTC),
-- NULL once there is none, and `next_number` that occurrence's number in its series.
-- `revision` grows with every change and every firing: a worker fires a schedule only by
-- moving it on from the revision it read, so an occurrence is fired once even when two
-- workers read the same schedule, or someone changed it meanwhile. `claimed_until`: on
-- PostgreSQL, until when the node firing it holds it (others skip it until then).
CREATE TABLE scheduled_messages (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_name     TEXT,
    to_phone         TEXT NOT NULL,
    message          TEXT NOT NULL,
    schedule_local   TEXT NOT NULL,
    repeat_frequency TEXT,
    repeat_interval  BIGINT,
    repeat_until     TEXT,
    repeat_count     BIGINT,
    status           TEXT NOT NULL,
    next_number      BIGINT NOT NULL,
    next_run_at      BIGINT,
    revision         BIGINT NOT NULL DEFAULT 0,
    claimed_until    BIGINT NOT NULL DEFAULT 0,
    created_by       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX scheduled_messages_recent ON scheduled_messages (organization_id, created_at, id);
-- What is due, in the order it came due; only schedules with an occurrence to come.
CREATE INDEX scheduled_messages_due ON scheduled_messages (next_run_at, id) WHERE next_run_at IS NOT NULL;

-- Each occurrence that came: sent (its message in the outbox), missed, skipped or failed.
-- Numbers start again when a schedule's time is changed, so they are not a key.
CREATE TABLE scheduled_occurrences (
    id              TEXT PRIMARY KEY,
    schedule_id     TEXT NOT NULL REFERENCES scheduled_messages(id) ON DELETE CASCADE,
    number          BIGINT NOT NULL,
    organization_id TEXT NOT NULL,
    due_at          BIGINT NOT NULL,
    fired_at        BIGINT NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT,
    message_id      TEXT
);
CREATE INDEX scheduled_occurrences_schedule ON scheduled_occurrences (schedule_id, due_at);
