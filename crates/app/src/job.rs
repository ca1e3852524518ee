//! How a background job of wasl runs (the scheduler, the broadcast runner): a step of work, again
//! at once while there is more, else a rest until the store says something comes due (or a
//! wake-up, at most a second, so a clock moved forward or another node's write is seen); after a
//! failure, growing pauses. Every pass is counted, so a test waits for the next pass instead of
//! sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{watch, Notify};

use crate::error::AppResult;

/// The longest a job rests before it looks again on its own.
pub(crate) const IDLE_CHECK: Duration = Duration::from_secs(1);

#[async_trait]
pub(crate) trait Job: Send + Sync {
    /// What it does, for the log of a failure.
    const WHAT: &'static str;
    /// One step of work; `true` when there may be more at once.
    async fn step(&self) -> AppResult<bool>;
    /// When something comes due next, if the store knows.
    async fn next_due(&self) -> Option<i64>;
    fn now(&self) -> i64;
}

/// Runs `job` until `stop` turns true.
pub(crate) async fn run<J: Job>(
    job: &J,
    wake: &Notify,
    passes: &AtomicU64,
    mut stop: watch::Receiver<bool>,
) {
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let result = job.step().await;
        passes.fetch_add(1, Ordering::SeqCst);
        let wait = match result {
            Ok(true) => {
                failures = 0;
                None
            }
            Ok(false) => {
                failures = 0;
                Some(match job.next_due().await {
                    Some(at) => {
                        let ms = at.saturating_sub(job.now()).max(0);
                        Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(IDLE_CHECK)
                    }
                    None => IDLE_CHECK,
                })
            }
            Err(e) => {
                failures += 1;
                let wait = Duration::from_millis(200 * 2u64.pow(failures.min(7)));
                tracing::error!(error = %e, failures, retry_in_ms = wait.as_millis() as u64, job = J::WHAT, "a job cannot go on; trying again");
                Some(wait)
            }
        };
        if let Some(wait) = wait {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
