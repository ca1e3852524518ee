//! The sandbox engine: a simulated WhatsApp built into wasl, so anyone can try the product and
//! integrators can test against it without a phone or the internet (SPEC §4). It behaves like
//! the real thing where it matters: a real QR to scan, a number that connects, messages that
//! get `delivered` receipts, customers who write and read, connections that drop and resume.
//!
//! The "phone" side is driven by [`SandboxEngine`]'s control methods (`scan`, `incoming`,
//! `read`, `drop_connection`), exposed over HTTP by the server.

mod link;
pub mod log;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use wasl_domain::{EngineKind, PhoneNumber, SessionId};

use crate::{
    Capabilities, Connection, Engine, EngineError, EventSender, IncomingMessage, IncomingReaction,
    Linking, MediaLimits, MessageIds, SessionTarget, WHATSAPP_MEDIA_BYTES,
};
use link::SandboxLink;
pub use log::{Transmission, TransmissionLog};

#[derive(Debug, Clone, Copy)]
pub struct SandboxConfig {
    /// How long after sending the simulated recipient's phone confirms delivery.
    pub delivery_delay: Duration,
    /// How often a new QR replaces the current one while nobody scans.
    pub qr_rotation: Duration,
    /// How many QRs are shown before pairing gives up (like WhatsApp Web's QR timeout).
    pub qr_count: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            delivery_delay: Duration::from_millis(300),
            qr_rotation: Duration::from_secs(20),
            qr_count: 15,
        }
    }
}

/// How long a simulated customer's message waits for wasl to confirm it stored it.
const STORE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct SandboxEngine {
    config: SandboxConfig,
    log: Arc<TransmissionLog>,
    links: Mutex<HashMap<SessionId, Arc<SandboxLink>>>,
}

impl SandboxEngine {
    /// A sandbox whose transmissions are remembered in memory only.
    pub fn new(config: SandboxConfig) -> Self {
        Self::with_log(config, TransmissionLog::in_memory())
    }

    /// A sandbox that writes what it transmits to `log` (see [`log`]).
    pub fn with_log(config: SandboxConfig, log: TransmissionLog) -> Self {
        SandboxEngine {
            config,
            log: Arc::new(log),
            links: Mutex::default(),
        }
    }

    fn link(&self, session: &SessionId) -> Result<Arc<SandboxLink>, EngineError> {
        self.links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(session)
            .filter(|link| link.is_open())
            .cloned()
            .ok_or(EngineError::NotConnected)
    }

    /// The phone scans the session's QR: the session connects as `phone`.
    pub fn scan(&self, session: &SessionId, phone: PhoneNumber) -> Result<(), EngineError> {
        self.link(session)?.pair(phone)
    }

    /// A customer writes to the session's number; returns once wasl has stored the message.
    /// A message that is not confirmed in time (or whose connection broke meanwhile) is
    /// `Transient`: the customer's phone would send it again, with the same id.
    pub async fn incoming(
        &self,
        session: &SessionId,
        message: IncomingMessage,
    ) -> Result<(), EngineError> {
        let confirmed = self.link(session)?.deliver_incoming(message)?;
        confirmation(confirmed).await
    }

    /// A customer reacts to a message; returns once wasl has stored the reaction.
    pub async fn reaction(
        &self,
        session: &SessionId,
        reaction: IncomingReaction,
    ) -> Result<(), EngineError> {
        let confirmed = self.link(session)?.deliver_reaction(reaction)?;
        confirmation(confirmed).await
    }

    /// The customer reads a message the session sent.
    pub fn read(&self, session: &SessionId, message_id: &str) -> Result<(), EngineError> {
        self.link(session)?.mark_read(message_id)
    }

    /// The connection breaks, as a network failure would break it.
    pub fn drop_connection(&self, session: &SessionId) -> Result<(), EngineError> {
        let link = self.link(session)?;
        link.end(crate::DisconnectReason::Network(
            "the sandbox connection was dropped".into(),
        ));
        Ok(())
    }
}

/// What became of something handed to wasl: stored, or to be sent again with the same id.
async fn confirmation(confirmed: tokio::sync::oneshot::Receiver<()>) -> Result<(), EngineError> {
    match tokio::time::timeout(STORE_TIMEOUT, confirmed).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(EngineError::Transient(
            "the connection ended before wasl confirmed the message".into(),
        )),
        Err(_) => Err(EngineError::Transient(
            "wasl did not confirm the message in time".into(),
        )),
    }
}

#[async_trait]
impl Engine for SandboxEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Sandbox
    }

    /// Like WhatsApp Web, which it stands in for.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            linking: Linking {
                qr: true,
                pairing_code: true,
                credentials: false,
            },
            media_limits: MediaLimits::all(WHATSAPP_MEDIA_BYTES),
            message_ids: MessageIds::ChosenByWasl,
            service_window: false,
            templates: false,
        }
    }

    async fn connect(
        &self,
        target: &SessionTarget,
        events: EventSender,
    ) -> Result<Arc<dyn Connection>, EngineError> {
        let link = SandboxLink::open(target, events, self.config, self.log.clone());
        if let Some(old) = self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(target.id.clone(), link.clone())
        {
            old.end(crate::DisconnectReason::Replaced);
        }
        Ok(link)
    }

    async fn forget(&self, session: &SessionId) -> Result<(), EngineError> {
        if let Some(link) = self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(session)
        {
            link.end(crate::DisconnectReason::LoggedOut);
        }
        self.log.forget(session);
        Ok(())
    }
}
