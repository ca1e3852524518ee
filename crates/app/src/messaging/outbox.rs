//! The outbox worker of one connected session: hands pending messages to the engine in order,
//! at the session's pace, retrying temporary failures with backoff and failing the rest with
//! the reason. It stops when the connection ends; the next connection starts a new one.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{watch, Notify};
use wasl_domain::{Message, PhoneNumber, Session};
use wasl_engine::{
    Connection, EngineError, Media, MessageKind, OutgoingContent, OutgoingMessage, QuotedMessage,
    SentMessage,
};
use wasl_store::{StatusMove, Store};

use super::media::MediaStore;
use super::recorder::Recorder;
use super::{EventBus, SendPace};
use crate::clock::Clock;

/// After this many temporary failures a message is marked failed rather than retried forever.
const MAX_ATTEMPTS: i64 = 8;
/// The longest an idle worker waits before it looks at the outbox again on its own.
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// What a session's outbox worker works with.
pub(super) struct Worker {
    pub store: Store,
    pub recorder: Recorder,
    pub media: MediaStore,
    pub bus: EventBus,
    pub pace: SendPace,
    /// Decides when messages and retries are due.
    pub clock: Arc<dyn Clock>,
}

pub(super) async fn run(
    worker: Worker,
    session: Session,
    connection: Arc<dyn Connection>,
    waker: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let Worker {
        store,
        recorder,
        media,
        bus,
        pace,
        clock,
    } = worker;
    let mut read_failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let due = match store
            .outbox()
            .due(&session.id, clock.now_millis(), 100)
            .await
        {
            Ok(due) => {
                read_failures = 0;
                due
            }
            Err(e) => {
                tracing::error!(session = %session.id, error = %e, "cannot read the outbox");
                read_failures += 1;
                if sleep_or_stop(backoff(read_failures), &mut stop).await {
                    return;
                }
                continue;
            }
        };
        if due.is_empty() {
            // Nothing due: wait for a new message (its acceptance wakes us) or for the next
            // retry to come due. No polling, so a thousand idle sessions cost nothing; the
            // cap is only a safety net.
            let wait = match store.outbox().next_attempt(&session.id).await {
                Ok(Some(at)) => Duration::from_millis(
                    u64::try_from(at.saturating_sub(clock.now_millis())).unwrap_or(0),
                ),
                Ok(None) => IDLE_CHECK,
                Err(e) => {
                    tracing::error!(session = %session.id, error = %e, "cannot read the outbox");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = waker.notified() => {}
                () = tokio::time::sleep(wait.min(IDLE_CHECK)) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        for message in due {
            if pause(pace, &mut stop).await {
                return;
            }
            match deliver(&media, connection.as_ref(), &message).await {
                Ok(sent) => {
                    if record_sent(&recorder, &bus, &message, &sent, &mut stop).await {
                        return;
                    }
                }
                Err(EngineError::NotConnected) => return,
                Err(EngineError::Transient(reason)) => {
                    let attempts = message.attempts + 1;
                    if attempts >= MAX_ATTEMPTS {
                        fail(&recorder, &bus, &message, &reason, clock.now_millis()).await;
                    } else {
                        let delay = 1_000i64.saturating_mul(1 << attempts.min(10));
                        if let Err(e) = store
                            .outbox()
                            .schedule_retry(
                                &message.id,
                                attempts,
                                clock.now_millis() + delay,
                                &reason,
                            )
                            .await
                        {
                            tracing::error!(message = %message.id, error = %e, "cannot schedule a retry");
                        }
                    }
                }
                Err(e) => {
                    fail(
                        &recorder,
                        &bus,
                        &message,
                        &e.to_string(),
                        clock.now_millis(),
                    )
                    .await
                }
            }
        }
    }
}

/// Records that a message went out. While the store cannot take the write (a full disk), the
/// worker retries with growing pauses and sends nothing else meanwhile: going on would send
/// the next messages without recording them either, and re-reading the outbox would send
/// this one again at once. If wasl stops first, the message is still `pending` and is sent
/// again with the same id after the restart, which WhatsApp delivers once. `true` when the
/// worker was stopped meanwhile.
///
/// An engine whose server assigns ids (Meta's `wamid`) returns another id than the one wasl
/// chose: the message takes it, so the receipts WhatsApp sends for it find the message.
async fn record_sent(
    recorder: &Recorder,
    bus: &EventBus,
    message: &Message,
    sent: &SentMessage,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let assigned = (!sent.message_id.is_empty() && sent.message_id != message.message_id)
        .then(|| sent.message_id.clone());
    let mut failures = 0u32;
    loop {
        match recorder
            .move_status(
                StatusMove::sent(&message.organization_id, &message.id, sent.at)
                    .with_assigned_id(assigned.clone()),
            )
            .await
        {
            Ok(moved) => {
                if let Some((_, events)) = moved {
                    bus.publish(events);
                }
                return false;
            }
            Err(e) => {
                failures += 1;
                let wait = backoff(failures);
                tracing::error!(message = %message.id, error = %e, failures, retry_in_ms = wait.as_millis() as u64,
                    "sent, but cannot record it; recording it again later");
                if sleep_or_stop(wait, stop).await {
                    return true;
                }
            }
        }
    }
}

/// The pause after the `failures`-th failure in a row to reach the store: 200 ms, doubling,
/// at most 30 s.
fn backoff(failures: u32) -> Duration {
    let ms = 200u64.saturating_mul(1 << failures.saturating_sub(1).min(8));
    Duration::from_millis(ms.min(30_000))
}

/// Sleeps, unless the worker is stopped first; `true` when stopped.
async fn sleep_or_stop(delay: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

async fn fail(recorder: &Recorder, bus: &EventBus, message: &Message, reason: &str, at: i64) {
    match recorder
        .move_status(StatusMove::failed(
            &message.organization_id,
            &message.id,
            reason,
            at,
        ))
        .await
    {
        Ok(Some((_, events))) => bus.publish(events),
        Ok(None) => {}
        Err(e) => {
            tracing::error!(message = %message.id, error = %e, "cannot mark the message failed")
        }
    }
}

/// Waits the pacing interval with ±25% jitter; `true` when stopped meanwhile.
async fn pause(pace: SendPace, stop: &mut watch::Receiver<bool>) -> bool {
    if pace.interval.is_zero() {
        return *stop.borrow();
    }
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    tokio::select! {
        () = tokio::time::sleep(pace.interval.mul_f64(jitter)) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

async fn deliver(
    media: &MediaStore,
    connection: &dyn Connection,
    message: &Message,
) -> Result<SentMessage, EngineError> {
    let kind = MessageKind::parse(&message.kind)
        .ok_or_else(|| EngineError::Rejected(format!("unknown type {}", message.kind)))?;
    let content = match (kind, &message.media_path) {
        (MessageKind::Text, _) => OutgoingContent::Text(message.text.clone().unwrap_or_default()),
        (_, Some(path)) => {
            let bytes = media
                .read(path)
                .await
                .map_err(|e| EngineError::Rejected(format!("the media file is missing: {e}")))?;
            OutgoingContent::Media {
                kind,
                media: Media {
                    bytes,
                    mime_type: message.mime_type.clone().unwrap_or_default(),
                    filename: message.filename.clone(),
                },
                caption: message.caption.clone(),
                ptt: message.ptt,
            }
        }
        (_, None) => {
            return Err(EngineError::Rejected(
                "a media message without media".into(),
            ))
        }
    };
    let quote = message.quoted.as_ref().map(|q| QuotedMessage {
        message_id: q.message_id.clone(),
        from_me: q.direction == wasl_domain::Direction::Outgoing,
        kind: MessageKind::parse(&q.kind).unwrap_or(MessageKind::Text),
        text: q.text.clone(),
    });
    connection
        .send(OutgoingMessage {
            message_id: message.message_id.clone(),
            to: PhoneNumber::from_trusted(&message.to),
            content,
            quote,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_back_off_up_to_thirty_seconds() {
        let waits: Vec<u64> = (1..=12).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(&waits[..5], &[200, 400, 800, 1_600, 3_200]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(*waits.last().unwrap_or(&0), 30_000);
    }
}
