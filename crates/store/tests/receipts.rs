//! A delivery receipt that reaches the store before the outbox's own record of the send: the
//! message still gets its `message.sent` event (once), then `message.status`.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::store_with_session;
use wasl_domain::{Contact, Direction, Message, MessageStatus, OrgId, Session, SessionId};
use wasl_store::{EventRenderer, NewMessage, RecordOutcome, StatusMove};

struct Plain;

impl EventRenderer for Plain {
    fn message(&self, m: &Message) -> serde_json::Value {
        serde_json::json!({"id": m.id, "status": m.status.as_str()})
    }
    fn contact(&self, c: &Contact) -> serde_json::Value {
        serde_json::json!({"id": c.id})
    }
    fn session(&self, s: &Session, _qr: Option<&str>) -> serde_json::Value {
        serde_json::json!({"id": s.id.as_str()})
    }
    fn conversation(&self, c: &wasl_domain::ConversationOverview) -> serde_json::Value {
        serde_json::json!({"id": c.conversation.id})
    }
}

fn pending(org: &OrgId, session: &SessionId) -> Message {
    Message {
        id: uuid::Uuid::now_v7().to_string(),
        organization_id: org.clone(),
        session_id: session.clone(),
        message_id: "3EB0OVERTAKEN0001".into(),
        contact_id: String::new(),
        contact_phone: "966550000001".into(),
        from: "966500000001".into(),
        to: "966550000001".into(),
        direction: Direction::Outgoing,
        kind: "text".into(),
        text: Some("مرحبا".into()),
        caption: None,
        media_path: None,
        mime_type: None,
        filename: None,
        media_size: None,
        ptt: false,
        status: MessageStatus::Pending,
        sent_at: None,
        delivered_at: None,
        read_at: None,
        error_message: None,
        idempotency_key: None,
        attempts: 0,
        related_user: None,
        created_at: 10,
        quoted: None,
        reactions: Default::default(),
        metadata: Default::default(),
    }
}

#[tokio::test]
async fn a_receipt_ahead_of_the_send_still_announces_the_send() {
    let (store, org, session, dir) = store_with_session().await;
    let message = pending(&org, &session);
    let outcome = store
        .messages()
        .record(
            &[NewMessage {
                message: message.clone(),
                push_name: None,
                new_contact_id: uuid::Uuid::now_v7().to_string(),
                idempotency_fingerprint: None,
            }],
            &Plain,
        )
        .await
        .expect("record");
    assert!(matches!(outcome[0], RecordOutcome::Stored(_)));

    let receipt = StatusMove::receipt(&session, &message.message_id, MessageStatus::Delivered, 20);
    let (moved, events) = store
        .messages()
        .move_status(receipt, &Plain)
        .await
        .expect("receipt")
        .expect("the receipt applies");
    assert_eq!(moved.status, MessageStatus::Delivered);
    assert_eq!(moved.sent_at, Some(20));
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["message.sent", "message.status"]);
    assert_eq!(events[0].payload["status"], "sent");
    assert_eq!(events[1].payload["status"], "delivered");

    // The outbox's own record of the send comes late: nothing more to say.
    let late = store
        .messages()
        .move_status(StatusMove::sent(&org, &message.id, 15), &Plain)
        .await
        .expect("sent");
    assert!(late.is_none(), "no second message.sent");

    // A read receipt for a message already sent adds only its own event.
    let read = StatusMove::receipt(&session, &message.message_id, MessageStatus::Read, 30);
    let (_, events) = store
        .messages()
        .move_status(read, &Plain)
        .await
        .expect("read")
        .expect("applies");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["message.status"]);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
