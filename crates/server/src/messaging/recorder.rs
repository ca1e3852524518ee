//! Group commit for messages. Every message wasl stores — accepted from the API or received by
//! a session — goes through one queue; a single task takes whatever has queued up (up to
//! [`MAX_BATCH`]) and stores it in one transaction. Under load, batches grow by themselves and
//! a commit is shared by hundreds of messages; when idle, a message is stored alone at once,
//! so nobody waits for a batch to fill.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};
use wasl_store::{Dialect, EventRenderer, NewMessage, RecordOutcome, Store, StoreError};

/// Large enough to share a commit among many messages, small enough that one batch's
/// transaction stays short for the readers beside it.
const MAX_BATCH: usize = 256;

/// How many messages may wait for the recorder; senders beyond it wait their turn, which
/// pushes back on the API instead of growing memory without bound.
const QUEUE: usize = 8_192;

struct Job {
    item: NewMessage,
    reply: oneshot::Sender<Result<RecordOutcome, StoreError>>,
}

#[derive(Clone)]
pub(super) struct Recorder {
    jobs: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the recording task; it ends when the last `Recorder` handle is dropped.
    pub(super) fn start(store: Store, renderer: Arc<dyn EventRenderer>) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        // SQLite has one writer, so one recorder; PostgreSQL commits several transactions at
        // once, so a few recorders keep it busy while each waits for its commit to be flushed.
        let recorders = match store.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 4,
        };
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..recorders {
            tokio::spawn(run(store.clone(), renderer.clone(), queue.clone()));
        }
        Recorder { jobs }
    }

    /// Stores one message; returns once it is committed (or known to be a duplicate).
    pub(super) async fn record(&self, item: NewMessage) -> Result<RecordOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { item, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Corrupt("the message recorder has stopped".into())
}

async fn run(
    store: Store,
    renderer: Arc<dyn EventRenderer>,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // The queue is locked only while taking a batch, so the next recorder takes the messages
    // that queued up while this one writes.
    while queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (items, replies): (Vec<NewMessage>, Vec<_>) =
            jobs.drain(..).map(|job| (job.item, job.reply)).unzip();
        match store.record_messages(&items, renderer.as_ref()).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The caller may have gone (a closed HTTP request): the message is stored
                    // all the same, as the outbox promises.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) if items.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
            Err(e) => {
                // One message the database refuses must not fail the ones queued beside it:
                // each is tried alone and gets its own answer.
                tracing::warn!(error = %e, batch = items.len(), "a batch of messages failed; storing them one by one");
                for (item, reply) in items.into_iter().zip(replies) {
                    let result = store
                        .record_messages(std::slice::from_ref(&item), renderer.as_ref())
                        .await
                        .and_then(|mut outcomes| outcomes.pop().ok_or_else(stopped));
                    let _ = reply.send(result);
                }
            }
        }
    }
}
