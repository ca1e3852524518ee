//! The `web` engine (WhatsApp Web through whatsapp-rust) behind the real server, offline:
//! `WASL_WEB_SOCKET_URL` points it at a local port that refuses connections or at one that
//! accepts and then breaks them. Either way the session stays `connecting`, retries with
//! growing delays, says why in `lastDisconnectReason`, and logs out cleanly.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{assert_error, spawn_app_with, Account, Db, TestApp};

/// Small backoff so a few retries take about a second; the cap is reached after four.
const BASE_MS: u64 = 100;
const MAX_MS: u64 = 800;

async fn web_app(db: Db, url: &str) -> TestApp {
    spawn_app_with(
        db,
        &[
            ("WASL_WEB_SOCKET_URL", url),
            ("WASL_RECONNECT_BASE_MS", &BASE_MS.to_string()),
            ("WASL_RECONNECT_MAX_MS", &MAX_MS.to_string()),
        ],
    )
    .await
}

async fn create_web(app: &TestApp, owner: &Account, name: &str) -> (StatusCode, Value) {
    app.post(
        "/api/v1/whatsapp/sessions",
        &owner.token,
        json!({"sessionName": name, "engine": "web"}),
    )
    .await
}

/// A port that was free a moment ago and has no listener now: connecting is refused.
async fn refusing_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("ws://127.0.0.1:{port}/ws/chat")
}

#[derive(Debug, Clone, Copy)]
enum Breakage {
    /// Closes the TCP connection as soon as it is accepted.
    CloseAtOnce,
    /// Answers the WebSocket upgrade with something that is not HTTP.
    Garbage,
    /// Completes the WebSocket upgrade, then closes before WhatsApp's own handshake.
    CloseAfterUpgrade,
}

/// A server that accepts every connection and breaks it; returns its URL and when each
/// connection arrived.
async fn breaking_server(breakage: Breakage) -> (String, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.lock().expect("lock").push(Instant::now());
            tokio::spawn(async move {
                match breakage {
                    Breakage::CloseAtOnce => drop(stream),
                    Breakage::Garbage => {
                        let mut request = [0u8; 1024];
                        let _ = stream.read(&mut request).await;
                        let _ = stream.write_all(b"\x00\xffnot http at all\r\n\r\n").await;
                        let _ = stream.shutdown().await;
                    }
                    Breakage::CloseAfterUpgrade => {
                        if let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await {
                            let _ = ws.close(None).await;
                        }
                    }
                }
            });
        }
    });
    (format!("ws://127.0.0.1:{port}/ws/chat"), arrivals)
}

/// Waits until the session has retried at least `attempts` times, and checks what it says
/// meanwhile: still trying, and why the last attempt failed.
async fn wait_for_retries(app: &TestApp, owner: &Account, name: &str, attempts: i64) -> Value {
    let session = app
        .wait_for_session(&owner.token, name, "retrying", |s| {
            s["connectionAttempts"].as_i64().unwrap_or(0) >= attempts
        })
        .await;
    assert_eq!(session["engine"], json!("web"), "{session}");
    assert_eq!(session["status"], json!("connecting"), "{session}");
    assert_eq!(session["isActive"], json!(true), "{session}");
    assert!(session["lastDisconnected"].is_string(), "{session}");
    let reason = session["lastDisconnectReason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.starts_with("connection lost: "),
        "a network failure, which is retried: {session}"
    );
    session
}

async fn refused_story(db: Db) {
    let app = web_app(db, &refusing_url().await).await;
    let owner = app.register("web-refused@acme.sa").await;
    let (status, body) = create_web(&app, &owner, "default").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["data"]["sessionId"],
        json!(format!("{}_default", owner.org_id))
    );

    let first = wait_for_retries(&app, &owner, "default", 2).await;
    let reason = first["lastDisconnectReason"].as_str().unwrap_or_default();
    assert!(
        reason.to_lowercase().contains("refused"),
        "the reason names the refusal: {reason}"
    );
    // It keeps trying: the count goes on growing.
    let later = wait_for_retries(&app, &owner, "default", 4).await;
    assert!(later["connectionAttempts"].as_i64() > first["connectionAttempts"].as_i64());
    // Never connected, so there is no QR to show.
    assert_error(
        &app.get("/api/v1/whatsapp/sessions/default/qr", &owner.token)
            .await,
        StatusCode::CONFLICT,
        "QR_NOT_READY",
    );

    // Logging out stops the retries for good and keeps the record.
    let (status, body) = app
        .delete("/api/v1/whatsapp/sessions/default", &owner.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = app
        .wait_for_session(&owner.token, "default", "logged out", |s| {
            s["status"] == "logged_out"
        })
        .await;
    assert_eq!(session["isActive"], json!(false), "{session}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_keeps_retrying_a_refusing_port_on_sqlite() {
    refused_story(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_keeps_retrying_a_refusing_port_on_postgres() {
    refused_story(Db::Postgres).await;
}

/// Every attempt reaches the server, and the pause before each retry is at least the
/// backoff's floor for that retry (half its ceiling: base × 2ⁿ, capped). Only lower bounds
/// are checked, which a sleep cannot undercut however slow the machine is.
fn assert_growing_gaps(arrivals: &[Instant]) {
    for (n, pair) in arrivals.windows(2).enumerate() {
        let ceiling = (BASE_MS << n.min(16)).min(MAX_MS);
        let floor = Duration::from_millis(ceiling / 2);
        let gap = pair[1] - pair[0];
        assert!(
            gap >= floor,
            "retry {} came after {gap:?}, before its backoff floor {floor:?}",
            n + 1
        );
    }
}

async fn broken_story(breakage: Breakage) {
    let (url, arrivals) = breaking_server(breakage).await;
    let app = web_app(Db::Sqlite, &url).await;
    let owner = app
        .register(&format!("web-{breakage:?}@acme.sa").to_lowercase())
        .await;
    let (status, body) = create_web(&app, &owner, "default").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Five retries started means the first attempt and four retries have connected.
    let session = wait_for_retries(&app, &owner, "default", 5).await;
    let reason = session["lastDisconnectReason"].as_str().unwrap_or_default();
    assert!(
        !reason.to_lowercase().contains("refused"),
        "the server accepted, so the reason is not a refusal: {reason}"
    );
    let arrivals = arrivals.lock().expect("lock").clone();
    assert!(
        arrivals.len() >= 5,
        "the first attempt and four retries each connected: {}",
        arrivals.len()
    );
    assert_growing_gaps(&arrivals[..5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_retries_a_server_that_closes_at_once() {
    broken_story(Breakage::CloseAtOnce).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_retries_a_server_that_answers_garbage() {
    broken_story(Breakage::Garbage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_retries_a_server_that_drops_the_websocket() {
    broken_story(Breakage::CloseAfterUpgrade).await;
}
