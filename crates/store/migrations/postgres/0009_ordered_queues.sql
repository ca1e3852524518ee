-- The outbox and the webhook lanes take their oldest due rows a few at a time. With the row
-- id in the index the database reads exactly those rows in index order; without it, every
-- take sorted all the due rows that share a time (a broadcast, a burst of events), which made
-- draining a large backlog quadratic.
DROP INDEX messages_outbox;
CREATE INDEX messages_outbox ON messages (session_id, next_attempt_at, id) WHERE status = 'pending';
DROP INDEX webhook_deliveries_lane;
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending';
