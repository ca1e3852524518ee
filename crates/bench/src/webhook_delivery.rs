//! webhook-delivery: signed webhook deliveries per second to a local receiver, and what one
//! dead receiver does to the others.
//!
//! The organization's webhooks are created through the API; then a backlog of deliveries (one
//! per event and webhook, as the event path fans them out) is written straight into the
//! database, all coming due at the same moment, so what is measured is the server's
//! dispatcher alone: claiming, signing, posting and logging every attempt. (Storing events
//! with their deliveries is the `ingest` benchmark's path.) The rate is counted at the
//! receiver, from its first request to the last new event. Baseline: the same receiver hit
//! directly by a plain HTTP client with as many requests in flight as a webhook's lane keeps.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Account, BenchResult, Db, Fresh, Server};
use crate::load;
use crate::report::Row;

const BENCH: &str = "webhook-delivery";
/// Requests in flight for the baseline: what one webhook's lane keeps.
const BASELINE_CONCURRENCY: usize = 16;

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

/// A CRM stand-in: answers 200 at once and remembers when each event id first arrived.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    requests: u64,
    signed: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Receiver {
    async fn start() -> BenchResult<(Receiver, SocketAddr)> {
        let receiver = Receiver::default();
        let seen = receiver.seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let seen = seen.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let id = header("webhook-id");
                    let signed = header("webhook-signature").starts_with("v1,")
                        && !header("webhook-timestamp").is_empty();
                    let now = Instant::now();
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    seen.requests += 1;
                    seen.signed += u64::from(signed);
                    seen.first.get_or_insert(now);
                    if seen.ids.insert(id) {
                        seen.last = Some(now);
                    }
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind the receiver: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Ok((receiver, addr))
    }

    fn distinct(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ids
            .len()
    }

    /// Distinct events per second between the first request and the last new event.
    fn rate(&self) -> f64 {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match (seen.first, seen.last) {
            (Some(first), Some(last)) => {
                seen.ids.len() as f64 / (last - first).as_secs_f64().max(1e-9)
            }
            _ => 0.0,
        }
    }

    fn counts(&self) -> (u64, u64) {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        (seen.requests, seen.signed)
    }
}

/// A receiver that accepts connections and never answers: every attempt hangs until the
/// dispatcher's 10-second timeout.
async fn dead_receiver() -> BenchResult<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind the dead receiver: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    Ok(addr)
}

async fn subscribe(server: &Server, account: &Account, addr: SocketAddr) -> BenchResult<String> {
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            &account.token,
            Some(json!({"url": format!("http://{addr}/hook"), "events": ["message.received"]})),
        )
        .await?;
    match body["data"]["webhook"]["id"].as_str() {
        Some(id) if status == reqwest::StatusCode::CREATED => Ok(id.to_owned()),
        _ => Err(format!("create webhook: {status} {body}")),
    }
}

/// Writes a backlog of `count` deliveries for each webhook, all due at `due`: the same events
/// fanned out to every webhook, with bodies shaped like the product's `message.received`.
async fn backlog(
    pool: &sqlx::AnyPool,
    org_id: &str,
    webhooks: &[String],
    count: u64,
    due: i64,
) -> BenchResult<()> {
    const PER_ROW: usize = 9;
    const BATCH: u64 = 500;
    let sqlite = pool.connect_options().database_url.scheme() == "sqlite";
    for webhook in webhooks {
        let mut written = 0;
        while written < count {
            let n = BATCH.min(count - written);
            let placeholders: Vec<String> = (0..n as usize)
                .map(|r| {
                    let cells: Vec<String> = (1..=PER_ROW)
                        .map(|c| match sqlite {
                            true => "?".to_owned(),
                            false => format!("${}", r * PER_ROW + c),
                        })
                        .collect();
                    format!("({}, 'pending', 0)", cells.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event_id, event_type, body, next_attempt_at, created_at, delivered_at, status, attempts) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for i in written..written + n {
                let event_id = format!("evt_bench_{i:08}");
                let body = json!({
                    "id": event_id,
                    "type": "message.received",
                    "organizationId": org_id,
                    "createdAt": "2026-12-01T08:00:00.000Z",
                    "data": {
                        "messageId": format!("3EB0{i:016X}"),
                        "from": format!("9665{:08}", 30_000_000 + i % 1_000),
                        "direction": "incoming",
                        "type": "text",
                        "content": {"text": format!("السلام عليكم، أريد أن أسأل عن الطلب رقم {i}")},
                        "status": "delivered"
                    }
                })
                .to_string();
                query = query
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(webhook.clone())
                    .bind(org_id.to_owned())
                    .bind(event_id)
                    .bind("message.received")
                    .bind(body)
                    .bind(due)
                    .bind(due)
                    .bind(Option::<i64>::None);
            }
            query
                .execute(pool)
                .await
                .map_err(|e| format!("insert deliveries: {e}"))?;
            written += n;
        }
    }
    Ok(())
}

/// Waits until the receiver has every one of `expected` events, with a deadline.
async fn wait_for(receiver: &Receiver, expected: usize, within: Duration) -> BenchResult<()> {
    let deadline = Instant::now() + within;
    while receiver.distinct() < expected {
        if Instant::now() > deadline {
            return Err(format!(
                "the receiver got {} of {expected} events in {within:?}",
                receiver.distinct()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The baseline: the receiver hit directly, `count` signed-looking POSTs of a typical body.
async fn baseline(addr: SocketAddr, count: u64) -> f64 {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/hook");
    let body =
        json!({"id": "evt", "type": "message.received", "data": {"content": {"text": "طلب"}}})
            .to_string();
    let result = load::run(
        BASELINE_CONCURRENCY,
        Duration::from_secs(600),
        count,
        move |i: u64| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            async move {
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", format!("direct-{i}"))
                    .header("webhook-timestamp", "0")
                    .header("webhook-signature", "v1,direct")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        },
    )
    .await;
    result.per_sec()
}

/// The delivery rate at a healthy receiver of a new organization's first webhook, with a
/// backlog of `events` for it and for the `others` (healthy receivers or dead ones).
async fn drain(
    server: &Server,
    pool: &sqlx::AnyPool,
    email: &str,
    others: &[Other],
    events: u64,
) -> BenchResult<(Receiver, f64)> {
    let account = server.enterprise_org(email).await?;
    let (first, first_addr) = Receiver::start().await?;
    let mut webhooks = vec![subscribe(server, &account, first_addr).await?];
    for other in others {
        let addr = match other {
            Other::Healthy => Receiver::start().await?.1,
            Other::Dead => dead_receiver().await?,
        };
        webhooks.push(subscribe(server, &account, addr).await?);
    }
    // Everything comes due together, a moment after it is all written.
    let due = crate::raw::now_millis() + 60_000;
    backlog(pool, &account.org_id, &webhooks, events, due).await?;
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE organization_id = $2")
        .bind(crate::raw::now_millis())
        .bind(account.org_id.as_str())
        .execute(pool)
        .await
        .map_err(|e| format!("release the backlog: {e}"))?;
    wait_for(&first, events as usize, Duration::from_secs(300)).await?;
    let rate = first.rate();
    Ok((first, rate))
}

enum Other {
    Healthy,
    Dead,
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let events: u64 = if quick { 5_000 } else { 20_000 };
    let server = Server::start(fresh, &[("WASL_WEBHOOK_ALLOW_PRIVATE", "true".into())]).await?;
    let pool = crate::raw::pool(&fresh.url).await?;

    // The baseline gets a receiver of its own.
    let (_, direct_addr) = Receiver::start().await?;
    let direct = baseline(direct_addr, events).await;
    // A warm-up drain first: connections, caches and the database's pages.
    drain(&server, &pool, "hooks-warm@bench.sa", &[], events / 4).await?;
    let (healthy, rate_alone) = drain(&server, &pool, "hooks-alone@bench.sa", &[], events).await?;
    let (requests, signed) = healthy.counts();
    eprintln!(
        "  {}: {rate_alone:.0} deliveries/s to one receiver",
        db.name()
    );
    // What a dead receiver does to another webhook of the same organization: once beside a
    // healthy second webhook, once beside a dead one. Both runs have as many deliveries and
    // lanes; only the dead receiver differs.
    let (_, rate_two_healthy) = drain(
        &server,
        &pool,
        "hooks-pair@bench.sa",
        &[Other::Healthy],
        events,
    )
    .await?;
    let (_, rate_beside) = drain(
        &server,
        &pool,
        "hooks-dead@bench.sa",
        &[Other::Dead],
        events,
    )
    .await?;
    eprintln!(
        "  {}: {rate_two_healthy:.0} deliveries/s beside a healthy receiver, {rate_beside:.0} beside a dead one",
        db.name()
    );
    pool.close().await;
    server.stop().await?;

    let met = rate_alone >= 2_000.0;
    let effect = rate_beside / rate_alone.max(1e-9);
    Ok(vec![
        Row::new(BENCH, db.name(), "signed deliveries per second")
            .figure(
                format!("{rate_alone:.0}"),
                format!("{direct:.0} (receiver hit directly)"),
                rate_alone / direct.max(1e-9),
            )
            .target("≥ 2,000", met)
            .note(format!(
                "a backlog of {events} message.received deliveries to one webhook; {requests} requests for {} distinct events ({} duplicates), {signed} carrying a signature; the baseline posts {events} requests from {BASELINE_CONCURRENCY} connections straight to the receiver",
                healthy.distinct(),
                requests.saturating_sub(healthy.distinct() as u64)
            )),
        Row::new(BENCH, db.name(), "deliveries per second beside a dead receiver")
            .figure(
                format!("{rate_beside:.0}"),
                format!("{rate_alone:.0} (the receiver alone)"),
                effect,
            )
            .target("no effect (≥ 0.9×)", effect >= 0.9)
            .note(format!(
                "a backlog of {events} events for each of an organization's two webhooks, the second pointing at a receiver that accepts connections and never answers (every attempt hangs for the 10 s timeout); the rate at the first, against the same receiver as the only webhook; beside a second healthy webhook (two lanes sharing the cores) it was {rate_two_healthy:.0}/s"
            )),
    ])
}
