//! Webhooks and live events (SPEC §8): signatures checked by an independent HMAC, retries on a
//! schedule moved forward by the test clock (never slept through), dead deliveries, replay,
//! a restart in the middle of a schedule, and organizations kept apart on the WebSocket.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{assert_error, spawn_app_with, Account, Db, TestApp};
use crate::messaging::linked;
use crate::on_both_databases;

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A CRM stand-in: records every request and answers with scripted statuses (then 200).
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(
            script.iter().copied().collect::<VecDeque<u16>>(),
        ));
        let (r, s) = (received.clone(), script.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    let h = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    r.lock().expect("lock").push(Received {
                        id: h("webhook-id"),
                        timestamp: h("webhook-timestamp"),
                        signature: h("webhook-signature"),
                        body,
                    });
                    let code = s.lock().expect("lock").pop_front().unwrap_or(200);
                    axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::OK)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Receiver {
            addr,
            received,
            script,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn fail_forever(&self) {
        *self.script.lock().expect("lock") = std::iter::repeat_n(500, 1000).collect();
    }

    fn heal(&self) {
        self.script.lock().expect("lock").clear();
    }
}

/// Checks a Standard Webhooks signature with HMAC-SHA256 directly, not with wasl's code.
fn verify(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    r.signature.split(' ').any(|s| s == expected)
}

async fn subscribe(
    app: &TestApp,
    owner: &Account,
    receiver: &Receiver,
    events: &[&str],
) -> (String, String) {
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            &owner.token,
            json!({"url": receiver.url(), "events": events}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["data"]["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    (
        body["data"]["webhook"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
        secret,
    )
}

async fn customer_writes(app: &TestApp, owner: &Account, text: &str) {
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sandbox/default/incoming",
            &owner.token,
            json!({"from": "966559000001", "type": "text", "text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Polls the webhook's newest delivery until `done` holds.
async fn wait_delivery(
    app: &TestApp,
    owner: &Account,
    webhook: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app
            .get(
                &format!("/api/v1/webhooks/{webhook}/deliveries"),
                &owner.token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if let Some(d) = body["data"]["deliveries"]
            .as_array()
            .and_then(|d| d.first())
            .filter(|d| done(d))
        {
            return d.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the delivery never became {what}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next `message.received` event on the socket.
async fn next_message(ws: &mut Socket) -> Value {
    loop {
        let frame = ws.next().await.expect("a frame").expect("ok frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let event: Value = serde_json::from_str(&text).expect("json");
            if event["type"] == "message.received" {
                return event;
            }
        }
    }
}

/// A receiver that accepts connections and never answers: every attempt hangs until wasl's
/// timeout. Returns its URL.
async fn hanging_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{addr}/hook")
}

/// How many of the webhook's deliveries are `status`.
async fn count_deliveries(app: &TestApp, owner: &Account, webhook: &str, status: &str) -> usize {
    let (code, body) = app
        .get(
            &format!("/api/v1/webhooks/{webhook}/deliveries?limit=100"),
            &owner.token,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["data"]["deliveries"]
        .as_array()
        .map(|d| d.iter().filter(|d| d["status"] == status).count())
        .unwrap_or(0)
}

on_both_databases! {
    async fn deliveries_are_signed_the_standard_way(app: TestApp) {
        let owner = linked(&app, "hooks@acme.sa", "966500000900").await;
        let receiver = Receiver::start(&[]).await;
        let (webhook, secret) = subscribe(&app, &owner, &receiver, &["message.received"]).await;
        assert!(secret.starts_with("whsec_"));
        customer_writes(&app, &owner, "أريد الاستفسار عن طلبي").await;
        let delivery = wait_delivery(&app, &owner, &webhook, "delivered", |d| d["status"] == "delivered").await;
        let requests = receiver.requests();
        assert_eq!(requests.len(), 1, "only the subscribed event");
        let r = &requests[0];
        assert!(verify(&secret, r), "the signature verifies independently: {r:?}");
        let body: Value = serde_json::from_str(&r.body).expect("json body");
        assert_eq!(body["type"], json!("message.received"));
        assert_eq!(body["id"], json!(r.id));
        assert_eq!(body["id"], delivery["eventId"]);
        assert_eq!(body["organizationId"], json!(owner.org_id));
        assert_eq!(body["data"]["content"]["text"], json!("أريد الاستفسار عن طلبي"));
        assert_eq!(delivery["attemptLog"][0]["statusCode"], json!(200));
        let (_, list) = app.get("/api/v1/webhooks", &owner.token).await;
        assert!(!list.to_string().contains(&secret), "the secret is never shown again");
    }

    async fn a_failing_receiver_gets_the_event_later(app: TestApp) {
        let owner = linked(&app, "retry@acme.sa", "966500000901").await;
        let receiver = Receiver::start(&[500, 503]).await;
        let (webhook, secret) = subscribe(&app, &owner, &receiver, &["message.received"]).await;
        customer_writes(&app, &owner, "مرحبا").await;
        wait_delivery(&app, &owner, &webhook, "tried once", |d| d["attempts"] == 1).await;
        app.clock.advance(Duration::from_secs(6));
        wait_delivery(&app, &owner, &webhook, "tried twice", |d| d["attempts"] == 2).await;
        app.clock.advance(Duration::from_secs(6 * 60));
        let d = wait_delivery(&app, &owner, &webhook, "delivered", |d| d["status"] == "delivered").await;
        let codes: Vec<Value> = d["attemptLog"].as_array().expect("log").iter().map(|a| a["statusCode"].clone()).collect();
        assert_eq!(codes, [json!(500), json!(503), json!(200)]);
        assert!(d["attemptLog"][0]["error"].as_str().is_some_and(|e| e.contains("500")));
        let requests = receiver.requests();
        assert_eq!(requests.len(), 3);
        assert!(requests.iter().all(|r| r.id == requests[0].id && r.body == requests[0].body), "a stable id and body across retries");
        assert!(requests.iter().all(|r| verify(&secret, r)));
    }

    async fn a_dead_receiver_ends_dead_and_can_be_replayed(app: TestApp) {
        let owner = linked(&app, "dead@acme.sa", "966500000902").await;
        let receiver = Receiver::start(&[]).await;
        receiver.fail_forever();
        let (webhook, _) = subscribe(&app, &owner, &receiver, &["message.received"]).await;
        customer_writes(&app, &owner, "هل من أحد؟").await;
        for attempt in 1..=8 {
            let d = wait_delivery(&app, &owner, &webhook, &format!("tried {attempt} times"), |d| d["attempts"] == attempt).await;
            if attempt < 8 {
                assert_eq!(d["status"], json!("pending"));
                app.clock.advance(Duration::from_secs(11 * 3600));
            }
        }
        let d = wait_delivery(&app, &owner, &webhook, "dead", |d| d["status"] == "dead").await;
        assert_eq!(d["attemptLog"].as_array().map(Vec::len), Some(8));

        receiver.heal();
        let path = format!("/api/v1/webhooks/{webhook}/deliveries/{}/replay", d["id"].as_str().expect("id"));
        let (status, body) = app.post(&path, &owner.token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let d = wait_delivery(&app, &owner, &webhook, "delivered after replay", |d| d["status"] == "delivered").await;
        assert_eq!(d["attempts"], json!(9));
        assert_eq!(receiver.requests().len(), 9);
    }

    async fn a_restart_in_the_middle_of_a_schedule_continues_it(app: TestApp) {
        let mut app = app;
        let owner = linked(&app, "restart-hooks@acme.sa", "966500000903").await;
        let receiver = Receiver::start(&[500]).await;
        let (webhook, _) = subscribe(&app, &owner, &receiver, &["message.received"]).await;
        customer_writes(&app, &owner, "قبل إعادة التشغيل").await;
        wait_delivery(&app, &owner, &webhook, "tried once", |d| d["attempts"] == 1 && d["status"] == "pending").await;
        app.restart().await;
        app.clock.advance(Duration::from_secs(6));
        let d = wait_delivery(&app, &owner, &webhook, "delivered after the restart", |d| d["status"] == "delivered").await;
        assert_eq!(d["attempts"], json!(2));
    }

    async fn one_organization_never_sees_anothers_live_events(app: TestApp) {
        let a = linked(&app, "live-a@acme.sa", "966500000904").await;
        let b = linked(&app, "live-b@other.sa", "966500000905").await;
        let connect = |token: &str| {
            let url = format!("ws://{}/api/v1/events?token={token}", app.addr);
            async move { tokio_tungstenite::connect_async(url).await.expect("websocket").0 }
        };
        let mut ws_a = connect(&a.token).await;
        let mut ws_b = connect(&b.token).await;
        let (status, body) = app.post("/api/v1/whatsapp/sandbox/default/incoming", &a.token, json!({"from": "966559100001", "type": "text", "text": "لـ أ"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = app.post("/api/v1/whatsapp/sandbox/default/incoming", &b.token, json!({"from": "966559200002", "type": "text", "text": "لـ ب"})).await;
        assert_eq!(status, StatusCode::OK);
        let got_a = tokio::time::timeout(Duration::from_secs(20), next_message(&mut ws_a)).await.expect("A hears its message");
        assert_eq!(got_a["data"]["from"], json!("966559100001"));
        assert_eq!(got_a["organizationId"], json!(a.org_id));
        // B's first message event is its own, though A's happened before it.
        let got_b = tokio::time::timeout(Duration::from_secs(20), next_message(&mut ws_b)).await.expect("B hears its message");
        assert_eq!(got_b["data"]["from"], json!("966559200002"));
        assert_eq!(got_b["organizationId"], json!(b.org_id));

        let refused = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/events?token=nope", app.addr)).await;
        assert!(refused.is_err(), "a bad token gets no stream");
    }

    async fn a_hanging_receiver_never_holds_up_another(app: TestApp) {
        let owner = linked(&app, "isolated@acme.sa", "966500000906").await;
        let (status, body) = app.post("/api/v1/webhooks", &owner.token, json!({"url": hanging_receiver().await, "events": ["message.received"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let stuck = body["data"]["webhook"]["id"].as_str().expect("id").to_owned();
        let healthy = Receiver::start(&[]).await;
        let (webhook, _) = subscribe(&app, &owner, &healthy, &["message.received"]).await;
        const MESSAGES: usize = 40;
        for i in 0..MESSAGES {
            customer_writes(&app, &owner, &format!("رسالة رقم {i}")).await;
        }
        // Every event reaches the healthy receiver while the other's first attempts hang
        // (each lasts 10 s, longer than this wait may take).
        let deadline = std::time::Instant::now() + Duration::from_secs(8);
        while count_deliveries(&app, &owner, &webhook, "delivered").await < MESSAGES {
            assert!(std::time::Instant::now() < deadline, "the healthy receiver got {} of {MESSAGES}: {} requests", count_deliveries(&app, &owner, &webhook, "delivered").await, healthy.requests().len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(healthy.requests().len(), MESSAGES, "each event once");
        assert_eq!(count_deliveries(&app, &owner, &stuck, "delivered").await, 0);
        assert_eq!(count_deliveries(&app, &owner, &stuck, "pending").await, MESSAGES, "the hanging receiver's deliveries wait their turn");
    }

    async fn webhooks_are_validated_and_tenant_scoped(app: TestApp) {
        let owner = app.register("crud@acme.sa").await;
        let other = app.register("crud@other.sa").await;
        let agent = app.add_user(&owner, "agent@crud.sa", "agent").await;
        let url = "http://127.0.0.1:9/hook";
        for bad in [
            json!({"url": "ftp://x/hook", "events": ["message.received"]}),
            json!({"url": "not a url", "events": ["message.received"]}),
            json!({"url": url, "events": []}),
            json!({"url": url, "events": ["message.exploded"]}),
            json!({"url": url, "events": ["message.sent"], "secret": "hunter2"}),
        ] {
            assert_error(&app.post("/api/v1/webhooks", &owner.token, bad).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
        assert_error(&app.post("/api/v1/webhooks", &agent.token, json!({"url": url, "events": ["message.sent"]})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let (status, body) = app.post("/api/v1/webhooks", &owner.token, json!({"url": url, "events": ["message.sent", "message.sent"], "secret": secret})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["secret"], json!(secret));
        assert_eq!(body["data"]["webhook"]["events"], json!(["message.sent"]));
        let id = body["data"]["webhook"]["id"].as_str().expect("id");
        let path = format!("/api/v1/webhooks/{id}");
        for (status, code) in [
            (app.get(&path, &other.token).await, "NOT_FOUND"),
            (app.put(&path, &other.token, json!({"isActive": false})).await, "NOT_FOUND"),
            (app.delete(&path, &other.token).await, "NOT_FOUND"),
            (app.get(&format!("{path}/deliveries"), &other.token).await, "NOT_FOUND"),
        ] {
            assert_error(&status, StatusCode::NOT_FOUND, code);
        }
        let (status, body) = app.put(&path, &owner.token, json!({"events": ["session.status", "contact.created"], "isActive": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["webhook"]["isActive"], json!(false));
        assert_eq!(app.delete(&path, &owner.token).await.0, StatusCode::OK);
        assert_error(&app.get(&path, &owner.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let app = spawn_app_with(Db::Sqlite, &[("WASL_WEBHOOK_ALLOW_PRIVATE", "false")]).await;
    let owner = app.register("ssrf@acme.sa").await;
    for url in [
        "http://127.0.0.1:8080/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://10.0.0.5/x",
        "http://localhost/x",
        // Private addresses in IPv6 clothing, and the rest of IANA's special-purpose blocks.
        "http://[64:ff9b::7f00:1]/x",
        "http://[2002:7f00:1::]/x",
        "http://[::ffff:10.0.0.1]/x",
        "http://198.18.0.1/x",
        "http://224.0.0.1/x",
        "http://[ff02::1]/x",
        // Ports of other services, and no port at all.
        "http://93.184.215.14:22/x",
        "http://93.184.215.14:0/x",
        "https://93.184.215.14:25/x",
    ] {
        assert_error(
            &app.post(
                "/api/v1/webhooks",
                &owner.token,
                json!({"url": url, "events": ["message.received"]}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "WEBHOOK_URL_NOT_ALLOWED",
        );
    }
}
