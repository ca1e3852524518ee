-- Conversations become entities (SPEC §16): an id, a status (open | pending | resolved), an
-- assignee, and the times the inbox and analytics need. SQLite cannot change a primary key,
-- so the table is rebuilt; every existing conversation keeps its counters and gets a new id,
-- status `open`, and its waiting and first-response times worked out from its messages.
CREATE TABLE conversations_entity (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id        TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    contact_id        TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    status            TEXT NOT NULL DEFAULT 'open',
    assignee_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    last_message_id   TEXT NOT NULL,
    last_message_at   BIGINT NOT NULL,
    unread_count      BIGINT NOT NULL DEFAULT 0,
    incoming_count    BIGINT NOT NULL DEFAULT 0,
    outgoing_count    BIGINT NOT NULL DEFAULT 0,
    waiting_since     BIGINT,
    first_response_at BIGINT,
    resolved_at       BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- One pass over the messages per figure, grouped: a correlated lookup per conversation would
-- scan the messages once for each of them (there is no index by contact id).
WITH history AS (
    SELECT session_id, contact_id,
           MIN(created_at) AS first_at,
           MIN(CASE WHEN direction = 'incoming' THEN created_at END) AS first_in,
           MAX(CASE WHEN direction = 'outgoing' THEN created_at END) AS last_out
    FROM messages GROUP BY session_id, contact_id
),
waiting AS (
    -- The customer's oldest message after the last one sent to them.
    SELECT m.session_id, m.contact_id, MIN(m.created_at) AS since
    FROM messages m JOIN history h ON h.session_id = m.session_id AND h.contact_id = m.contact_id
    WHERE m.direction = 'incoming' AND (h.last_out IS NULL OR m.created_at > h.last_out)
    GROUP BY m.session_id, m.contact_id
),
answered AS (
    -- The first message sent after the customer's first one.
    SELECT m.session_id, m.contact_id, MIN(m.created_at) AS at
    FROM messages m JOIN history h ON h.session_id = m.session_id AND h.contact_id = m.contact_id
    WHERE m.direction = 'outgoing' AND h.first_in IS NOT NULL AND m.created_at >= h.first_in
    GROUP BY m.session_id, m.contact_id
)
INSERT INTO conversations_entity (id, organization_id, session_id, contact_id, status, assignee_id,
    last_message_id, last_message_at, unread_count, incoming_count, outgoing_count,
    waiting_since, first_response_at, resolved_at, created_at, updated_at)
SELECT lower(substr(r.h, 1, 8) || '-' || substr(r.h, 9, 4) || '-4' || substr(r.h, 14, 3) || '-'
             || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(r.h, 18, 3) || '-'
             || substr(r.h, 21, 12)),
       c.organization_id, c.session_id, c.contact_id, 'open', NULL,
       c.last_message_id, c.last_message_at, c.unread_count, c.incoming_count, c.outgoing_count,
       w.since, a.at, NULL, COALESCE(h.first_at, c.last_message_at), c.last_message_at
FROM conversations c
JOIN (SELECT session_id, contact_id, hex(randomblob(16)) AS h FROM conversations) r
     ON r.session_id = c.session_id AND r.contact_id = c.contact_id
LEFT JOIN history h ON h.session_id = c.session_id AND h.contact_id = c.contact_id
LEFT JOIN waiting w ON w.session_id = c.session_id AND w.contact_id = c.contact_id
LEFT JOIN answered a ON a.session_id = c.session_id AND a.contact_id = c.contact_id;

DROP TABLE conversations;
ALTER TABLE conversations_entity RENAME TO conversations;

CREATE UNIQUE INDEX conversations_session_contact ON conversations (session_id, contact_id);
CREATE INDEX conversations_recent ON conversations (organization_id, last_message_at);
CREATE INDEX conversations_contact ON conversations (organization_id, contact_id);
CREATE INDEX conversations_status_recent ON conversations (organization_id, status, last_message_at);
CREATE INDEX conversations_assignee_recent ON conversations (organization_id, assignee_id, last_message_at);
