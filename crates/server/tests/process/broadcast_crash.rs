//! A broadcast survives SIGKILL: wasl is killed while it hands a 2,000-recipient broadcast
//! (no pause between messages) to the outbox, and started again on the same data. Afterwards
//! every recipient has exactly one message, each transmitted exactly once (the sandbox's
//! transmission log says so), and the broadcast completed: nobody skipped, nobody twice.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::crash::until_zero;
use crate::server::{Db, Installation};

const RECIPIENTS: usize = 2_000;
/// The kill comes once this many recipients have been handed to the outbox.
const HANDED_BEFORE_KILL: i64 = 300;

async fn count(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .and_then(|r| r.try_get(0))
        .expect("count")
}

pub async fn story(db: Db) {
    let install = Installation::new(db, &[]).await;
    let first = install.start().await;
    let (token, _) = first
        .enterprise_owner("broadcast-crash@acme.sa", "a long crash password")
        .await;
    first
        .linked_sandbox(&token, "default", "966500000401")
        .await;
    let phones: Vec<String> = (0..RECIPIENTS).map(|n| format!("96656{n:07}")).collect();
    let (status, created) = first
        .post(
            "/api/v1/whatsapp/broadcasts",
            &token,
            json!({"name": "crash", "sessionName": "default",
                   "recipients": {"type": "list", "phones": phones},
                   "message": {"type": "text", "text": "عرض اليوم"},
                   "pacing": {"perMinute": 0}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["broadcast"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, started) = first
        .post(
            &format!("/api/v1/whatsapp/broadcasts/{id}/start"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let pool = install.database().await;
    let handed = "SELECT COUNT(*) FROM broadcast_recipients WHERE message_id IS NOT NULL";
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&pool, handed).await < HANDED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "the broadcast never got going");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    let before = count(&pool, handed).await;
    eprintln!("{db:?}: killed with {before} of {RECIPIENTS} recipients handed over");

    let second = install.start().await;
    second.wait_status(&token, "default", "connected").await;
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM broadcasts WHERE status <> 'completed'",
        Duration::from_secs(180),
    )
    .await;
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status = 'pending'",
        Duration::from_secs(120),
    )
    .await;

    // Every recipient has its message; no message without its recipient.
    let rows: Vec<(String, Option<String>)> =
        sqlx::query("SELECT phone, message_id FROM broadcast_recipients ORDER BY seq")
            .fetch_all(&pool)
            .await
            .expect("recipients")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(rows.len(), RECIPIENTS);
    assert!(
        rows.iter().all(|(_, m)| m.is_some()),
        "a recipient never handed over"
    );
    let named: HashSet<String> = rows.iter().filter_map(|(_, m)| m.clone()).collect();
    let messages: Vec<(String, String, String)> = sqlx::query(
        "SELECT id, message_id, contact_phone FROM messages WHERE direction = 'outgoing'",
    )
    .fetch_all(&pool)
    .await
    .expect("messages")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    assert_eq!(messages.len(), RECIPIENTS, "one message per recipient");
    let mut per_phone: HashMap<&str, usize> = HashMap::new();
    for (id, _, phone) in &messages {
        assert!(named.contains(id), "a message no recipient names");
        *per_phone.entry(phone.as_str()).or_default() += 1;
    }
    assert!(
        per_phone.values().all(|n| *n == 1),
        "a customer got the broadcast twice"
    );

    // Exactly once on the wire.
    crate::crash::transmitted_once(
        &install.data_dir,
        messages
            .iter()
            .map(|(_, whatsapp_id, _)| whatsapp_id.as_str()),
        "broadcast",
    );
    eprintln!("{db:?}: {RECIPIENTS} recipients, each sent to once, each message transmitted once");
    pool.close().await;
    second.stop();
    install.remove().await;
}
