//! The WebSocket the crate connects through, with one addition: it remembers why opening it
//! failed. The crate only logs a failed connect, and a session's status should say why it
//! is not connecting ("connection refused", a TLS error, a server whose certificate is not
//! WhatsApp's…), not just that it is not.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use whatsapp_rust::async_channel::{self, Receiver};
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::transport::{
    TokioWebSocketTransportFactory, Transport, TransportEvent, TransportFactory,
};

/// How far the last attempt to open the socket got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Opening {
    #[default]
    NotTried,
    Failed(String),
    Opened,
    /// The server answered the client's hello and the client hung up instead of finishing
    /// the handshake: the answer did not verify (a certificate chain WhatsApp did not sign,
    /// or keys that are not the server's).
    Refused,
}

/// How many transport events wait between the socket and the crate.
const EVENTS_BUFFERED: usize = 32;

/// Watches the handshake from outside: the frames the client sends, whether the server has
/// answered, and who hangs up. The crate sends its hello as one frame and, if the server's
/// answer verifies, its finish as the next; it hangs up after its hello only when the
/// answer did not verify (a silent server ends by timeout, with no answer).
struct Watched {
    inner: Arc<dyn Transport>,
    sent: AtomicUsize,
    answered: Arc<AtomicBool>,
    opening: Arc<Mutex<Opening>>,
}

#[whatsapp_rust::async_trait]
impl Transport for Watched {
    async fn send(&self, data: Bytes) -> Result<(), whatsapp_rust::anyhow::Error> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.send(data).await
    }

    async fn disconnect(&self) {
        if self.sent.load(Ordering::Relaxed) == 1 && self.answered.load(Ordering::Relaxed) {
            *self.opening.lock().unwrap_or_else(|e| e.into_inner()) = Opening::Refused;
        }
        self.inner.disconnect().await;
    }

    fn resource_report(&self) -> Option<whatsapp_rust::wacore::stats::TransportResourceReport> {
        self.inner.resource_report()
    }
}

pub struct RecordingTransport {
    /// Shared by every connection of the engine: the factory holds the TLS configuration
    /// (the root certificates), which is built once instead of once per attempt.
    inner: Arc<TokioWebSocketTransportFactory>,
    opening: Arc<Mutex<Opening>>,
}

impl RecordingTransport {
    pub fn new(inner: Arc<TokioWebSocketTransportFactory>) -> (Self, Arc<Mutex<Opening>>) {
        let opening = Arc::new(Mutex::new(Opening::NotTried));
        (
            Self {
                inner,
                opening: opening.clone(),
            },
            opening,
        )
    }
}

#[whatsapp_rust::async_trait]
impl TransportFactory for RecordingTransport {
    async fn create_transport(
        &self,
    ) -> Result<(Arc<dyn Transport>, Receiver<TransportEvent>), whatsapp_rust::anyhow::Error> {
        let result = self.inner.create_transport().await;
        let outcome = match &result {
            Ok(_) => Opening::Opened,
            // `{:#}` keeps the cause chain: "WebSocket connect failed: … Connection refused".
            Err(e) => Opening::Failed(format!("{e:#}")),
        };
        *self.opening.lock().unwrap_or_else(|e| e.into_inner()) = outcome;
        let (inner, events) = result?;
        let answered = Arc::new(AtomicBool::new(false));
        let (tx, rx) = async_channel::bounded(EVENTS_BUFFERED);
        let seen = answered.clone();
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                if matches!(event, TransportEvent::DataReceived(_)) {
                    seen.store(true, Ordering::Relaxed);
                }
                if tx.send(event).await.is_err() {
                    break;
                }
            }
        });
        let watched = Watched {
            inner,
            sent: AtomicUsize::new(0),
            answered,
            opening: self.opening.clone(),
        };
        Ok((Arc::new(watched), rx))
    }
}
