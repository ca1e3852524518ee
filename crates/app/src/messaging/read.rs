//! The business reading a conversation (SPEC §16 `POST …/conversations/:id/read`): the
//! customer's unread messages are marked read on WhatsApp, which shows the customer that they
//! were read, as the WhatsApp Business app does when someone opens the chat.

use wasl_domain::{ConversationOverview, Direction, MessageStatus, PhoneNumber, SessionStatus};
use wasl_store::{MessageFilter, PageRequest};

use super::Messaging;
use crate::error::AppResult;
use crate::sessions::SessionManager;

/// WhatsApp takes up to this many ids in one read receipt; older unread messages of a long
/// unanswered conversation are covered by the newest ones on the customer's screen anyway.
const MOST_RECEIPTS: u32 = 256;

impl Messaging {
    /// Tells WhatsApp the business read what the conversation's unread count covered (the
    /// overview as it was before it was read). Returns how many messages it marked read.
    /// Nothing is sent while the session is not connected: those messages stay `delivered`
    /// and a later read of the conversation sends them.
    pub async fn send_read_receipts(
        &self,
        sessions: &SessionManager,
        overview: &ConversationOverview,
    ) -> AppResult<u64> {
        let conversation = &overview.conversation;
        let unread = u32::try_from(conversation.unread_count.clamp(0, i64::from(MOST_RECEIPTS)))
            .unwrap_or(MOST_RECEIPTS);
        if unread == 0 {
            return Ok(0);
        }
        let Some(session) = self
            .store
            .sessions()
            .by_id(&conversation.session_id)
            .await?
        else {
            return Ok(0);
        };
        let Some(connection) = sessions
            .connection(&session.id)
            .filter(|_| session.is_active && session.status == SessionStatus::Connected)
        else {
            return Ok(0);
        };
        let filter = MessageFilter {
            session: Some(session.id.clone()),
            contact_phone: Some(overview.contact.phone_number.clone()),
            direction: Some(Direction::Incoming),
            terms: Vec::new(),
        };
        let newest = self
            .store
            .messages()
            .list(
                &conversation.organization_id,
                &filter,
                PageRequest::first(unread),
            )
            .await?;
        let (ids, message_ids): (Vec<String>, Vec<String>) = newest
            .items
            .into_iter()
            .filter(|m| m.status == MessageStatus::Delivered)
            .map(|m| (m.id, m.message_id))
            .unzip();
        if ids.is_empty() {
            return Ok(0);
        }
        let contact = PhoneNumber::from_trusted(&overview.contact.phone_number);
        connection.mark_read(&contact, &message_ids).await?;
        let read = self
            .store
            .messages()
            .mark_incoming_read(&conversation.organization_id, &ids, self.clock.now_millis())
            .await?;
        tracing::debug!(conversation = %conversation.id, read, "read receipts sent");
        Ok(read)
    }
}
