//! Group commit for messages. Every message wasl stores — accepted from the API or received by
//! a session — and every status move (sent, delivered, read, failed) goes through one queue; a
//! recorder takes whatever has queued up (up to [`MAX_BATCH`]) and writes it in one
//! transaction. Under load, batches grow by themselves and a commit is shared by hundreds of
//! writes; when idle, a write goes alone at once, so nobody waits for a batch to fill.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};
use wasl_store::{
    Dialect, EventRenderer, Moved, NewMessage, RecordOutcome, StatusMove, Store, StoreError,
};

/// Large enough to share a commit among many writes, small enough that one batch's
/// transaction stays short for the readers beside it.
const MAX_BATCH: usize = 256;

/// How many writes may wait for the recorders; senders beyond it wait their turn, which
/// pushes back on the API instead of growing memory without bound.
const QUEUE: usize = 8_192;

enum Job {
    Record(
        Box<NewMessage>,
        oneshot::Sender<Result<RecordOutcome, StoreError>>,
    ),
    Move(
        StatusMove,
        oneshot::Sender<Result<Option<Moved>, StoreError>>,
    ),
}

#[derive(Clone)]
pub(super) struct Recorder {
    jobs: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the recording tasks; they end when the last `Recorder` handle is dropped.
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
            .send(Job::Record(Box::new(item), reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Moves a message's status; `None` when the move does not apply.
    pub(super) async fn move_status(
        &self,
        change: StatusMove,
    ) -> Result<Option<Moved>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Move(change, reply))
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
    // The queue is locked only while taking a batch, so the next recorder takes the writes
    // that queued up while this one writes.
    while queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let mut records = Vec::new();
        let mut record_replies = Vec::new();
        let mut moves = Vec::new();
        let mut move_replies = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Record(item, reply) => {
                    records.push(*item);
                    record_replies.push(reply);
                }
                Job::Move(change, reply) => {
                    moves.push(change);
                    move_replies.push(reply);
                }
            }
        }
        let writes = records.len() + moves.len();
        match store
            .messages()
            .write_batch(&records, &moves, renderer.as_ref())
            .await
        {
            Ok(outcome) => {
                // A caller may have gone (a closed HTTP request): what it asked for is written
                // all the same, as the outbox promises.
                for (reply, outcome) in record_replies.into_iter().zip(outcome.recorded) {
                    let _ = reply.send(Ok(outcome));
                }
                for (reply, moved) in move_replies.into_iter().zip(outcome.moved) {
                    let _ = reply.send(Ok(moved));
                }
            }
            Err(e) if writes == 1 => {
                if let Some(reply) = record_replies.pop() {
                    let _ = reply.send(Err(e));
                } else if let Some(reply) = move_replies.pop() {
                    let _ = reply.send(Err(e));
                }
            }
            Err(e) if e.is_unavailable() => {
                // The storage refuses every write now (a full disk): writing them one by one
                // would only fail each again. Every caller hears it and retries on its own.
                let reason = match e {
                    StoreError::Unavailable(reason) => reason,
                    other => other.to_string(),
                };
                for reply in record_replies {
                    let _ = reply.send(Err(StoreError::Unavailable(reason.clone())));
                }
                for reply in move_replies {
                    let _ = reply.send(Err(StoreError::Unavailable(reason.clone())));
                }
            }
            Err(e) => {
                // One write the database refuses must not fail the ones queued beside it: each
                // is tried alone and gets its own answer.
                tracing::warn!(error = %e, writes, "a batch of writes failed; writing them one by one");
                for (item, reply) in records.into_iter().zip(record_replies) {
                    let result = store
                        .messages()
                        .record(std::slice::from_ref(&item), renderer.as_ref())
                        .await
                        .and_then(|mut outcomes| outcomes.pop().ok_or_else(stopped));
                    let _ = reply.send(result);
                }
                for (change, reply) in moves.into_iter().zip(move_replies) {
                    let _ = reply.send(
                        store
                            .messages()
                            .move_status(change, renderer.as_ref())
                            .await,
                    );
                }
            }
        }
    }
}
