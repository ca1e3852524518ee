-- Keyset pages are sorted by time then id, and continue after a (time, id) cursor: with the id
-- in the index, the database seeks straight to the cursor and reads the page in index order,
-- instead of reading every newer row (and sorting the ties) to skip past them.
DROP INDEX messages_contact_recent;
CREATE INDEX messages_contact_recent ON messages (organization_id, contact_phone, created_at, id);
DROP INDEX messages_organization_recent;
CREATE INDEX messages_organization_recent ON messages (organization_id, created_at, id);
DROP INDEX conversations_recent;
CREATE INDEX conversations_recent ON conversations (organization_id, last_message_at, id);
DROP INDEX conversations_status_recent;
CREATE INDEX conversations_status_recent ON conversations (organization_id, status, last_message_at, id);
