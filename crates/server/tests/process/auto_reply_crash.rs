//! Automation survives SIGKILL: wasl is killed while customers' messages that trigger an
//! auto-reply stream in, and started again on the same data. Afterwards every customer's
//! message the sandbox was told was stored has exactly one automated answer, each answer was
//! transmitted exactly once (the sandbox's transmission log says so), and no answer exists
//! without the message it answers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::crash::until_zero;
use crate::server::{Db, Installation};

const SESSIONS: usize = 2;
const CUSTOMERS: usize = 16;
/// The kill comes once this many customers' messages have been stored.
const STORED_BEFORE_KILL: usize = 800;

fn session_name(i: usize) -> String {
    format!("desk{i}")
}

/// Customers write until `stop`; each message from a customer of its own, so that each is
/// answered (the cooldown and the hourly limit are per contact). Returns the WhatsApp ids the
/// sandbox was told were stored.
async fn customers(
    client: reqwest::Client,
    base: String,
    token: String,
    stored: Arc<Mutex<HashSet<String>>>,
    cut_off: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let mut tasks = Vec::new();
    for customer in 0..CUSTOMERS {
        let (client, base, token, stored, cut_off, stop) = (
            client.clone(),
            base.clone(),
            token.clone(),
            stored.clone(),
            cut_off.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("AUTOIN-{customer}-{n}");
                let url = format!(
                    "{base}/api/v1/whatsapp/sandbox/{}/incoming",
                    session_name(n % SESSIONS)
                );
                let body = json!({
                    "from": format!("9665{customer:02}{n:06}"),
                    "type": "text",
                    "text": format!("كم سعر المنتج {n}؟"),
                    "messageId": id,
                });
                // Like a phone: the same message again, same id, until wasl says it stored it.
                loop {
                    match client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == StatusCode::OK => {
                            stored.lock().expect("lock").insert(id);
                            break;
                        }
                        Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {}
                        Ok(r) => panic!("a customer's message answered {}", r.status()),
                        Err(_) => {
                            cut_off.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("customer");
    }
}

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
        .enterprise_owner("auto-crash@acme.sa", "a long crash password")
        .await;
    for i in 0..SESSIONS {
        first
            .linked_sandbox(&token, &session_name(i), &format!("96650000020{i}"))
            .await;
    }
    let (status, rule) = first
        .post(
            "/api/v1/whatsapp/auto-replies",
            &token,
            json!({"name": "الأسعار", "matchType": "contains", "trigger": "سعر",
                   "response": {"type": "text", "text": "أهلاً {{contact.name|عميلنا}}، قائمة الأسعار في الطريق"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule_id = rule["data"]["autoReply"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let stored: Arc<Mutex<HashSet<String>>> = Arc::default();
    let cut_off: Arc<AtomicUsize> = Arc::default();
    let stop: Arc<AtomicBool> = Arc::default();
    let load = tokio::spawn(customers(
        first.client.clone(),
        first.url(""),
        token.clone(),
        stored.clone(),
        cut_off.clone(),
        stop.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(120);
    while stored.lock().expect("lock").len() < STORED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "the customers never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pool = install.database().await;
    let waiting = count(&pool, "SELECT COUNT(*) FROM automation_queue").await;
    first.kill();
    stop.store(true, Ordering::Relaxed);
    load.await.expect("the customers");
    let stored: HashSet<String> = stored.lock().expect("lock").clone();
    eprintln!(
        "{db:?}: killed after {} customers' messages stored ({waiting} waiting for automation a moment before), {} requests cut off",
        stored.len(),
        cut_off.load(Ordering::Relaxed)
    );

    // Started again: automation works off what it had not settled, the outbox sends it all.
    let second = install.start().await;
    for i in 0..SESSIONS {
        second
            .wait_status(&token, &session_name(i), "connected")
            .await;
    }
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM automation_queue",
        Duration::from_secs(120),
    )
    .await;
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status = 'pending'",
        Duration::from_secs(120),
    )
    .await;

    // Each stored customer's message has exactly one answer, and each answer answers one.
    let incoming: HashMap<String, String> =
        sqlx::query("SELECT id, message_id FROM messages WHERE direction = 'incoming'")
            .fetch_all(&pool)
            .await
            .expect("incoming")
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect();
    let missing: Vec<&String> = stored
        .iter()
        .filter(|id| !incoming.values().any(|w| w == *id))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    let answers: Vec<(String, String, String)> = sqlx::query(
        "SELECT message_id, idempotency_key, metadata FROM messages WHERE direction = 'outgoing'",
    )
    .fetch_all(&pool)
    .await
    .expect("answers")
    .iter()
    .map(|r| {
        (
            r.get::<String, _>(0),
            r.get::<Option<String>, _>(1).unwrap_or_default(),
            r.get::<Option<String>, _>(2).unwrap_or_default(),
        )
    })
    .collect();
    let mut answered: HashMap<String, usize> = HashMap::new();
    for (_, key, metadata) in &answers {
        let metadata: serde_json::Value = serde_json::from_str(metadata).expect("metadata");
        assert_eq!(
            metadata["automation"]["kind"],
            json!("auto_reply"),
            "{metadata}"
        );
        assert_eq!(metadata["automation"]["id"], json!(rule_id));
        let answers_id = metadata["automation"]["incomingMessageId"]
            .as_str()
            .expect("id");
        assert_eq!(key, &format!("auto-reply·{rule_id}·{answers_id}"));
        *answered.entry(answers_id.to_owned()).or_default() += 1;
    }
    let twice: Vec<&String> = answered
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "answered twice: {twice:?}");
    let orphans: Vec<&String> = answered
        .keys()
        .filter(|id| !incoming.contains_key(*id))
        .collect();
    assert!(
        orphans.is_empty(),
        "answers to no stored message: {orphans:?}"
    );
    let unanswered: Vec<&String> = incoming
        .keys()
        .filter(|id| !answered.contains_key(*id))
        .collect();
    assert!(
        unanswered.is_empty(),
        "{} of {} customers' messages never answered",
        unanswered.len(),
        incoming.len()
    );

    // Exactly once on the wire.
    let log = std::fs::read_to_string(install.data_dir.join(wasl_engine::sandbox::log::FILE_NAME))
        .expect("the sandbox transmission log");
    let mut firsts: HashMap<String, usize> = HashMap::new();
    for line in log.lines() {
        if let Some((_, t, true)) = wasl_engine::sandbox::log::parse_line(line) {
            *firsts.entry(t.message_id).or_default() += 1;
        }
    }
    let twice: Vec<&String> = firsts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "transmitted twice: {twice:?}");
    let lost: Vec<&String> = answers
        .iter()
        .map(|(id, _, _)| id)
        .filter(|id| !firsts.contains_key(*id))
        .collect();
    assert!(lost.is_empty(), "{} answers never transmitted", lost.len());
    eprintln!(
        "{db:?}: {} customers' messages, {} answered exactly once, each transmitted once",
        incoming.len(),
        answered.len()
    );
    pool.close().await;
    second.stop();
    install.remove().await;
}
