-- How many messages each conversation holds, by direction, kept in the transaction that
-- stores each message. A listing's `pagination.total` is then a sum over a few conversation
-- rows instead of a COUNT(*) over every stored message of a contact.
ALTER TABLE conversations ADD COLUMN incoming_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN outgoing_count BIGINT NOT NULL DEFAULT 0;

UPDATE conversations SET
    incoming_count = (SELECT COUNT(*) FROM messages m
                      WHERE m.session_id = conversations.session_id
                        AND m.contact_id = conversations.contact_id
                        AND m.direction = 'incoming'),
    outgoing_count = (SELECT COUNT(*) FROM messages m
                      WHERE m.session_id = conversations.session_id
                        AND m.contact_id = conversations.contact_id
                        AND m.direction = 'outgoing');

CREATE INDEX conversations_contact ON conversations (organization_id, contact_id);
