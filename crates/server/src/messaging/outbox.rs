//! The outbox worker of one connected session: hands pending messages to the engine in order,
//! at the session's pace, retrying temporary failures with backoff and failing the rest with
//! the reason. It stops when the connection ends; the next connection starts a new one.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{watch, Notify};
use wasl_domain::{Message, PhoneNumber, Session};
use wasl_engine::{Connection, EngineError, Media, MessageKind, OutgoingContent, OutgoingMessage};
use wasl_store::{StatusMove, Store};

use super::media::MediaStore;
use super::recorder::Recorder;
use super::{EventBus, SendPace};
use crate::clock::now_millis;

/// After this many temporary failures a message is marked failed rather than retried forever.
const MAX_ATTEMPTS: i64 = 8;
/// The longest an idle worker waits before it looks at the outbox again on its own.
const IDLE_CHECK: Duration = Duration::from_secs(60);

#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    store: Store,
    recorder: Recorder,
    media: MediaStore,
    bus: EventBus,
    pace: SendPace,
    session: Session,
    connection: Arc<dyn Connection>,
    waker: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let due = match store.due_outbox(&session.id, now_millis(), 100).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(session = %session.id, error = %e, "cannot read the outbox");
                Vec::new()
            }
        };
        if due.is_empty() {
            // Nothing due: wait for a new message (its acceptance wakes us) or for the next
            // retry to come due. No polling, so a thousand idle sessions cost nothing; the
            // cap is only a safety net.
            let wait = match store.next_outbox_attempt(&session.id).await {
                Ok(Some(at)) => Duration::from_millis(
                    u64::try_from(at.saturating_sub(now_millis())).unwrap_or(0),
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
                Ok(at) => match recorder
                    .move_status(StatusMove::sent(&message.organization_id, &message.id, at))
                    .await
                {
                    Ok(Some((_, events))) => bus.publish(events),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(message = %message.id, error = %e, "sent, but cannot record it; it will be re-sent with the same id")
                    }
                },
                Err(EngineError::NotConnected) => return,
                Err(EngineError::Transient(reason)) => {
                    let attempts = message.attempts + 1;
                    if attempts >= MAX_ATTEMPTS {
                        fail(&recorder, &bus, &message, &reason).await;
                    } else {
                        let delay = 1_000i64.saturating_mul(1 << attempts.min(10));
                        if let Err(e) = store
                            .schedule_retry(&message.id, attempts, now_millis() + delay, &reason)
                            .await
                        {
                            tracing::error!(message = %message.id, error = %e, "cannot schedule a retry");
                        }
                    }
                }
                Err(e) => fail(&recorder, &bus, &message, &e.to_string()).await,
            }
        }
    }
}

async fn fail(recorder: &Recorder, bus: &EventBus, message: &Message, reason: &str) {
    match recorder
        .move_status(StatusMove::failed(
            &message.organization_id,
            &message.id,
            reason,
            now_millis(),
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
) -> Result<i64, EngineError> {
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
    let sent = connection
        .send(OutgoingMessage {
            message_id: message.message_id.clone(),
            to: PhoneNumber::from_trusted(&message.to),
            content,
        })
        .await?;
    Ok(sent.at)
}
