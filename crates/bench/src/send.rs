//! send-throughput: sustained `POST /api/v1/whatsapp/messages/send` against a connected sandbox
//! session, beside `GET /health` of the same server measured the same way; and messages carried
//! end to end between two web sessions through the local WhatsApp Web peer (Signal-encrypted
//! by one client, routed by the peer, decrypted and stored by the other), beside the same
//! number of messages sent by a sandbox session of the same server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row as _;

use crate::harness::{Account, BenchResult, Db, Fresh, Server};
use crate::load::{self, Load};
use crate::report::Row;
use crate::web_peer::{self, PeerProcess};

const BENCH: &str = "send-throughput";
const CONCURRENCY: usize = 64;
const MAX_REQUESTS: u64 = 2_000_000;
/// Different recipients, so each message goes to one of many contacts as real sends do.
const RECIPIENTS: u64 = 5_000;

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let duration = Duration::from_secs(if quick { 2 } else { 10 });
    let server = Server::start(fresh, &[]).await?;
    let account = server.enterprise_org("send@bench.sa").await?;
    server
        .connected_sandbox(&account, "default", "966500000001")
        .await?;
    let client = server.client.clone();
    let health_url = Arc::new(server.url("/health"));
    let send_url = Arc::new(server.url("/api/v1/whatsapp/messages/send"));
    let token = Arc::new(account.token.clone());

    let health = |client: reqwest::Client, url: Arc<String>| {
        move |_| {
            let (client, url) = (client.clone(), url.clone());
            async move { load::get_ok(&client, &url, None).await }
        }
    };
    let send = |client: reqwest::Client, url: Arc<String>, token: Arc<String>| {
        move |i: u64| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            async move {
                let body = json!({"to": format!("9665{:08}", 10_000_000 + i % RECIPIENTS), "text": format!("طلبك رقم {i} في الطريق إليك")});
                match client
                    .post(url.as_str())
                    .bearer_auth(token.as_str())
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(res) => res.status() == StatusCode::CREATED && res.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        }
    };
    // Warm up both paths (connections, caches, prepared statements) before measuring.
    load::run(
        CONCURRENCY,
        Duration::from_millis(500),
        2_000,
        health(client.clone(), health_url.clone()),
    )
    .await;
    load::run(
        CONCURRENCY,
        Duration::from_millis(500),
        2_000,
        send(client.clone(), send_url.clone(), token.clone()),
    )
    .await;
    let baseline = load::run(
        CONCURRENCY,
        duration,
        MAX_REQUESTS,
        health(client.clone(), health_url),
    )
    .await;
    eprintln!(
        "  {}: GET /health {:.0} req/s",
        db.name(),
        baseline.per_sec()
    );
    let sends = load::run(
        CONCURRENCY,
        duration,
        MAX_REQUESTS,
        send(client, send_url, token),
    )
    .await;
    eprintln!("  {}: send {:.0} req/s", db.name(), sends.per_sec());
    let outbox = outbox_counts(&fresh.url).await?;
    server.stop().await?;

    let outbox_note = format!(
        "{} accepted during the whole run (warm-up included); by the end of the measured window the outbox had sent {} of them ({:.0}%), {} still pending",
        outbox.total,
        outbox.sent,
        100.0 * outbox.sent as f64 / outbox.total.max(1) as f64,
        outbox.pending
    );
    let rows = vec![
        Row::new(BENCH, db.name(), "throughput (req/s)")
            .figure(
                format!("{:.0}", sends.per_sec()),
                format!("{:.0} (/health)", baseline.per_sec()),
                sends.per_sec() / baseline.per_sec(),
            )
            .target_on(db, "≥ 2,000", sends.per_sec() >= 2_000.0)
            .note(failures(&sends, &baseline)),
        latency_row(db, "p50 latency (ms)", sends.p50(), baseline.p50(), None),
        latency_row(
            db,
            "p99 latency (ms)",
            sends.p99(),
            baseline.p99(),
            Some(sends.p99() <= 50.0),
        )
        .note(outbox_note),
    ];
    Ok(rows)
}

fn latency_row(db: Db, measure: &str, figure: f64, baseline: f64, met: Option<bool>) -> Row {
    let row = Row::new(BENCH, db.name(), measure).figure(
        format!("{figure:.2}"),
        format!("{baseline:.2} (/health)"),
        figure / baseline,
    );
    match met {
        Some(met) => row.target_on(db, "≤ 50", met),
        None => row,
    }
}

trait SqliteTarget {
    fn target_on(self, db: Db, target: &str, met: bool) -> Self;
}

impl SqliteTarget for Row {
    /// The issue sets this target on SQLite; on PostgreSQL the figure is shown for comparison.
    fn target_on(self, db: Db, target: &str, met: bool) -> Row {
        match db {
            Db::Sqlite => self.target(target, met),
            Db::Postgres => self.informational(&format!("({target} on SQLite)")),
        }
    }
}

fn failures(sends: &Load, baseline: &Load) -> String {
    format!(
        "{CONCURRENCY} connections for {:.1} s; {} sends answered 201, {} failed; {} health checks, {} failed",
        sends.elapsed.as_secs_f64(),
        sends.ok,
        sends.failed,
        baseline.ok,
        baseline.failed
    )
}

struct Outbox {
    total: i64,
    sent: i64,
    pending: i64,
}

/// How far the outbox got: outgoing messages by status, read straight from the database.
async fn outbox_counts(url: &str) -> BenchResult<Outbox> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let rows = sqlx::query(
        "SELECT status, COUNT(*) FROM messages WHERE direction = 'outgoing' GROUP BY status",
    )
    .fetch_all(&pool)
    .await
    .map_err(|e| e.to_string())?;
    pool.close().await;
    let mut outbox = Outbox {
        total: 0,
        sent: 0,
        pending: 0,
    };
    for row in rows {
        let status: String = row.try_get(0).map_err(|e| e.to_string())?;
        let n: i64 = row.try_get(1).map_err(|e| e.to_string())?;
        outbox.total += n;
        match status.as_str() {
            "sent" | "delivered" | "read" => outbox.sent += n,
            "pending" => outbox.pending += n,
            _ => {}
        }
    }
    Ok(outbox)
}

const WEB_CONCURRENCY: usize = 16;
const SHOP: &str = "966512000001";
const BRANCH: &str = "966512000002";

pub async fn run_web(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure_web(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

async fn measure_web(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let count: u64 = if quick { 200 } else { 2_000 };
    let peer = PeerProcess::start().await?;
    let server = Server::start(fresh, &[("WASL_WEB_SOCKET_URL", peer.url.clone())]).await?;
    let account = server.enterprise_org("web-send@bench.sa").await?;
    web_peer::link(&server, &account, &peer, "shop", SHOP).await?;
    let branch = web_peer::link(&server, &account, &peer, "branch", BRANCH).await?;
    server
        .wait_for_sessions(&account, "connected", 2, Duration::from_secs(120))
        .await?;
    let sandbox = server
        .connected_sandbox(&account, "sandbox", "966512000003")
        .await?;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&fresh.url)
        .await
        .map_err(|e| e.to_string())?;

    // Warm up (Signal sessions between the two devices, connections, statements).
    let warm = 20;
    send_all(&server, &account, "shop", BRANCH, 0..warm).await?;
    wait_count(
        &pool,
        INCOMING,
        &branch,
        warm as i64,
        Duration::from_secs(60),
    )
    .await?;

    let started = Instant::now();
    send_all(&server, &account, "shop", BRANCH, warm..warm + count).await?;
    wait_count(
        &pool,
        INCOMING,
        &branch,
        (warm + count) as i64,
        Duration::from_secs(600),
    )
    .await?;
    let web = started.elapsed();
    let web_rate = count as f64 / web.as_secs_f64();
    eprintln!("  {}: web → web {web_rate:.0} messages/s", db.name());

    let started = Instant::now();
    send_all(&server, &account, "sandbox", "966512000004", 0..count).await?;
    wait_count(
        &pool,
        SENT,
        &sandbox,
        count as i64,
        Duration::from_secs(600),
    )
    .await?;
    let baseline = started.elapsed();
    let baseline_rate = count as f64 / baseline.as_secs_f64();
    eprintln!(
        "  {}: sandbox sent {baseline_rate:.0} messages/s",
        db.name()
    );
    pool.close().await;
    server.stop().await?;

    Ok(vec![Row::new(BENCH, db.name(), "web → web through the peer (messages/s)")
        .figure(
            format!("{web_rate:.0}"),
            format!("{baseline_rate:.0} (sandbox sent)"),
            web_rate / baseline_rate,
        )
        .note(format!(
            "{count} texts sent by one web session to another's number ({WEB_CONCURRENCY} at a time), timed from the first request until the other session had stored all of them ({:.1} s); the baseline is the same server's sandbox session sending {count} until all were sent ({:.1} s)",
            web.as_secs_f64(),
            baseline.as_secs_f64()
        ))])
}

const INCOMING: &str =
    "SELECT COUNT(*) FROM messages WHERE session_id = $1 AND direction = 'incoming'";
const SENT: &str = "SELECT COUNT(*) FROM messages WHERE session_id = $1 AND direction = 'outgoing' AND status IN ('sent', 'delivered', 'read')";

/// Sends texts numbered `range` from `session` to `to`, a few at a time.
async fn send_all(
    server: &Server,
    account: &Account,
    session: &str,
    to: &str,
    range: std::ops::Range<u64>,
) -> BenchResult<()> {
    let url = Arc::new(server.url("/api/v1/whatsapp/messages/send"));
    let sends = futures_util::stream::iter(range.map(|i| {
        let (client, url, token) = (server.client.clone(), url.clone(), account.token.clone());
        let body = json!({"sessionName": session, "to": to, "text": format!("طلبك رقم {i} في الطريق إليك")});
        async move {
            let res = client
                .post(url.as_str())
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if res.status() == StatusCode::CREATED {
                Ok(())
            } else {
                Err(format!("send answered {}", res.status()))
            }
        }
    }));
    use futures_util::StreamExt;
    let results: Vec<BenchResult<()>> = sends.buffer_unordered(WEB_CONCURRENCY).collect().await;
    results.into_iter().collect()
}

/// Polls `sql` (a count for one session) until it reaches `target`.
async fn wait_count(
    pool: &sqlx::AnyPool,
    sql: &str,
    session: &str,
    target: i64,
    within: Duration,
) -> BenchResult<()> {
    let deadline = Instant::now() + within;
    loop {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(session)
            .fetch_one(pool)
            .await
            .map_err(|e| e.to_string())?;
        if n >= target {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("only {n} of {target} after {within:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
