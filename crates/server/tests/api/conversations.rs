//! Conversations as entities (SPEC §16 without automatic assignment): a customer's first
//! message starts one, people resolve, reopen and assign it by hand, a customer's message
//! reopens it, and every change is a `conversation.*` event on the live socket.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::messaging::linked;
use crate::on_both_databases;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp, token: &str) -> Socket {
    let url = format!("ws://{}/api/v1/events?token={token}", app.addr);
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket")
        .0
}

/// The next event of that type on the socket (others are skipped).
async fn next_event(ws: &mut Socket, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let frame = ws.next().await.expect("a frame").expect("ok frame");
            if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
                let event: Value = serde_json::from_str(&text).expect("json");
                if event["type"] == kind {
                    return event;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} event"))
}

async fn customer_writes(app: &TestApp, token: &str, from: &str, text: &str) {
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sandbox/default/incoming",
            token,
            json!({"from": from, "pushName": "ليلى", "type": "text", "text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_conversation(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/whatsapp/conversations/{id}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["conversation"].clone()
}

async fn count(app: &TestApp, token: &str, query: &str) -> usize {
    let (status, body) = app
        .get(&format!("/api/v1/whatsapp/conversations?{query}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let n = body["data"]["conversations"].as_array().map_or(0, Vec::len);
    assert_eq!(
        body["data"]["pagination"]["total"],
        json!(n),
        "{query}: {body}"
    );
    n
}

on_both_databases! {
    async fn a_conversation_is_started_assigned_resolved_and_reopened_by_its_customer(app: TestApp) {
        let owner = linked(&app, "inbox@acme.sa", "966500000700").await;
        let agent = app.add_user(&owner, "agent@acme.sa", "agent").await;
        let mut ws = socket(&app, &owner.token).await;

        customer_writes(&app, &owner.token, "966551234567", "عندي سؤال عن الطلب").await;
        let created = next_event(&mut ws, "conversation.created").await;
        let conversation = &created["data"];
        let id = conversation["id"].as_str().expect("an id").to_owned();
        assert_eq!(conversation["status"], json!("open"));
        assert_eq!(conversation["assigneeId"], Value::Null);
        assert_eq!(conversation["unreadCount"], json!(1));
        assert_eq!(conversation["sessionName"], json!("default"));
        assert_eq!(conversation["contact"]["phoneNumber"], json!("966551234567"));
        assert_eq!(conversation["lastMessage"]["content"]["text"], json!("عندي سؤال عن الطلب"));
        assert!(conversation["waitingSince"].is_string(), "the customer waits: {conversation}");

        // Listed with the same shape; a second message keeps the one conversation.
        app.clock.advance(Duration::from_secs(30));
        customer_writes(&app, &owner.token, "966551234567", "هل من أحد؟").await;
        let (_, list) = app.get("/api/v1/whatsapp/conversations", &owner.token).await;
        let listed = &list["data"]["conversations"];
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(listed[0]["id"], json!(id));
        assert_eq!(listed[0]["unreadCount"], json!(2));
        assert_eq!(listed[0]["waitingSince"], conversation["waitingSince"], "waiting since the first question");
        assert_eq!(the_conversation(&app, &owner.token, &id).await["lastMessage"]["content"]["text"], json!("هل من أحد؟"));

        // Handed to the agent and set pending by hand: one event with both.
        let (status, body) = app
            .put(&format!("/api/v1/whatsapp/conversations/{id}"), &owner.token,
                json!({"assigneeId": agent.user_id, "status": "pending"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["conversation"]["assigneeId"], json!(agent.user_id));
        let updated = next_event(&mut ws, "conversation.updated").await;
        assert_eq!(updated["data"]["status"], json!("pending"));
        assert_eq!(updated["data"]["assigneeId"], json!(agent.user_id));
        assert_eq!(count(&app, &agent.token, "assignee=me").await, 1);
        assert_eq!(count(&app, &owner.token, "assignee=me").await, 0);
        assert_eq!(count(&app, &owner.token, "assignee=unassigned").await, 0);
        assert_eq!(count(&app, &owner.token, &format!("assignee={}", agent.user_id)).await, 1);
        assert_eq!(count(&app, &owner.token, "status=open").await, 0);
        assert_eq!(count(&app, &owner.token, "status=pending&sessionName=default&search=ليلى").await, 1);

        // The agent answers: the wait ends and that is the first response.
        app.clock.advance(Duration::from_secs(90));
        let (status, body) = app
            .post("/api/v1/whatsapp/messages/send", &agent.token, json!({"to": "966551234567", "text": "أهلاً، كيف أساعدك؟"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let answered = the_conversation(&app, &owner.token, &id).await;
        assert_eq!(answered["waitingSince"], Value::Null, "{answered}");
        assert_eq!(answered["firstResponseAt"], body["data"]["message"]["createdAt"]);

        // Resolved: the time is the server's clock, and nobody is waiting.
        app.clock.advance(Duration::from_secs(60));
        let (status, body) = app
            .put(&format!("/api/v1/whatsapp/conversations/{id}"), &agent.token, json!({"status": "resolved"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let resolved = &body["data"]["conversation"];
        assert_eq!(resolved["status"], json!("resolved"));
        assert!(resolved["resolvedAt"].as_str() > answered["firstResponseAt"].as_str(), "{resolved}");
        assert_eq!(next_event(&mut ws, "conversation.updated").await["data"]["status"], json!("resolved"));
        assert_eq!(count(&app, &owner.token, "status=resolved").await, 1);

        // Resolving again changes nothing.
        let (status, again) = app
            .put(&format!("/api/v1/whatsapp/conversations/{id}"), &owner.token, json!({"status": "resolved"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["data"]["conversation"]["resolvedAt"], resolved["resolvedAt"]);

        // The customer writes again: reopened, for the same agent, with a new wait.
        app.clock.advance(Duration::from_secs(3600));
        customer_writes(&app, &owner.token, "966551234567", "شكراً، سؤال آخر").await;
        let reopened = next_event(&mut ws, "conversation.updated").await;
        assert_eq!(reopened["data"]["id"], json!(id));
        assert_eq!(reopened["data"]["status"], json!("open"));
        assert_eq!(reopened["data"]["resolvedAt"], Value::Null);
        assert_eq!(reopened["data"]["firstResponseAt"], Value::Null);
        assert_eq!(reopened["data"]["assigneeId"], json!(agent.user_id));
        assert!(reopened["data"]["waitingSince"].is_string());

        // Read without a body: nothing unread, and out of the unread filter.
        assert_eq!(count(&app, &owner.token, "unread=true").await, 1);
        let res = app.client.post(app.url(&format!("/api/v1/whatsapp/conversations/{id}/read")))
            .bearer_auth(&owner.token).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(the_conversation(&app, &owner.token, &id).await["unreadCount"], json!(0));
        assert_eq!(count(&app, &owner.token, "unread=true").await, 0);
        assert_eq!(count(&app, &owner.token, "unread=false").await, 1, "false is no filter");
        assert_error(&app.get("/api/v1/whatsapp/conversations?unread=yes", &owner.token).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

        // Unassigned by hand.
        let (status, body) = app
            .put(&format!("/api/v1/whatsapp/conversations/{id}"), &owner.token, json!({"assigneeId": null}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["conversation"]["assigneeId"], Value::Null);
        assert_eq!(count(&app, &owner.token, "assignee=unassigned").await, 1);
    }

    async fn wrong_changes_are_refused_and_leave_the_conversation_as_it_was(app: TestApp) {
        let owner = linked(&app, "strict@acme.sa", "966500000701").await;
        customer_writes(&app, &owner.token, "966557654321", "مرحبا").await;
        let (_, list) = app.get("/api/v1/whatsapp/conversations", &owner.token).await;
        let before = list["data"]["conversations"][0].clone();
        let id = before["id"].as_str().expect("id").to_owned();
        let path = format!("/api/v1/whatsapp/conversations/{id}");

        let other = linked(&app, "other@else.sa", "966500000702").await;
        let disabled = app.add_user(&owner, "gone@acme.sa", "agent").await;
        let (status, body) = app.put(&format!("/api/v1/users/{}", disabled.user_id), &owner.token, json!({"isActive": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        for body in [
            json!({"status": "closed"}),
            json!({"status": "OPEN"}),
            json!({"status": 3}),
            json!({"assigneeId": other.user_id}),
            json!({"assigneeId": disabled.user_id}),
            json!({"assigneeId": "no-such-person"}),
            json!({"assigneeId": "' OR 1=1 --"}),
            json!({"assigneeId": 42}),
        ] {
            let result = app.put(&path, &owner.token, body.clone()).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
        assert_error(&app.put(&path, &other.token, json!({"status": "resolved"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.get(&path, &other.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.post(&format!("{path}/read"), &other.token, json!({})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.put("/api/v1/whatsapp/conversations/nothing-here", &owner.token, json!({"status": "resolved"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.post(&format!("{path}/read"), &owner.token, json!({"sessionName": "Not A Name"})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        for query in ["status=closed", "assignee=%27%20OR%201%3D1", "assignee=a,b", "page=0"] {
            assert_error(&app.get(&format!("/api/v1/whatsapp/conversations?{query}"), &owner.token).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
        // Nothing to change is not an error, and changes nothing.
        let (status, body) = app.put(&path, &owner.token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(the_conversation(&app, &owner.token, &id).await, before);
        // The other organization's conversation cannot be given to this one's people either.
        customer_writes(&app, &other.token, "966557654321", "مرحبا").await;
        let (_, theirs) = app.get("/api/v1/whatsapp/conversations", &other.token).await;
        let their_id = theirs["data"]["conversations"][0]["id"].as_str().expect("id").to_owned();
        assert_ne!(their_id, id, "one conversation per organization");
        let result = app.put(&format!("/api/v1/whatsapp/conversations/{their_id}"), &other.token, json!({"assigneeId": owner.user_id})).await;
        assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}
