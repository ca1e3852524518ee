//! One connection attempt of a web session: one whatsapp-rust `Client`, used once.
//!
//! Two small tasks run it. The *driver* runs the client's connect-and-read loop (with the
//! crate's own reconnects off, so one pass is one attempt; wasl's supervisor owns the
//! backoff). The *pump* turns crate events into wasl's, in order: it reads messages and
//! downloads their media, and when the driver is done it reports the one `Disconnected`,
//! last. The crate's event handler runs inline on its read loop, so it only classifies and
//! queues; and it holds no reference to the client, so nothing keeps a finished client alive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use wasl_domain::PhoneNumber;
use wasl_engine::{
    Connection, DisconnectReason, EngineError, EngineEvent, EventSender, IncomingMessage,
    IncomingReaction, Media, OutgoingContent, OutgoingMessage, OutgoingReaction, SentMessage,
};
use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::prelude::{Bot, Client, Event, EventHandler, EventInterest, Jid};
use whatsapp_rust::store::traits::ProtocolStore;
use whatsapp_rust::{SendOptions, UploadOptions};

use crate::durability::Confirmations;
use crate::events::{interest, map_event, Mapped};
use crate::incoming::{phone, read_message, read_reaction, Incoming, Reaction, Sender};
use crate::outgoing::{media_message, media_type, quote_context, reaction_key, send_error};
use crate::transport::Opening;
use crate::WebStore;

/// Media larger than this is not downloaded (the message is still reported, without it):
/// it would sit whole in memory, and wasl's own limit for media is far below it.
pub const MAX_INCOMING_MEDIA: u64 = 64 * 1024 * 1024;

/// How long `close` and `logout` wait for the client to flush its state and stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a pairing-code request waits for the socket to be up.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(20);

/// What the pump is told, in the order it happened.
enum Input {
    Emit(Box<EngineEvent>),
    Online,
    Messages(Arc<Event>),
    /// The driver has finished: report how the connection ended.
    Finished,
}

/// Why the connection is ending, as far as anyone knows yet.
#[derive(Default)]
struct Ending {
    /// What wasl asked for (close or log out): it explains the end better than the events
    /// the crate sends while obeying.
    requested: Option<DisconnectReason>,
    /// The first terminal reason WhatsApp gave (logged out, replaced, banned…).
    terminal: Option<DisconnectReason>,
    /// The last network drop the crate reported.
    network: Option<String>,
    /// Pairing succeeded and the stream restart that follows it is still to come.
    paired: bool,
}

#[derive(Default)]
pub(crate) struct State {
    ending: Mutex<Ending>,
}

impl State {
    fn ending(&self) -> std::sync::MutexGuard<'_, Ending> {
        self.ending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note(&self, reason: DisconnectReason) {
        let mut ending = self.ending();
        match reason {
            DisconnectReason::Network(detail) => ending.network = Some(detail),
            terminal => {
                ending.terminal.get_or_insert(terminal);
            }
        }
    }

    fn request(&self, reason: DisconnectReason) {
        self.ending().requested.get_or_insert(reason);
    }

    /// Whether the driver should run the client once more: only for the stream restart
    /// that follows a successful pairing, and only once per pairing.
    fn take_restart(&self) -> bool {
        let mut ending = self.ending();
        let restart = ending.paired && ending.requested.is_none() && ending.terminal.is_none();
        ending.paired = false;
        restart
    }

    fn final_reason(&self, opening: &Opening) -> DisconnectReason {
        let ending = self.ending();
        if let Some(reason) = ending.requested.clone().or_else(|| ending.terminal.clone()) {
            return reason;
        }
        if let Some(detail) = &ending.network {
            return DisconnectReason::Network(detail.clone());
        }
        DisconnectReason::Network(match opening {
            Opening::Failed(detail) => detail.clone(),
            Opening::Opened => "the connection to WhatsApp closed during the handshake".into(),
            Opening::Refused => "the server did not prove it is WhatsApp: its certificate chain \
                                 is not one WhatsApp signed (or its keys are not the server's), \
                                 so wasl refused the handshake"
                .into(),
            Opening::NotTried => "could not reach WhatsApp".into(),
        })
    }
}

/// The crate's event handler: classifies inline, queues for the pump.
struct Forwarder {
    state: Arc<State>,
    queue: mpsc::UnboundedSender<Input>,
}

impl EventHandler for Forwarder {
    fn handle_event(&self, event: Arc<Event>) {
        let input = match map_event(&event) {
            Mapped::Ignore => return,
            Mapped::Paired => {
                self.state.ending().paired = true;
                return;
            }
            Mapped::Ends(reason) => {
                self.state.note(reason);
                return;
            }
            Mapped::Emit(events) => {
                for e in events {
                    let _ = self.queue.send(Input::Emit(Box::new(e)));
                }
                return;
            }
            Mapped::Online => Input::Online,
            Mapped::Messages => Input::Messages(event),
        };
        let _ = self.queue.send(input);
    }

    fn interest(&self) -> EventInterest {
        interest()
    }
}

/// Tells the pump the driver is done, however the driver ends (even by panic or abort), so
/// the `Disconnected` is always reported.
struct FinishOnDrop(mpsc::UnboundedSender<Input>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(Input::Finished);
    }
}

/// What a connection is started with.
pub(crate) struct Start {
    pub bot: Bot,
    pub store: Arc<WebStore>,
    /// Shared with the bot's durability hook (see `durability`).
    pub confirmations: Arc<Confirmations>,
    pub opening: Arc<Mutex<Opening>>,
    pub events: EventSender,
    pub known_phone: Option<PhoneNumber>,
}

pub struct WebConnection {
    client: Arc<Client>,
    state: Arc<State>,
    confirmations: Arc<Confirmations>,
    /// Becomes true once the `Disconnected` has been reported.
    finished: watch::Receiver<bool>,
}

impl WebConnection {
    /// The handler that must be registered on the bot before it is built: see [`Start`].
    pub(crate) fn handler() -> (impl EventHandler, Arc<State>, Queue) {
        let state = Arc::new(State::default());
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Forwarder {
                state: state.clone(),
                queue: tx.clone(),
            },
            state,
            Queue { tx, rx },
        )
    }

    /// Starts the attempt.
    pub(crate) fn start(start: Start, state: Arc<State>, queue: Queue) -> Arc<Self> {
        let client = start.bot.client();
        // One pass of the crate's loop is one attempt; the supervisor decides when to retry.
        client
            .enable_auto_reconnect
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let (done_tx, done_rx) = watch::channel(false);
        let Queue { tx, rx } = queue;
        tokio::spawn(pump(Pump {
            inputs: rx,
            client: client.clone(),
            store: start.store,
            confirmations: start.confirmations.clone(),
            events: start.events,
            state: state.clone(),
            opening: start.opening,
            known_phone: start.known_phone,
            done: done_tx,
        }));
        tokio::spawn(drive(start.bot, client.clone(), state.clone(), tx));
        Arc::new(WebConnection {
            client,
            state,
            confirmations: start.confirmations,
            finished: done_rx,
        })
    }

    /// Waits (bounded) until the connection has reported its end.
    pub(crate) async fn finished(&self) {
        let mut finished = self.finished.clone();
        let wait = finished.wait_for(|done| *done);
        if tokio::time::timeout(STOP_TIMEOUT, wait).await.is_err() {
            tracing::warn!("a web connection did not stop in time");
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        *self.finished.borrow()
    }

    /// Stops the client (it flushes its state first) and waits for the end to be reported.
    pub(crate) async fn stop(&self, reason: DisconnectReason) {
        self.state.request(reason);
        self.client.disconnect().await;
        self.finished().await;
    }

    fn require_online(&self) -> Result<(), EngineError> {
        if self.client.is_connected() && self.client.is_logged_in() && !self.is_finished() {
            Ok(())
        } else {
            Err(EngineError::NotConnected)
        }
    }
}

pub(crate) struct Queue {
    tx: mpsc::UnboundedSender<Input>,
    rx: mpsc::UnboundedReceiver<Input>,
}

async fn drive(
    bot: Bot,
    client: Arc<Client>,
    state: Arc<State>,
    queue: mpsc::UnboundedSender<Input>,
) {
    let _finish = FinishOnDrop(queue);
    bot.run().await;
    // After pairing WhatsApp restarts the stream (515): that is still this attempt.
    while state.take_restart() {
        client.run().await;
    }
}

struct Pump {
    inputs: mpsc::UnboundedReceiver<Input>,
    client: Arc<Client>,
    store: Arc<WebStore>,
    confirmations: Arc<Confirmations>,
    events: EventSender,
    state: Arc<State>,
    opening: Arc<Mutex<Opening>>,
    known_phone: Option<PhoneNumber>,
    done: watch::Sender<bool>,
}

async fn pump(mut p: Pump) {
    // The supervisor may already be gone (shutdown); nothing that matters is lost then.
    let emit = |event: EngineEvent| {
        let _ = p.events.send(event);
    };
    while let Some(input) = p.inputs.recv().await {
        match input {
            Input::Emit(event) => emit(*event),
            Input::Online => match linked_phone(&p.client).or_else(|| p.known_phone.clone()) {
                Some(phone_number) => emit(EngineEvent::Connected { phone_number }),
                None => tracing::error!("connected to WhatsApp, but the linked number is unknown"),
            },
            Input::Messages(event) => {
                if let Event::Messages(batch) = &*event {
                    for inbound in batch.iter() {
                        if let Some(reaction) = read_reaction(inbound) {
                            if p.confirmations.was_handed(&reaction.reaction_id) {
                                continue;
                            }
                            if let Some(reaction) = complete_reaction(reaction, &p.store).await {
                                emit(EngineEvent::Reaction(reaction));
                            }
                            continue;
                        }
                        let Some(incoming) = read_message(inbound) else {
                            continue;
                        };
                        // The durability hook handed it over before the crate acknowledged
                        // it; what reaches this event only is the rest (recoveries from the
                        // phone the hook never sees).
                        if p.confirmations.was_handed(&incoming.message_id) {
                            continue;
                        }
                        if let Some(message) = complete(incoming, &p.client, &p.store).await {
                            emit(EngineEvent::Message(message));
                        }
                    }
                }
            }
            Input::Finished => break,
        }
    }
    let opening = p.opening.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let reason = p.state.final_reason(&opening);
    emit(EngineEvent::Disconnected { reason });
    let _ = p.done.send(true);
}

fn linked_phone(client: &Client) -> Option<PhoneNumber> {
    client.pn().and_then(|jid| phone(&jid.user))
}

/// Resolves the sender's number and fetches the media. A message whose sender cannot be
/// told is dropped (logged): wasl keys conversations by number.
pub(crate) async fn complete(
    incoming: Incoming<'_>,
    client: &Client,
    store: &WebStore,
) -> Option<IncomingMessage> {
    let from = resolve(&incoming.sender, &incoming.message_id, store).await?;
    let media = match incoming.media {
        None => None,
        Some(media) => {
            let too_big = media
                .declared_size()
                .is_some_and(|size| size > MAX_INCOMING_MEDIA);
            if too_big {
                tracing::warn!(message_id = %incoming.message_id, "the media is too large to keep; the message is stored without it");
                None
            } else {
                match client.download(media.downloadable()).await {
                    Ok(bytes) => Some(Media {
                        bytes,
                        mime_type: media.mime_type(),
                        filename: media.filename(),
                    }),
                    Err(e) => {
                        tracing::warn!(message_id = %incoming.message_id, error = %format!("{e:#}"), "cannot download the media; the message is stored without it");
                        None
                    }
                }
            }
        }
    };
    Some(IncomingMessage {
        message_id: incoming.message_id,
        from,
        push_name: incoming.push_name,
        kind: incoming.kind,
        text: incoming.text,
        caption: incoming.caption,
        media,
        timestamp: incoming.timestamp,
        quote: incoming.quote,
    })
}

/// A customer's reaction with its sender's number, or `None` when the sender cannot be told.
pub(crate) async fn complete_reaction(
    reaction: Reaction,
    store: &WebStore,
) -> Option<IncomingReaction> {
    let from = resolve(&reaction.sender, &reaction.reaction_id, store).await?;
    Some(IncomingReaction {
        reaction_id: reaction.reaction_id,
        from,
        message_id: reaction.message_id,
        emoji: reaction.emoji,
        timestamp: reaction.timestamp,
    })
}

/// The sender's number: as the message carries it, or mapped from their LID (logged and
/// `None` when the LID is unknown).
async fn resolve(sender: &Sender, id: &str, store: &WebStore) -> Option<PhoneNumber> {
    match sender {
        Sender::Phone(phone) => Some(phone.clone()),
        Sender::Lid(lid) => match store.get_lid_mapping(lid).await {
            Ok(Some(entry)) => phone(&entry.phone_number),
            Ok(None) => {
                tracing::warn!(message_id = %id, "a message from an unknown LID was skipped");
                None
            }
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "cannot map the sender's LID");
                None
            }
        },
    }
}

use wasl_domain::time::now_millis;

#[async_trait]
impl Connection for WebConnection {
    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError> {
        self.require_online()?;
        let to = Jid::pn(message.to.as_str());
        let mut content = match message.content {
            OutgoingContent::Text(text) => {
                use whatsapp_rust::prelude::MessageBuilderExt;
                whatsapp_rust::prelude::wa::Message::text(text)
            }
            OutgoingContent::Media {
                kind,
                mut media,
                caption,
                ptt,
            } => {
                // Up to 16 MB: handed to the upload, not copied.
                let bytes = std::mem::take(&mut media.bytes);
                let upload = self
                    .client
                    .upload(bytes, media_type(kind)?, UploadOptions::default())
                    .await
                    .map_err(|e| EngineError::Transient(format!("media upload failed: {e:#}")))?;
                media_message(kind, upload, &media, caption, ptt)?
            }
        };
        if let Some(quote) = &message.quote {
            use whatsapp_rust::wacore::proto_helpers::MessageExt;
            let own = self.client.pn();
            content.set_context_info(quote_context(quote, &to, own.as_ref()));
        }
        // wasl's id, chosen before the first attempt: a retry re-sends the same message.
        let options = SendOptions::default().with_message_id(message.message_id);
        let sent = self
            .client
            .send_message_with_options(to, content, options)
            .await
            .map_err(send_error)?;
        Ok(SentMessage {
            message_id: sent.message_id,
            at: now_millis(),
        })
    }

    async fn react(&self, reaction: OutgoingReaction) -> Result<(), EngineError> {
        self.require_online()?;
        let chat = Jid::pn(reaction.chat.as_str());
        let key = reaction_key(&reaction, &chat);
        self.client
            .send_reaction(chat, key, &reaction.emoji)
            .await
            .map_err(send_error)?;
        Ok(())
    }

    async fn mark_read(
        &self,
        contact: &PhoneNumber,
        message_ids: &[String],
    ) -> Result<(), EngineError> {
        self.require_online()?;
        let chat = Jid::pn(contact.as_str());
        let ids: Vec<&str> = message_ids.iter().map(String::as_str).collect();
        self.client
            .mark_as_read(&chat, None, &ids)
            .await
            .map_err(|e| EngineError::Transient(format!("read receipt not sent: {e}")))
    }

    async fn pairing_code(&self, phone: &PhoneNumber) -> Result<String, EngineError> {
        if self.client.pn().is_some() {
            return Err(EngineError::InvalidState(
                "the session is already linked".into(),
            ));
        }
        if self.is_finished() {
            return Err(EngineError::NotConnected);
        }
        self.client
            .wait_for_socket(SOCKET_TIMEOUT)
            .await
            .map_err(|e| EngineError::Transient(format!("not connected to WhatsApp yet: {e}")))?;
        let code = self
            .client
            .pair_with_code(PairCodeOptions {
                phone_number: phone.as_str().to_owned(),
                ..Default::default()
            })
            .await
            .map_err(|e| match e.rejection() {
                Some(_) => EngineError::Rejected(e.to_string()),
                None => EngineError::Transient(e.to_string()),
            })?;
        Ok(dashed(&code))
    }

    async fn logout(&self) -> Result<(), EngineError> {
        self.state.request(DisconnectReason::LoggedOut);
        // Unlinks the device on the phone when the socket is up, then disconnects.
        self.client.logout().await;
        self.finished().await;
        Ok(())
    }

    async fn close(&self) {
        self.stop(DisconnectReason::Closed).await;
    }

    fn acknowledge(&self, message_id: &str) {
        self.confirmations.confirm(message_id);
    }
}

/// `ABCD-EFGH`, the way WhatsApp shows a pairing code.
fn dashed(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() == 8 {
        format!(
            "{}-{}",
            chars[..4].iter().collect::<String>(),
            chars[4..].iter().collect::<String>()
        )
    } else {
        code.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_codes_are_shown_in_two_halves() {
        assert_eq!(dashed("ABCD1234"), "ABCD-1234");
        assert_eq!(dashed("ABC"), "ABC");
    }

    #[test]
    fn the_end_is_explained_by_the_best_witness() {
        let state = State::default();
        let refused = Opening::Failed("connection refused".into());
        assert_eq!(
            state.final_reason(&refused),
            DisconnectReason::Network("connection refused".into())
        );
        state.note(DisconnectReason::Network("stream ended".into()));
        assert_eq!(
            state.final_reason(&Opening::Opened),
            DisconnectReason::Network("stream ended".into())
        );
        state.note(DisconnectReason::Replaced);
        state.note(DisconnectReason::LoggedOut);
        assert_eq!(
            state.final_reason(&Opening::Opened),
            DisconnectReason::Replaced
        );
        state.request(DisconnectReason::Closed);
        assert_eq!(
            state.final_reason(&Opening::Opened),
            DisconnectReason::Closed
        );
    }

    #[test]
    fn only_a_fresh_pairing_restarts_the_attempt_and_only_once() {
        let state = State::default();
        assert!(!state.take_restart());
        state.ending().paired = true;
        assert!(state.take_restart());
        assert!(!state.take_restart());
        state.ending().paired = true;
        state.request(DisconnectReason::Closed);
        assert!(!state.take_restart());
    }
}
