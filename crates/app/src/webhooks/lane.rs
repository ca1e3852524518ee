//! One webhook's lane: it takes the webhook's due deliveries, oldest first, keeps up to
//! [`IN_FLIGHT`] attempts going at once, and hands each finished attempt to the attempt log.
//! Every webhook has a lane of its own, so a receiver that hangs or fails only ever slows
//! its own deliveries.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use wasl_store::{Attempt, AttemptOutcome, AttemptRecord, Delivery, Webhook};

use super::{signature, target, Dispatcher, ATTEMPT_TIMEOUT, RETRY_SCHEDULE};

/// Attempts one webhook may have in flight. A lane claims up to twice as many at a time, so a
/// claim takes many deliveries and the next ones are ready when a slot frees.
pub(super) const IN_FLIGHT: u32 = 16;
/// A claim lasts well beyond an attempt's timeout: nobody starts a claimed delivery again
/// while its attempt may still be running.
const CLAIM: Duration = Duration::from_secs(30);
/// A lane reads its webhook again (URL, secret, active) at most this often, and resolves
/// its host again at most this often.
const WEBHOOK_FRESH: Duration = Duration::from_secs(1);
const ADDRESS_FRESH: Duration = Duration::from_secs(60);
/// How long a stopping lane waits for the attempts it has in flight.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What a lane sends to: the webhook as last read, its signing key and an HTTP client bound
/// to the address that was checked, kept so connections to the receiver are reused.
struct Target {
    webhook: Webhook,
    read_at: Instant,
    resolved_at: Instant,
    sender: Result<Arc<Sender>, String>,
}

struct Sender {
    url: String,
    key: Vec<u8>,
    client: reqwest::Client,
}

pub(super) async fn run(
    dispatcher: Arc<Dispatcher>,
    webhook_id: String,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut in_flight = JoinSet::new();
    // Claimed and not started yet: at most one lane's worth, so each starts within one round
    // of attempts (10 s at worst), well inside its claim.
    let mut waiting: VecDeque<Delivery> = VecDeque::new();
    let mut target: Option<Target> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        if waiting.is_empty() {
            match refresh(&dispatcher, &webhook_id, target.take()).await {
                Ok(Some(t)) => {
                    if t.webhook.is_active {
                        let room = 2 * IN_FLIGHT as usize - in_flight.len();
                        waiting.extend(claim(&dispatcher, &t, room).await);
                    }
                    target = Some(t);
                }
                // Deleted, with its deliveries: the lane has nothing left to do.
                Ok(None) => {
                    if in_flight.is_empty() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(webhook = %webhook_id, error = %e, "cannot read the webhook");
                }
            }
        }
        if let Some(t) = &target {
            while in_flight.len() < IN_FLIGHT as usize {
                let Some(delivery) = waiting.pop_front() else {
                    break;
                };
                let (dispatcher, sender) = (dispatcher.clone(), t.sender.clone());
                in_flight.spawn(async move {
                    let record = attempt(&dispatcher, sender, delivery).await;
                    dispatcher.attempts.record(record);
                });
            }
        }
        if in_flight.is_empty() {
            // Nothing due: wait until the dispatcher sees something for this webhook.
            tokio::select! {
                () = wake.notified() => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        tokio::select! {
            _ = in_flight.join_next() => {}
            _ = stop.changed() => {}
        }
        while in_flight.try_join_next().is_some() {}
    }
    // Attempts still running are given a moment; any cut short is retried when its claim
    // runs out.
    let _ = tokio::time::timeout(STOP_GRACE, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    dispatcher.lane_ended(&webhook_id, &wake);
}

/// The webhook as it is now (read again when the copy is old), `None` once it is deleted.
async fn refresh(
    dispatcher: &Dispatcher,
    webhook_id: &str,
    current: Option<Target>,
) -> Result<Option<Target>, wasl_store::StoreError> {
    if let Some(t) = &current {
        if t.read_at.elapsed() < WEBHOOK_FRESH {
            return Ok(current);
        }
    }
    let Some(webhook) = dispatcher.store.webhooks().by_id(webhook_id).await? else {
        return Ok(None);
    };
    let now = Instant::now();
    let reuse = current.filter(|t| {
        t.webhook.updated_at == webhook.updated_at
            && t.sender.is_ok()
            && t.resolved_at.elapsed() < ADDRESS_FRESH
    });
    Ok(Some(match reuse {
        Some(mut t) => {
            t.read_at = now;
            t.webhook = webhook;
            t
        }
        None => Target {
            sender: sender(dispatcher, &webhook).await.map(Arc::new),
            webhook,
            read_at: now,
            resolved_at: now,
        },
    }))
}

/// The signing key and a client bound to the receiver's checked address, or why the
/// webhook cannot be sent to right now (every attempt then fails with that reason).
async fn sender(dispatcher: &Dispatcher, webhook: &Webhook) -> Result<Sender, String> {
    let secret = dispatcher
        .cipher
        .open(&super::secret_aad(&webhook.id), &webhook.secret_sealed)
        .map_err(|e| format!("secret: {e}"))?;
    let secret = String::from_utf8(secret).map_err(|_| "secret: not text".to_owned())?;
    let key = signature::secret_key(&secret).ok_or("secret: not a whsec_ secret")?;
    let (host, addrs) = target::resolve(&webhook.url, dispatcher.settings.allow_private)
        .await
        .map_err(|e| e.to_string())?;
    let mut client = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("wasl-webhooks/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(IN_FLIGHT as usize);
    // Connect to the address that was checked, not to a second DNS answer.
    if let Some(addr) = addrs.first() {
        client = client.resolve(&host, *addr);
    }
    let client = client.build().map_err(|e| format!("HTTP client: {e}"))?;
    Ok(Sender {
        url: webhook.url.clone(),
        key,
        client,
    })
}

/// Claims up to `room` of the webhook's due deliveries, oldest first.
async fn claim(dispatcher: &Dispatcher, target: &Target, room: usize) -> Vec<Delivery> {
    let now = dispatcher.clock.now_millis();
    let until = now + i64::try_from(CLAIM.as_millis()).unwrap_or(30_000);
    let limit = u32::try_from(room).unwrap_or(IN_FLIGHT);
    match dispatcher
        .store
        .deliveries()
        .claim_due(&target.webhook.id, now, until, limit)
        .await
    {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::error!(webhook = %target.webhook.id, error = %e, "cannot claim webhook deliveries");
            Vec::new()
        }
    }
}

async fn attempt(
    dispatcher: &Dispatcher,
    sender: Result<Arc<Sender>, String>,
    delivery: Delivery,
) -> AttemptRecord {
    let started = Instant::now();
    let result = match sender {
        Ok(sender) => post(dispatcher, &sender, &delivery).await,
        Err(e) => Err(e),
    };
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let at = dispatcher.clock.now_millis();
    let (status_code, error) = match result {
        Ok(code) if (200..300).contains(&code) => (Some(i64::from(code)), None),
        Ok(code) => (
            Some(i64::from(code)),
            Some(format!("the receiver answered HTTP {code}")),
        ),
        Err(e) => (None, Some(e)),
    };
    let outcome = match &error {
        None => AttemptOutcome::Delivered,
        Some(_) => retry_or_dead(delivery.attempts, at),
    };
    let number = delivery.attempts + 1;
    match outcome {
        AttemptOutcome::Delivered => tracing::debug!(delivery = %delivery.id, "webhook delivered"),
        AttemptOutcome::RetryAt(_) => {
            tracing::info!(delivery = %delivery.id, attempt = number, error = ?error, "webhook attempt failed")
        }
        AttemptOutcome::Dead => {
            tracing::warn!(delivery = %delivery.id, attempts = number, "webhook delivery is dead")
        }
    }
    AttemptRecord {
        delivery_id: delivery.id,
        attempt: Attempt {
            attempt: number,
            at,
            status_code,
            latency_ms,
            error,
        },
        outcome,
    }
}

/// After `attempts_before` failed attempts and this one: when to try again, or dead once the
/// schedule is used up. ±10% jitter spreads the retries of deliveries that failed together.
fn retry_or_dead(attempts_before: i64, at: i64) -> AttemptOutcome {
    match RETRY_SCHEDULE.get(usize::try_from(attempts_before).unwrap_or(usize::MAX)) {
        Some(wait) => {
            let jitter = rand::thread_rng().gen_range(0.9..1.1);
            AttemptOutcome::RetryAt(
                at + i64::try_from(wait.mul_f64(jitter).as_millis()).unwrap_or(i64::MAX),
            )
        }
        None => AttemptOutcome::Dead,
    }
}

/// One signed POST; the HTTP status, or why there was none.
async fn post(
    dispatcher: &Dispatcher,
    sender: &Sender,
    delivery: &Delivery,
) -> Result<u16, String> {
    let timestamp = dispatcher.clock.now_millis() / 1000;
    let response = sender
        .client
        .post(&sender.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(&sender.key, &delivery.event_id, timestamp, &delivery.body),
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
    let status = response.status().as_u16();
    drain(response).await;
    Ok(status)
}

/// Reads (and forgets) what the receiver answered, so its connection can carry the next
/// delivery. A receiver that answers at length gets its connection closed instead.
async fn drain(mut response: reqwest::Response) {
    const KEEP_READING: usize = 64 * 1024;
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > KEEP_READING {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_runs_out_into_dead() {
        let at = 1_000_000;
        for (before, wait) in RETRY_SCHEDULE.iter().enumerate() {
            let AttemptOutcome::RetryAt(next) = retry_or_dead(before as i64, at) else {
                panic!("attempt {} should be retried", before + 1);
            };
            let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            assert!(next >= at + wait * 9 / 10 && next <= at + wait * 11 / 10);
        }
        assert_eq!(
            retry_or_dead(RETRY_SCHEDULE.len() as i64, at),
            AttemptOutcome::Dead
        );
    }
}
