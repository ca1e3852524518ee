//! Group commit for webhook attempts: every lane hands its finished attempts here, and one
//! task logs whatever has gathered in one transaction. Under load a commit is shared by
//! hundreds of attempts; when idle an attempt is written at once.
//!
//! A lane does not wait for its attempt to be written: the delivery stays claimed (not due)
//! until the log moves it on, and if the write never happens the claim runs out and the
//! delivery is sent again, which at-least-once allows.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use wasl_store::{AttemptRecord, Store};

const MAX_BATCH: usize = 512;
/// A failed write is tried again this many times before its attempts are left to their
/// claims running out.
const WRITE_TRIES: u32 = 5;

pub(super) struct AttemptLog {
    records: mpsc::UnboundedSender<AttemptRecord>,
}

/// Ends the log's task once everything handed over so far is written.
pub(super) struct Flush {
    finish: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Flush {
    pub(super) async fn flush(self) {
        let _ = self.finish.send(());
        let _ = self.task.await;
    }
}

impl AttemptLog {
    pub(super) fn start(store: Store) -> (AttemptLog, Flush) {
        // Unbounded, but never large: each lane has a few attempts in flight at most, and
        // each produces one record.
        let (records, queue) = mpsc::unbounded_channel();
        let (finish, finished) = oneshot::channel();
        let task = tokio::spawn(run(store, queue, finished));
        (AttemptLog { records }, Flush { finish, task })
    }

    pub(super) fn record(&self, record: AttemptRecord) {
        if self.records.send(record).is_err() {
            tracing::warn!("the webhook attempt log has stopped; the delivery will be retried");
        }
    }
}

async fn run(
    store: Store,
    mut queue: mpsc::UnboundedReceiver<AttemptRecord>,
    mut finished: oneshot::Receiver<()>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        tokio::select! {
            n = queue.recv_many(&mut batch, MAX_BATCH) => {
                if n == 0 {
                    return;
                }
                write(&store, &mut batch).await;
            }
            _ = &mut finished => {
                while let Ok(record) = queue.try_recv() {
                    batch.push(record);
                    if batch.len() == MAX_BATCH {
                        write(&store, &mut batch).await;
                    }
                }
                write(&store, &mut batch).await;
                return;
            }
        }
    }
}

async fn write(store: &Store, batch: &mut Vec<AttemptRecord>) {
    if batch.is_empty() {
        return;
    }
    for attempt in 0..WRITE_TRIES {
        match store.deliveries().record_attempts(batch).await {
            Ok(()) => break,
            Err(e) => {
                tracing::error!(error = %e, attempts = batch.len(), attempt, "cannot log webhook attempts; retrying");
                tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt))).await;
            }
        }
    }
    batch.clear();
}
