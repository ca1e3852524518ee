//! ingest: incoming messages persisted per second through the path every engine uses, a
//! `SessionObserver::message` call on `wasl::messaging::Messaging` (contact upsert, message,
//! conversation and events in one transaction), beside the same number of rows written
//! straight into `messages` with batched INSERTs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasl::messaging::{media::MediaStore, EventBus, Messaging, SendPace};
use wasl::sessions::SessionObserver;
use wasl_domain::{PhoneNumber, SessionId};
use wasl_engine::{IncomingMessage, MessageKind};
use wasl_store::Store;

use crate::harness::{BenchResult, Db, Fresh, Server};
use crate::load;
use crate::raw::{self, Owner, RawMessage};
use crate::report::Row;

const BENCH: &str = "ingest";
/// Concurrent deliveries, as many sessions receiving at once would make them (one session's
/// supervisor stores its messages one after another).
const TASKS: usize = 64;
const CUSTOMERS: u64 = 1_000;
const BATCH: usize = 500;
const SESSION_PHONE: &str = "966500000002";

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

fn customer(i: u64) -> String {
    format!("9665{:08}", 20_000_000 + i % CUSTOMERS)
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let (max_messages, duration) = if quick {
        (10_000, Duration::from_secs(5))
    } else {
        (50_000, Duration::from_secs(30))
    };
    let server = Server::start(fresh, &[]).await?;
    let account = server.enterprise_org("ingest@bench.sa").await?;
    let session_id = server
        .connected_sandbox(&account, "default", SESSION_PHONE)
        .await?;

    // The same pipeline the server's sessions feed, over its own pool on the same database.
    let store = Store::open(&fresh.url).await.map_err(|e| e.to_string())?;
    let messaging = Arc::new(Messaging::new(
        store.clone(),
        MediaStore::new(&fresh.data_dir),
        Arc::new(wasl::http::views::ApiRenderer),
        EventBus::default(),
        // Only incoming messages pass here: no send asks an engine for its limits.
        Arc::new(wasl_engine::EngineRegistry::new()),
        SendPace {
            interval: Duration::ZERO,
        },
        Arc::new(wasl::clock::SystemClock),
    ));
    let session = SessionId::from_trusted(session_id.clone());
    // Warm-up messages get ids of their own, far above the measured ones.
    let deliver = |base: u64| {
        let (messaging, session) = (messaging.clone(), session.clone());
        move |i: u64| {
            let i = base + i;
            let (messaging, session) = (messaging.clone(), session.clone());
            async move {
                let incoming = IncomingMessage {
                    message_id: format!("BENCH{i:012}"),
                    from: PhoneNumber::from_trusted(customer(i)),
                    push_name: Some(format!("عميل {}", i % CUSTOMERS)),
                    kind: MessageKind::Text,
                    text: Some(format!("السلام عليكم، أريد أن أسأل عن الطلب رقم {i}")),
                    caption: None,
                    media: None,
                    timestamp: raw::now_millis(),
                    quote: None,
                };
                // The observer stores with retries and reports nothing back; the row count
                // afterwards shows whether every message made it.
                messaging.message(&session, incoming).await;
                true
            }
        }
    };
    let warm_up = load::run(TASKS, Duration::from_secs(1), 500, deliver(1_000_000_000)).await;
    let observed = load::run(TASKS, duration, max_messages, deliver(0)).await;
    let pool = raw::pool(&fresh.url).await?;
    let stored = raw::count(
        &pool,
        "SELECT COUNT(*) FROM messages WHERE direction = 'incoming'",
    )
    .await?;
    eprintln!(
        "  {}: observer path {:.0} messages/s",
        db.name(),
        observed.per_sec()
    );

    // Baseline: the same number of rows, batched, straight into the messages table.
    let owner = Owner {
        org_id: &account.org_id,
        session_id: &session_id,
        session_phone: SESSION_PHONE,
    };
    let contact_id = uuid::Uuid::now_v7().to_string();
    let total = observed.ok as usize;
    let started = Instant::now();
    let mut written = 0usize;
    while written < total {
        let n = BATCH.min(total - written);
        let rows: Vec<RawMessage> = (written..written + n)
            .map(|i| RawMessage {
                contact_id: contact_id.clone(),
                contact_phone: customer(i as u64),
                incoming: true,
                text: format!("السلام عليكم، أريد أن أسأل عن الطلب رقم {i}"),
                created_at: raw::now_millis(),
            })
            .collect();
        raw::insert_messages(&pool, &owner, &rows).await?;
        written += n;
    }
    let baseline = written as f64 / started.elapsed().as_secs_f64().max(1e-9);
    pool.close().await;
    store.close().await;
    server.stop().await?;

    let figure = observed.per_sec();
    let (target, target_text) = if db == Db::Sqlite {
        (10_000.0, "≥ 10,000")
    } else {
        (5_000.0, "≥ 5,000")
    };
    let met = figure >= target;
    let mut note = format!(
        "{} messages from {TASKS} tasks over {CUSTOMERS} customers in {:.1} s; {stored} incoming rows stored for {} delivered with the warm-up ones; per message p50 {:.2} ms, p99 {:.2} ms; baseline {} rows in {}-row transactions",
        observed.ok,
        observed.elapsed.as_secs_f64(),
        observed.ok + warm_up.ok,
        observed.p50(),
        observed.p99(),
        written,
        BATCH
    );
    if !met {
        note.push_str(&format!(
            "; MISSES the target: {figure:.0}/s is {:.0}% of {target:.0}/s",
            100.0 * figure / target
        ));
    }
    Ok(vec![Row::new(
        BENCH,
        db.name(),
        "incoming messages stored per second",
    )
    .figure(
        format!("{figure:.0}"),
        format!("{baseline:.0} (raw batched INSERT)"),
        figure / baseline,
    )
    .target(target_text, met)
    .note(note)])
}
