//! Conversations (SPEC §16): one contact on one session, an entity with an id, a status and
//! an assignee. It is created by its first message; a customer's message reopens it when it
//! was resolved.

use serde::{Deserialize, Serialize};

use crate::{Contact, Direction, Message, OrgId, ParseError, SessionId, UserId};

/// Where a conversation stands for the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    /// Someone has to look at it.
    Open,
    /// Waiting on something other than an agent (the customer, a bot, a follow-up).
    Pending,
    /// Done; the customer's next message opens it again.
    Resolved,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 3] = [
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Resolved => "resolved",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(field, "must be open, pending or resolved"))
    }
}

/// The chat between one session and one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: String,
    pub organization_id: OrgId,
    pub session_id: SessionId,
    pub contact_id: String,
    pub status: ConversationStatus,
    /// The person handling it, when someone is.
    pub assignee_id: Option<UserId>,
    /// Customer messages no agent has opened yet.
    pub unread_count: i64,
    pub last_message_id: String,
    pub last_message_at: i64,
    /// Since when the customer has been waiting for an answer: their oldest message after
    /// the last one sent to them. `None` when nobody is waiting.
    pub waiting_since: Option<i64>,
    /// When the customer first got an answer since the conversation (re)opened.
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Conversation {
    /// The conversation a first message starts: open, nobody assigned.
    pub fn started(id: String, message: &Message) -> Self {
        let mut conversation = Conversation {
            id,
            organization_id: message.organization_id.clone(),
            session_id: message.session_id.clone(),
            contact_id: message.contact_id.clone(),
            status: ConversationStatus::Open,
            assignee_id: None,
            unread_count: 0,
            last_message_id: message.id.clone(),
            last_message_at: message.created_at,
            waiting_since: None,
            first_response_at: None,
            resolved_at: None,
            created_at: message.created_at,
            updated_at: message.created_at,
        };
        conversation.record(message);
        conversation
    }

    /// The conversation after one more of its messages; `true` when a customer's message
    /// reopened it. A customer's message makes them wait (from their first unanswered one)
    /// and is unread; a message to them ends the wait, and is the first response when it is
    /// the first answer since the conversation (re)opened (an automation's is neither).
    /// Messages may be recorded out of order: the last message is the latest by time.
    pub fn record(&mut self, message: &Message) -> bool {
        let at = message.created_at;
        if at >= self.last_message_at {
            self.last_message_id.clone_from(&message.id);
            self.last_message_at = at;
        }
        self.updated_at = self.updated_at.max(at);
        match message.direction {
            Direction::Incoming => {
                let reopened = self.status == ConversationStatus::Resolved;
                if reopened {
                    self.status = ConversationStatus::Open;
                    self.resolved_at = None;
                    self.first_response_at = None;
                }
                self.unread_count += 1;
                self.waiting_since = Some(self.waiting_since.map_or(at, |w| w.min(at)));
                reopened
            }
            // An automated answer ("we are closed, back at 9") answers nobody's question: the
            // customer still waits for a person, and the first response is still to come.
            Direction::Outgoing if message.metadata.automation.is_some() => false,
            Direction::Outgoing => {
                if self.waiting_since.is_some_and(|w| w <= at) {
                    if self.first_response_at.is_none() {
                        self.first_response_at = Some(at);
                    }
                    self.waiting_since = None;
                }
                false
            }
        }
    }

    /// Sets the status by hand at `at`: resolving ends the wait; leaving `resolved` clears
    /// when it was resolved. `true` when it changed.
    pub fn set_status(&mut self, status: ConversationStatus, at: i64) -> bool {
        if self.status == status {
            return false;
        }
        self.status = status;
        match status {
            ConversationStatus::Resolved => {
                self.resolved_at = Some(at);
                self.waiting_since = None;
            }
            ConversationStatus::Open | ConversationStatus::Pending => self.resolved_at = None,
        }
        self.updated_at = self.updated_at.max(at);
        true
    }

    /// Gives the conversation to someone, or to nobody. `true` when it changed.
    pub fn assign(&mut self, assignee: Option<UserId>, at: i64) -> bool {
        if self.assignee_id == assignee {
            return false;
        }
        self.assignee_id = assignee;
        self.updated_at = self.updated_at.max(at);
        true
    }
}

/// A conversation as the inbox shows it: with its contact and last message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationOverview {
    pub conversation: Conversation,
    pub contact: Contact,
    pub last_message: Message,
}

#[cfg(test)]
mod tests {
    use super::{Conversation, ConversationStatus};
    use crate::{Direction, Message, MessageStatus, OrgId, SessionId, UserId};

    fn message(id: &str, direction: Direction, at: i64) -> Message {
        Message {
            id: id.into(),
            organization_id: OrgId::from_trusted("org"),
            session_id: SessionId::from_trusted("org:default"),
            message_id: format!("wa-{id}"),
            contact_id: "contact".into(),
            contact_phone: "966500000000".into(),
            from: String::new(),
            to: String::new(),
            direction,
            kind: "text".into(),
            text: Some("مرحبا".into()),
            caption: None,
            media_path: None,
            mime_type: None,
            filename: None,
            media_size: None,
            ptt: false,
            status: MessageStatus::Delivered,
            sent_at: None,
            delivered_at: None,
            read_at: None,
            error_message: None,
            idempotency_key: None,
            attempts: 0,
            related_user: None,
            created_at: at,
            quoted: None,
            reactions: Default::default(),
            metadata: Default::default(),
        }
    }

    #[test]
    fn an_automated_answer_leaves_the_customer_waiting_for_a_person() {
        let mut c = Conversation::started("c1".into(), &message("m1", Incoming, 100));
        let mut auto = message("m2", Outgoing, 110);
        auto.metadata.automation = Some(crate::Automation {
            kind: crate::AutomationKind::AutoReply,
            id: "rule".into(),
            incoming_message_id: Some("m1".into()),
        });
        c.record(&auto);
        assert_eq!((c.waiting_since, c.first_response_at), (Some(100), None));
        assert_eq!(c.last_message_id, "m2");
        c.record(&message("m3", Outgoing, 120));
        assert_eq!((c.waiting_since, c.first_response_at), (None, Some(120)));
    }

    use Direction::{Incoming, Outgoing};

    #[test]
    fn a_customer_waits_from_their_first_unanswered_message_until_answered() {
        let mut c = Conversation::started("c1".into(), &message("m1", Incoming, 100));
        assert_eq!(
            (c.status, c.unread_count, c.waiting_since),
            (ConversationStatus::Open, 1, Some(100))
        );
        c.record(&message("m2", Incoming, 150));
        assert_eq!((c.unread_count, c.waiting_since), (2, Some(100)));
        c.record(&message("m3", Outgoing, 200));
        assert_eq!((c.waiting_since, c.first_response_at), (None, Some(200)));
        c.record(&message("m4", Incoming, 300));
        c.record(&message("m5", Outgoing, 400));
        assert_eq!(
            c.first_response_at,
            Some(200),
            "only the first answer is the first response"
        );
        assert_eq!((c.last_message_id.as_str(), c.last_message_at), ("m5", 400));
    }

    #[test]
    fn a_conversation_the_business_starts_is_not_waiting_and_has_no_response_yet() {
        let mut c = Conversation::started("c1".into(), &message("m1", Outgoing, 100));
        assert_eq!(
            (c.unread_count, c.waiting_since, c.first_response_at),
            (0, None, None)
        );
        c.record(&message("m2", Incoming, 200));
        assert_eq!(c.waiting_since, Some(200));
        c.record(&message("m3", Outgoing, 250));
        assert_eq!(c.first_response_at, Some(250));
    }

    #[test]
    fn a_customer_message_reopens_a_resolved_conversation_and_starts_a_new_wait() {
        let mut c = Conversation::started("c1".into(), &message("m1", Incoming, 100));
        c.record(&message("m2", Outgoing, 150));
        assert!(c.set_status(ConversationStatus::Resolved, 160));
        assert_eq!((c.resolved_at, c.waiting_since), (Some(160), None));
        assert!(
            !c.set_status(ConversationStatus::Resolved, 170),
            "no change, no event"
        );
        assert!(
            !c.record(&message("m3", Outgoing, 180)),
            "the business writing does not reopen"
        );
        assert_eq!(c.status, ConversationStatus::Resolved);
        assert!(c.record(&message("m4", Incoming, 200)));
        assert_eq!(c.status, ConversationStatus::Open);
        assert_eq!(
            (c.resolved_at, c.waiting_since, c.first_response_at),
            (None, Some(200), None)
        );
        c.record(&message("m5", Outgoing, 260));
        assert_eq!(c.first_response_at, Some(260));
    }

    #[test]
    fn an_earlier_message_recorded_late_is_not_the_last_one_and_does_not_end_a_later_wait() {
        let mut c = Conversation::started("c1".into(), &message("m2", Incoming, 200));
        c.record(&message("m1", Outgoing, 100));
        assert_eq!(c.last_message_id, "m2");
        assert_eq!(
            c.waiting_since,
            Some(200),
            "an answer older than the question answers nothing"
        );
    }

    #[test]
    fn assigning_and_reopening_by_hand_report_whether_anything_changed() {
        let mut c = Conversation::started("c1".into(), &message("m1", Incoming, 100));
        let sara = UserId::from_trusted("sara");
        assert!(c.assign(Some(sara.clone()), 110));
        assert!(!c.assign(Some(sara), 120));
        assert!(c.assign(None, 130));
        assert!(c.set_status(ConversationStatus::Pending, 140));
        assert!(c.set_status(ConversationStatus::Resolved, 150));
        assert!(c.set_status(ConversationStatus::Open, 160));
        assert_eq!(c.resolved_at, None);
        assert_eq!(c.updated_at, 160);
    }

    #[test]
    fn statuses_parse_from_their_names_only() {
        for status in ConversationStatus::ALL {
            assert_eq!(
                ConversationStatus::parse("status", status.as_str()),
                Ok(status)
            );
        }
        assert!(ConversationStatus::parse("status", "Open").is_err());
        assert!(ConversationStatus::parse("status", "closed").is_err());
    }
}
