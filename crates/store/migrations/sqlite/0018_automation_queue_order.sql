-- The automation queue is read oldest first, a batch at a time: an index in that order lets a
-- claim stop after its batch instead of sorting the whole backlog each time (a backlog of tens
-- of thousands of messages after a burst). PostgreSQL filters the few rows another node holds.
DROP INDEX automation_queue_due;
CREATE INDEX automation_queue_order ON automation_queue (created_at, message_id);
