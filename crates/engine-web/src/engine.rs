//! The `web` engine: each connect builds one whatsapp-rust `Bot` on the session's
//! [`WebStore`] and runs it for one attempt (see `connection`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use wasl_domain::{EngineKind, SessionId};
use wasl_engine::{
    Capabilities, Connection, DisconnectReason, Engine, EngineError, EventSender, Linking,
    MediaLimits, MessageIds, SessionTarget, WHATSAPP_MEDIA_BYTES,
};
use wasl_store::cipher::Cipher;
use wasl_store::Store;
use whatsapp_rust::http::UreqHttpClient;
use whatsapp_rust::prelude::Bot;
use whatsapp_rust::transport::{default_tls_connector, TokioWebSocketTransportFactory};

use crate::connection::{Start, WebConnection, MAX_INCOMING_MEDIA};
use crate::durability::{Confirmations, StoreFirst};
use crate::media_http::MediaHttp;
use crate::transport::RecordingTransport;
use crate::WebStore;

/// The WhatsApp Web version a device starts with in whatsapp-rust 0.7. Announced when wasl
/// talks to a stand-in server (tests, benchmarks), which has no version document to fetch.
const BUNDLED_VERSION: (u32, u32, u32) = (2, 3000, 1_042_742_319);

#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Where to connect instead of WhatsApp (tests and benchmarks only).
    pub socket_url: Option<String>,
}

pub struct WebEngine {
    store: Store,
    cipher: Arc<Cipher>,
    /// Shared by all sessions: it holds the TLS roots, built once rather than per attempt.
    transport: Arc<TokioWebSocketTransportFactory>,
    /// Shared too (it is a handle on one connection pool); downloads are capped so one
    /// message cannot fill memory.
    http: MediaHttp,
    version: Option<(u32, u32, u32)>,
    /// Each session's current connection, so a new attempt or a `forget` can end it first:
    /// two clients must never write one session's keys at once.
    live: Mutex<HashMap<SessionId, Weak<WebConnection>>>,
}

impl WebEngine {
    pub fn new(store: Store, cipher: Arc<Cipher>, config: WebConfig) -> Self {
        let mut transport =
            TokioWebSocketTransportFactory::new().with_connector(default_tls_connector());
        let version = match config.socket_url {
            Some(url) => {
                transport = transport.with_url(url);
                Some(BUNDLED_VERSION)
            }
            None => None,
        };
        WebEngine {
            store,
            cipher,
            transport: Arc::new(transport),
            http: MediaHttp::new(UreqHttpClient::new().with_max_body_bytes(MAX_INCOMING_MEDIA)),
            version,
            live: Mutex::default(),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Weak<WebConnection>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the session's current connection, if one is still running, and waits for it.
    async fn retire(&self, session: &SessionId, reason: DisconnectReason) {
        let current = self.live().remove(session).and_then(|w| w.upgrade());
        if let Some(connection) = current {
            if !connection.is_finished() {
                connection.stop(reason).await;
            }
        }
    }
}

#[async_trait]
impl Engine for WebEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Web
    }

    /// A linked device: QR or pairing code, ids chosen by the sender (so a retried send is
    /// the same message to WhatsApp), no service window and no templates.
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
        // A build that trusts test servers' certificate chains (`trust-test-peer`, for the
        // end-to-end suite's protocol peer) never talks to WhatsApp itself: there, a forged
        // chain would pass.
        if cfg!(feature = "trust-test-peer") && self.version.is_none() {
            return Err(EngineError::Rejected(
                "this build of wasl trusts test servers' certificates and connects only to \
                 WASL_WEB_SOCKET_URL; build it without the trust-test-peer feature"
                    .to_owned(),
            ));
        }
        self.retire(&target.id, DisconnectReason::Replaced).await;
        let store = Arc::new(WebStore::new(
            self.store.clone(),
            self.cipher.clone(),
            target.id.clone(),
        ));
        let (transport, opening) = RecordingTransport::new(self.transport.clone());
        let (handler, state, queue) = WebConnection::handler();
        let confirmations = Arc::new(Confirmations::default());
        let mut builder = Bot::builder()
            .with_backend_arc(store.clone())
            .with_transport_factory(transport)
            .with_http_client(self.http.clone())
            // wasl keeps its own message history; the phone's is not downloaded.
            .skip_history_sync()
            .with_event_handler(handler)
            // Customers' messages are acknowledged to WhatsApp only once wasl stored them.
            .with_inbound_durability_hook(StoreFirst {
                store: store.clone(),
                events: events.clone(),
                confirmations: confirmations.clone(),
            });
        if let Some(version) = self.version {
            builder = builder.with_version(version);
        }
        // Building loads (or creates) the device from the database; failing here is the
        // database's fault, which passes.
        let bot = builder.build().await.map_err(|e| {
            EngineError::Transient(format!("cannot load the session's WhatsApp state: {e}"))
        })?;
        let connection = WebConnection::start(
            Start {
                bot,
                store,
                confirmations,
                opening,
                events,
                known_phone: target.phone_number.clone(),
            },
            state,
            queue,
        );
        self.live()
            .insert(target.id.clone(), Arc::downgrade(&connection));
        Ok(connection)
    }

    async fn forget(&self, session: &SessionId) -> Result<(), EngineError> {
        // The client flushes its state when it stops: stop it before wiping, or it would
        // write the keys back.
        self.retire(session, DisconnectReason::LoggedOut).await;
        self.store.web_state().delete(session).await.map_err(|e| {
            EngineError::Internal(format!("cannot forget the session's state: {e}"))
        })?;
        Ok(())
    }
}
