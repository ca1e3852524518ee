-- Most messages have no idempotency key and are not waiting in the outbox; indexing only
-- the ones that do saves two index writes for every incoming message stored.
DROP INDEX messages_idempotency;
CREATE UNIQUE INDEX messages_idempotency ON messages (organization_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
DROP INDEX messages_outbox;
CREATE INDEX messages_outbox ON messages (session_id, next_attempt_at) WHERE status = 'pending';
