-- Where an organization's calendar rules are read (an IANA zone; SPEC §11), the language its
-- automated messages default to, and its business hours (SPEC §14): the weekly periods and the
-- holidays as JSON, written only from parsed values (`wasl_domain::calendar`).
ALTER TABLE organizations ADD COLUMN timezone TEXT NOT NULL DEFAULT 'Asia/Riyadh';
ALTER TABLE organizations ADD COLUMN default_language TEXT NOT NULL DEFAULT 'ar';

CREATE TABLE business_hours (
    organization_id TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    weekly          TEXT NOT NULL,
    holidays        TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
