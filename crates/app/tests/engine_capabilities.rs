//! The engine registry as the use cases see it: an engine whose server assigns message ids
//! (as Meta's Cloud API does) gets its ids stored by the outbox and its receipts matched by
//! them; the send checks media against the engine's own limits; linking routes an engine
//! does not have are refused. The engine here is a stand-in written for the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{broadcast, watch};
use wasl_app::accounts::{Caller, Credential};
use wasl_app::clock::SystemClock;
use wasl_app::messaging::media::MediaStore;
use wasl_app::messaging::{Accepted, EventBus, Messaging, SendPace, SendRequest};
use wasl_app::sessions::{BackoffPolicy, SessionManager, SessionObserver};
use wasl_app::{AppError, Conflict};
use wasl_domain::{
    Email, EngineKind, NewUser, OrgId, Organization, PersonName, PhoneNumber, Plan, Role, Session,
    SessionId, SessionName, SessionStatus, UserId,
};
use wasl_engine::{
    Capabilities, Connection, Engine, EngineError, EngineRegistry, EventSender, Linking, Media,
    MediaLimits, MessageIds, MessageKind, OutgoingMessage, ReceiptStatus, SentMessage,
    SessionTarget,
};
use wasl_store::{Store, StoredEvent};

/// Linked by credentials only, with a small image limit, and ids chosen by its server.
struct AssigningEngine {
    connection: Arc<AssigningConnection>,
}

#[derive(Default)]
struct AssigningConnection {
    sent: AtomicU32,
    /// The ids wasl chose, in the order they were handed over.
    handed: Mutex<Vec<String>>,
}

const IMAGE_LIMIT: usize = 10;

#[async_trait]
impl Engine for AssigningEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Web
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            linking: Linking {
                qr: false,
                pairing_code: false,
                credentials: true,
            },
            media_limits: MediaLimits {
                image: IMAGE_LIMIT,
                video: 1024,
                audio: 1024,
                document: 1024,
            },
            message_ids: MessageIds::AssignedByEngine,
            service_window: true,
            templates: true,
        }
    }

    async fn connect(
        &self,
        _target: &SessionTarget,
        _events: EventSender,
    ) -> Result<Arc<dyn Connection>, EngineError> {
        Ok(self.connection.clone())
    }

    async fn forget(&self, _session: &SessionId) -> Result<(), EngineError> {
        Ok(())
    }
}

#[async_trait]
impl Connection for AssigningConnection {
    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError> {
        self.handed.lock().unwrap().push(message.message_id);
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(SentMessage {
            message_id: format!("wamid.assigned{n}"),
            at: 1_000 + i64::from(n),
        })
    }

    async fn react(&self, _reaction: wasl_engine::OutgoingReaction) -> Result<(), EngineError> {
        Ok(())
    }

    async fn mark_read(
        &self,
        _contact: &PhoneNumber,
        _message_ids: &[String],
    ) -> Result<(), EngineError> {
        Ok(())
    }

    async fn pairing_code(&self, _phone: &PhoneNumber) -> Result<String, EngineError> {
        Err(EngineError::InvalidState("no pairing codes here".into()))
    }

    async fn logout(&self) -> Result<(), EngineError> {
        Ok(())
    }

    async fn close(&self) {}
}

struct World {
    store: Store,
    messaging: Arc<Messaging>,
    sessions: SessionManager,
    connection: Arc<AssigningConnection>,
    session: Session,
    caller: Caller,
    dir: std::path::PathBuf,
    pg_database: Option<String>,
}

#[derive(Clone, Copy, Debug)]
enum Db {
    Sqlite,
    Postgres,
}

fn postgres_admin_url() -> String {
    std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh database of that kind: its URL, and the PostgreSQL database to drop after.
async fn database(db: Db, dir: &std::path::Path) -> (String, Option<String>) {
    use sqlx::Connection;
    match db {
        Db::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.join("wasl.db").display()),
            None,
        ),
        Db::Postgres => {
            let name = format!("wasl_app_{}", uuid::Uuid::now_v7().simple());
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("PostgreSQL must be running for the PostgreSQL half (see README)");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let (base, _) = admin.rsplit_once('/').unwrap();
            (format!("{base}/{name}"), Some(name))
        }
    }
}

impl World {
    async fn end(self) {
        self.store.close().await;
        if let Some(name) = &self.pg_database {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
                .await
                .unwrap();
            sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
            )
            .await
            .unwrap();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

async fn world(db: Db) -> World {
    let dir = std::env::temp_dir().join(format!("wasl-app-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let (url, pg_database) = database(db, &dir).await;
    let store = Store::open(&url).await.unwrap();
    let org = OrgId::from_trusted(uuid::Uuid::now_v7().to_string());
    let owner = UserId::from_trusted(uuid::Uuid::now_v7().to_string());
    store
        .organizations()
        .create(
            &Organization {
                id: org.clone(),
                name: PersonName::from_trusted("متجر"),
                plan: Plan::Free,
                default_country: None,
                timezone: wasl_domain::TimeZone::DEFAULT,
                default_language: wasl_domain::Lang::Ar,
                opt_out_words: Default::default(),
                created_at: 1,
            },
            &NewUser {
                id: owner.clone(),
                organization_id: org.clone(),
                name: PersonName::from_trusted("سارة"),
                email: Email::from_trusted("engines@acme.sa"),
                password_hash: "not a real hash".into(),
                role: Role::Owner,
                skills: Vec::new(),
                max_chats: None,
                created_at: 1,
            },
        )
        .await
        .unwrap();
    let name = SessionName::parse("cloudish").unwrap();
    let session = Session {
        id: SessionId::new(&org, &name),
        organization_id: org.clone(),
        name,
        engine: EngineKind::Web,
        phone_number: Some("966500000001".into()),
        status: SessionStatus::Connected,
        last_disconnect_reason: None,
        last_connected: None,
        last_disconnected: None,
        connection_attempts: 0,
        is_active: true,
        created_at: 1,
        updated_at: 1,
    };
    store.sessions().insert(&session).await.unwrap();

    let connection = Arc::new(AssigningConnection::default());
    let mut registry = EngineRegistry::new();
    registry.register(Arc::new(AssigningEngine {
        connection: connection.clone(),
    }));
    let engines = Arc::new(registry);
    let messaging = Arc::new(Messaging::new(
        store.clone(),
        MediaStore::new(&dir),
        Arc::new(Plain),
        EventBus::default(),
        engines.clone(),
        SendPace {
            interval: Duration::ZERO,
        },
        Arc::new(SystemClock),
    ));
    let sessions = SessionManager::new(
        store.clone(),
        engines,
        BackoffPolicy {
            base: Duration::from_millis(10),
            max: Duration::from_millis(100),
        },
        messaging.clone(),
        Arc::new(SystemClock),
    );
    World {
        store,
        messaging,
        sessions,
        connection,
        session,
        caller: Caller {
            org_id: org,
            user_id: owner,
            role: Role::Owner,
            credential: Credential::User {
                jti: "test".into(),
                expires_at: i64::MAX,
            },
            default_country: None,
        },
        dir,
        pg_database,
    }
}

/// Events rendered as bare ids: this test reads the store, not payloads.
struct Plain;

impl wasl_store::EventRenderer for Plain {
    fn message(&self, m: &wasl_domain::Message) -> serde_json::Value {
        serde_json::json!({ "id": m.id, "status": m.status.as_str() })
    }
    fn contact(&self, c: &wasl_domain::Contact) -> serde_json::Value {
        serde_json::json!({ "id": c.id })
    }
    fn session(&self, s: &Session, qr: Option<&str>) -> serde_json::Value {
        serde_json::json!({ "id": s.id.as_str(), "qr": qr })
    }
    fn conversation(&self, c: &wasl_domain::ConversationOverview) -> serde_json::Value {
        serde_json::json!({ "id": c.conversation.id })
    }
}

fn text(to: &str, body: &str) -> SendRequest {
    SendRequest {
        to: PhoneNumber::parse("to", to).unwrap(),
        session_name: Some("cloudish".into()),
        kind: MessageKind::Text,
        text: Some(body.into()),
        caption: None,
        media: None,
        ptt: false,
        idempotency_key: None,
        quoted_message_id: None,
        metadata: Default::default(),
        marketing: false,
    }
}

fn new(accepted: Result<Accepted, AppError>) -> wasl_domain::Message {
    match accepted {
        Ok(Accepted::New(message)) => message,
        Err(e) => panic!("not accepted: {e:?}"),
        Ok(_) => panic!("not a new message"),
    }
}

/// Waits (without sleeping) for the event of that type about that message.
async fn event(events: &mut broadcast::Receiver<StoredEvent>, kind: &str, id: &str) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = events.recv().await.unwrap();
            if e.kind == kind && e.payload["id"] == id {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} for {id}"));
}

async fn the_outbox_keeps_the_id_the_engine_assigns_and_receipts_find_the_message_by_it(db: Db) {
    let w = world(db).await;
    let mut events = w.messaging.bus().subscribe();
    let (_stop, stop_rx) = watch::channel(false);
    w.messaging
        .connected(&w.session, w.connection.clone(), stop_rx)
        .await;

    let first = new(w
        .messaging
        .send(&w.caller, text("966511111111", "مرحبا"))
        .await);
    event(&mut events, "message.sent", &first.id).await;
    let stored = w
        .store
        .messages()
        .get(&w.caller.org_id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.message_id, "wamid.assigned1");
    assert_eq!(stored.status.as_str(), "sent");
    // The engine was handed the id wasl chose, and answered with its own.
    assert_eq!(
        *w.connection.handed.lock().unwrap(),
        vec![first.message_id.clone()]
    );
    assert_ne!(first.message_id, "wamid.assigned1");

    // The receipt names the assigned id; the id wasl chose first matches nothing any more.
    assert!(
        w.messaging
            .receipt(&w.session.id, &first.message_id, ReceiptStatus::Read, 5_000)
            .await
    );
    let unchanged = w
        .store
        .messages()
        .get(&w.caller.org_id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.status.as_str(), "sent");
    assert!(
        w.messaging
            .receipt(
                &w.session.id,
                "wamid.assigned1",
                ReceiptStatus::Delivered,
                6_000
            )
            .await
    );
    event(&mut events, "message.status", &first.id).await;
    let delivered = w
        .store
        .messages()
        .get(&w.caller.org_id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.status.as_str(), "delivered");
    assert_eq!(delivered.message_id, "wamid.assigned1");

    // The next message gets the next id: each keeps its own.
    let second = new(w
        .messaging
        .send(&w.caller, text("966511111111", "ثانية"))
        .await);
    event(&mut events, "message.sent", &second.id).await;
    let stored = w
        .store
        .messages()
        .get(&w.caller.org_id, &second.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.message_id, "wamid.assigned2");
    w.end().await;
}

async fn media_over_the_engines_limit_for_its_kind_is_refused_before_it_is_stored(db: Db) {
    let w = world(db).await;
    let image = |bytes: usize| SendRequest {
        kind: MessageKind::Image,
        text: None,
        media: Some(Media {
            bytes: vec![0xFF; bytes],
            mime_type: "image/jpeg".into(),
            filename: None,
        }),
        ..text("966511111111", "")
    };
    match w.messaging.send(&w.caller, image(IMAGE_LIMIT + 1)).await {
        Err(AppError::MediaTooLarge { max_bytes }) => assert_eq!(max_bytes, IMAGE_LIMIT),
        Err(other) => panic!("expected MediaTooLarge, got {other:?}"),
        Ok(_) => panic!("expected MediaTooLarge, the message was accepted"),
    }
    let page = w
        .messaging
        .messages(
            &w.caller,
            wasl_app::messaging::MessageSelection {
                session_name: None,
                filter: Default::default(),
            },
            wasl_store::PageRequest::first(50),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 0, "nothing was stored");
    assert!(w
        .messaging
        .send(&w.caller, image(IMAGE_LIMIT))
        .await
        .is_ok());
    w.end().await;
}

async fn an_engine_without_qr_or_pairing_codes_refuses_them_by_name(db: Db) {
    let w = world(db).await;
    let mut linking = w
        .store
        .sessions()
        .get(&w.caller.org_id, &w.session.name)
        .await
        .unwrap()
        .unwrap();
    linking.status = SessionStatus::Qr;
    match w.sessions.qr_code(&w.caller, "cloudish").await {
        Err(AppError::Conflict(Conflict::NotSupportedByEngine { engine, what })) => {
            assert_eq!((engine, what), (EngineKind::Web, "qr"));
        }
        other => panic!("expected NotSupportedByEngine, got {other:?}"),
    }
    let phone = PhoneNumber::parse("phoneNumber", "966522222222").unwrap();
    match w.sessions.pairing_code(&w.caller, &linking, &phone).await {
        Err(AppError::Conflict(Conflict::NotSupportedByEngine { what, .. })) => {
            assert_eq!(what, "pairing-code");
        }
        other => panic!("expected NotSupportedByEngine, got {other:?}"),
    }
    assert!(w
        .sessions
        .engines()
        .capabilities(EngineKind::Sandbox)
        .is_none());
    w.end().await;
}

/// Each scenario on both databases.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(super::Db::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name(super::Db::Postgres).await } )*
        }
    };
}

on_both!(
    the_outbox_keeps_the_id_the_engine_assigns_and_receipts_find_the_message_by_it,
    media_over_the_engines_limit_for_its_kind_is_refused_before_it_is_stored,
    an_engine_without_qr_or_pairing_codes_refuses_them_by_name,
);
