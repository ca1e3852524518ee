//! How models look in the API: camelCase, string ids, RFC 3339 times. Secrets never appear.

use serde::Serialize;
use utoipa::ToSchema;
use wasl_domain::{ApiKey, Organization, User};

use wasl_app::clock::rfc3339;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    /// free, basic, pro or enterprise.
    pub plan: String,
    /// How many WhatsApp sessions the plan allows; null is unlimited.
    pub session_limit: Option<u32>,
    /// The country (ISO 3166-1 alpha-2) whose local form numbers without a country code are
    /// read in; null when numbers must carry their country code.
    pub default_country: Option<String>,
    /// The IANA time zone its calendar rules are read in (`Asia/Riyadh`).
    pub timezone: String,
    /// ar or en: the language of its automated messages.
    pub default_language: String,
    /// The words with which customers stop and restart marketing messages.
    pub opt_out: OptOutView,
    pub created_at: String,
}

/// Stop words mark a customer opted out (no broadcast or marketing template until a start
/// word), each answered with one confirmation. Compared as whole messages, Arabic spellings
/// folded.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptOutView {
    pub stop_words: Vec<String>,
    pub start_words: Vec<String>,
}

impl From<&Organization> for OrganizationView {
    fn from(o: &Organization) -> Self {
        OrganizationView {
            id: o.id.to_string(),
            name: o.name.as_str().to_owned(),
            plan: o.plan.as_str().to_owned(),
            session_limit: o.plan.session_limit(),
            default_country: o.default_country.map(|c| c.to_string()),
            timezone: o.timezone.name().to_owned(),
            default_language: o.default_language.as_str().to_owned(),
            opt_out: OptOutView {
                stop_words: o.opt_out_words.stop_words().to_vec(),
                start_words: o.opt_out_words.start_words().to_vec(),
            },
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
    /// Why the last connection ended, when known, in English (for developers).
    pub last_disconnect_reason: Option<String>,
    /// The same as a code to translate and act on: network, logged_out, replaced, banned,
    /// qr_timeout, rejected, closed, cannot_connect, pairing_interrupted or other.
    pub last_disconnect_code: Option<String>,
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
            last_disconnect_code: s
                .last_disconnect_reason
                .as_deref()
                .map(|r| wasl_app::sessions::disconnect_code(r).to_owned()),
            connection_attempts: s.connection_attempts,
            is_active: s.is_active,
            created_at: rfc3339(s.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageContentView {
    pub text: Option<String>,
    pub caption: Option<String>,
    /// Where to download the media (with the same Authorization header).
    pub media_url: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub session_id: String,
    pub session_name: String,
    /// WhatsApp's id of the message.
    pub message_id: String,
    pub from: String,
    pub to: String,
    /// incoming or outgoing.
    pub direction: String,
    /// text, image, video, audio or document.
    #[serde(rename = "type")]
    pub kind: String,
    pub content: MessageContentView,
    /// pending, sent, delivered, read or failed.
    pub status: String,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    pub read_at: Option<String>,
    pub error_message: Option<String>,
    pub contact_id: String,
    pub related_user: Option<String>,
    pub created_at: String,
    /// The message this one replies to.
    pub quoted: Option<QuoteView>,
    /// The customer's and the business's reactions (at most one each).
    pub reactions: Vec<ReactionView>,
    /// What sent it when an automation did (`automation: {kind: auto_reply | opt_out, id,
    /// incomingMessageId}`), and the template it was rendered from (`template: {id, name,
    /// language, choices}`); empty for what a person or an integration sent.
    #[schema(value_type = Object)]
    pub metadata: wasl_domain::MessageMetadata,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    /// wasl's id of the quoted message; null when wasl never stored it.
    pub id: Option<String>,
    /// WhatsApp's id of the quoted message.
    pub message_id: String,
    /// incoming (the customer wrote it) or outgoing (the business did).
    pub direction: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Its text, caption or file name, at most 300 characters.
    pub text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactionView {
    pub emoji: String,
    /// customer or business.
    pub by: String,
}

impl From<&wasl_domain::Message> for MessageView {
    fn from(m: &wasl_domain::Message) -> Self {
        let session_name = m
            .session_id
            .as_str()
            .strip_prefix(m.organization_id.as_str())
            .and_then(|rest| rest.strip_prefix('_'))
            .unwrap_or_default()
            .to_owned();
        MessageView {
            id: m.id.clone(),
            session_id: m.session_id.to_string(),
            session_name,
            message_id: m.message_id.clone(),
            from: m.from.clone(),
            to: m.to.clone(),
            direction: m.direction.as_str().to_owned(),
            kind: m.kind.clone(),
            content: MessageContentView {
                text: m.text.clone(),
                caption: m.caption.clone(),
                media_url: m
                    .media_path
                    .as_ref()
                    .map(|_| format!("/api/v1/whatsapp/messages/{}/media", m.id)),
                mime_type: m.mime_type.clone(),
                filename: m.filename.clone(),
            },
            status: m.status.as_str().to_owned(),
            sent_at: m.sent_at.map(rfc3339),
            delivered_at: m.delivered_at.map(rfc3339),
            read_at: m.read_at.map(rfc3339),
            error_message: m.error_message.clone(),
            contact_id: m.contact_id.clone(),
            related_user: m.related_user.clone(),
            created_at: rfc3339(m.created_at),
            quoted: m.quoted.as_ref().map(|q| QuoteView {
                id: q.id.clone(),
                message_id: q.message_id.clone(),
                direction: q.direction.as_str().to_owned(),
                kind: q.kind.clone(),
                text: q.text.clone(),
            }),
            reactions: [
                ("customer", &m.reactions.customer),
                ("business", &m.reactions.business),
            ]
            .into_iter()
            .filter_map(|(by, emoji)| {
                emoji.as_ref().map(|e| ReactionView {
                    emoji: e.clone(),
                    by: by.to_owned(),
                })
            })
            .collect(),
            metadata: m.metadata.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub id: String,
    pub phone_number: String,
    pub name: Option<String>,
    pub profile_pic_url: Option<String>,
    pub is_blocked: bool,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub last_message_at: Option<String>,
    pub related_user: Option<String>,
    /// The customer's id in the organization's CRM.
    pub related_customer: Option<String>,
    /// The customer wrote a stop word: no broadcast or marketing template reaches them until
    /// they write a start word. Agents can still answer them.
    pub opted_out: bool,
    pub opted_out_at: Option<String>,
    pub created_at: String,
}

impl From<&wasl_domain::Contact> for ContactView {
    fn from(c: &wasl_domain::Contact) -> Self {
        ContactView {
            id: c.id.clone(),
            phone_number: c.phone_number.clone(),
            name: c.name.clone(),
            profile_pic_url: c.profile_pic_url.clone(),
            is_blocked: c.is_blocked,
            tags: c.tags.clone(),
            notes: c.notes.clone(),
            last_message_at: c.last_message_at.map(rfc3339),
            related_user: c.related_user.clone(),
            related_customer: c.related_customer.clone(),
            opted_out: c.opted_out_at.is_some(),
            opted_out_at: c.opted_out_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// A conversation as the inbox lists it: its state, its contact and its last message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: String,
    pub session_name: String,
    /// open, pending or resolved.
    pub status: String,
    /// The person handling it; null when nobody is.
    pub assignee_id: Option<String>,
    pub unread_count: i64,
    pub last_message_at: String,
    /// Since when the customer has been waiting for an answer; null when nobody waits.
    pub waiting_since: Option<String>,
    /// The first answer since the conversation (re)opened.
    pub first_response_at: Option<String>,
    pub resolved_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub contact: ContactView,
    pub last_message: MessageView,
}

impl From<&wasl_domain::ConversationOverview> for ConversationView {
    fn from(o: &wasl_domain::ConversationOverview) -> Self {
        let c = &o.conversation;
        let last_message = MessageView::from(&o.last_message);
        ConversationView {
            id: c.id.clone(),
            session_name: last_message.session_name.clone(),
            status: c.status.as_str().to_owned(),
            assignee_id: c.assignee_id.as_ref().map(ToString::to_string),
            unread_count: c.unread_count,
            last_message_at: rfc3339(c.last_message_at),
            waiting_since: c.waiting_since.map(rfc3339),
            first_response_at: c.first_response_at.map(rfc3339),
            resolved_at: c.resolved_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            contact: ContactView::from(&o.contact),
            last_message,
        }
    }
}

/// Renders events with the API's own shapes, so a webhook or a live client receives exactly
/// what the REST API would return.
pub struct ApiRenderer;

impl wasl_app::records::EventRenderer for ApiRenderer {
    fn message(&self, message: &wasl_domain::Message) -> serde_json::Value {
        serde_json::to_value(MessageView::from(message)).unwrap_or_default()
    }

    fn contact(&self, contact: &wasl_domain::Contact) -> serde_json::Value {
        serde_json::to_value(ContactView::from(contact)).unwrap_or_default()
    }

    fn session(&self, session: &wasl_domain::Session, qr_code: Option<&str>) -> serde_json::Value {
        serde_json::to_value(SessionView::new(session, qr_code.map(str::to_owned)))
            .unwrap_or_default()
    }

    fn conversation(&self, conversation: &wasl_domain::ConversationOverview) -> serde_json::Value {
        serde_json::to_value(ConversationView::from(conversation)).unwrap_or_default()
    }
}
