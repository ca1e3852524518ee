//! Messages, contacts and conversations (SPEC §5, §6).

use serde::{Deserialize, Serialize};

use crate::{OrgId, SessionId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Incoming,
    Outgoing,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "incoming" => Some(Direction::Incoming),
            "outgoing" => Some(Direction::Outgoing),
            _ => None,
        }
    }
}

/// A message's delivery state. It only moves forward ([`MessageStatus::can_move_to`]): a late
/// `delivered` after `read` changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
        }
    }

    pub const ALL: [MessageStatus; 5] = [
        MessageStatus::Pending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
    ];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether a message in this status may move to `next`. Statuses only go forward,
    /// pending → sent → delivered → read (a receipt may skip a step: a `read` can come before
    /// its `delivered`); only a pending message can fail; nothing moves back to pending, and
    /// nothing leaves `read` or `failed`. The one rule, used wherever a status changes.
    pub fn can_move_to(self, next: MessageStatus) -> bool {
        use MessageStatus::{Delivered, Failed, Pending, Read, Sent};
        match next {
            Pending => false,
            Sent | Failed => self == Pending,
            Delivered => matches!(self, Pending | Sent),
            Read => matches!(self, Pending | Sent | Delivered),
        }
    }

    /// The statuses a message may be in to move to this one.
    pub fn moved_from(self) -> impl Iterator<Item = MessageStatus> {
        Self::ALL
            .into_iter()
            .filter(move |from| from.can_move_to(self))
    }
}

/// A stored message, incoming or outgoing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub organization_id: OrgId,
    pub session_id: SessionId,
    pub message_id: String,
    pub contact_id: String,
    pub contact_phone: String,
    pub from: String,
    pub to: String,
    pub direction: Direction,
    /// text, image, video, audio or document.
    pub kind: String,
    pub text: Option<String>,
    pub caption: Option<String>,
    /// Where the media file is kept, relative to the media directory.
    pub media_path: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub media_size: Option<i64>,
    pub ptt: bool,
    pub status: MessageStatus,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub error_message: Option<String>,
    pub idempotency_key: Option<String>,
    pub attempts: i64,
    pub related_user: Option<String>,
    pub created_at: i64,
    /// The message this one replies to, as it was when the reply was written.
    pub quoted: Option<Quote>,
    /// The emoji each side of the chat reacted with.
    pub reactions: Reactions,
    /// What sent it, when an automation did, and the template it rendered.
    pub metadata: MessageMetadata,
}

/// What is known of how an outgoing message came to be (SPEC §11).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageMetadata {
    /// The automation that sent it; none when a person or an integration did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automation: Option<Automation>,
    /// The template it was rendered from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateUse>,
}

impl MessageMetadata {
    pub fn is_empty(&self) -> bool {
        self.automation.is_none() && self.template.is_none()
    }
}

/// Which automation sent a message: its kind and the id of what it ran (an auto-reply rule's
/// id; `stop` or `start` for an opt-out confirmation), and the customer's message it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Automation {
    pub kind: AutomationKind,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming_message_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomationKind {
    AutoReply,
    OptOut,
    /// An occurrence of a scheduled message (SPEC §15).
    Schedule,
    /// A message of a broadcast (SPEC §15).
    Broadcast,
}

impl AutomationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AutomationKind::AutoReply => "auto_reply",
            AutomationKind::OptOut => "opt_out",
            AutomationKind::Schedule => "schedule",
            AutomationKind::Broadcast => "broadcast",
        }
    }
}

/// The template a message was rendered from, with the quick replies it offered as numbered
/// choices (a customer answering `2` picked the second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateUse {
    pub id: String,
    pub name: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// What a reply quotes: the quoted message's WhatsApp id, and enough of it to show the quote
/// even when wasl never stored the original (a message older than the session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// wasl's id of the quoted message, when wasl has it.
    pub id: Option<String>,
    /// WhatsApp's id of the quoted message.
    pub message_id: String,
    /// Who wrote the quoted message: the customer (incoming) or the business (outgoing).
    pub direction: Direction,
    /// text, image, video, audio or document.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its text or caption (or a document's name), cut to [`Quote::MAX_TEXT`] characters.
    pub text: Option<String>,
}

impl Quote {
    /// A quote shows a line or two of the original; the original stays where it is.
    pub const MAX_TEXT: usize = 300;

    /// The quote of a stored message.
    pub fn of(message: &Message) -> Self {
        Quote {
            id: Some(message.id.clone()),
            message_id: message.message_id.clone(),
            direction: message.direction,
            kind: message.kind.clone(),
            text: Self::cut(
                message
                    .text
                    .as_deref()
                    .or(message.caption.as_deref())
                    .or(message.filename.as_deref()),
            ),
        }
    }

    /// The text of a quote, at most [`Quote::MAX_TEXT`] characters; none when empty.
    pub fn cut(text: Option<&str>) -> Option<String> {
        let text = text?.trim();
        if text.is_empty() {
            return None;
        }
        Some(match text.char_indices().nth(Self::MAX_TEXT) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text.to_owned(),
        })
    }
}

/// Reactions to a message. In a one-to-one chat each side has at most one, as on WhatsApp:
/// the customer's, and the business's (whichever agent or integration set it last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reactions {
    pub customer: Option<String>,
    pub business: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub organization_id: OrgId,
    pub phone_number: String,
    pub name: Option<String>,
    pub profile_pic_url: Option<String>,
    pub is_blocked: bool,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub last_message_at: Option<i64>,
    pub related_user: Option<String>,
    pub related_customer: Option<String>,
    /// When the customer asked for no more marketing (SPEC §14); `None` while subscribed.
    pub opted_out_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::{self, Delivered, Failed, Pending, Read, Sent};

    #[test]
    fn statuses_only_move_forward() {
        let moves: Vec<(MessageStatus, MessageStatus)> = MessageStatus::ALL
            .into_iter()
            .flat_map(|a| MessageStatus::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.can_move_to(*b))
            .collect();
        assert_eq!(
            moves,
            [
                (Pending, Sent),
                (Pending, Delivered),
                (Pending, Read),
                (Pending, Failed),
                (Sent, Delivered),
                (Sent, Read),
                (Delivered, Read),
            ]
        );
        assert_eq!(
            Read.moved_from().collect::<Vec<_>>(),
            [Pending, Sent, Delivered]
        );
        assert_eq!(Pending.moved_from().count(), 0);
    }
}
