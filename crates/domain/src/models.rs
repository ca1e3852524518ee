//! What the store keeps and returns. Timestamps are Unix milliseconds (UTC) so that both
//! databases store them the same way; the HTTP layer renders them as RFC 3339.

use crate::{ApiKeyId, Country, Email, Lang, OrgId, PersonName, Plan, Role, TimeZone, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: PersonName,
    pub plan: Plan,
    /// The country its people mean when they write a phone number without its country code.
    pub default_country: Option<Country>,
    /// Where its calendar rules (business hours, schedules, hours of analytics) are read.
    pub timezone: TimeZone,
    /// The language its automated messages and the dashboard default to.
    pub default_language: Lang,
    /// The words with which its customers stop and restart marketing messages.
    pub opt_out_words: crate::opt_out::OptOutWords,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrgId,
    pub name: PersonName,
    pub email: Email,
    pub role: Role,
    pub skills: Vec<String>,
    pub max_chats: Option<u32>,
    pub is_active: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// A user about to be created; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub organization_id: OrgId,
    pub name: PersonName,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub skills: Vec<String>,
    pub max_chats: Option<u32>,
    pub created_at: i64,
}

/// An API key as listed: never the key, only its prefix to recognise it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organization_id: OrgId,
    pub created_by: UserId,
    pub name: String,
    pub prefix: String,
    pub role: Role,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}
