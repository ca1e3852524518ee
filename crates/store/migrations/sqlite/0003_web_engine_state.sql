-- The web engine's protocol store (whatsapp-rust's storage traits): Signal keys and sessions,
-- app-state sync keys, LID mappings, the device identity... One row per (session, kind, key).
-- `value` is always sealed with AES-256-GCM under the master key, bound to its
-- (session_id, kind, key); the other columns hold no secrets, only what a query must see:
--   scope   what the row belongs to, to list or clear it as a group: the user of a Signal
--           address, the app-state collection of a mutation MAC, the group of a sender-key
--           device, the phone number of a LID mapping ('' when unused)
--   member  the device of a sender-key device row, which is also cleared across groups
--   num     the number ranges and sweeps use: prekey id, mutation-MAC version, LID mapping
--           updated_at, tc-token timestamp (NULL without a token), stored-at seconds of a sent
--           or pending message, msg-secret expiry (NULL = never)
--   num2    a second number: prekey uploaded (0/1), tc-token sender timestamp, msg-secret
--           parent message time
-- No foreign key to sessions: the engine owns this state and `delete_web_state` clears it.
CREATE TABLE web_engine_state (
    session_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    scope       TEXT NOT NULL DEFAULT '',
    member      TEXT NOT NULL DEFAULT '',
    num         BIGINT,
    num2        BIGINT,
    value       BLOB NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (session_id, kind, key)
);
CREATE INDEX web_engine_state_scope ON web_engine_state (session_id, kind, scope);
CREATE INDEX web_engine_state_member ON web_engine_state (session_id, kind, member);
CREATE INDEX web_engine_state_num ON web_engine_state (session_id, kind, num);
