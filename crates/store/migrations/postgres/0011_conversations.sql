-- Conversations become entities (SPEC §16): an id, a status (open | pending | resolved), an
-- assignee, and the times the inbox and analytics need. Every existing conversation keeps its
-- counters and gets a new id, status `open`, and its waiting and first-response times worked
-- out from its messages.
ALTER TABLE conversations ADD COLUMN id TEXT;
ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE conversations ADD COLUMN assignee_id TEXT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN waiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN first_response_at BIGINT;
ALTER TABLE conversations ADD COLUMN resolved_at BIGINT;
ALTER TABLE conversations ADD COLUMN created_at BIGINT;
ALTER TABLE conversations ADD COLUMN updated_at BIGINT;

UPDATE conversations SET id = gen_random_uuid()::text,
                         created_at = last_message_at,
                         updated_at = last_message_at;

-- One pass over the messages per figure, grouped: a correlated lookup per conversation would
-- scan the messages once for each of them (there is no index by contact id).
CREATE TEMPORARY TABLE conversation_history ON COMMIT DROP AS
    SELECT session_id, contact_id,
           MIN(created_at) AS first_at,
           MIN(CASE WHEN direction = 'incoming' THEN created_at END) AS first_in,
           MAX(CASE WHEN direction = 'outgoing' THEN created_at END) AS last_out
    FROM messages GROUP BY session_id, contact_id;

UPDATE conversations c SET created_at = h.first_at
FROM conversation_history h
WHERE h.session_id = c.session_id AND h.contact_id = c.contact_id AND h.first_at IS NOT NULL;

-- The customer's oldest message after the last one sent to them.
UPDATE conversations c SET waiting_since = w.since
FROM (SELECT m.session_id, m.contact_id, MIN(m.created_at) AS since
      FROM messages m JOIN conversation_history h
           ON h.session_id = m.session_id AND h.contact_id = m.contact_id
      WHERE m.direction = 'incoming' AND (h.last_out IS NULL OR m.created_at > h.last_out)
      GROUP BY m.session_id, m.contact_id) w
WHERE w.session_id = c.session_id AND w.contact_id = c.contact_id;

-- The first message sent after the customer's first one.
UPDATE conversations c SET first_response_at = a.at
FROM (SELECT m.session_id, m.contact_id, MIN(m.created_at) AS at
      FROM messages m JOIN conversation_history h
           ON h.session_id = m.session_id AND h.contact_id = m.contact_id
      WHERE m.direction = 'outgoing' AND h.first_in IS NOT NULL AND m.created_at >= h.first_in
      GROUP BY m.session_id, m.contact_id) a
WHERE a.session_id = c.session_id AND a.contact_id = c.contact_id;

ALTER TABLE conversations ALTER COLUMN id SET NOT NULL;
ALTER TABLE conversations ALTER COLUMN created_at SET NOT NULL;
ALTER TABLE conversations ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey;
ALTER TABLE conversations ADD PRIMARY KEY (id);

CREATE UNIQUE INDEX conversations_session_contact ON conversations (session_id, contact_id);
CREATE INDEX conversations_status_recent ON conversations (organization_id, status, last_message_at);
CREATE INDEX conversations_assignee_recent ON conversations (organization_id, assignee_id, last_message_at);
