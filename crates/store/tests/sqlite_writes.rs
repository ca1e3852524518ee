//! SQLite has one writer. Transactions that count and then insert (a session created within
//! the plan's limit) run while single-statement writes (status changes) hit the same rows
//! from other connections: every one of them must succeed, none may fail because another
//! connection wrote first.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{session, store_with_session};
use wasl_domain::SessionStatus;
use wasl_store::SessionChange;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counted_inserts_and_status_changes_never_collide() {
    let (store, org, default, dir) = store_with_session().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (inserter, org) = (store.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            let s = session(&org, &format!("line{i}"));
            inserter
                .sessions()
                .insert_within(&s, Some(10_000))
                .await
                .map(|_| ())
                .map_err(|e| format!("insert {i}: {e}"))
        }));
        let (changer, default) = (store.clone(), default.clone());
        tasks.push(tokio::spawn(async move {
            let change = SessionChange {
                status: Some(if i % 2 == 0 {
                    SessionStatus::Connecting
                } else {
                    SessionStatus::Connected
                }),
                add_attempt: true,
                ..Default::default()
            };
            changer
                .sessions()
                .change(&default, &change)
                .await
                .map(|_| ())
                .map_err(|e| format!("change {i}: {e}"))
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(e) = task.await.expect("task") {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        store.sessions().count_active(&org).await.expect("count"),
        201
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
