//! list-messages: one customer's conversation, 50 at a time, out of a million stored messages,
//! beside `GET /health` of the same server measured the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::harness::{BenchResult, Db, Fresh, Server};
use crate::load;
use crate::raw::{self, Owner, RawMessage};
use crate::report::Row;

const BENCH: &str = "list-messages";
const CONTACTS: usize = 100;
const BATCH: usize = 500;
const REQUESTS: u64 = 1_000;
const WARM_UP: u64 = 50;
const SESSION_PHONE: &str = "966500000003";

fn contact_phone(c: usize) -> String {
    format!("9665{:08}", 30_000_000 + c)
}

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let stored: usize = if quick { 100_000 } else { 1_000_000 };
    let server = Server::start(fresh, &[]).await?;
    let account = server.enterprise_org("list@bench.sa").await?;
    let session_id = server
        .connected_sandbox(&account, "default", SESSION_PHONE)
        .await?;
    let pool = raw::pool(&fresh.url).await?;
    let now = raw::now_millis();
    let mut contacts = Vec::with_capacity(CONTACTS);
    for c in 0..CONTACTS {
        let id = raw::insert_contact(
            &pool,
            &account.org_id,
            &contact_phone(c),
            &format!("عميل {c}"),
            now,
        )
        .await?;
        contacts.push(id);
    }

    // A fifth of the messages are the target contact's (contact 0); the rest spread over the
    // other 99. One message a second, back from now, alternately in and out.
    let owner = Owner {
        org_id: &account.org_id,
        session_id: &session_id,
        session_phone: SESSION_PHONE,
    };
    let started = Instant::now();
    let mut written = 0;
    while written < stored {
        let n = BATCH.min(stored - written);
        let rows: Vec<RawMessage> = (written..written + n)
            .map(|i| {
                let c = if i % 5 == 0 {
                    0
                } else {
                    1 + i % (CONTACTS - 1)
                };
                RawMessage {
                    contact_id: contacts[c].clone(),
                    contact_phone: contact_phone(c),
                    incoming: i % 2 == 0,
                    text: format!("رسالة رقم {i}: هل الطلب متوفر باللون الأزرق؟"),
                    created_at: now - (stored - i) as i64 * 1000,
                }
            })
            .collect();
        raw::insert_messages(&pool, &owner, &rows).await?;
        written += n;
        if written % 200_000 == 0 {
            eprintln!("  {}: {written} messages stored", db.name());
        }
    }
    let fill_secs = started.elapsed().as_secs_f64();
    raw::conversations_from_messages(&pool).await?;
    if db == Db::Postgres {
        // What autovacuum does shortly after a bulk load anyway: statistics and a visibility map.
        sqlx::query("VACUUM ANALYZE messages")
            .execute(&pool)
            .await
            .map_err(|e| e.to_string())?;
    }
    let target_count = raw::count(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM messages WHERE contact_phone = '{}'",
            contact_phone(0)
        ),
    )
    .await?;
    pool.close().await;

    let client = server.client.clone();
    let list_url = Arc::new(server.url(&format!(
        "/api/v1/whatsapp/messages?contact={}&limit=50",
        contact_phone(0)
    )));
    let health_url = Arc::new(server.url("/health"));
    let token = Arc::new(account.token.clone());
    let get = |url: Arc<String>, token: Option<Arc<String>>| {
        let client = client.clone();
        move |_| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            async move { load::get_ok(&client, &url, token.as_deref().map(String::as_str)).await }
        }
    };
    // The listing must be right before its speed means anything.
    let first: serde_json::Value = client
        .get(list_url.as_str())
        .bearer_auth(token.as_str())
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let total = first["data"]["pagination"]["total"].as_i64();
    let items = first["data"]["messages"].as_array().map_or(0, Vec::len);
    if total != Some(target_count) || items != 50 {
        return Err(format!(
            "the listing answered total {total:?} with {items} messages; expected total {target_count} with 50"
        ));
    }
    let window = Duration::from_secs(120);
    load::run(1, window, WARM_UP, get(health_url.clone(), None)).await;
    let baseline = load::run(1, window, REQUESTS, get(health_url, None)).await;
    load::run(
        1,
        window,
        WARM_UP,
        get(list_url.clone(), Some(token.clone())),
    )
    .await;
    let listing = load::run(1, window, REQUESTS, get(list_url, Some(token))).await;
    server.stop().await?;
    if listing.failed > 0 || listing.ok == 0 {
        return Err(format!("{} of the listing requests failed", listing.failed));
    }

    let note = format!(
        "{stored} messages stored in {fill_secs:.1} s ({:.0} rows/s, raw batched INSERT), {target_count} of them the target contact's (the listing's `pagination.total` checked against it); {} sequential requests each after {WARM_UP} warm-up ones{}",
        stored as f64 / fill_secs.max(1e-9),
        listing.ok,
        if db == Db::Postgres { "; VACUUM ANALYZE after the load" } else { "" }
    );
    Ok(vec![
        Row::new(BENCH, db.name(), "p50 latency (ms)").figure(
            format!("{:.2}", listing.p50()),
            format!("{:.2} (/health)", baseline.p50()),
            listing.p50() / baseline.p50(),
        ),
        Row::new(BENCH, db.name(), "p99 latency (ms)")
            .figure(
                format!("{:.2}", listing.p99()),
                format!("{:.2} (/health)", baseline.p99()),
                listing.p99() / baseline.p99(),
            )
            .target("≤ 20", listing.p99() <= 20.0)
            .note(note),
    ])
}
