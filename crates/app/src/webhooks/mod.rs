//! Delivering webhooks: durable, at-least-once, signed, retried for more than a day, and
//! isolated so that a slow or dead receiver never holds up the others.
//!
//! Deliveries are created with their events (in the store). The dispatcher finds the webhooks
//! that have deliveries due (on every new event, and on a short poll for retries coming due)
//! and wakes each one's lane (`lane`): every webhook sends from a lane of its own. A lane
//! claims deliveries for the length of an attempt, posts them, and hands the attempts to a
//! log that writes them in batches (`attempt_log`). A crash mid-attempt leaves the claim to
//! run out, and the delivery is tried again.

mod attempt_log;
mod lane;
pub mod signature;
mod subscriptions;
pub mod target;

pub use subscriptions::{NewWebhook, Subscriptions, WebhookChanges, EVENT_TYPES};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, watch, Notify};
use wasl_store::cipher::Cipher;
use wasl_store::{Store, StoredEvent};

use crate::clock::Clock;
use attempt_log::AttemptLog;

/// Waits after each failed attempt, as Standard Webhooks suggests: the last attempt comes
/// about 27 hours after the event, then the delivery is dead.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// One attempt may take this long before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// New events come in bursts: looking for due deliveries once per burst, not once per event,
/// keeps the dispatcher's queries few while adding only this much to a delivery's latency.
const COALESCE: Duration = Duration::from_millis(5);

pub struct WebhookSettings {
    pub allow_private: bool,
    /// How often the dispatcher looks for deliveries that came due (retries), when no new
    /// event has made it look.
    pub poll_interval: Duration,
}

pub struct Dispatcher {
    store: Store,
    cipher: Arc<Cipher>,
    clock: Arc<dyn Clock>,
    settings: WebhookSettings,
    attempts: AttemptLog,
    flush: Mutex<Option<attempt_log::Flush>>,
    lanes: Mutex<HashMap<String, Lane>>,
    stop_lanes: watch::Sender<bool>,
}

struct Lane {
    wake: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

/// The associated data a webhook's sealed secret is bound to.
pub fn secret_aad(webhook_id: &str) -> Vec<u8> {
    format!("webhook-secret:{webhook_id}").into_bytes()
}

impl Dispatcher {
    pub fn new(
        store: Store,
        cipher: Arc<Cipher>,
        clock: Arc<dyn Clock>,
        settings: WebhookSettings,
    ) -> Arc<Self> {
        let (attempts, flush) = AttemptLog::start(store.clone());
        Arc::new(Dispatcher {
            store,
            cipher,
            clock,
            settings,
            attempts,
            flush: Mutex::new(Some(flush)),
            lanes: Mutex::default(),
            stop_lanes: watch::channel(false).0,
        })
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs until `stop` turns true; `events` (the live event bus) says when something new
    /// may be due. Then stops the lanes and writes the attempts they finished.
    pub async fn run(
        self: Arc<Self>,
        mut stop: watch::Receiver<bool>,
        mut events: broadcast::Receiver<StoredEvent>,
    ) {
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(e) = self.wake_due().await {
                tracing::error!(error = %e, "cannot look for due webhook deliveries");
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                event = events.recv() => {
                    if matches!(event, Err(broadcast::error::RecvError::Closed)) {
                        // No more live events: polling alone finds the deliveries.
                        events = broadcast::channel(1).1;
                    }
                    tokio::time::sleep(COALESCE).await;
                    while events.try_recv().is_ok() {}
                }
                _ = stop.changed() => break,
            }
        }
        self.shutdown().await;
    }

    /// Wakes (or starts) the lane of every webhook with a delivery due now; how many.
    pub async fn wake_due(self: &Arc<Self>) -> Result<usize, wasl_store::StoreError> {
        let due = self
            .store
            .deliveries()
            .webhooks_due(self.clock.now_millis())
            .await?;
        let mut lanes = self.lanes();
        for webhook_id in &due {
            let lane = lanes.entry(webhook_id.clone()).or_insert_with(|| {
                let wake = Arc::new(Notify::new());
                let task = tokio::spawn(lane::run(
                    self.clone(),
                    webhook_id.clone(),
                    wake.clone(),
                    self.stop_lanes.subscribe(),
                ));
                Lane { wake, task }
            });
            lane.wake.notify_one();
        }
        Ok(due.len())
    }

    /// A lane ended (its webhook is gone): forget it, unless a new one has taken its place.
    fn lane_ended(&self, webhook_id: &str, wake: &Arc<Notify>) {
        let mut lanes = self.lanes();
        if lanes
            .get(webhook_id)
            .is_some_and(|l| Arc::ptr_eq(&l.wake, wake))
        {
            lanes.remove(webhook_id);
        }
    }

    async fn shutdown(&self) {
        let _ = self.stop_lanes.send(true);
        let tasks: Vec<_> = self.lanes().drain().map(|(_, l)| l.task).collect();
        for task in tasks {
            let _ = task.await;
        }
        let flush = self.flush.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(flush) = flush {
            flush.flush().await;
        }
    }
}
