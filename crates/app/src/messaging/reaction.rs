//! The business reacting to a message (SPEC §5): sent at once through the session's live
//! connection, and stored once WhatsApp has it. A reaction is a small, immediate thing, like
//! a read receipt: it is answered with what happened rather than queued behind messages.

use wasl_domain::{Direction, Message, MessageStatus, SessionStatus};
use wasl_engine::OutgoingReaction;
use wasl_store::{MessageRef, ReactionSide};

use super::Messaging;
use crate::accounts::Caller;
use crate::error::{AppError, AppResult, Conflict};
use crate::sessions::SessionManager;

impl Messaging {
    /// Sets the business's reaction to message `id` (`None` removes it); the message as it is
    /// afterwards.
    pub async fn react(
        &self,
        caller: &Caller,
        sessions: &SessionManager,
        id: &str,
        emoji: Option<String>,
    ) -> AppResult<Message> {
        let message = self
            .store
            .messages()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if message.direction == Direction::Outgoing
            && matches!(
                message.status,
                MessageStatus::Pending | MessageStatus::Failed
            )
        {
            return Err(Conflict::MessageNotSent.into());
        }
        let session = self
            .store
            .sessions()
            .by_id(&message.session_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let connection = sessions
            .connection(&session.id)
            .filter(|_| session.is_active && session.status == SessionStatus::Connected)
            .ok_or(Conflict::SessionNotConnected(session.status))?;
        let blocked = self
            .store
            .contacts()
            .by_phone(&caller.org_id, &message.contact_phone)
            .await?
            .is_some_and(|c| c.is_blocked);
        if blocked {
            return Err(Conflict::ContactBlocked.into());
        }
        connection
            .react(OutgoingReaction {
                chat: wasl_domain::PhoneNumber::from_trusted(&message.contact_phone),
                message_id: message.message_id.clone(),
                from_me: message.direction == Direction::Outgoing,
                emoji: emoji.clone().unwrap_or_default(),
            })
            .await?;
        let target = MessageRef::Id {
            org: caller.org_id.clone(),
            id: message.id.clone(),
        };
        let (updated, event) = self
            .store
            .messages()
            .react(
                &target,
                ReactionSide::Business,
                None,
                emoji.as_deref(),
                self.clock.now_millis(),
                self.renderer.as_ref(),
            )
            .await?
            .ok_or(AppError::NotFound)?;
        self.bus.publish([event]);
        Ok(updated)
    }
}
