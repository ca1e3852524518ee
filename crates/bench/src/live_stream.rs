//! live-stream: what an open dashboard receives per incoming message while customers write at
//! 5 messages a second, on the live socket the dashboard listens to (`/api/v1/events`). The
//! dashboard moves rows and bubbles in place from these events and makes no request of its
//! own per message, so these bytes are what a message costs it. The baseline is the message
//! itself, as `GET /api/v1/whatsapp/messages` returns it.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::harness::{BenchResult, Db, Fresh, Server};
use crate::report::Row;

const BENCH: &str = "live-stream";
const RATE_PER_SECOND: u64 = 5;
const CUSTOMERS: u64 = 20;
/// The target for one message's share of what the dashboard receives.
const TARGET_BYTES: f64 = 2048.0;

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let messages: u64 = if quick { 10 } else { 100 };
    let server = Server::start(fresh, &[]).await?;
    let account = server.enterprise_org("live@bench.sa").await?;
    server
        .connected_sandbox(&account, "default", "966500000007")
        .await?;

    let stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let url = format!("ws://{}/api/v1/events?token={}", server.addr, account.token);
    let (mut socket, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| format!("the live socket: {e}"))?;

    // Customers write at a steady pace; the socket is read meanwhile.
    let client = server.client.clone();
    let incoming = server.url("/api/v1/whatsapp/sandbox/default/incoming");
    let token = account.token.clone();
    let writer = tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(1000 / RATE_PER_SECOND));
        for i in 0..messages {
            pace.tick().await;
            let body = json!({
                "from": format!("9665{:08}", 40_000_000 + i % CUSTOMERS),
                "pushName": format!("عميل {}", i % CUSTOMERS),
                "type": "text",
                "text": format!("السلام عليكم، أريد أن أسأل عن الطلب رقم {i}، هل يصل اليوم؟"),
            });
            let ok = client
                .post(&incoming)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if !ok {
                return Err(format!("message {i} was not taken"));
            }
        }
        Ok(())
    });

    let (mut bytes, mut frames, mut received) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    while received < messages {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .map_err(|_| format!("{received} of {messages} messages arrived live"))?;
        let Some(frame) = frame else {
            return Err("the live socket closed".into());
        };
        match frame.map_err(|e| format!("the live socket: {e}"))? {
            Frame::Text(text) => {
                bytes += text.len() as u64;
                frames += 1;
                let event: Value = serde_json::from_str(&text).unwrap_or_default();
                if event["type"] == "message.received" {
                    received += 1;
                }
            }
            Frame::Binary(data) => bytes += data.len() as u64,
            _ => {}
        }
    }
    writer.await.map_err(|e| format!("the writer: {e}"))??;
    let elapsed = started.elapsed();

    let (_, list) = server
        .call(
            reqwest::Method::GET,
            "/api/v1/whatsapp/messages?limit=1",
            &account.token,
            None,
        )
        .await?;
    let one = serde_json::to_string(&list["data"]["messages"][0])
        .map_err(|e| e.to_string())?
        .len() as f64;
    server.stop().await?;

    let per_message = bytes as f64 / messages as f64;
    Ok(vec![Row::new(BENCH, db.name(), "bytes to the dashboard per message")
        .figure(
            format!("{per_message:.0} B"),
            format!("{one:.0} B (the message)"),
            per_message / one,
        )
        .target("≤ 2,048 B", per_message <= TARGET_BYTES)
        .note(format!(
            "{messages} messages at {RATE_PER_SECOND}/s from {CUSTOMERS} customers over {:.1} s: {frames} live events ({:.1} per message), no request per message",
            elapsed.as_secs_f64(),
            frames as f64 / messages as f64
        ))])
}
