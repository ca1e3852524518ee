//! How models look in the API: camelCase, string ids, RFC 3339 times. Secrets never appear.

use serde::Serialize;
use utoipa::ToSchema;
use wasl_domain::{ApiKey, Organization, User};

use crate::clock::rfc3339;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    /// free, basic, pro or enterprise.
    pub plan: String,
    /// How many WhatsApp sessions the plan allows; null is unlimited.
    pub session_limit: Option<u32>,
    pub created_at: String,
}

impl From<&Organization> for OrganizationView {
    fn from(o: &Organization) -> Self {
        OrganizationView {
            id: o.id.to_string(),
            name: o.name.as_str().to_owned(),
            plan: o.plan.as_str().to_owned(),
            session_limit: o.plan.session_limit(),
            created_at: rfc3339(o.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub email: String,
    /// owner, admin or agent.
    pub role: String,
    pub skills: Vec<String>,
    pub max_chats: Option<u32>,
    pub is_active: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.to_string(),
            organization_id: u.organization_id.to_string(),
            name: u.name.as_str().to_owned(),
            email: u.email.as_str().to_owned(),
            role: u.role.as_str().to_owned(),
            skills: u.skills.clone(),
            max_chats: u.max_chats,
            is_active: u.is_active,
            created_at: rfc3339(u.created_at),
            last_login_at: u.last_login_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The key's first characters, to tell keys apart; the key itself is shown only once.
    pub prefix: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        ApiKeyView {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            role: k.role.as_str().to_owned(),
            created_by: k.created_by.to_string(),
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
        }
    }
}
