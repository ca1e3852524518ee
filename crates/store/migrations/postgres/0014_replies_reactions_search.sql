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
UPDATE messages SET search_text = trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(lower(coalesce(text, '') || ' ' || coalesce(caption, '') || ' ' || coalesce(filename, '')), 'أ', 'ا'), 'إ', 'ا'), 'آ', 'ا'), 'ٱ', 'ا'), 'ة', 'ه'), 'ى', 'ي'), 'ئ', 'ي'), 'ؤ', 'و'), 'ً', ''), 'ٌ', ''), 'ٍ', ''), 'َ', ''), 'ُ', ''), 'ِ', ''), 'ّ', ''), 'ْ', ''), 'ٓ', ''), 'ٔ', ''), 'ٕ', ''), 'ٖ', ''), 'ٗ', ''), '٘', ''), 'ٙ', ''), 'ٚ', ''), 'ٛ', ''), 'ٜ', ''), 'ٝ', ''), 'ٞ', ''), 'ٟ', ''), 'ٰ', ''), 'ـ', ''), '٠', '0'), '۰', '0'), '١', '1'), '۱', '1'), '٢', '2'), '۲', '2'), '٣', '3'), '۳', '3'), '٤', '4'), '۴', '4'), '٥', '5'), '۵', '5'), '٦', '6'), '۶', '6'), '٧', '7'), '۷', '7'), '٨', '8'), '۸', '8'), '٩', '9'), '۹', '9'), '.', ' '), '-', ' '), ',', ' '), '،', ' '), '!', ' '), '?', ' '), '؟', ' '), ':', ' '), '؛', ' '), ';', ' '), '(', ' '), ')', ' '), '/', ' '), '_', ' '), '"', ' '), '''', ' '), chr(10), ' '));

-- PostgreSQL's full-text index: the 'simple' configuration, which only lower-cases (wasl has
-- folded already, and stems no language: a customer's Arabic is not stemmed as English).
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', search_text));
