//! The one send every sender uses (SPEC §5): an agent in the dashboard, a CRM through the API,
//! and later auto-replies, broadcasts and the bot. The rules that decide whether a message may
//! go out live here, once: the session exists and is connected, its engine takes media of
//! that size, the contact is not blocked.

use wasl_domain::{Direction, Message, ParseError, PhoneNumber, Quote, SessionStatus};
use wasl_engine::{Media, MessageKind};
use wasl_store::{MessageFilter, Page, PageRequest};

use super::{Accepted, Messaging, OutgoingDraft};
use crate::accounts::Caller;
use crate::error::{AppError, AppResult, Conflict};
use crate::sessions::find_session;

/// A message to send, as checked at the edge.
pub struct SendRequest {
    pub to: PhoneNumber,
    /// The session to send from; "default" when absent.
    pub session_name: Option<String>,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub media: Option<Media>,
    pub ptt: bool,
    pub idempotency_key: Option<String>,
    /// wasl's id of the message this one replies to: a message of the same chat.
    pub quoted_message_id: Option<String>,
    /// The template it was rendered from (send-template).
    pub metadata: wasl_domain::MessageMetadata,
    /// Marketing (a marketing template): never sent to a contact who opted out.
    pub marketing: bool,
}

/// Which messages to list.
pub struct MessageSelection {
    pub session_name: Option<String>,
    pub filter: MessageFilter,
}

impl Messaging {
    /// Accepts a message into the outbox, or answers with the first result of its idempotency
    /// key. When this returns, the message survives a crash and will be sent exactly once.
    pub async fn send(&self, caller: &Caller, request: SendRequest) -> AppResult<Accepted> {
        let session = self
            .sending_session(caller, request.session_name.as_deref())
            .await?;
        let capabilities = self
            .engines
            .capabilities(session.engine)
            .ok_or(AppError::EngineUnavailable(session.engine))?;
        if let (Some(media), Some(max_bytes)) =
            (&request.media, capabilities.media_limits.of(request.kind))
        {
            if media.bytes.len() > max_bytes {
                return Err(AppError::MediaTooLarge { max_bytes });
            }
        }
        if let Some(contact) = self
            .store
            .contacts()
            .by_phone(&caller.org_id, request.to.as_str())
            .await?
        {
            if contact.is_blocked {
                return Err(Conflict::ContactBlocked.into());
            }
            if request.marketing && contact.opted_out_at.is_some() {
                return Err(Conflict::ContactOptedOut.into());
            }
        }
        let quoted = match request.quoted_message_id.as_deref() {
            None => None,
            Some(id) => Some(self.quotable(caller, &session, &request.to, id).await?),
        };
        let draft = OutgoingDraft {
            session: &session,
            quoted,
            to: request.to,
            kind: request.kind,
            text: request.text,
            caption: request.caption,
            media: request.media,
            ptt: request.ptt,
            idempotency_key: request.idempotency_key,
            related_user: Some(caller.user_id.to_string()),
            metadata: request.metadata,
        };
        match self.accept(draft).await? {
            Accepted::KeyReused => Err(Conflict::IdempotencyKeyReused.into()),
            accepted => Ok(accepted),
        }
    }

    /// The caller's session a send goes from ("default" when not named), connected.
    pub(crate) async fn sending_session(
        &self,
        caller: &Caller,
        name: Option<&str>,
    ) -> AppResult<wasl_domain::Session> {
        let session = find_session(&self.store, caller, name.unwrap_or("default")).await?;
        if !session.is_active || session.status != SessionStatus::Connected {
            return Err(Conflict::SessionNotConnected(session.status).into());
        }
        Ok(session)
    }

    /// What a reply to message `id` quotes: a message of the same chat (this session, this
    /// customer) that WhatsApp has, so the customer's phone can show what is answered.
    async fn quotable(
        &self,
        caller: &Caller,
        session: &wasl_domain::Session,
        to: &PhoneNumber,
        id: &str,
    ) -> AppResult<Quote> {
        let not_in_chat = || {
            AppError::from(ParseError::new(
                "quotedMessageId",
                "is not a message of this chat",
            ))
        };
        let quoted = self
            .store
            .messages()
            .get(&caller.org_id, id)
            .await?
            .ok_or_else(not_in_chat)?;
        if quoted.session_id != session.id || quoted.contact_phone != to.as_str() {
            return Err(not_in_chat());
        }
        if quoted.direction == Direction::Outgoing && quoted.sent_at.is_none() {
            return Err(ParseError::new("quotedMessageId", "was not sent yet").into());
        }
        Ok(Quote::of(&quoted))
    }

    /// The organization's messages, newest first.
    pub async fn messages(
        &self,
        caller: &Caller,
        mut query: MessageSelection,
        page: PageRequest,
    ) -> AppResult<Page<Message>> {
        if let Some(name) = query.session_name.as_deref().filter(|s| !s.is_empty()) {
            query.filter.session = Some(find_session(&self.store, caller, name).await?.id);
        }
        Ok(self
            .store
            .messages()
            .list(&caller.org_id, &query.filter, page)
            .await?)
    }

    /// A message of the caller's organization and its media file.
    pub async fn media_of(&self, caller: &Caller, id: &str) -> AppResult<(Message, Vec<u8>)> {
        let message = self
            .store
            .messages()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let path = message.media_path.as_deref().ok_or(AppError::NotFound)?;
        let bytes = self.media.read(path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AppError::NotFound,
            _ => AppError::Store(wasl_store::StoreError::file("media", &e)),
        })?;
        Ok((message, bytes))
    }
}
