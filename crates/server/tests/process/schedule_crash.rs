//! The scheduler survives SIGKILL: a burst of scheduled messages comes due at the same second,
//! wasl is killed while it fires them, and started again on the same data. Afterwards each
//! schedule had exactly one occurrence, with exactly one message, transmitted exactly once
//! (the sandbox's transmission log says so): none skipped, none repeated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::crash::until_zero;
use crate::server::{Db, Installation};

const SCHEDULES: usize = 1_500;
/// The kill comes once this many occurrences have fired.
const FIRED_BEFORE_KILL: i64 = 200;

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
        .enterprise_owner("schedule-crash@acme.sa", "a long crash password")
        .await;
    first
        .linked_sandbox(&token, "default", "966500000301")
        .await;

    // Every schedule comes due at the same second, a little after they are all saved.
    let due = chrono::Utc::now() + chrono::Duration::seconds(15);
    let due_at = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (client, url, token, due_at) = (
            first.client.clone(),
            first.url("/api/v1/whatsapp/scheduled-messages"),
            token.clone(),
            due_at.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in (worker..SCHEDULES).step_by(16) {
                let body = json!({
                    "to": format!("96655{n:07}"),
                    "message": {"type": "text", "text": format!("تذكير رقم {n}")},
                    "scheduleAt": due_at,
                });
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .expect("schedule");
                assert_eq!(
                    r.status(),
                    StatusCode::CREATED,
                    "{}",
                    r.text().await.unwrap_or_default()
                );
            }
        }));
    }
    for task in tasks {
        task.await.expect("scheduling");
    }
    assert!(
        chrono::Utc::now() < due,
        "saving the schedules took longer than the time left before they came due"
    );
    let pool = install.database().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let fired = count(&pool, "SELECT COUNT(*) FROM scheduled_occurrences").await;
        if fired >= FIRED_BEFORE_KILL {
            break;
        }
        assert!(Instant::now() < deadline, "the schedules never fired");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    let fired = count(&pool, "SELECT COUNT(*) FROM scheduled_occurrences").await;
    eprintln!("{db:?}: killed with {fired} of {SCHEDULES} occurrences fired");

    let second = install.start().await;
    second.wait_status(&token, "default", "connected").await;
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM scheduled_messages WHERE status = 'active'",
        Duration::from_secs(120),
    )
    .await;
    until_zero(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status = 'pending'",
        Duration::from_secs(120),
    )
    .await;

    // One occurrence per schedule, sent, with its message.
    let occurrences: Vec<(String, String, Option<String>)> =
        sqlx::query("SELECT schedule_id, outcome, message_id FROM scheduled_occurrences")
            .fetch_all(&pool)
            .await
            .expect("occurrences")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    assert_eq!(occurrences.len(), SCHEDULES, "one occurrence per schedule");
    let mut per_schedule: HashMap<&str, usize> = HashMap::new();
    for (schedule, outcome, message) in &occurrences {
        assert_eq!(outcome, "sent", "{schedule}: {outcome}");
        assert!(message.is_some(), "{schedule} fired without a message");
        *per_schedule.entry(schedule.as_str()).or_default() += 1;
    }
    assert_eq!(per_schedule.len(), SCHEDULES);

    // One message per schedule, and each is the one its occurrence names.
    let messages: Vec<(String, String, String)> =
        sqlx::query("SELECT id, message_id, metadata FROM messages WHERE direction = 'outgoing'")
            .fetch_all(&pool)
            .await
            .expect("messages")
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get::<Option<String>, _>(2).unwrap_or_default(),
                )
            })
            .collect();
    assert_eq!(messages.len(), SCHEDULES, "one message per schedule");
    let named: std::collections::HashSet<&str> = occurrences
        .iter()
        .filter_map(|(_, _, m)| m.as_deref())
        .collect();
    let mut by_schedule: HashMap<String, usize> = HashMap::new();
    for (id, _, metadata) in &messages {
        assert!(
            named.contains(id.as_str()),
            "a message no occurrence names: {id}"
        );
        let metadata: serde_json::Value = serde_json::from_str(metadata).expect("metadata");
        assert_eq!(
            metadata["automation"]["kind"],
            json!("schedule"),
            "{metadata}"
        );
        let schedule = metadata["automation"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        *by_schedule.entry(schedule).or_default() += 1;
    }
    assert!(
        by_schedule.values().all(|n| *n == 1),
        "a schedule sent twice"
    );

    // Exactly once on the wire.
    crate::crash::transmitted_once(
        &install.data_dir,
        messages
            .iter()
            .map(|(_, whatsapp_id, _)| whatsapp_id.as_str()),
        "scheduled",
    );
    eprintln!("{db:?}: {SCHEDULES} schedules, each fired once, each message transmitted once");
    pool.close().await;
    second.stop();
    install.remove().await;
}
