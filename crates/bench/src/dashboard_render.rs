//! dashboard-render: what a user waits for in the dashboard, by the browser's own timing (the
//! User Timing measures the dashboard records around its renders). The chat list of an
//! organization with 10,000 conversations, from navigation to its first rows on screen, and a
//! 10,000-message thread, from the click on its conversation to its first bubbles on screen.
//! The baseline is the same two pages of an organization with 100 conversations and a
//! 100-message thread, in the same server and the same browser.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::harness::{Account, BenchResult, Db, Fresh, Server};
use crate::raw::{self, Owner, RawMessage};
use crate::report::Row;

const BENCH: &str = "dashboard-render";
/// The target for both pages.
const TARGET_MS: f64 = 300.0;
const BATCH: usize = 500;

/// An organization seeded for the benchmark: `size` conversations, the newest of which (the
/// first in the list) has `size` messages.
struct Seeded {
    account: Account,
    size: usize,
    long_thread: String,
}

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let (size, rounds) = if quick { (2_000, 3) } else { (10_000, 7) };
    let server = Server::start(fresh, &[]).await?;
    let pool = raw::pool(&fresh.url).await?;
    let large = seed(&server, &pool, "large@bench.sa", size, 40).await?;
    let small = seed(&server, &pool, "small@bench.sa", 100, 41).await?;
    raw::conversations_from_messages(&pool).await?;
    pool.close().await;

    let browser = Browser::start(1280, 900).await?;
    // The token where the dashboard keeps it, on the server's origin.
    browser.goto(&server.url("/health")).await?;
    let mut large_runs = Vec::new();
    let mut small_runs = Vec::new();
    // Alternately, so that neither organization has the warmer browser.
    for _ in 0..rounds {
        large_runs.push(open_pages(&browser, &server, &large).await?);
        small_runs.push(open_pages(&browser, &server, &small).await?);
    }
    browser.quit().await;
    server.stop().await?;

    let median = |runs: &[Timings], pick: fn(&Timings) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(pick).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let list = median(&large_runs, |t| t.list_shown);
    let list_base = median(&small_runs, |t| t.list_shown);
    let thread = median(&large_runs, |t| t.thread_shown);
    let thread_base = median(&small_runs, |t| t.thread_shown);
    let most_rows = large_runs.iter().map(|t| t.rows).max().unwrap_or(0);
    let note = format!(
        "medians of {rounds} loads each, headless Chromium 1280×900; the render alone: chat list {:.1} ms ({:.1} ms with 100), thread {:.1} ms ({:.1} ms with 100); at most {most_rows} rows in the page with {size} conversations of which one has {size} messages; {size} conversations written raw",
        median(&large_runs, |t| t.list_render),
        median(&small_runs, |t| t.list_render),
        median(&large_runs, |t| t.thread_render),
        median(&small_runs, |t| t.thread_render),
    );
    Ok(vec![
        Row::new(
            BENCH,
            db.name(),
            &format!("chat list, navigation → rows shown (ms), {size} conversations"),
        )
        .figure(
            format!("{list:.0}"),
            format!("{list_base:.0} (100 conversations)"),
            list / list_base,
        )
        .target("≤ 300", list <= TARGET_MS),
        Row::new(
            BENCH,
            db.name(),
            &format!("thread, click → bubbles shown (ms), {size} messages"),
        )
        .figure(
            format!("{thread:.0}"),
            format!("{thread_base:.0} (100 messages)"),
            thread / thread_base,
        )
        .target("≤ 300", thread <= TARGET_MS)
        .note(note),
    ])
}

/// Writes `size` contacts with one message each, then `size` messages more for the first
/// contact, the newest of all.
async fn seed(
    server: &Server,
    pool: &sqlx::AnyPool,
    email: &str,
    size: usize,
    prefix: usize,
) -> BenchResult<Seeded> {
    let account = server.enterprise_org(email).await?;
    let session_phone = format!("9665000000{prefix}");
    let session_id = server
        .connected_sandbox(&account, "default", &session_phone)
        .await?;
    let phone = |c: usize| format!("9665{prefix:02}{c:06}");
    let now = raw::now_millis();
    let contacts: Vec<(String, String)> =
        (0..size).map(|c| (phone(c), format!("عميل {c}"))).collect();
    let ids = raw::insert_contacts(pool, &account.org_id, &contacts, now).await?;
    let owner = Owner {
        org_id: &account.org_id,
        session_id: &session_id,
        session_phone: &session_phone,
    };
    // Contact c's one message is older the larger c is; contact 0's are the newest of all.
    let others: Vec<RawMessage> = (1..size)
        .map(|c| RawMessage {
            contact_id: ids[c].clone(),
            contact_phone: phone(c),
            incoming: true,
            text: format!("مرحبا، أريد أن أسأل عن الطلب رقم {c}"),
            created_at: now - (2 * size + c) as i64 * 1000,
        })
        .collect();
    let thread: Vec<RawMessage> = (0..size)
        .map(|i| RawMessage {
            contact_id: ids[0].clone(),
            contact_phone: phone(0),
            incoming: i % 2 == 0,
            text: format!("رسالة رقم {i}: هل الطلب متوفر باللون الأزرق؟"),
            created_at: now - (size - i) as i64 * 1000,
        })
        .collect();
    for batch in others.chunks(BATCH).chain(thread.chunks(BATCH)) {
        raw::insert_messages(pool, &owner, batch).await?;
    }
    Ok(Seeded {
        account,
        size,
        long_thread: phone(0),
    })
}

struct Timings {
    list_shown: f64,
    list_render: f64,
    thread_shown: f64,
    thread_render: f64,
    rows: u64,
}

/// Opens the chat list, then the long thread, and reads the browser's timings of both.
async fn open_pages(browser: &Browser, server: &Server, org: &Seeded) -> BenchResult<Timings> {
    browser
        .exec(
            "localStorage.setItem('wasl.token', arguments[0]);",
            json!([org.account.token]),
        )
        .await?;
    browser
        .goto(&server.url("/dashboard/whatsapp/chats"))
        .await?;
    let list = browser
        .wait_until(
            "the chat list's first rows",
            "const r = performance.getEntriesByName('wasl:chat-list-render')[0]; \
             if (!r || !document.querySelector('.conv-item')) return null; \
             return { shown: r.startTime + r.duration, render: r.duration };",
            json!([]),
        )
        .await?;
    browser
        .exec(
            "performance.clearMeasures('wasl:thread-render'); performance.clearMarks('bench:open'); \
             performance.mark('bench:open'); \
             document.querySelector(`.conv-item[data-phone='${arguments[0]}']`).click();",
            json!([org.long_thread]),
        )
        .await?;
    let thread = browser
        .wait_until(
            "the thread's first bubbles",
            "const r = performance.getEntriesByName('wasl:thread-render')[0]; \
             if (!r || !document.querySelector(`.thread[data-phone='${arguments[0]}'] .msg-row`)) return null; \
             const open = performance.getEntriesByName('bench:open')[0]; \
             return { shown: r.startTime + r.duration - open.startTime, render: r.duration, \
                      rows: document.querySelectorAll('.msg-row, .conv-item').length };",
            json!([org.long_thread]),
        )
        .await?;
    let ms = |v: &Value, what: &str| {
        v[what]
            .as_f64()
            .ok_or_else(|| format!("no {what} timing in {v}"))
    };
    let rows = thread["rows"].as_u64().unwrap_or(0);
    if org.size >= 1_000 && rows as usize >= org.size {
        return Err(format!(
            "{rows} rows in the page: the lists are not windowed"
        ));
    }
    Ok(Timings {
        list_shown: ms(&list, "shown")?,
        list_render: ms(&list, "render")?,
        thread_shown: ms(&thread, "shown")?,
        thread_render: ms(&thread, "render")?,
        rows,
    })
}
