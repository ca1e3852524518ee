-- The country an organization's people mean when they write a phone number without its
-- country code (ISO 3166-1 alpha-2, `SA`); NULL until someone chooses one, and then numbers
-- must be written in international form.
ALTER TABLE organizations ADD COLUMN default_country TEXT;
