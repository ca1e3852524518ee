//! auto-reply: how long a customer waits for an automated answer, and what answering costs
//! the intake of customers' messages. Customers write through the sandbox (the path every
//! engine's messages take: stored, then confirmed); a rule answers every message (each from a
//! customer of its own, so no cooldown or hourly limit holds an answer back), with no pause
//! between sends.
//!
//! - latency: from the customer's message being stored (its `createdAt`) to the answer being
//!   handed to the engine (its `sentAt`), p50 and p99, under a steady stream of customers'
//!   messages; beside an ordinary API send's trip through the outbox (stored to handed to the
//!   engine) under the same stream with no rules.
//! - intake: customers' messages stored per second from many concurrent writers with the rule
//!   answering each, beside the same load with no rules.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row as _;

use crate::harness::{Account, BenchResult, Db, Fresh, Server};
use crate::load;
use crate::raw;
use crate::report::Row;

const BENCH: &str = "auto-reply";
const SESSIONS: usize = 4;
/// Concurrent writers of the intake load.
const WRITERS: usize = 32;

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

fn session(i: u64) -> String {
    format!("desk{}", i % SESSIONS as u64)
}

/// The customer of message `i` of a phase: one of their own, or (`per_customer` > 1) one who
/// writes that many messages in a row (0: one customer per six messages of small talk).
fn customer(phase: u64, i: u64, per_customer: u64) -> String {
    let per = if per_customer == 0 { 6 } else { per_customer };
    format!("9665{phase}{:07}", i / per)
}

/// What a customer writes, in order: a greeting, a question, a follow-up and a word of
/// assent the rules do not know, a delivery question, thanks.
const CONVERSATION: [&str; 6] = [
    "السلام عليكم",
    "كم سعر باقة الورد الحمراء رقم {i}؟",
    "ولونها؟",
    "تمام",
    "هل التوصيل متاح اليوم إلى حي النرجس؟",
    "شكرا",
];

/// What no rule knows.
const SMALL_TALK: &str = "ابغى باقة ورد للتخرج لو سمحت";

/// One customer's message through the sandbox; true when wasl confirmed it stored it.
async fn write(server: &Server, token: &str, phase: u64, i: u64, per_customer: u64) -> bool {
    let per = if per_customer == 0 { 6 } else { per_customer };
    let url = server.url(&format!(
        "/api/v1/whatsapp/sandbox/{}/incoming",
        session(i / per)
    ));
    let text = match per_customer {
        // A customer of their own per message: a question the prices rule answers.
        1 => CONVERSATION[1].replace("{i}", &i.to_string()),
        // Many messages each: what no rule knows.
        0 => SMALL_TALK.to_owned(),
        n => CONVERSATION[(i % n) as usize % CONVERSATION.len()].replace("{i}", &i.to_string()),
    };
    let body = json!({
        "from": customer(phase, i, per_customer),
        "type": "text",
        "text": text,
        "messageId": format!("AUTO{phase}-{i:09}"),
    });
    matches!(
        server.client.post(url).bearer_auth(token).json(&body).send().await,
        Ok(r) if r.status() == StatusCode::OK
    )
}

/// Customers' messages from `WRITERS` concurrent writers for `duration`, each customer
/// writing `per_customer` of them.
async fn intake(
    server: &Arc<Server>,
    token: &str,
    phase: u64,
    duration: Duration,
    per_customer: u64,
) -> load::Load {
    let (server, token) = (server.clone(), token.to_owned());
    load::run(WRITERS, duration, u64::MAX, move |i| {
        let (server, token) = (server.clone(), token.clone());
        async move { write(&server, &token, phase, i, per_customer).await }
    })
    .await
}

/// Customers' messages at `rate` a second for `duration`, each on its own schedule (an open
/// loop: a slow answer does not slow the stream); with `send`, an API send beside each.
async fn stream(
    server: &Arc<Server>,
    token: &str,
    phase: u64,
    rate: f64,
    duration: Duration,
    send: bool,
) -> u64 {
    let total = (rate * duration.as_secs_f64()) as u64;
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (server, token, done) = (server.clone(), token.to_owned(), done.clone());
        tasks.push(tokio::spawn(async move {
            if write(&server, &token, phase, i, 1).await {
                done.fetch_add(1, Ordering::Relaxed);
            }
            if send {
                let body = json!({"to": customer(phase + 1, i, 1), "text": format!("عرض اليوم {i}"), "sessionName": session(i)});
                let _ = server
                    .client
                    .post(server.url("/api/v1/whatsapp/messages/send"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed)
}

/// Waits until automation has considered every message and the outbox has handed every
/// message to the engine; how long that took.
async fn drained(pool: &sqlx::AnyPool, within: Duration) -> BenchResult<Duration> {
    let started = Instant::now();
    loop {
        let waiting = raw::count(pool, "SELECT COUNT(*) FROM automation_queue").await?
            + raw::count(
                pool,
                "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status = 'pending'",
            )
            .await?;
        if waiting == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            return Err(format!("{waiting} still waiting after {within:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[i64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

/// Milliseconds from each customer's message of `phase` to its automated answer being handed
/// to the engine, sorted.
async fn answer_latencies(pool: &sqlx::AnyPool, phase: u64) -> BenchResult<Vec<i64>> {
    let prefix = format!("AUTO{phase}-%");
    let stored: HashMap<String, i64> = sqlx::query(
        "SELECT id, created_at FROM messages WHERE direction = 'incoming' AND message_id LIKE $1",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
    .collect();
    let answers = sqlx::query(
        "SELECT metadata, sent_at FROM messages WHERE direction = 'outgoing' AND metadata IS NOT NULL AND sent_at IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let mut latencies = Vec::new();
    for row in answers {
        let metadata: Value =
            serde_json::from_str(&row.get::<String, _>(0)).map_err(|e| e.to_string())?;
        let Some(answered) = metadata["automation"]["incomingMessageId"].as_str() else {
            continue;
        };
        if let Some(at) = stored.get(answered) {
            latencies.push(row.get::<i64, _>(1) - at);
        }
    }
    latencies.sort_unstable();
    Ok(latencies)
}

/// Milliseconds from each API send of the run to its being handed to the engine, sorted.
async fn send_latencies(pool: &sqlx::AnyPool) -> BenchResult<Vec<i64>> {
    let mut latencies: Vec<i64> = sqlx::query(
        "SELECT sent_at - created_at FROM messages WHERE direction = 'outgoing' AND metadata IS NULL AND sent_at IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect();
    latencies.sort_unstable();
    Ok(latencies)
}

async fn add_rule(server: &Server, account: &Account, rule: Value) -> BenchResult<()> {
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/api/v1/whatsapp/auto-replies",
            &account.token,
            Some(rule),
        )
        .await?;
    if status == StatusCode::CREATED {
        Ok(())
    } else {
        Err(format!("create a rule: {status} {body}"))
    }
}

/// An organization's everyday rules: keywords, a pattern, and a welcome for everyone, each
/// once an hour per customer (the default cooldown).
async fn everyday_rules(server: &Server, account: &Account) -> BenchResult<()> {
    let text = |t: &str| json!({"type": "text", "text": t});
    let keywords = [
        ("الأسعار", "contains", "سعر", 30),
        ("التوصيل", "contains", "توصيل", 30),
        ("الدوام", "contains", "متى تفتحون", 20),
        ("الفروع", "contains", "فرع", 20),
        ("الدفع", "contains", "الدفع", 20),
        ("الإرجاع", "startsWith", "استرجاع", 20),
        ("الشكر", "exact", "شكرا", 10),
        ("السلام", "startsWith", "السلام عليكم", 5),
    ];
    for (name, match_type, trigger, priority) in keywords {
        add_rule(server, account, json!({"name": name, "matchType": match_type, "trigger": trigger, "priority": priority,
            "response": text(&format!("أهلاً {{{{contact.name|عميلنا}}}}، بخصوص {name}: سيصلك التفصيل حالاً"))})).await?;
    }
    add_rule(server, account, json!({"name": "تتبع الطلب", "matchType": "regex", "trigger": "(طلب|order)\\s*(رقم)?\\s*#?\\d+", "priority": 40,
        "response": text("نتابع طلبك الآن")})).await?;
    add_rule(server, account, json!({"name": "ترحيب", "matchType": "any", "priority": 0,
        "response": text("أهلاً بك في متجر الورد"), "conditions": {"withinBusinessHours": true}, "awayResponse": text("نحن خارج أوقات العمل، نعود غداً")})).await
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let (burst, steady, rate) = if quick {
        (Duration::from_secs(5), Duration::from_secs(6), 50.0)
    } else {
        (Duration::from_secs(20), Duration::from_secs(30), 50.0)
    };
    let server = Arc::new(Server::start(fresh, &[]).await?);
    let account = server.enterprise_org("auto-reply@bench.sa").await?;
    for i in 0..SESSIONS as u64 {
        server
            .connected_sandbox(&account, &session(i), &format!("96650000030{i}"))
            .await?;
    }
    let pool = raw::pool(&fresh.url).await?;
    let token = account.token.clone();
    let answered = "SELECT COUNT(*) FROM messages WHERE metadata IS NOT NULL";

    // No rules: the intake, then the steady stream with an API send beside each message.
    let _ = intake(&server, &token, 9, Duration::from_secs(1), 1).await;
    let plain = intake(&server, &token, 1, burst, 6).await;
    drained(&pool, Duration::from_secs(120)).await?;
    stream(&server, &token, 2, rate, steady, true).await;
    drained(&pool, Duration::from_secs(120)).await?;
    let sends = send_latencies(&pool).await?;

    // The everyday rules: small talk none of them answers (what considering each message
    // costs), then customers writing the six messages of a conversation.
    everyday_rules(&server, &account).await?;
    let unanswered = intake(&server, &token, 5, burst, 0).await;
    drained(&pool, Duration::from_secs(300)).await?;
    let before = raw::count(&pool, answered).await?;
    let everyday = intake(&server, &token, 3, burst, 6).await;
    let everyday_answers = raw::count(&pool, answered).await? - before;
    let everyday_catch_up = drained(&pool, Duration::from_secs(300)).await?;

    // Every message answered: each from a customer of their own (no cooldown holds an answer
    // back), the intake, then the steady stream whose answers are timed.
    let before = raw::count(&pool, answered).await?;
    let every = intake(&server, &token, 4, burst, 1).await;
    let every_answers = raw::count(&pool, answered).await? - before;
    let every_catch_up = drained(&pool, Duration::from_secs(300)).await?;
    let streamed = stream(&server, &token, 6, rate, steady, false).await;
    drained(&pool, Duration::from_secs(120)).await?;
    let answers = answer_latencies(&pool, 6).await?;
    pool.close().await;
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await?;
    }

    let (p50, p99) = (quantile(&answers, 0.50), quantile(&answers, 0.99));
    let (send_p50, send_p99) = (quantile(&sends, 0.50), quantile(&sends, 0.99));
    let latency_met = p99 <= 50.0 && answers.len() as u64 == streamed;
    let mut latency_note = format!(
        "{streamed} customers' messages at {rate:.0}/s over {SESSIONS} sandbox sessions, each answered by the 10 everyday rules ({} answers); answer p50 {p50:.0} ms, p99 {p99:.0} ms (max {:.0} ms); baseline: {} API sends beside the same stream with no rules, p50 {send_p50:.0} ms, p99 {send_p99:.0} ms (stored → handed to the engine)",
        answers.len(),
        answers.last().copied().unwrap_or(0) as f64,
        sends.len()
    );
    if !latency_met {
        latency_note.push_str("; MISSES the target");
    }
    let ratio = everyday.per_sec() / plain.per_sec().max(1e-9);
    let worst = every.per_sec() / plain.per_sec().max(1e-9);
    Ok(vec![
        Row::new(BENCH, db.name(), "answer p99: message stored → handed to engine")
            .figure(
                format!("{p99:.0} ms"),
                format!("{send_p99:.0} ms (API send)"),
                p99 / send_p99.max(1.0),
            )
            .target("p99 ≤ 50 ms", latency_met)
            .note(latency_note),
        Row::new(BENCH, db.name(), "customers' messages stored per second, 10 rules")
            .figure(
                format!("{:.0}", everyday.per_sec()),
                format!("{:.0} (no rules)", plain.per_sec()),
                ratio,
            )
            .target("≥ 0.8× no rules", ratio >= 0.8)
            .note(format!(
                "{WRITERS} writers for {:.0} s over {SESSIONS} sessions, customers each writing a conversation of 6 messages (a greeting, a price question, a follow-up and an assent no rule knows, a delivery question, thanks): {} stored and {everyday_answers} answered within the window with the rules ({:.0}% of the messages answered; the rest {:.1} s later), {} stored with no rules; p99 confirmation {:.1} ms with the rules, {:.1} ms without",
                burst.as_secs_f64(), everyday.ok, 100.0 * everyday_answers as f64 / everyday.ok.max(1) as f64, everyday_catch_up.as_secs_f64(), plain.ok, everyday.p99(), plain.p99()
            )),
        Row::new(BENCH, db.name(), "… the 10 rules answering nothing")
            .figure(
                format!("{:.0}", unanswered.per_sec()),
                format!("{:.0} (no rules)", plain.per_sec()),
                unanswered.per_sec() / plain.per_sec().max(1e-9),
            )
            .informational("—")
            .note("small talk no rule matches (the welcome rule answers each customer's first message once): what considering each message against the rules costs".to_owned()),
        Row::new(BENCH, db.name(), "… every message answered (worst case)")
            .figure(
                format!("{:.0}", every.per_sec()),
                format!("{:.0} (no rules)", plain.per_sec()),
                worst,
            )
            .informational("—")
            .note(format!(
                "each message from a customer of their own, so each is answered (a message of its own, sent, delivered): {} stored and {every_answers} answered within the window (the rest {:.1} s later)",
                every.ok, every_catch_up.as_secs_f64()
            )),
    ])
}
