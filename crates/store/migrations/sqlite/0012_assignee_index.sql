-- Most conversations have nobody assigned, and every stored message moves its conversation's
-- last_message_at, which every index on it must follow. The assignee's index only needs the
-- assigned ones ("unassigned" is read through the status index and a filter).
DROP INDEX conversations_assignee_recent;
CREATE INDEX conversations_assignee_recent ON conversations (organization_id, assignee_id, last_message_at)
    WHERE assignee_id IS NOT NULL;
