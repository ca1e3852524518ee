//! Upgrading a database the first release filled: its conversations (counters keyed by
//! session and contact) become entities with ids, status `open`, and the waiting and
//! first-response times their messages say, on SQLite and on PostgreSQL; new messages then
//! continue them.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::Connection;
use wasl_domain::{ConversationStatus, Direction, Message, MessageStatus, OrgId, SessionId};
use wasl_store::{
    ConversationFilter, EventRenderer, MessageFilter, NewMessage, PageRequest, RecordOutcome,
    Store, StoreOptions,
};

/// The last migration of the first release.
const V1_SCHEMA: i64 = 10;
const ORG: &str = "org-v1";
const SESSION: &str = "org-v1_default";

struct Plain;

impl EventRenderer for Plain {
    fn message(&self, m: &Message) -> serde_json::Value {
        serde_json::json!({"id": m.id})
    }
    fn contact(&self, c: &wasl_domain::Contact) -> serde_json::Value {
        serde_json::json!({"id": c.id})
    }
    fn session(&self, s: &wasl_domain::Session, _qr: Option<&str>) -> serde_json::Value {
        serde_json::json!({"id": s.id.as_str()})
    }
    fn conversation(&self, c: &wasl_domain::ConversationOverview) -> serde_json::Value {
        serde_json::json!({"id": c.conversation.id, "status": c.conversation.status.as_str()})
    }
}

/// The first release's rows, written as it wrote them: (contact id, phone, unread count,
/// messages as (direction, time)).
type Chat = (
    &'static str,
    &'static str,
    i64,
    &'static [(&'static str, i64)],
);

const CHATS: &[Chat] = &[
    // Asked, asked, was answered, asked again: waiting since the last question, first
    // answered at 3000.
    (
        "contact-a",
        "966551000001",
        2,
        &[
            ("incoming", 1000),
            ("incoming", 2000),
            ("outgoing", 3000),
            ("incoming", 4000),
        ],
    ),
    // Only written to: nobody waits, nothing was a response.
    ("contact-b", "966551000002", 0, &[("outgoing", 1500)]),
    // Asked and answered.
    (
        "contact-c",
        "966551000003",
        0,
        &[("incoming", 500), ("outgoing", 600)],
    ),
];

const STATEMENTS: &[&str] = &[
    "INSERT INTO organizations (id, name, plan, created_at) VALUES ('org-v1', 'متجر', 'free', 1)",
    "INSERT INTO users (id, organization_id, name, email, password_hash, role, created_at)
     VALUES ('user-v1', 'org-v1', 'سارة', 'v1@acme.sa', 'not a hash', 'owner', 1)",
    "INSERT INTO sessions (id, organization_id, name, engine, phone_number, status, created_at, updated_at)
     VALUES ('org-v1_default', 'org-v1', 'default', 'sandbox', '966500000001', 'connected', 1, 1)",
];

async fn fill_like_v1(conn: &mut sqlx::AnyConnection) {
    for statement in STATEMENTS {
        sqlx::query(statement).execute(&mut *conn).await.unwrap();
    }
    for (contact, phone, unread, messages) in CHATS {
        sqlx::query(
            "INSERT INTO contacts (id, organization_id, phone_number, search_text, last_message_at, created_at, updated_at)
             VALUES ($1, 'org-v1', $2, $2, $3, 1, 1)",
        )
        .bind(*contact)
        .bind(*phone)
        .bind(messages.last().unwrap().1)
        .execute(&mut *conn)
        .await
        .unwrap();
        let mut last = String::new();
        for (n, (direction, at)) in messages.iter().enumerate() {
            let id = format!("{contact}-m{n}");
            sqlx::query(
                "INSERT INTO messages (id, organization_id, session_id, message_id, contact_id, contact_phone,
                    from_number, to_number, direction, type, text, status, created_at)
                 VALUES ($1, 'org-v1', 'org-v1_default', $2, $3, $4, $4, '966500000001', $5, 'text', 'مرحبا', 'delivered', $6)",
            )
            .bind(&id)
            .bind(format!("WA-{id}"))
            .bind(*contact)
            .bind(*phone)
            .bind(*direction)
            .bind(*at)
            .execute(&mut *conn)
            .await
            .unwrap();
            last = id;
        }
        let incoming = messages.iter().filter(|(d, _)| *d == "incoming").count() as i64;
        sqlx::query(
            "INSERT INTO conversations (organization_id, session_id, contact_id, last_message_id, last_message_at,
                unread_count, incoming_count, outgoing_count)
             VALUES ('org-v1', 'org-v1_default', $1, $2, $3, $4, $5, $6)",
        )
        .bind(*contact)
        .bind(&last)
        .bind(messages.last().unwrap().1)
        .bind(*unread)
        .bind(incoming)
        .bind(messages.len() as i64 - incoming)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
}

async fn upgrade_carries_every_conversation(url: &str) {
    let v1 = StoreOptions {
        migrations_up_to: Some(V1_SCHEMA),
        ..StoreOptions::default()
    };
    Store::open_with(url, v1).await.unwrap().close().await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    fill_like_v1(&mut conn).await;
    conn.close().await.unwrap();

    let store = Store::open(url).await.expect("the upgrade applies");
    let org = OrgId::from_trusted(ORG);
    let page = PageRequest::first(50);
    let listed = store
        .conversations()
        .list(&org, &ConversationFilter::default(), page.clone())
        .await
        .unwrap();
    assert_eq!(listed.total, 3);
    let by_contact = |id: &str| {
        listed
            .items
            .iter()
            .find(|o| o.contact.id == id)
            .unwrap_or_else(|| panic!("{id} in {listed:?}"))
            .conversation
            .clone()
    };
    let (a, b, c) = (
        by_contact("contact-a"),
        by_contact("contact-b"),
        by_contact("contact-c"),
    );
    let mut ids = vec![a.id.clone(), b.id.clone(), c.id.clone()];
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each conversation has an id of its own");
    assert!(ids.iter().all(|id| id.len() == 36), "{ids:?}");
    for conversation in [&a, &b, &c] {
        assert_eq!(conversation.status, ConversationStatus::Open);
        assert_eq!(conversation.assignee_id, None);
        assert_eq!(conversation.resolved_at, None);
    }
    assert_eq!(
        (
            a.unread_count,
            a.last_message_at,
            a.created_at,
            a.updated_at
        ),
        (2, 4000, 1000, 4000)
    );
    assert_eq!(
        (a.waiting_since, a.first_response_at),
        (Some(4000), Some(3000))
    );
    assert_eq!(
        (b.waiting_since, b.first_response_at, b.created_at),
        (None, None, 1500)
    );
    assert_eq!((c.waiting_since, c.first_response_at), (None, Some(600)));
    assert_eq!(a.last_message_id, "contact-a-m3");
    // The per-direction counts that listings total from came along.
    let messages_of_a = store
        .messages()
        .list(
            &org,
            &MessageFilter {
                contact_phone: Some("966551000001".into()),
                ..MessageFilter::default()
            },
            page,
        )
        .await
        .unwrap();
    assert_eq!(messages_of_a.total, 4);

    // A customer's message continues the upgraded conversation.
    let message = Message {
        id: "new-in".into(),
        organization_id: org.clone(),
        session_id: SessionId::from_trusted(SESSION),
        message_id: "WA-new-in".into(),
        contact_id: String::new(),
        contact_phone: "966551000002".into(),
        from: "966551000002".into(),
        to: "966500000001".into(),
        direction: Direction::Incoming,
        kind: "text".into(),
        text: Some("وصلني عرضكم".into()),
        caption: None,
        media_path: None,
        mime_type: None,
        filename: None,
        media_size: None,
        ptt: false,
        status: MessageStatus::Delivered,
        sent_at: Some(5000),
        delivered_at: Some(5000),
        read_at: None,
        error_message: None,
        idempotency_key: None,
        attempts: 0,
        related_user: None,
        created_at: 5000,
        quoted: None,
        reactions: Default::default(),
        metadata: Default::default(),
    };
    let outcome = store
        .messages()
        .record(
            &[NewMessage {
                message,
                push_name: None,
                new_contact_id: "unused".into(),
                idempotency_fingerprint: None,
            }],
            &Plain,
        )
        .await
        .unwrap();
    let Some(RecordOutcome::Stored(recorded)) = outcome.first() else {
        panic!("stored: {outcome:?}");
    };
    assert!(
        recorded
            .events
            .iter()
            .all(|e| !e.kind.starts_with("conversation.")),
        "an existing open conversation is continued, not started: {:?}",
        recorded.events
    );
    let continued = store
        .conversations()
        .of_contact(&org, &SessionId::from_trusted(SESSION), "contact-b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(continued.id, b.id);
    assert_eq!(
        (
            continued.unread_count,
            continued.waiting_since,
            continued.last_message_id.as_str()
        ),
        (1, Some(5000), "new-in")
    );
    store.close().await;
}

#[tokio::test]
async fn a_first_release_sqlite_database_is_upgraded_with_its_conversations() {
    let dir = std::env::temp_dir().join(format!("wasl-upgrade-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("wasl.db").display());
    upgrade_carries_every_conversation(&url).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_first_release_postgres_database_is_upgraded_with_its_conversations() {
    let admin = std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("wasl_upgrade_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL must be running (see README)");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    upgrade_carries_every_conversation(&format!("{base}/{name}")).await;
    sqlx::Executor::execute(
        &mut conn,
        format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
    )
    .await
    .unwrap();
}
