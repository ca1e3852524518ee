//! SQLite's write-ahead log under constant load. Readers that never stop keep a passive
//! checkpoint from ever starting the log over; without the store's own restarts the log would
//! grow with every write until the disk is full. Here the log must stay a small part of what
//! was written, and everything written must still be there afterwards.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each test binary uses its own part of the shared helpers.
#[allow(dead_code)]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::store_with_session_opened;
use wasl_store::StoreOptions;

/// The log starts over past 64 pages (256 KB) and is looked at every 100 ms here, instead of
/// the server's 64 MB and every second.
const RESET_PAGES: i64 = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_log_starts_over_while_reads_and_writes_never_stop() {
    let options = StoreOptions {
        wal_reset_pages: RESET_PAGES,
        checkpoint_every: Duration::from_millis(100),
        ..StoreOptions::default()
    };
    let (store, org, _session, dir) = store_with_session_opened(options).await;
    let wal = dir.join("wasl.db-wal");

    let reading = Arc::new(AtomicBool::new(true));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (store, org, reading) = (store.clone(), org.clone(), reading.clone());
            tokio::spawn(async move {
                let mut reads = 0u64;
                while reading.load(Ordering::Relaxed) {
                    store.events().after(&org, None, 20).await.expect("read");
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    // Many of the checkpointer's ticks, with a few KB per write. Each time the log starts over,
    // its header's checkpoint sequence number moves on.
    let payload = serde_json::json!({ "text": "رسالة ".repeat(400) });
    let written_per_event = payload.to_string().len() as u64;
    let started = Instant::now();
    let mut events = 0u64;
    let mut restarts = std::collections::BTreeSet::new();
    while started.elapsed() < Duration::from_secs(3) || events < 1_000 {
        store
            .events()
            .record(&org, "message.received", payload.clone())
            .await
            .expect("write");
        events += 1;
        if events.is_multiple_of(10) {
            restarts.extend(checkpoint_sequence(&wal));
        }
    }
    reading.store(false, Ordering::Relaxed);
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.expect("reader");
    }
    assert!(reads > 100, "the readers hardly read ({reads} reads)");

    assert!(
        restarts.len() >= 4,
        "the log started over {} times while {} KB were written",
        restarts.len().saturating_sub(1),
        events * written_per_event / 1024
    );
    let mut stored = 0u64;
    let mut after: Option<String> = None;
    loop {
        let page = store
            .events()
            .after(&org, after.as_deref(), 1_000)
            .await
            .expect("read back");
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        stored += page.len() as u64;
    }
    assert_eq!(stored, events, "every event written is still stored");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The checkpoint sequence number in the log's header (big-endian, bytes 12..16), which
/// SQLite moves on each time the log starts over from its beginning.
fn checkpoint_sequence(wal: &std::path::Path) -> Option<u32> {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(wal)
        .ok()?
        .read_exact(&mut header)
        .ok()?;
    Some(u32::from_be_bytes([
        header[12], header[13], header[14], header[15],
    ]))
}
