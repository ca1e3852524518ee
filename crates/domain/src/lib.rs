//! wasl's vocabulary: ids and value types that parse at the edge, so that everything past the
//! HTTP layer can trust them, and the models the store returns.
#![forbid(unsafe_code)]

mod account;
pub mod automation;
pub mod broadcast;
pub mod calendar;
pub mod content;
mod conversation;
mod ids;
mod lang;
mod messaging;
mod models;
pub mod opt_out;
mod phone;
mod plan;
pub mod schedule;
pub mod search;
mod session;
pub mod template;
pub mod text;
pub mod time;

pub use account::{Email, Password, PersonName, Role};
pub use calendar::{BusinessHours, TimeZone, Weekday};
pub use content::{MediaItem, QuickReply, ShortCode, Visibility};
pub use conversation::{Conversation, ConversationOverview, ConversationStatus};
pub use ids::{ApiKeyId, OrgId, UserId};
pub use lang::Lang;
pub use messaging::{
    Automation, AutomationKind, Contact, Direction, Message, MessageMetadata, MessageStatus, Quote,
    Reactions, TemplateUse,
};
pub use models::{ApiKey, NewUser, Organization, User};
pub use phone::{Country, PhoneNumber, INVALID_PHONE_NUMBER};
pub use plan::Plan;
pub use session::{EngineKind, Session, SessionId, SessionName, SessionStatus};

/// Why a value given by a user could not be accepted. The text is for the `details` of an
/// error response; the localized message comes from the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    /// What is wrong, for a client to switch on and a dashboard to translate
    /// (`invalid_phone_number`); `invalid` when nothing more precise is said.
    pub code: &'static str,
    /// What is wrong, in English, for the developer reading the response.
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self::coded(field, "invalid", reason)
    }

    pub fn coded(field: &'static str, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            code,
            reason: reason.into(),
        }
    }
}
