//! The messaging pipeline: accepting outgoing messages into the outbox, storing what sessions
//! receive (with media, contacts, conversations and events, in one transaction each), moving
//! statuses on receipts, and fanning events out to live listeners.

mod bus;
pub mod media;
mod outbox;
mod reaction;
mod read;
mod recorder;
mod send;
pub mod voice;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{watch, Notify};
use wasl_domain::{Direction, Message, MessageStatus, OrgId, PhoneNumber, Session, SessionId};
use wasl_engine::{
    Connection, EngineRegistry, IncomingMessage, IncomingReaction, MessageKind, ReceiptStatus,
};
use wasl_store::{
    EventRenderer, MessageRef, NewMessage, ReactionSide, RecordOutcome, StatusMove, Store,
    StoreError,
};

pub use bus::EventBus;
use media::MediaStore;
use recorder::Recorder;
pub use send::{MessageSelection, SendRequest};

use crate::clock::Clock;
use crate::sessions::SessionObserver;

/// How fast one session sends: a pause between messages, with jitter, so a number does not
/// look like a bot to WhatsApp (SPEC §10).
#[derive(Debug, Clone, Copy)]
pub struct SendPace {
    pub interval: Duration,
}

pub struct Messaging {
    store: Store,
    media: MediaStore,
    renderer: Arc<dyn EventRenderer>,
    bus: EventBus,
    /// What each session's engine allows (media limits), checked when a message is sent.
    engines: Arc<EngineRegistry>,
    pace: SendPace,
    /// Stamps what is stored and decides when the outbox sends.
    clock: Arc<dyn Clock>,
    recorder: Recorder,
    wakers: Mutex<HashMap<SessionId, Arc<Notify>>>,
    /// Who each session belongs to and its number, kept from the status changes the session
    /// manager reports, so storing an incoming message needs no session lookup.
    sessions: Mutex<HashMap<SessionId, SessionOwner>>,
    /// Told whenever a customer's message is stored: automation has something to consider.
    inbound: Arc<Notify>,
}

#[derive(Clone)]
struct SessionOwner {
    organization_id: OrgId,
    phone_number: Option<String>,
}

impl From<&Session> for SessionOwner {
    fn from(session: &Session) -> Self {
        SessionOwner {
            organization_id: session.organization_id.clone(),
            phone_number: session.phone_number.clone(),
        }
    }
}

/// An outgoing message as the API hands it over.
pub struct OutgoingDraft<'a> {
    pub session: &'a Session,
    /// The message this one replies to.
    pub quoted: Option<wasl_domain::Quote>,
    pub to: PhoneNumber,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub media: Option<wasl_engine::Media>,
    pub ptt: bool,
    pub idempotency_key: Option<String>,
    pub related_user: Option<String>,
    /// What sent it (an automation) and the template it was rendered from.
    pub metadata: wasl_domain::MessageMetadata,
}

/// What became of an accepted message.
pub enum Accepted {
    New(Message),
    /// The idempotency key was used before, for the same request: the first result.
    Existing(Message),
    /// The idempotency key was used before for another request: nothing was sent.
    KeyReused,
}

/// The answer to a key used before: the first message when the request is the same one again
/// (a key from before digests were kept counts as the same), else the refusal.
fn replay(first: (Message, Option<String>), fingerprint: Option<&str>) -> Accepted {
    match first {
        (_, Some(stored)) if Some(stored.as_str()) != fingerprint => Accepted::KeyReused,
        (message, _) => Accepted::Existing(message),
    }
}

/// A digest of what a send asks for: the session, recipient, type, texts and file. Two
/// requests with one `Idempotency-Key` are the same request when their digests are equal.
fn fingerprint(draft: &OutgoingDraft<'_>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let mut field = |value: &[u8]| {
        // Length-prefixed, so that no two different requests run together into the same bytes.
        hash.update((value.len() as u64).to_be_bytes());
        hash.update(value);
    };
    field(b"send-v1");
    field(draft.session.id.as_str().as_bytes());
    field(draft.to.as_str().as_bytes());
    field(draft.kind.as_str().as_bytes());
    field(draft.text.as_deref().unwrap_or("").as_bytes());
    field(draft.caption.as_deref().unwrap_or("").as_bytes());
    field(&[u8::from(draft.ptt)]);
    field(
        draft
            .quoted
            .as_ref()
            .map_or("", |q| q.message_id.as_str())
            .as_bytes(),
    );
    match &draft.media {
        Some(media) => {
            field(&Sha256::digest(&media.bytes));
            field(media.filename.as_deref().unwrap_or("").as_bytes());
        }
        None => field(b""),
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Messaging {
    pub fn new(
        store: Store,
        media: MediaStore,
        renderer: Arc<dyn EventRenderer>,
        bus: EventBus,
        engines: Arc<EngineRegistry>,
        pace: SendPace,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let recorder = Recorder::start(store.clone(), renderer.clone());
        Messaging {
            store,
            media,
            renderer,
            bus,
            engines,
            pace,
            clock,
            recorder,
            wakers: Mutex::default(),
            sessions: Mutex::default(),
            inbound: Arc::default(),
        }
    }

    /// What automation waits on: told whenever a customer's message is stored.
    pub fn inbound_signal(&self) -> Arc<Notify> {
        self.inbound.clone()
    }

    /// Wakes the session's outbox worker: something was put in its outbox.
    pub(crate) fn wake_outbox(&self, session: &SessionId) {
        self.waker(session).notify_one();
    }

    pub(crate) fn renderer(&self) -> &Arc<dyn EventRenderer> {
        &self.renderer
    }

    pub(crate) fn engines(&self) -> &EngineRegistry {
        &self.engines
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    /// Removes the media files of messages deleted for good (a deleted session's).
    pub async fn forget_media(&self, paths: &[String]) {
        for path in paths {
            self.media.remove(path).await;
        }
    }

    /// The organization's events after `since` (oldest first, at most `limit`), for a live
    /// socket that resumes where it left off.
    pub async fn events_after(
        &self,
        org: &OrgId,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Vec<wasl_store::StoredEvent>, StoreError> {
        self.store.events().after(org, since, limit).await
    }

    fn waker(&self, session: &SessionId) -> Arc<Notify> {
        self.wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(session.clone())
            .or_default()
            .clone()
    }

    /// Stores the message in the outbox (status `pending`) and wakes the session's sender.
    /// When this returns, the message survives a crash and will be sent exactly once.
    pub async fn accept(&self, draft: OutgoingDraft<'_>) -> Result<Accepted, StoreError> {
        let org = draft.session.organization_id.clone();
        let fingerprint = draft.idempotency_key.as_ref().map(|_| fingerprint(&draft));
        if let Some(key) = &draft.idempotency_key {
            if let Some(first) = self.store.messages().by_idempotency_key(&org, key).await? {
                return Ok(replay(first, fingerprint.as_deref()));
            }
        }
        let key = draft.idempotency_key.clone();
        let item = self.prepare(draft, fingerprint.clone()).await?;
        let media_path = item.message.media_path.clone();
        match self.recorder.record(item).await {
            Ok(RecordOutcome::Stored(recorded)) => {
                self.bus.publish(recorded.events);
                self.waker(&recorded.message.session_id).notify_one();
                Ok(Accepted::New(recorded.message))
            }
            Ok(RecordOutcome::Duplicate) => Err(StoreError::Corrupt(
                "a new message id was already taken".into(),
            )),
            Ok(RecordOutcome::IdempotencyTaken) => {
                if let Some(path) = &media_path {
                    self.media.remove(path).await;
                }
                let key = key.unwrap_or_default();
                let first = self.store.messages().by_idempotency_key(&org, &key).await?;
                first
                    .map(|first| replay(first, fingerprint.as_deref()))
                    .ok_or(StoreError::Conflict(wasl_store::Conflict::IdempotencyKey))
            }
            Err(e) => {
                if let Some(path) = &media_path {
                    self.media.remove(path).await;
                }
                Err(e)
            }
        }
    }

    /// The message a draft is, ready to record: its id and WhatsApp id chosen, its file
    /// saved under its id.
    pub(crate) async fn prepare(
        &self,
        draft: OutgoingDraft<'_>,
        fingerprint: Option<String>,
    ) -> Result<NewMessage, StoreError> {
        let org = &draft.session.organization_id;
        let id = uuid::Uuid::now_v7().to_string();
        let (media_path, mime_type, filename, media_size) = match &draft.media {
            Some(m) => {
                let path = self
                    .media
                    .save(org, &id, &m.bytes)
                    .await
                    .map_err(|e| StoreError::file("media", &e))?;
                (
                    Some(path),
                    Some(m.mime_type.clone()),
                    m.filename.clone(),
                    i64::try_from(m.bytes.len()).ok(),
                )
            }
            None => (None, None, None, None),
        };
        let message = Message {
            id,
            organization_id: org.clone(),
            session_id: draft.session.id.clone(),
            message_id: wasl_engine::new_message_id(),
            contact_id: String::new(),
            contact_phone: draft.to.as_str().to_owned(),
            from: draft.session.phone_number.clone().unwrap_or_default(),
            to: draft.to.as_str().to_owned(),
            direction: Direction::Outgoing,
            kind: draft.kind.as_str().to_owned(),
            text: draft.text,
            caption: draft.caption,
            media_path,
            mime_type,
            filename,
            media_size,
            ptt: draft.ptt,
            status: MessageStatus::Pending,
            sent_at: None,
            delivered_at: None,
            read_at: None,
            error_message: None,
            idempotency_key: draft.idempotency_key.clone(),
            attempts: 0,
            related_user: draft.related_user,
            created_at: self.clock.now_millis(),
            quoted: draft.quoted,
            reactions: wasl_domain::Reactions::default(),
            metadata: draft.metadata,
        };
        Ok(NewMessage {
            message,
            push_name: None,
            new_contact_id: uuid::Uuid::now_v7().to_string(),
            idempotency_fingerprint: fingerprint,
        })
    }

    /// The session's organization and number, from memory when the session manager has
    /// reported it, else from the store.
    async fn session_owner(&self, id: &SessionId) -> Result<Option<SessionOwner>, StoreError> {
        if let Some(owner) = self.sessions_cache().get(id) {
            return Ok(Some(owner.clone()));
        }
        let Some(session) = self.store.sessions().by_id(id).await? else {
            return Ok(None);
        };
        let owner = SessionOwner::from(&session);
        self.sessions_cache().insert(id.clone(), owner.clone());
        Ok(Some(owner))
    }

    fn sessions_cache(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, SessionOwner>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn record_incoming(
        &self,
        session_id: &SessionId,
        incoming: IncomingMessage,
    ) -> Result<(), StoreError> {
        let Some(session) = self.session_owner(session_id).await? else {
            return Ok(());
        };
        let mut incoming = safe_to_store(incoming);
        let quoted = match incoming.quote.take() {
            Some(quote) => Some(self.quote_of(session_id, quote).await?),
            None => None,
        };
        let id = uuid::Uuid::now_v7().to_string();
        let (media_path, mime_type, filename, media_size) = match &incoming.media {
            Some(m) => {
                let (kind, mime) = media::incoming_type(incoming.kind, &m.mime_type, &m.bytes);
                incoming.kind = kind;
                let path = self
                    .media
                    .save(&session.organization_id, &id, &m.bytes)
                    .await
                    .map_err(|e| StoreError::file("media", &e))?;
                (
                    Some(path),
                    Some(mime),
                    m.filename.clone(),
                    i64::try_from(m.bytes.len()).ok(),
                )
            }
            None => (None, None, None, None),
        };
        let message = Message {
            id,
            organization_id: session.organization_id.clone(),
            session_id: session_id.clone(),
            message_id: incoming.message_id,
            contact_id: String::new(),
            contact_phone: incoming.from.as_str().to_owned(),
            from: incoming.from.as_str().to_owned(),
            to: session.phone_number.clone().unwrap_or_default(),
            direction: Direction::Incoming,
            kind: incoming.kind.as_str().to_owned(),
            text: incoming.text,
            caption: incoming.caption,
            media_path: media_path.clone(),
            mime_type,
            filename,
            media_size,
            ptt: false,
            status: MessageStatus::Delivered,
            sent_at: Some(incoming.timestamp),
            delivered_at: Some(self.clock.now_millis()),
            read_at: None,
            error_message: None,
            idempotency_key: None,
            attempts: 0,
            related_user: None,
            created_at: self.clock.now_millis(),
            quoted,
            reactions: wasl_domain::Reactions::default(),
            metadata: wasl_domain::MessageMetadata::default(),
        };
        let item = NewMessage {
            message,
            push_name: incoming.push_name,
            new_contact_id: uuid::Uuid::now_v7().to_string(),
            idempotency_fingerprint: None,
        };
        let result = match self.recorder.record(item).await {
            Ok(RecordOutcome::Stored(recorded)) => {
                self.bus.publish(recorded.events);
                self.inbound.notify_one();
                return Ok(());
            }
            Ok(RecordOutcome::Duplicate | RecordOutcome::IdempotencyTaken) => {
                tracing::debug!(session = %session_id, "duplicate incoming message ignored");
                Ok(())
            }
            Err(e) => Err(e),
        };
        // Not stored (a duplicate, or an error the caller retries): its media file goes.
        if let Some(path) = &media_path {
            self.media.remove(path).await;
        }
        result
    }

    /// What a customer's reply quotes: the stored message when wasl has it (the reply's copy
    /// may be partial), else what the reply carries.
    async fn quote_of(
        &self,
        session: &SessionId,
        quote: wasl_engine::QuotedMessage,
    ) -> Result<wasl_domain::Quote, StoreError> {
        if let Some(original) = self
            .store
            .messages()
            .by_whatsapp_id(session, &quote.message_id)
            .await?
        {
            return Ok(wasl_domain::Quote::of(&original));
        }
        Ok(wasl_domain::Quote {
            id: None,
            message_id: quote.message_id,
            direction: if quote.from_me {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            kind: quote.kind.as_str().to_owned(),
            text: wasl_domain::Quote::cut(quote.text.as_deref()),
        })
    }

    async fn record_session_event(&self, org: &OrgId, kind: &str, payload: serde_json::Value) {
        match self.store.events().record(org, kind, payload).await {
            Ok(event) => self.bus.publish([event]),
            Err(e) => tracing::error!(error = %e, kind, "cannot record the session event"),
        }
    }
}

/// What a customer's app sent, made safe to store and show whichever engine brought it: no
/// NUL in any text (PostgreSQL refuses them, and the message would never be stored), and a
/// document's name cleaned like an uploaded one.
fn safe_to_store(mut m: IncomingMessage) -> IncomingMessage {
    use wasl_domain::text::{clean_filename, storable};
    m.message_id = storable(m.message_id);
    m.push_name = m.push_name.map(storable).filter(|n| !n.trim().is_empty());
    m.text = m.text.map(storable);
    m.caption = m.caption.map(storable);
    if let Some(quote) = &mut m.quote {
        quote.message_id = storable(std::mem::take(&mut quote.message_id));
        quote.text = quote.text.take().map(storable);
    }
    if let Some(media) = &mut m.media {
        media.mime_type = std::mem::take(&mut media.mime_type)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        media.filename = media.filename.as_deref().and_then(clean_filename);
    }
    m
}

#[async_trait]
impl SessionObserver for Messaging {
    async fn status(&self, session: &Session) {
        self.sessions_cache()
            .insert(session.id.clone(), SessionOwner::from(session));
        self.record_session_event(
            &session.organization_id,
            "session.status",
            self.renderer.session(session, None),
        )
        .await;
    }

    async fn qr(&self, session: &Session, qr_code: &str) {
        self.record_session_event(
            &session.organization_id,
            "session.qr",
            self.renderer.session(session, Some(qr_code)),
        )
        .await;
    }

    async fn message(&self, session: &SessionId, message: IncomingMessage) -> bool {
        // Storing is retried a few times. A message that still cannot be stored is not
        // acknowledged to WhatsApp (the engine is told so), which offers it again later.
        for attempt in 0..5u32 {
            match self.record_incoming(session, message.clone()).await {
                Ok(()) => return true,
                Err(e) => {
                    tracing::error!(session = %session, error = %e, attempt, "cannot store an incoming message; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
                }
            }
        }
        tracing::error!(session = %session, message_id = %message.message_id, "an incoming message could not be stored; it is not acknowledged");
        false
    }

    async fn reaction(&self, session: &SessionId, reaction: IncomingReaction) -> bool {
        use wasl_domain::text::storable;
        let emoji = Some(storable(reaction.emoji)).filter(|e| !e.is_empty());
        let target = MessageRef::WhatsApp {
            session: session.clone(),
            message_id: storable(reaction.message_id),
        };
        match self
            .store
            .messages()
            .react(
                &target,
                ReactionSide::Customer,
                Some(reaction.from.as_str()),
                emoji.as_deref(),
                self.clock.now_millis(),
                self.renderer.as_ref(),
            )
            .await
        {
            Ok(Some((_, event))) => {
                self.bus.publish([event]);
                true
            }
            // A reaction to a message wasl never had: nothing to show it on.
            Ok(None) => true,
            Err(e) => {
                tracing::error!(session = %session, error = %e, "cannot store a reaction; it is not acknowledged");
                false
            }
        }
    }

    async fn receipt(
        &self,
        session: &SessionId,
        message_id: &str,
        status: ReceiptStatus,
        at: i64,
    ) -> bool {
        let status = match status {
            ReceiptStatus::Delivered => MessageStatus::Delivered,
            ReceiptStatus::Read => MessageStatus::Read,
        };
        match self
            .recorder
            .move_status(StatusMove::receipt(session, message_id, status, at))
            .await
        {
            Ok(moved) => {
                if let Some((_, events)) = moved {
                    self.bus.publish(events);
                }
                true
            }
            Err(e) => {
                tracing::error!(session = %session, error = %e, "cannot apply a receipt; it is not acknowledged");
                false
            }
        }
    }

    async fn connected(
        &self,
        session: &Session,
        connection: Arc<dyn Connection>,
        stop: watch::Receiver<bool>,
    ) {
        let waker = self.waker(&session.id);
        let worker = outbox::Worker {
            store: self.store.clone(),
            recorder: self.recorder.clone(),
            media: self.media.clone(),
            bus: self.bus.clone(),
            pace: self.pace,
            clock: self.clock.clone(),
        };
        tokio::spawn(outbox::run(
            worker,
            session.clone(),
            connection,
            waker,
            stop,
        ));
    }
}
