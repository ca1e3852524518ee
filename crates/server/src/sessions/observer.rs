//! What the rest of wasl hears from sessions: state changes, incoming messages and receipts.
//! The messaging pipeline (storage, webhooks, live events) plugs in here.

use async_trait::async_trait;
use wasl_domain::{Session, SessionId};
use wasl_engine::{IncomingMessage, ReceiptStatus};

#[async_trait]
pub trait SessionObserver: Send + Sync + 'static {
    /// The session's stored state changed.
    async fn status(&self, session: &Session);
    /// A customer's message arrived on the session.
    async fn message(&self, session: &SessionId, message: IncomingMessage);
    /// A message the session sent was delivered or read.
    async fn receipt(&self, session: &SessionId, message_id: &str, status: ReceiptStatus, at: i64);
}

/// Writes what sessions report to the log. It is what runs until the messaging pipeline
/// (storage, webhooks, live events) is connected.
pub struct LoggingObserver;

#[async_trait]
impl SessionObserver for LoggingObserver {
    async fn status(&self, session: &Session) {
        tracing::debug!(session = %session.id, status = session.status.as_str(), "session status");
    }

    async fn message(&self, session: &SessionId, message: IncomingMessage) {
        tracing::info!(session = %session, message_id = %message.message_id, kind = message.kind.as_str(), "message received");
    }

    async fn receipt(
        &self,
        session: &SessionId,
        message_id: &str,
        status: ReceiptStatus,
        _at: i64,
    ) {
        tracing::debug!(session = %session, message_id, ?status, "receipt");
    }
}
