-- Replies, reactions and message search.
--
-- `quoted`: what a reply quotes (JSON: wasl's and WhatsApp's ids of the original, who wrote
-- it, its type and the start of its text), kept with the reply so the quote still shows
-- when the original was never stored. `customer_reaction` / `business_reaction`: the one
-- emoji each side of a one-to-one chat may react with, as on WhatsApp.
ALTER TABLE messages ADD COLUMN quoted TEXT;
ALTER TABLE messages ADD COLUMN customer_reaction TEXT;
ALTER TABLE messages ADD COLUMN business_reaction TEXT;
-- The message's words for full-text search: text, caption and file name folded the way
-- people type Arabic (hamza forms, ta marbuta, alef maqsura, diacritics and tatweel,
-- Arabic-Indic digits) and split into plain words. wasl writes it with every message; the
-- messages stored before are folded once here, by the same rules written in SQL.
ALTER TABLE messages ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE messages SET search_text = trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(lower(coalesce(text, '') || ' ' || coalesce(caption, '') || ' ' || coalesce(filename, '')), 'أ', 'ا'), 'إ', 'ا'), 'آ', 'ا'), 'ٱ', 'ا'), 'ة', 'ه'), 'ى', 'ي'), 'ئ', 'ي'), 'ؤ', 'و'), 'ً', ''), 'ٌ', ''), 'ٍ', ''), 'َ', ''), 'ُ', ''), 'ِ', ''), 'ّ', ''), 'ْ', ''), 'ٓ', ''), 'ٔ', ''), 'ٕ', ''), 'ٖ', ''), 'ٗ', ''), '٘', ''), 'ٙ', ''), 'ٚ', ''), 'ٛ', ''), 'ٜ', ''), 'ٝ', ''), 'ٞ', ''), 'ٟ', ''), 'ٰ', ''), 'ـ', ''), '٠', '0'), '۰', '0'), '١', '1'), '۱', '1'), '٢', '2'), '۲', '2'), '٣', '3'), '۳', '3'), '٤', '4'), '۴', '4'), '٥', '5'), '۵', '5'), '٦', '6'), '۶', '6'), '٧', '7'), '۷', '7'), '٨', '8'), '۸', '8'), '٩', '9'), '۹', '9'), '.', ' '), '-', ' '), ',', ' '), '،', ' '), '!', ' '), '?', ' '), '؟', ' '), ':', ' '), '؛', ' '), ';', ' '), '(', ' '), ')', ' '), '/', ' '), '_', ' '), '"', ' '), '''', ' '), char(10), ' '));

-- SQLite's full-text index (FTS5) over search_text, kept by triggers: an external-content
-- table reads the words from `messages` itself, so they are stored once.
CREATE VIRTUAL TABLE messages_fts USING fts5(search_text, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0');
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN INSERT INTO messages_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN INSERT INTO messages_fts(messages_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages BEGIN INSERT INTO messages_fts(messages_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); INSERT INTO messages_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END;
