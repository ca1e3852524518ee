//! What the rest of wasl hears from sessions: state changes, QR codes, incoming messages,
//! receipts, and each new live connection (which starts the session's outbox worker).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;
use wasl_domain::{Session, SessionId};
use wasl_engine::{Connection, IncomingMessage, IncomingReaction, ReceiptStatus};

#[async_trait]
pub trait SessionObserver: Send + Sync + 'static {
    /// The session's stored state changed.
    async fn status(&self, session: &Session);
    /// A new pairing QR (PNG data URL) is showing.
    async fn qr(&self, session: &Session, qr_code: &str);
    /// A customer's message arrived on the session; `true` once it is durably stored (a
    /// message stored before counts), `false` when it could not be.
    async fn message(&self, session: &SessionId, message: IncomingMessage) -> bool;
    /// A customer reacted to a message; `true` once stored (or there was nothing to store: a
    /// message wasl does not have), `false` when it could not be stored now.
    async fn reaction(&self, session: &SessionId, reaction: IncomingReaction) -> bool;
    /// A message the session sent was delivered or read; `true` once that is stored (or
    /// there was nothing to store: an unknown message, a status already reached), `false`
    /// when it could not be stored now.
    async fn receipt(
        &self,
        session: &SessionId,
        message_id: &str,
        status: ReceiptStatus,
        at: i64,
    ) -> bool;
    /// The session is connected through `connection` until `stop` turns true.
    async fn connected(
        &self,
        session: &Session,
        connection: Arc<dyn Connection>,
        stop: watch::Receiver<bool>,
    );
}
