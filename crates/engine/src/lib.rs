//! The engine layer: one interface for every way wasl speaks WhatsApp, so the rest of the
//! product never knows which engine a session runs on. An engine opens a *connection* for a
//! session; the connection reports what happens as [`EngineEvent`]s and takes messages to send.
#![forbid(unsafe_code)]

mod capabilities;
mod event;
mod message;
pub mod qr;
mod registry;
pub mod sandbox;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use wasl_domain::{EngineKind, PhoneNumber, SessionId};

pub use capabilities::{Capabilities, Linking, MediaLimits, MessageIds, WHATSAPP_MEDIA_BYTES};
pub use event::{DisconnectReason, EngineEvent, ReceiptStatus};
pub use message::{
    IncomingMessage, IncomingReaction, Media, MessageKind, OutgoingContent, OutgoingMessage,
    OutgoingReaction, QuotedMessage, SentMessage,
};
pub use registry::EngineRegistry;

/// A new id for an outgoing message, shaped like WhatsApp Web's own (`3EB0` + 16 hex digits).
pub fn new_message_id() -> String {
    use rand::Rng;
    format!("3EB0{:016X}", rand::thread_rng().gen::<u64>())
}

/// Where a connection sends its events. Unbounded on purpose: an engine must never block on a
/// slow consumer while WhatsApp is talking to it; the session supervisor drains it promptly.
pub type EventSender = mpsc::UnboundedSender<EngineEvent>;
pub type EventReceiver = mpsc::UnboundedReceiver<EngineEvent>;

/// What an engine needs to know to connect a session.
#[derive(Debug, Clone)]
pub struct SessionTarget {
    pub id: SessionId,
    /// The linked number, once the session has been paired.
    pub phone_number: Option<PhoneNumber>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The session is not connected right now; sending may succeed later.
    #[error("not connected")]
    NotConnected,
    /// A temporary failure (network, timeout): retrying may work.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// WhatsApp refused this for good (invalid recipient, media rejected…).
    #[error("rejected: {0}")]
    Rejected(String),
    /// The operation makes no sense in the connection's state (e.g. a pairing code once linked).
    #[error("not possible now: {0}")]
    InvalidState(String),
    #[error("engine failure: {0}")]
    Internal(String),
}

/// One way of speaking WhatsApp.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    fn kind(&self) -> EngineKind;

    /// What sessions of this engine can do (linking methods, media limits, who picks ids).
    fn capabilities(&self) -> Capabilities;

    /// Makes one connection attempt for the session. Events arrive on `events` until the
    /// connection ends, which it reports with exactly one [`EngineEvent::Disconnected`].
    /// An error means the attempt failed before a connection existed.
    async fn connect(
        &self,
        target: &SessionTarget,
        events: EventSender,
    ) -> Result<Arc<dyn Connection>, EngineError>;

    /// Forgets everything the engine stored for the session (after a log-out), so the next
    /// connection pairs from scratch.
    async fn forget(&self, session: &SessionId) -> Result<(), EngineError>;
}

/// A live connection of one session.
#[async_trait]
pub trait Connection: Send + Sync {
    /// Sends a message; returns WhatsApp's id for it once the server has accepted it. An
    /// engine whose ids are [`MessageIds::ChosenByWasl`] sends under `message.message_id` and
    /// returns it; one whose server assigns ids returns the assigned one.
    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError>;

    /// Reacts to a message of a chat as the business, or removes the business's reaction
    /// (an empty emoji). Returns once WhatsApp has accepted it.
    async fn react(&self, reaction: OutgoingReaction) -> Result<(), EngineError>;

    /// The business has read the customer's messages `message_ids` (WhatsApp's ids) in the
    /// chat with `contact`: tells WhatsApp, which shows the customer that they were read.
    /// Returns once WhatsApp has accepted it.
    async fn mark_read(
        &self,
        contact: &PhoneNumber,
        message_ids: &[String],
    ) -> Result<(), EngineError>;

    /// Asks for a code to link by phone number instead of the QR (before pairing only).
    async fn pairing_code(&self, phone: &PhoneNumber) -> Result<String, EngineError>;

    /// Logs the device out of WhatsApp; the connection then ends as `LoggedOut`.
    async fn logout(&self) -> Result<(), EngineError>;

    /// Closes the connection without logging out (shutdown); it can be resumed later.
    async fn close(&self);

    /// wasl has durably stored the customer's message `message_id`: the engine may confirm
    /// its receipt to WhatsApp, which otherwise offers it again later.
    fn acknowledge(&self, message_id: &str) {
        let _ = message_id;
    }

    /// wasl has durably stored the receipt (`status`) of the message `message_id` it sent: an
    /// engine that keeps receipts until they are taken (the sandbox's simulated phone, like
    /// WhatsApp's server) may stop offering it again.
    fn acknowledge_receipt(&self, message_id: &str, status: ReceiptStatus) {
        let _ = (message_id, status);
    }
}
