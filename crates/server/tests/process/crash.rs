//! Crash safety: wasl is killed with SIGKILL while thousands of messages are being sent and
//! received through sandbox sessions, then started again on the same data. Afterwards every
//! message the API accepted was transmitted exactly once (the sandbox's transmission log says
//! so), every customer's message the sandbox was told was received is stored once, and every
//! webhook event reached the CRM.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

use crate::server::{Db, Installation};

const SESSIONS: usize = 4;
const SENDERS: usize = 8;
const CUSTOMERS: usize = 16;
/// The kill comes once this many sends and customers' messages have been answered.
const SENDS_BEFORE_KILL: usize = 2_000;
const INCOMING_BEFORE_KILL: usize = 1_000;

/// A CRM stand-in that records the id of every webhook request.
#[derive(Clone, Default)]
struct Crm {
    ids: Arc<Mutex<HashMap<String, usize>>>,
}

impl Crm {
    async fn start(&self) -> String {
        let ids = self.ids.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let ids = ids.clone();
                async move {
                    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                        *ids.lock().expect("lock").entry(id.to_owned()).or_default() += 1;
                    }
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        format!("http://{addr}/hook")
    }

    fn received(&self) -> HashSet<String> {
        self.ids.lock().expect("lock").keys().cloned().collect()
    }
}

/// What the load saw answered before the kill.
#[derive(Default)]
struct Answered {
    /// WhatsApp id of every message the API accepted (201).
    sent: Mutex<HashSet<String>>,
    /// Id of every customer's message the sandbox answered 200 for (stored).
    received: Mutex<HashSet<String>>,
    /// Requests cut off by the kill, whose outcome nobody saw.
    unanswered: AtomicUsize,
    /// Customers' messages wasl could not confirm in time (sent again).
    unconfirmed: AtomicUsize,
}

fn session_name(i: usize) -> String {
    format!("line{i}")
}

/// Sends and customers' messages from many tasks until `stop`.
async fn load(
    client: reqwest::Client,
    base: String,
    token: &str,
    answered: &Arc<Answered>,
    stop: &Arc<AtomicBool>,
) {
    let mut tasks = Vec::new();
    for worker in 0..SENDERS {
        let (client, url, token, answered, stop) = (
            client.clone(),
            format!("{base}/api/v1/whatsapp/messages/send"),
            token.to_owned(),
            answered.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({
                    "to": format!("96655{:07}", worker * 100_000 + n % 50),
                    "text": format!("رسالة {worker}-{n}"),
                    "sessionName": session_name(n % SESSIONS),
                });
                match client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(id) = body["data"]["message"]["messageId"].as_str() {
                            answered.sent.lock().expect("lock").insert(id.to_owned());
                        }
                    }
                    Ok(r) => panic!("a send answered {}", r.status()),
                    Err(_) => {
                        answered.unanswered.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
    }
    for customer in 0..CUSTOMERS {
        let (client, base, token, answered, stop) = (
            client.clone(),
            format!("{base}/api/v1/whatsapp/sandbox"),
            token.to_owned(),
            answered.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("CRASHIN-{customer}-{n}");
                let url = format!("{base}/{}/incoming", session_name(n % SESSIONS));
                let body = json!({
                    "from": format!("96656{:07}", customer),
                    "type": "text",
                    "text": format!("سؤال {customer}-{n}"),
                    "messageId": id,
                });
                // Like a phone, the customer sends the message again, with the same id, until
                // wasl confirms it stored it.
                loop {
                    match client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == StatusCode::OK => {
                            answered.received.lock().expect("lock").insert(id);
                            break;
                        }
                        Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                            answered.unconfirmed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => panic!("a customer's message answered {}", r.status()),
                        Err(_) => {
                            answered.unanswered.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("load task");
    }
}

/// Polls `count` (a single number from the database) until it is zero.
/// Each of these WhatsApp ids was transmitted exactly once, by the sandbox's transmission log
/// in `data_dir`: none twice, none never (`what` names the messages in the failure).
pub(crate) fn transmitted_once<'a>(
    data_dir: &std::path::Path,
    whatsapp_ids: impl Iterator<Item = &'a str>,
    what: &str,
) {
    let log = std::fs::read_to_string(data_dir.join(wasl_engine::sandbox::log::FILE_NAME))
        .expect("the sandbox transmission log");
    let mut firsts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in log.lines() {
        if let Some((_, t, true)) = wasl_engine::sandbox::log::parse_line(line) {
            *firsts.entry(t.message_id).or_default() += 1;
        }
    }
    let twice = firsts.values().filter(|n| **n > 1).count();
    assert_eq!(twice, 0, "{twice} messages transmitted twice");
    let lost = whatsapp_ids.filter(|id| !firsts.contains_key(*id)).count();
    assert_eq!(lost, 0, "{lost} {what} messages never transmitted");
}

pub(crate) async fn until_zero(pool: &sqlx::AnyPool, sql: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let n: i64 = sqlx::query(sql)
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get(0))
            .expect("count");
        if n == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {n} after {within:?}: {sql}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn strings(pool: &sqlx::AnyPool, sql: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .expect("query")
        .iter()
        .map(|r| r.try_get::<String, _>(0).expect("text"))
        .collect()
}

pub async fn story(db: Db) {
    let install = Installation::new(db, &[]).await;
    let first = install.start().await;
    let (token, _) = first
        .enterprise_owner("crash@acme.sa", "a long crash password")
        .await;
    for i in 0..SESSIONS {
        first
            .linked_sandbox(&token, &session_name(i), &format!("96650000010{i}"))
            .await;
    }
    let crm = Crm::default();
    let (status, body) = first
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"url": crm.start().await, "events": ["message.received", "message.sent"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Load, and the kill in the middle of it.
    let answered = Arc::new(Answered::default());
    let stop = Arc::new(AtomicBool::new(false));
    let running = {
        let (answered, stop) = (answered.clone(), stop.clone());
        let process = first;
        let token = token.clone();
        tokio::spawn(async move {
            let watcher = {
                let answered = answered.clone();
                async move {
                    let deadline = Instant::now() + Duration::from_secs(120);
                    loop {
                        let sent = answered.sent.lock().expect("lock").len();
                        let received = answered.received.lock().expect("lock").len();
                        if sent >= SENDS_BEFORE_KILL && received >= INCOMING_BEFORE_KILL {
                            return;
                        }
                        assert!(
                            Instant::now() < deadline,
                            "the load never got going: {sent} sent, {received} received"
                        );
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            };
            let load = load(
                process.client.clone(),
                process.url(""),
                &token,
                &answered,
                &stop,
            );
            tokio::pin!(load);
            tokio::select! {
                () = &mut load => panic!("the load stopped before the kill"),
                () = watcher => {}
            }
            // SIGKILL while requests are in flight; every worker then sees its connection cut.
            process.kill();
            stop.store(true, Ordering::Relaxed);
            load.await;
        })
    };
    running.await.expect("the load and the kill");
    let sent: HashSet<String> = answered.sent.lock().expect("lock").clone();
    let received: HashSet<String> = answered.received.lock().expect("lock").clone();
    eprintln!(
        "{db:?}: killed after {} accepted sends and {} stored customers' messages, {} requests cut off, {} customers' messages sent again",
        sent.len(),
        received.len(),
        answered.unanswered.load(Ordering::Relaxed),
        answered.unconfirmed.load(Ordering::Relaxed)
    );

    // Started again on the same data: the sessions come back and the outbox drains.
    let second = install.start().await;
    for i in 0..SESSIONS {
        second
            .wait_status(&token, &session_name(i), "connected")
            .await;
    }
    let pool = install.database().await;
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status = 'pending'",
        Duration::from_secs(120),
    )
    .await;
    // The recipients' phones confirm every delivery, also of what went out in the moment
    // before the kill, whose confirmation the killed process never stored.
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status IN ('pending', 'sent')",
        Duration::from_secs(60),
    )
    .await;

    // Exactly once on the wire: the sandbox's log has one first transmission per message.
    let log = std::fs::read_to_string(install.data_dir.join(wasl_engine::sandbox::log::FILE_NAME))
        .expect("the sandbox transmission log");
    let mut firsts: HashMap<String, usize> = HashMap::new();
    let mut repeats = 0;
    for line in log.lines() {
        let Some((_, t, first)) = wasl_engine::sandbox::log::parse_line(line) else {
            continue;
        };
        if first {
            *firsts.entry(t.message_id).or_default() += 1;
        } else {
            repeats += 1;
        }
    }
    let twice: Vec<&String> = firsts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "transmitted twice: {twice:?}");
    let lost: Vec<&String> = sent.iter().filter(|id| !firsts.contains_key(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} accepted messages never transmitted: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let stored_outgoing: HashSet<String> = strings(
        &pool,
        "SELECT message_id FROM messages WHERE direction = 'outgoing'",
    )
    .await
    .into_iter()
    .collect();
    let unknown: Vec<&String> = firsts
        .keys()
        .filter(|id| !stored_outgoing.contains(*id))
        .collect();
    assert!(
        unknown.is_empty(),
        "transmitted without being accepted: {unknown:?}"
    );
    let failed: Vec<String> = strings(
        &pool,
        "SELECT message_id FROM messages WHERE direction = 'outgoing' AND status = 'failed'",
    )
    .await;
    assert!(failed.is_empty(), "failed sends: {failed:?}");
    assert_eq!(
        firsts.len(),
        stored_outgoing.len(),
        "every stored send was transmitted"
    );

    // Every customer's message the sandbox was told was stored is there, once.
    let incoming = strings(
        &pool,
        "SELECT message_id FROM messages WHERE direction = 'incoming'",
    )
    .await;
    let incoming_set: HashSet<String> = incoming.iter().cloned().collect();
    assert_eq!(
        incoming.len(),
        incoming_set.len(),
        "an incoming message stored twice"
    );
    let missing: Vec<&String> = received
        .iter()
        .filter(|id| !incoming_set.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );

    // Every event of the subscribed kinds reaches the CRM; deliveries cut off mid-attempt are
    // retried once their claim runs out (30 s).
    let events: HashSet<String> = strings(
        &pool,
        "SELECT id FROM events WHERE type IN ('message.received', 'message.sent')",
    )
    .await
    .into_iter()
    .collect();
    assert!(
        events.len() >= sent.len() + received.len(),
        "an event per message: {}",
        events.len()
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = crm.received();
        let missing = events.difference(&got).count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} events never reached the CRM",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let duplicates = crm
        .ids
        .lock()
        .expect("lock")
        .values()
        .filter(|n| **n > 1)
        .count();
    eprintln!(
        "{db:?}: {} transmitted once each ({repeats} repeats of an id recognized), {} customers' messages stored, {} events delivered ({duplicates} delivered more than once, same id)",
        firsts.len(),
        incoming_set.len(),
        events.len()
    );
    pool.close().await;
    second.stop();
    install.remove().await;
}
