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

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub organization: String,
    pub session_name: String,
    pub session_id: String,
    /// web or sandbox.
    pub engine: String,
    pub phone_number: Option<String>,
    /// connecting, qr, connected, disconnected, failed or logged_out.
    pub status: String,
    /// The current pairing QR (PNG data URL) while the status is `qr`.
    pub qr_code: Option<String>,
    pub last_connected: Option<String>,
    pub last_disconnected: Option<String>,
    /// Why the last connection ended, when known.
    pub last_disconnect_reason: Option<String>,
    /// Reconnection attempts after unexpected disconnects.
    pub connection_attempts: i64,
    pub is_active: bool,
    pub created_at: String,
}

impl SessionView {
    pub fn new(s: &wasl_domain::Session, qr_code: Option<String>) -> Self {
        SessionView {
            organization: s.organization_id.to_string(),
            session_name: s.name.to_string(),
            session_id: s.id.to_string(),
            engine: s.engine.as_str().to_owned(),
            phone_number: s.phone_number.clone(),
            status: s.status.as_str().to_owned(),
            qr_code: qr_code.filter(|_| s.status == wasl_domain::SessionStatus::Qr),
            last_connected: s.last_connected.map(rfc3339),
            last_disconnected: s.last_disconnected.map(rfc3339),
            last_disconnect_reason: s.last_disconnect_reason.clone(),
            connection_attempts: s.connection_attempts,
            is_active: s.is_active,
            created_at: rfc3339(s.created_at),
        }
    }
}
