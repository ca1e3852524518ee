//! The WebSocket the crate connects through, with one addition: it remembers why opening it
//! failed. The crate only logs a failed connect, and a session's status should say why it
//! is not connecting ("connection refused", a TLS error…), not just that it is not.

use std::sync::{Arc, Mutex};

use whatsapp_rust::async_channel::Receiver;
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
        result
    }
}
