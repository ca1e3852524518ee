//! schedules: 10,000 scheduled messages (1,000 with `--quick`) due in the same second, each to
//! a customer of its own over 4 sandbox sessions: the time from their due second until every
//! one of them is in the outbox (its occurrence fired, its message stored, pending), and that
//! none fired twice. Baseline: as many API sends to the same sessions, 32 at a time, from the
//! first request until all are in the outbox; ratio = scheduler ÷ API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{BenchResult, Db, Fresh, Server};
use crate::load;
use crate::raw;
use crate::report::Row;

const BENCH: &str = "schedules";
const SESSIONS: u64 = 4;
const WRITERS: usize = 32;

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

fn session(i: u64) -> String {
    format!("desk{}", i % SESSIONS)
}

/// Waits until `sql` counts `n`; how long it took from `from`.
async fn until_count(
    pool: &sqlx::AnyPool,
    sql: &str,
    n: i64,
    from: Instant,
    within: Duration,
) -> BenchResult<Duration> {
    loop {
        let found = raw::count(pool, sql).await?;
        if found >= n {
            return Ok(from.elapsed());
        }
        if from.elapsed() > within {
            return Err(format!("{found} of {n} after {within:?}: {sql}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let total: u64 = if quick { 1_000 } else { 10_000 };
    // The send interval stays the default: what is measured is the way into the outbox.
    let server = Arc::new(Server::start(fresh, &[]).await?);
    let account = server.enterprise_org("schedules@bench.sa").await?;
    for i in 0..SESSIONS {
        server
            .connected_sandbox(&account, &session(i), &format!("96650000040{i}"))
            .await?;
    }
    let pool = raw::pool(&fresh.url).await?;
    let token = account.token.clone();

    // Baseline: the same number of API sends, 32 at a time.
    let started = Instant::now();
    let sends = {
        let (server, token) = (server.clone(), token.clone());
        load::run(WRITERS, Duration::from_secs(600), total, move |i| {
            let (server, token) = (server.clone(), token.clone());
            async move {
                let body = json!({"to": format!("96656{i:07}"), "text": format!("تذكير {i}"), "sessionName": session(i)});
                matches!(
                    server.client.post(server.url("/api/v1/whatsapp/messages/send")).bearer_auth(&token).json(&body).send().await,
                    Ok(r) if r.status() == StatusCode::ACCEPTED || r.status() == StatusCode::OK || r.status() == StatusCode::CREATED
                )
            }
        })
        .await
    };
    if sends.ok != total {
        return Err(format!("{} of {total} API sends accepted", sends.ok));
    }
    let api_time = started.elapsed();

    // The schedules, all due at one second far enough ahead to save them all first.
    let lead = if quick { 10 } else { 40 };
    let due = chrono::Utc::now() + chrono::Duration::seconds(lead);
    let due_at = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let saved = {
        let (server, token, due_at) = (server.clone(), token.clone(), due_at.clone());
        load::run(WRITERS, Duration::from_secs(600), total, move |i| {
            let (server, token, due_at) = (server.clone(), token.clone(), due_at.clone());
            async move {
                let body = json!({"to": format!("96657{i:07}"), "sessionName": session(i),
                    "message": {"type": "text", "text": format!("تذكير بموعدك رقم {i}")}, "scheduleAt": due_at});
                matches!(
                    server.client.post(server.url("/api/v1/whatsapp/scheduled-messages")).bearer_auth(&token).json(&body).send().await,
                    Ok(r) if r.status() == StatusCode::CREATED
                )
            }
        })
        .await
    };
    if saved.ok != total {
        return Err(format!("{} of {total} schedules saved", saved.ok));
    }
    let left = (due - chrono::Utc::now())
        .to_std()
        .map_err(|_| format!("saving {total} schedules took longer than {lead} s"))?;
    tokio::time::sleep(left).await;
    let from = Instant::now();
    let fired = until_count(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND metadata LIKE '%\"schedule\"%'",
        total as i64,
        from,
        Duration::from_secs(300),
    )
    .await?;
    let occurrences = raw::count(&pool, "SELECT COUNT(*) FROM scheduled_occurrences").await?;
    let messages = raw::count(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND metadata LIKE '%\"schedule\"%'",
    )
    .await?;
    let due_ms = due.timestamp_millis();
    let mut lateness: Vec<i64> = {
        use sqlx::Row as _;
        sqlx::query("SELECT created_at FROM messages WHERE direction = 'outgoing' AND metadata LIKE '%\"schedule\"%'")
            .fetch_all(&pool)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .map(|r| r.get::<i64, _>(0) - due_ms)
            .collect()
    };
    lateness.sort_unstable();
    let p = |q: f64| {
        let rank = ((q * lateness.len() as f64).ceil() as usize).clamp(1, lateness.len().max(1));
        lateness.get(rank - 1).copied().unwrap_or(0)
    };
    pool.close().await;
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await?;
    }
    let once = occurrences == total as i64 && messages == total as i64;
    let met = fired <= Duration::from_secs(10) && once;
    let mut note = format!(
        "{total} one-off schedules over {SESSIONS} sandbox sessions, saved through the API ({:.0}/s, 32 at a time) {lead} s ahead of their common due second; all {total} in the outbox {:.2} s after it (a message's lateness p50 {} ms, p99 {} ms); {occurrences} occurrences and {messages} messages (none twice: {}); baseline: {total} API sends, 32 at a time, in {:.2} s",
        saved.per_sec(),
        fired.as_secs_f64(),
        p(0.50),
        p(0.99),
        if once { "yes" } else { "NO" },
        api_time.as_secs_f64()
    );
    if !met {
        note.push_str("; MISSES the target");
    }
    Ok(vec![Row::new(
        BENCH,
        db.name(),
        "due → all in the outbox (s)",
    )
    .figure(
        format!("{:.2}", fired.as_secs_f64()),
        format!("{:.2} (API sends)", api_time.as_secs_f64()),
        fired.as_secs_f64() / api_time.as_secs_f64().max(1e-9),
    )
    .target("≤ 10 s, none twice", met)
    .note(note)])
}
