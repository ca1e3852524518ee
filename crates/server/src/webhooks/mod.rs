//! Delivering webhooks: durable, at-least-once, signed, retried for more than a day, and
//! isolated so that a slow or dead receiver never holds up the others.
//!
//! Deliveries are created with their events (in the store). This worker finds the due ones,
//! claims each for the length of an attempt, posts it, logs the attempt and schedules the
//! next one. A crash mid-attempt leaves the claim to run out, and the delivery is tried again.

pub mod signature;
pub mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{watch, Semaphore};
use wasl_store::cipher::Cipher;
use wasl_store::{Attempt, AttemptOutcome, Delivery, Store};

use crate::clock::Clock;

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
/// At most this many attempts in flight at once, and per webhook, so one receiver that hangs
/// holds a few slots at most.
const MAX_IN_FLIGHT: usize = 64;
const MAX_IN_FLIGHT_PER_WEBHOOK: usize = 4;

pub struct WebhookSettings {
    pub allow_private: bool,
    pub poll_interval: Duration,
}

pub struct Dispatcher {
    store: Store,
    cipher: Arc<Cipher>,
    clock: Arc<dyn Clock>,
    settings: WebhookSettings,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
    per_webhook: Mutex<HashMap<String, usize>>,
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
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wasl-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Arc::new(Dispatcher {
            store,
            cipher,
            clock,
            settings,
            client,
            slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            per_webhook: Mutex::default(),
        })
    }

    /// Runs until `stop` turns true.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.clone().dispatch_due().await {
                tracing::error!(error = %e, "cannot read due webhook deliveries");
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Starts an attempt for every due delivery that has a free slot.
    pub async fn dispatch_due(self: Arc<Self>) -> Result<usize, wasl_store::StoreError> {
        let now = self.clock.now_millis();
        let mut started = 0;
        for delivery in self.store.due_deliveries(now, 200).await? {
            if !self.take_webhook_slot(&delivery.webhook_id) {
                continue;
            }
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                self.release_webhook_slot(&delivery.webhook_id);
                break;
            };
            // The claim outlasts the attempt's timeout, so nobody else starts it meanwhile.
            let until = now + i64::try_from(ATTEMPT_TIMEOUT.as_millis() * 3).unwrap_or(30_000);
            if !self.store.claim_delivery(&delivery, until).await? {
                self.release_webhook_slot(&delivery.webhook_id);
                continue;
            }
            started += 1;
            let this = self.clone();
            tokio::spawn(async move {
                let webhook_id = delivery.webhook_id.clone();
                this.attempt(delivery).await;
                this.release_webhook_slot(&webhook_id);
                drop(slot);
            });
        }
        Ok(started)
    }

    fn take_webhook_slot(&self, webhook: &str) -> bool {
        let mut busy = self.per_webhook.lock().unwrap_or_else(|e| e.into_inner());
        let n = busy.entry(webhook.to_owned()).or_default();
        if *n >= MAX_IN_FLIGHT_PER_WEBHOOK {
            return false;
        }
        *n += 1;
        true
    }

    fn release_webhook_slot(&self, webhook: &str) {
        let mut busy = self.per_webhook.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = busy.get_mut(webhook) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(webhook);
            }
        }
    }

    async fn attempt(&self, delivery: Delivery) {
        let number = delivery.attempts + 1;
        let started = Instant::now();
        let result = self.post(&delivery).await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let at = self.clock.now_millis();
        let (status_code, error) = match &result {
            Ok(code) if (200..300).contains(code) => (Some(i64::from(*code)), None),
            Ok(code) => (
                Some(i64::from(*code)),
                Some(format!("the receiver answered HTTP {code}")),
            ),
            Err(e) => (None, Some(e.clone())),
        };
        let outcome = if error.is_none() {
            AttemptOutcome::Delivered
        } else {
            match RETRY_SCHEDULE.get(usize::try_from(delivery.attempts).unwrap_or(usize::MAX)) {
                Some(wait) => {
                    // ±10% jitter spreads retries of many deliveries that failed together.
                    let jitter = rand::thread_rng().gen_range(0.9..1.1);
                    AttemptOutcome::RetryAt(
                        at + i64::try_from(wait.mul_f64(jitter).as_millis()).unwrap_or(i64::MAX),
                    )
                }
                None => AttemptOutcome::Dead,
            }
        };
        let attempt = Attempt {
            attempt: number,
            at,
            status_code,
            latency_ms,
            error,
        };
        if let Err(e) = self
            .store
            .record_attempt(&delivery.id, &attempt, outcome)
            .await
        {
            tracing::error!(delivery = %delivery.id, error = %e, "cannot record a webhook attempt; it will be retried");
        }
        match outcome {
            AttemptOutcome::Delivered => {
                tracing::debug!(delivery = %delivery.id, "webhook delivered")
            }
            AttemptOutcome::RetryAt(_) => {
                tracing::info!(delivery = %delivery.id, attempt = number, error = ?attempt.error, "webhook attempt failed")
            }
            AttemptOutcome::Dead => {
                tracing::warn!(delivery = %delivery.id, attempts = number, "webhook delivery is dead")
            }
        }
    }

    /// One signed POST; the HTTP status, or why there was none.
    async fn post(&self, delivery: &Delivery) -> Result<u16, String> {
        let webhook = self
            .store
            .webhook_by_id(&delivery.webhook_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the webhook was deleted")?;
        let secret = self
            .cipher
            .open(&secret_aad(&webhook.id), &webhook.secret_sealed)
            .map_err(|e| format!("secret: {e}"))?;
        let secret = String::from_utf8(secret).map_err(|_| "secret: not text".to_owned())?;
        let key = signature::secret_key(&secret).ok_or("secret: not a whsec_ secret")?;
        let (host, addrs) = target::resolve(&webhook.url, self.settings.allow_private)
            .await
            .map_err(|e| e.to_string())?;
        let timestamp = self.clock.now_millis() / 1000;
        let client = match addrs.first() {
            // Connect to the address that was checked, not to a second DNS answer.
            Some(addr) => reqwest::Client::builder()
                .timeout(ATTEMPT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .resolve(&host, *addr)
                .build()
                .unwrap_or_else(|_| self.client.clone()),
            None => self.client.clone(),
        };
        let response = client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature::sign(&key, &delivery.event_id, timestamp, &delivery.body),
            )
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "timed out after 10 s".to_owned()
                } else {
                    format!("request failed: {e}")
                }
            })?;
        Ok(response.status().as_u16())
    }
}
