//! Writes cancelled at any point (a client that hangs up, an engine's timeout) leave no
//! PostgreSQL connection inside a transaction: a connection that went back to the pool in an
//! open transaction would hold the row locks of every later statement on it, and the next
//! writer of those rows would wait forever.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use sqlx::Connection;
use wasl_domain::SessionId;
use wasl_store::{Store, WebStateRow, WebStateWrite};

fn admin_url() -> String {
    std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{database}")
}

async fn idle_in_transaction(admin: &mut sqlx::PgConnection, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
    )
    .bind(database)
    .fetch_one(admin)
    .await
    .expect("pg_stat_activity")
}

/// Waits until no connection of the database is inside a transaction; connections go back
/// to the pool in the background, so this takes a moment.
async fn settled(admin: &mut sqlx::PgConnection, database: &str, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let stuck = idle_in_transaction(admin, database).await;
        if stuck == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{stuck} connection(s) left inside a transaction after {after}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls `work` up to `polls` times, pausing between polls, then drops it if it is not done.
async fn cut_after<F: std::future::Future>(polls: usize, work: F) {
    let mut work = std::pin::pin!(work);
    for _ in 0..polls {
        let done =
            std::future::poll_fn(|cx| std::task::Poll::Ready(work.as_mut().poll(cx).is_ready()))
                .await;
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_writes_leave_no_connection_in_a_transaction() {
    let name = format!("wasl_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url())
        .await
        .expect("PostgreSQL must be running for the PostgreSQL half (see README)");
    sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create the test database");
    let store = Store::open(&with_database(&admin_url(), &name))
        .await
        .expect("open the store");
    let session = SessionId::from_trusted("org_cancel");
    let write = |n: i64| {
        vec![WebStateWrite::Put(WebStateRow {
            kind: "device".into(),
            key: "main".into(),
            num: Some(n),
            value: vec![1, 2, 3],
            ..WebStateRow::default()
        })]
    };
    // Cut the same write short after one poll, two polls, three… so that in turn it is
    // dropped at each point it waits: the connection, `BEGIN`, each statement, `COMMIT`.
    // Between polls the server has time to run what was sent.
    for round in 0..3 {
        for polls in 1..40 {
            cut_after(
                polls,
                store
                    .web_state()
                    .apply(&session, &write(round * 100 + polls as i64)),
            )
            .await;
            // Nothing else uses the pool meanwhile, so a connection left in a transaction
            // stays that way (the next `BEGIN` on it would hide the fault).
            settled(
                &mut admin,
                &name,
                &format!("a write cut after {polls} polls"),
            )
            .await;
        }
    }
    // And the row every cancelled write touched can still be written, at once.
    tokio::time::timeout(
        Duration::from_secs(10),
        store.web_state().apply(&session, &write(-1)),
    )
    .await
    .expect("a write after the cancelled ones is not blocked")
    .expect("the write succeeds");
    store.close().await;
    let _ = sqlx::Executor::execute(
        &mut admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
    )
    .await;
}
