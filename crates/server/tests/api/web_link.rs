//! The web engine end to end, against `wasl-wa-peer`: a local WhatsApp Web server speaking the
//! real protocol (Noise handshakes with its own certificate chain, binary nodes, pairing refs).
//! A web session shows the QR code of the refs the server sent, a simulated phone scans it
//! (checking the ref, the keys and the companion's signature), and the session logs in and is
//! connected as the phone's number.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use wasl_wa_peer::{Fault, Pattern, Peer};

use crate::helpers::{spawn_app_with, Account, Db, TestApp};
use crate::messaging::{mp4_bytes, ogg_bytes, png_bytes, upload, PDF};

const PHONE: &str = "966501112233";

/// Waits for the session's QR code and returns its text.
async fn wait_for_qr(app: &TestApp, owner: &Account, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app
            .get(
                &format!("/api/v1/whatsapp/sessions/{name}/qr"),
                &owner.token,
            )
            .await;
        if status == StatusCode::OK {
            return wasl_wa_peer::read_qr(body["data"]["qrCode"].as_str().expect("qrCode"))
                .expect("a readable QR code");
        }
        assert!(
            Instant::now() < deadline,
            "no QR code came: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_status(app: &TestApp, owner: &Account, name: &str, status: &str) -> Value {
    // A companion's first login after linking waits up to 10 s for the phone's app-state keys
    // (which this peer does not send) before it reports itself connected.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let (code, body) = app
            .get(
                &format!("/api/v1/whatsapp/sessions/{name}/status"),
                &owner.token,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let session = body["data"]["session"].clone();
        if session["status"] == json!(status) {
            return session;
        }
        assert!(
            Instant::now() < deadline,
            "session {name} never became {status}; last: {session}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A web session named "shop" linked by QR through the peer, connected as `PHONE`.
struct Linked {
    peer: Peer,
    app: TestApp,
    owner: Account,
    jid: String,
}

async fn linked(db: Db, extra: &[(&str, &str)]) -> Linked {
    let peer = Peer::start().await.expect("the peer");
    let url = peer.url();
    let mut vars = vec![("WASL_WEB_SOCKET_URL", url.as_str())];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(db, &vars).await;
    let owner = app.register("web-link@acme.sa").await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sessions",
            &owner.token,
            json!({"sessionName": "shop", "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let qr = wait_for_qr(&app, &owner, "shop").await;
    assert!(
        qr.starts_with("2@"),
        "a WhatsApp Web pairing ref first: {qr}"
    );
    let session = wait_for_status(&app, &owner, "shop", "qr").await;
    assert_eq!(session["engine"], json!("web"), "{session}");

    let jid = peer
        .scan(&qr, PHONE)
        .await
        .expect("the phone links the device");
    assert!(jid.starts_with(&format!("{PHONE}:")), "{jid}");

    let session = wait_for_status(&app, &owner, "shop", "connected").await;
    assert_eq!(session["phoneNumber"], json!(PHONE), "{session}");
    assert!(peer.is_online(&jid), "logged in on the peer");
    let handshakes = peer.handshakes();
    assert_eq!(handshakes[0].pattern, Pattern::Xx, "{handshakes:?}");
    assert_eq!(
        handshakes[0].device, None,
        "a new device first: {handshakes:?}"
    );
    assert_eq!(
        handshakes.last().and_then(|h| h.device.clone()),
        Some(jid.clone()),
        "then the linked device logs in: {handshakes:?}"
    );
    Linked {
        peer,
        app,
        owner,
        jid,
    }
}

/// Linked by QR, then wasl restarts: the session logs in again by itself, with the IK
/// handshake of a device that kept the server's key, and no QR code is shown.
async fn linked_and_resumed(db: Db) {
    let Linked {
        peer,
        mut app,
        owner,
        jid,
    } = linked(db, &[]).await;
    app.restart().await;
    let deadline = Instant::now() + Duration::from_secs(45);
    while peer.logins(&jid) < 2 {
        let (_, body) = app
            .get("/api/v1/whatsapp/sessions/shop/status", &owner.token)
            .await;
        assert_ne!(
            body["data"]["session"]["status"],
            json!("qr"),
            "a linked session needs no new QR code"
        );
        assert!(
            Instant::now() < deadline,
            "the session never logged in again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let session = wait_for_status(&app, &owner, "shop", "connected").await;
    assert_eq!(session["phoneNumber"], json!(PHONE), "{session}");
    let last = peer.handshakes().pop().expect("a handshake");
    assert_eq!(last.pattern, Pattern::Ik, "a returning device: {last:?}");
    assert_eq!(last.device.as_deref(), Some(jid.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_links_by_qr_and_resumes_after_a_restart_on_sqlite() {
    linked_and_resumed(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_links_by_qr_and_resumes_after_a_restart_on_postgres() {
    linked_and_resumed(Db::Postgres).await;
}

/// Backoff small enough that a reconnection after a drop is quick.
const FAST_RECONNECT: [(&str, &str); 2] = [
    ("WASL_RECONNECT_BASE_MS", "100"),
    ("WASL_RECONNECT_MAX_MS", "800"),
];

/// The connection drops: wasl says why and reconnects on its own, as the same device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_web_connection_reconnects() {
    let l = linked(Db::Sqlite, &FAST_RECONNECT).await;
    l.peer.inject(&l.jid, Fault::Drop).expect("drop");
    let deadline = Instant::now() + Duration::from_secs(30);
    while l.peer.logins(&l.jid) < 2 {
        assert!(Instant::now() < deadline, "no reconnection after the drop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let session = wait_for_status(&l.app, &l.owner, "shop", "connected").await;
    let reason = session["lastDisconnectReason"].as_str().unwrap_or_default();
    assert!(reason.contains("connection lost"), "{session}");
    assert_eq!(session["phoneNumber"], json!(PHONE), "{session}");
}

/// Ends the linked session's connection with `fault` and returns the session once it has
/// left `connected`.
async fn after_fault(l: &Linked, fault: Fault) -> Value {
    l.peer.inject(&l.jid, fault).expect("the fault");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = l
            .app
            .get("/api/v1/whatsapp/sessions/shop/status", &l.owner.token)
            .await;
        let session = body["data"]["session"].clone();
        if session["status"] != json!("connected") {
            return session;
        }
        assert!(Instant::now() < deadline, "still connected after {fault:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Another client took the number over: wasl stops, says so, and does not fight back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_web_session_stops_and_says_why() {
    let l = linked(Db::Sqlite, &FAST_RECONNECT).await;
    after_fault(&l, Fault::Replaced).await;
    let session = wait_for_status(&l.app, &l.owner, "shop", "failed").await;
    assert_eq!(
        session["lastDisconnectCode"],
        json!("replaced"),
        "{session}"
    );
    let reason = session["lastDisconnectReason"].as_str().unwrap_or_default();
    assert!(reason.contains("replaced"), "{session}");
    assert_eq!(
        l.peer.logins(&l.jid),
        1,
        "no reconnection fights the other client"
    );
}

/// The phone removed the device: the session is logged out for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_removed_from_the_phone_is_logged_out() {
    let l = linked(Db::Sqlite, &FAST_RECONNECT).await;
    after_fault(&l, Fault::LoggedOut).await;
    let session = wait_for_status(&l.app, &l.owner, "shop", "logged_out").await;
    let reason = session["lastDisconnectReason"].as_str().unwrap_or_default();
    assert!(reason.contains("logged out"), "{session}");
}

/// The number is banned: the connection drops, the login is refused as a ban, wasl stops
/// retrying and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_number_stops_the_web_session_and_says_why() {
    let l = linked(Db::Sqlite, &FAST_RECONNECT).await;
    l.peer.ban(PHONE);
    let deadline = Instant::now() + Duration::from_secs(30);
    let session = loop {
        let (_, body) = l
            .app
            .get("/api/v1/whatsapp/sessions/shop/status", &l.owner.token)
            .await;
        let session = body["data"]["session"].clone();
        let reason = session["lastDisconnectReason"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if reason.contains("banned") {
            break session;
        }
        assert!(Instant::now() < deadline, "never said banned: {session}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(session["lastDisconnectCode"], json!("banned"), "{session}");
    let session = wait_for_status(&l.app, &l.owner, "shop", "failed").await;
    assert_eq!(session["lastDisconnectCode"], json!("banned"), "{session}");
}

/// The link goes silent without closing: the client's keep-alive notices and wasl
/// reconnects instead of showing a dead session as connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_web_connection_is_detected_and_reconnected() {
    let l = linked(Db::Sqlite, &FAST_RECONNECT).await;
    l.peer.inject(&l.jid, Fault::Silence).expect("silence");
    // The client pings every 15–30 s and gives a silent socket 20 s: about a minute at worst
    // on an idle machine. The deadline is a bound on "never", generous for a loaded CI box.
    let deadline = Instant::now() + Duration::from_secs(240);
    while l.peer.logins(&l.jid) < 2 {
        assert!(
            Instant::now() < deadline,
            "the silent connection was never replaced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = wait_for_status(&l.app, &l.owner, "shop", "connected").await;
    assert_eq!(session["phoneNumber"], json!(PHONE), "{session}");
}

/// A second organization on the same wasl, with a web session "branch" linked through the
/// same peer as `phone`.
async fn second_linked(l: &Linked, email: &str, phone: &str) -> Account {
    let other = l.app.register(email).await;
    let (status, body) = l
        .app
        .post(
            "/api/v1/whatsapp/sessions",
            &other.token,
            json!({"sessionName": "branch", "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let qr = wait_for_qr(&l.app, &other, "branch").await;
    l.peer
        .scan(&qr, phone)
        .await
        .expect("the second phone links");
    wait_for_status(&l.app, &other, "branch", "connected").await;
    other
}

/// Two wasl web sessions on two numbers, linked through the peer, write to each other: the
/// clients encrypt with Signal for each other's devices (keys fetched from the peer), the peer
/// only routes; each message is stored once on the other side, and the sender's status moves
/// to delivered with the receipt the other session sends once it has stored it.
async fn two_sessions_talk(db: Db) {
    const OTHER: &str = "966507778888";
    let l = linked(db, &[]).await;
    // The other number belongs to another organization on the same wasl.
    let other = second_linked(&l, "web-branch@acme.sa", OTHER).await;
    let (app, owner) = (&l.app, &l.owner);

    for (from, from_owner, from_number, to, to_owner, to_number, text) in [
        (
            "shop",
            owner,
            PHONE,
            "branch",
            &other,
            OTHER,
            "السلام عليكم، هل الطلب جاهز؟",
        ),
        (
            "branch",
            &other,
            OTHER,
            "shop",
            owner,
            PHONE,
            "نعم، جاهز للاستلام",
        ),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/whatsapp/messages/send",
                &from_owner.token,
                json!({"sessionName": from, "to": to_number, "text": text}),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        let id = body["data"]["message"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("a message id in {body}"))
            .to_owned();
        // Received and stored once by the other session.
        let received = wait_for_message(app, to_owner, to, from_number, "the message", |m| {
            m["content"]["text"] == json!(text)
        })
        .await;
        let copies: Vec<Value> = messages_with(app, to_owner, to, from_number)
            .await
            .into_iter()
            .filter(|m| m["content"]["text"] == json!(text))
            .collect();
        assert_eq!(copies.len(), 1, "stored once: {copies:?}");
        assert_eq!(received["direction"], json!("incoming"), "{received}");
        // The sender sees it delivered, from the other session's receipt; not read, as
        // nobody has opened the conversation.
        wait_for_message(app, from_owner, from, to_number, "it delivered", |m| {
            m["id"] == json!(id) && m["status"] == json!("delivered")
        })
        .await;
        // Someone opens the conversation on the other side: WhatsApp is told, and the
        // sender's tick turns to read; the reader's copy is read too.
        let conversation = conversation_with(app, to_owner, to, from_number).await;
        assert_eq!(conversation["unreadCount"], json!(1), "{conversation}");
        let (status, body) = app
            .post(
                &format!(
                    "/api/v1/whatsapp/conversations/{}/read",
                    conversation["id"].as_str().expect("an id")
                ),
                &to_owner.token,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        wait_for_message(app, from_owner, from, to_number, "it read", |m| {
            m["id"] == json!(id) && m["status"] == json!("read") && m["readAt"].is_string()
        })
        .await;
        let copy = &messages_with(app, to_owner, to, from_number).await[0];
        assert_eq!(copy["status"], json!("read"), "{copy}");
    }
}

/// The conversation of `session` with `contact`.
async fn conversation_with(app: &TestApp, owner: &Account, session: &str, contact: &str) -> Value {
    let (status, body) = app
        .get(
            &format!("/api/v1/whatsapp/conversations?sessionName={session}"),
            &owner.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["conversations"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|c| c["contact"]["phoneNumber"] == json!(contact))
                .cloned()
        })
        .unwrap_or_else(|| panic!("no conversation with {contact} in {body}"))
}

/// The messages of `session` with `contact`, newest first.
async fn messages_with(app: &TestApp, owner: &Account, session: &str, contact: &str) -> Vec<Value> {
    let (_, body) = app
        .get(
            &format!("/api/v1/whatsapp/messages?sessionName={session}&contact={contact}"),
            &owner.token,
        )
        .await;
    body["data"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls `session`'s messages with `contact` until `found` picks one.
async fn wait_for_message(
    app: &TestApp,
    owner: &Account,
    session: &str,
    contact: &str,
    what: &str,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let messages = messages_with(app, owner, session, contact).await;
        if let Some(m) = messages.iter().find(|m| found(m)) {
            return m.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{session} never had {what}: {messages:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Media between two web sessions: the sender's client encrypts each file and uploads it to
/// the peer's media host (named in the peer's `media_conn` answer), the message carries its
/// keys and path, and the other session's client downloads and decrypts it; wasl stores the
/// file, and it reads back byte for byte, with its caption, type and name.
async fn media_between_sessions(db: Db) {
    const OTHER: &str = "966507776666";
    let l = linked(db, &[]).await;
    let other = second_linked(&l, "web-media@acme.sa", OTHER).await;
    let (app, owner) = (&l.app, &l.owner);
    let files = [
        (
            "send-image",
            "image",
            png_bytes(),
            "photo.png",
            "image/png",
            Some("صورة المنتج"),
        ),
        (
            "send-video",
            "video",
            mp4_bytes(),
            "clip.mp4",
            "video/mp4",
            Some("طريقة الاستخدام"),
        ),
        (
            "send-audio",
            "audio",
            ogg_bytes(),
            "note.ogg",
            "audio/ogg",
            None,
        ),
        (
            "send-document",
            "document",
            PDF.to_vec(),
            "فاتورة.pdf",
            "application/pdf",
            Some("الفاتورة"),
        ),
    ];
    for (endpoint, kind, bytes, name, mime, caption) in files {
        let mut fields = vec![("to", OTHER), ("sessionName", "shop")];
        if let Some(caption) = caption {
            fields.push(("caption", caption));
        }
        if kind == "audio" {
            fields.push(("ptt", "true"));
        }
        let (status, body) = upload(
            app,
            &owner.token,
            endpoint,
            kind,
            bytes.clone(),
            name,
            &fields,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{endpoint}: {body}");
        let id = body["data"]["message"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();

        let received = wait_for_message(app, &other, "branch", PHONE, kind, |m| {
            m["type"] == json!(kind)
        })
        .await;
        assert_eq!(received["direction"], json!("incoming"), "{received}");
        assert_eq!(received["content"]["mimeType"], json!(mime), "{received}");
        assert_eq!(received["content"]["caption"], json!(caption), "{received}");
        if kind == "document" {
            assert_eq!(received["content"]["filename"], json!(name), "{received}");
        }
        let url = received["content"]["mediaUrl"]
            .as_str()
            .expect("a media URL");
        let file = app
            .client
            .get(app.url(url))
            .bearer_auth(&other.token)
            .send()
            .await
            .expect("sent");
        assert_eq!(file.status(), StatusCode::OK, "{kind}");
        assert_eq!(
            file.bytes().await.expect("bytes").to_vec(),
            bytes,
            "{kind} byte for byte"
        );
        wait_for_message(app, owner, "shop", OTHER, "it delivered", |m| {
            m["id"] == json!(id) && m["status"] == json!("delivered")
        })
        .await;
    }
    assert_eq!(
        l.peer.media_uploads(),
        4,
        "each file went through the media host once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_sessions_send_each_other_media_through_the_peer_on_sqlite() {
    media_between_sessions(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_sessions_send_each_other_media_through_the_peer_on_postgres() {
    media_between_sessions(Db::Postgres).await;
}

/// Replies and reactions between two web sessions: the branch reacts to the shop's message
/// and answers it quoting it; the shop sees the reaction on its message and the quote on the
/// answer, pointing at its own copy.
async fn replies_and_reactions(db: Db) {
    const OTHER: &str = "966507779999";
    let l = linked(db, &[]).await;
    let other = second_linked(&l, "web-react@acme.sa", OTHER).await;
    let (app, owner) = (&l.app, &l.owner);

    let text = "هل يتوفر التوصيل اليوم؟";
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/messages/send",
            &owner.token,
            json!({"sessionName": "shop", "to": OTHER, "text": text}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let sent_id = body["data"]["message"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let received = wait_for_message(app, &other, "branch", PHONE, "the question", |m| {
        m["content"]["text"] == json!(text)
    })
    .await;
    let received_id = received["id"].as_str().expect("id").to_owned();

    let (status, body) = app
        .post(
            &format!("/api/v1/whatsapp/messages/{received_id}/reaction"),
            &other.token,
            json!({"emoji": "👍"}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    wait_for_message(app, owner, "shop", OTHER, "the reaction", |m| {
        m["id"] == json!(sent_id) && m["reactions"] == json!([{"emoji": "👍", "by": "customer"}])
    })
    .await;

    let answer = "نعم، خلال ساعتين";
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/messages/send",
            &other.token,
            json!({"sessionName": "branch", "to": PHONE, "text": answer, "quotedMessageId": received_id}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let reply = wait_for_message(app, owner, "shop", OTHER, "the answer", |m| {
        m["content"]["text"] == json!(answer)
    })
    .await;
    assert_eq!(reply["quoted"]["id"], json!(sent_id), "{reply}");
    assert_eq!(reply["quoted"]["text"], json!(text), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_sessions_reply_and_react_through_the_peer_on_sqlite() {
    replies_and_reactions(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_sessions_reply_and_react_through_the_peer_on_postgres() {
    replies_and_reactions(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_sessions_message_each_other_through_the_peer_on_sqlite() {
    two_sessions_talk(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_sessions_message_each_other_through_the_peer_on_postgres() {
    two_sessions_talk(Db::Postgres).await;
}

/// This test build trusts the peer's certificate chain, so it must never connect to WhatsApp
/// itself (a forged chain would pass there): without `WASL_WEB_SOCKET_URL`, a web session
/// fails at once and says why. A release build has no such trust (the feature is turned on by
/// the test crates only) and checks WhatsApp's root signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_that_trusts_test_servers_refuses_to_reach_whatsapp() {
    let app = spawn_app_with(Db::Sqlite, &[]).await;
    let owner = app.register("web-trust@acme.sa").await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sessions",
            &owner.token,
            json!({"sessionName": "real", "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = app
            .get("/api/v1/whatsapp/sessions/real/status", &owner.token)
            .await;
        let session = body["data"]["session"].clone();
        let reason = session["lastDisconnectReason"].as_str().unwrap_or_default();
        if reason.contains("trust-test-peer") {
            assert_ne!(session["status"], json!("connected"), "{session}");
            break;
        }
        assert!(Instant::now() < deadline, "no refusal: {session}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Linking by pairing code: the session asks WhatsApp for a code for the number, the phone's
/// owner types it, and the session is connected as that number (the key exchange of "link with
/// phone number", the peer playing the phone).
async fn linked_by_code(db: Db) {
    let peer = Peer::start().await.expect("the peer");
    let app = spawn_app_with(db, &[("WASL_WEB_SOCKET_URL", &peer.url())]).await;
    let owner = app.register("web-code@acme.sa").await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sessions",
            &owner.token,
            json!({"sessionName": "desk", "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    wait_for_status(&app, &owner, "desk", "qr").await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sessions/desk/pairing-code",
            &owner.token,
            json!({"phoneNumber": format!("+{PHONE}")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = body["data"]["code"].as_str().expect("a code").to_owned();
    assert_eq!(
        code.chars().filter(char::is_ascii_alphanumeric).count(),
        8,
        "{code}"
    );

    let jid = peer
        .enter_code(PHONE, &code)
        .await
        .expect("the phone enters the code");
    let session = wait_for_status(&app, &owner, "desk", "connected").await;
    assert_eq!(session["phoneNumber"], json!(PHONE), "{session}");
    assert!(peer.is_online(&jid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_links_by_pairing_code_through_the_peer_on_sqlite() {
    linked_by_code(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_links_by_pairing_code_through_the_peer_on_postgres() {
    linked_by_code(Db::Postgres).await;
}
