//! One simulated connection of a sandbox session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use rand::Rng;
use tokio::sync::oneshot;
use wasl_domain::{PhoneNumber, SessionId};

use super::log::{Sent, Transmission, TransmissionLog};
use super::SandboxConfig;
use crate::{
    Connection, DisconnectReason, EngineError, EngineEvent, EventSender, IncomingMessage,
    IncomingReaction, MessageKind, OutgoingContent, OutgoingMessage, OutgoingReaction,
    ReceiptStatus, SentMessage, SessionTarget,
};

struct LinkState {
    open: bool,
    phone: Option<PhoneNumber>,
    /// Customers' messages handed to wasl and not yet confirmed stored, by id.
    unconfirmed: HashMap<String, oneshot::Sender<()>>,
}

pub(super) struct SandboxLink {
    session: SessionId,
    events: EventSender,
    config: SandboxConfig,
    log: Arc<TransmissionLog>,
    state: Mutex<LinkState>,
}

use wasl_domain::time::now_millis;

impl SandboxLink {
    pub(super) fn open(
        target: &SessionTarget,
        events: EventSender,
        config: SandboxConfig,
        log: Arc<TransmissionLog>,
    ) -> Arc<Self> {
        let link = Arc::new(SandboxLink {
            session: target.id.clone(),
            events,
            config,
            log,
            state: Mutex::new(LinkState {
                open: true,
                phone: target.phone_number.clone(),
                unconfirmed: HashMap::new(),
            }),
        });
        match &target.phone_number {
            // Already paired: the stored credentials let it connect without a QR. The
            // recipients' phones then confirm what wasl has not stored the delivery of yet
            // (it was killed in between, or could not store it), as WhatsApp offers receipts
            // again to a device that comes back.
            Some(phone) => {
                link.emit(EngineEvent::Connected {
                    phone_number: phone.clone(),
                });
                for message_id in link.log.undelivered(&link.session) {
                    link.confirm_delivery_later(message_id);
                }
            }
            // The rotation holds only a weak reference, so it ends with the link.
            None => drop(tokio::spawn(rotate_qr(Arc::downgrade(&link)))),
        }
        link
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn is_open(&self) -> bool {
        self.state().open
    }

    fn emit(&self, event: EngineEvent) {
        // The supervisor may already have gone (shutdown); nothing is lost that matters then.
        let _ = self.events.send(event);
    }

    /// Ends the connection once; later calls do nothing.
    pub(super) fn end(&self, reason: DisconnectReason) {
        {
            let mut state = self.state();
            if !state.open {
                return;
            }
            state.open = false;
            // Whoever waits for these hears that they were not confirmed.
            state.unconfirmed.clear();
        }
        self.emit(EngineEvent::Disconnected { reason });
    }

    pub(super) fn pair(&self, phone: PhoneNumber) -> Result<(), EngineError> {
        {
            let mut state = self.state();
            if state.phone.is_some() {
                return Err(EngineError::InvalidState(
                    "the session is already linked".into(),
                ));
            }
            state.phone = Some(phone.clone());
        }
        self.emit(EngineEvent::Connected {
            phone_number: phone,
        });
        Ok(())
    }

    fn require_paired(&self) -> Result<(), EngineError> {
        let state = self.state();
        if state.open && state.phone.is_some() {
            Ok(())
        } else {
            Err(EngineError::NotConnected)
        }
    }

    /// Hands a customer's message to wasl; the receiver resolves once wasl has stored it
    /// (WhatsApp, too, keeps offering a message until the device acknowledges it).
    pub(super) fn deliver_incoming(
        &self,
        message: IncomingMessage,
    ) -> Result<oneshot::Receiver<()>, EngineError> {
        let id = message.message_id.clone();
        self.deliver(id, EngineEvent::Message(message))
    }

    /// Hands a customer's reaction to wasl, confirmed like a message.
    pub(super) fn deliver_reaction(
        &self,
        reaction: IncomingReaction,
    ) -> Result<oneshot::Receiver<()>, EngineError> {
        let id = reaction.reaction_id.clone();
        self.deliver(id, EngineEvent::Reaction(reaction))
    }

    fn deliver(
        &self,
        id: String,
        event: EngineEvent,
    ) -> Result<oneshot::Receiver<()>, EngineError> {
        self.require_paired()?;
        let (stored, confirmed) = oneshot::channel();
        self.state().unconfirmed.insert(id, stored);
        self.emit(event);
        Ok(confirmed)
    }

    /// The recipient's phone confirms delivery a moment later, if the link is still up. Until
    /// wasl acknowledges it stored the receipt, the log keeps the message as undelivered.
    fn confirm_delivery_later(&self, message_id: String) {
        if !self.is_open() {
            return;
        }
        let delay = self.config.delivery_delay;
        let events = self.events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = events.send(EngineEvent::Receipt {
                message_id,
                status: ReceiptStatus::Delivered,
                at: now_millis(),
            });
        });
    }

    pub(super) fn mark_read(&self, message_id: &str) -> Result<(), EngineError> {
        self.require_paired()?;
        if !self.log.was_sent(&self.session, message_id) {
            return Err(EngineError::Rejected(format!(
                "no message {message_id} was sent by this session"
            )));
        }
        self.emit(EngineEvent::Receipt {
            message_id: message_id.to_owned(),
            status: ReceiptStatus::Read,
            at: now_millis(),
        });
        Ok(())
    }
}

/// Shows a new QR every rotation period until the phone scans or pairing times out.
async fn rotate_qr(link: Weak<SandboxLink>) {
    let (rotation, count) = match link.upgrade() {
        Some(l) => (l.config.qr_rotation, l.config.qr_count),
        None => return,
    };
    for _ in 0..count {
        {
            let Some(link) = link.upgrade() else { return };
            let state = link.state();
            if !state.open || state.phone.is_some() {
                return;
            }
            drop(state);
            let token: u128 = rand::thread_rng().gen();
            link.emit(EngineEvent::Qr {
                code: format!("wasl-sandbox:{}:{token:032x}", link.session),
            });
        }
        tokio::time::sleep(rotation).await;
    }
    if let Some(link) = link.upgrade() {
        if link.state().phone.is_none() {
            link.end(DisconnectReason::QrTimeout);
        }
    }
}

#[async_trait]
impl Connection for SandboxLink {
    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError> {
        self.require_paired()?;
        let kind = match &message.content {
            OutgoingContent::Text(_) => MessageKind::Text,
            OutgoingContent::Media { kind, .. } => *kind,
        };
        let transmission = Transmission {
            message_id: message.message_id.clone(),
            to: message.to,
            kind,
            at: now_millis(),
        };
        let sent = match self.log.transmit(&self.session, transmission) {
            Ok(Sent::First { at }) => SentMessage {
                message_id: message.message_id,
                at,
            },
            // The same id again is a retry of something already on the wire: like WhatsApp,
            // the sandbox delivers it once.
            Ok(Sent::Repeat { first_at }) => {
                return Ok(SentMessage {
                    message_id: message.message_id,
                    at: first_at,
                })
            }
            Err(e) => {
                return Err(EngineError::Transient(format!(
                    "the sandbox cannot write its transmission log: {e}"
                )))
            }
        };
        self.confirm_delivery_later(sent.message_id.clone());
        Ok(sent)
    }

    /// The simulated phone takes any reaction while linked; like WhatsApp, it does not check
    /// that the message exists.
    async fn react(&self, reaction: OutgoingReaction) -> Result<(), EngineError> {
        self.require_paired()?;
        tracing::debug!(session = %self.session, message = %reaction.message_id, "sandbox reaction sent");
        Ok(())
    }

    async fn mark_read(
        &self,
        contact: &PhoneNumber,
        message_ids: &[String],
    ) -> Result<(), EngineError> {
        self.require_paired()?;
        // The simulated customer has no screen to show read ticks on; being paired is all
        // the sandbox checks, as it does for reactions.
        tracing::debug!(session = %self.session, contact = %contact, count = message_ids.len(), "sandbox read receipts sent");
        Ok(())
    }

    async fn pairing_code(&self, _phone: &PhoneNumber) -> Result<String, EngineError> {
        if self.state().phone.is_some() {
            return Err(EngineError::InvalidState(
                "the session is already linked".into(),
            ));
        }
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTVWXYZ23456789";
        let mut rng = rand::thread_rng();
        let code: String = (0..8)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect();
        Ok(format!("{}-{}", &code[..4], &code[4..]))
    }

    async fn logout(&self) -> Result<(), EngineError> {
        self.end(DisconnectReason::LoggedOut);
        Ok(())
    }

    async fn close(&self) {
        self.end(DisconnectReason::Closed);
    }

    fn acknowledge(&self, message_id: &str) {
        if let Some(waiting) = self.state().unconfirmed.remove(message_id) {
            let _ = waiting.send(());
        }
    }

    fn acknowledge_receipt(&self, message_id: &str, status: ReceiptStatus) {
        if status != ReceiptStatus::Delivered {
            return;
        }
        if let Err(e) = self.log.delivered(&self.session, message_id, now_millis()) {
            tracing::warn!(session = %self.session, error = %e, "the sandbox cannot note a stored delivery; it will confirm it again");
        }
    }
}
