//! One supervised task per active session: it connects through the session's engine, follows
//! what the connection reports, keeps the stored status honest, and reconnects after an
//! unexpected disconnect with capped exponential backoff. Terminal reasons (logged out,
//! replaced, banned, QR timeout) stop it and say why.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use wasl_domain::{PhoneNumber, SessionId, SessionStatus};
use wasl_engine::{
    Connection, DisconnectReason, Engine, EngineError, EngineEvent, ReceiptStatus, SessionTarget,
};
use wasl_store::SessionChange;

use super::backoff::Backoff;
use super::Inner;

pub(super) async fn supervise(
    inner: Arc<Inner>,
    id: SessionId,
    generation: u64,
    engine: Arc<dyn Engine>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(inner.backoff);
    let mut retrying = false;
    loop {
        if *stop.borrow() {
            break;
        }
        let session = match inner.store.sessions().by_id(&id).await {
            Ok(Some(s)) if s.is_active => s,
            Ok(_) => break,
            Err(e) => {
                tracing::error!(session = %id, error = %e, "cannot read the session; retrying");
                if sleep_or_stop(backoff.next_delay(), &mut stop).await {
                    break;
                }
                continue;
            }
        };
        inner
            .change(
                &id,
                SessionChange {
                    status: Some(SessionStatus::Connecting),
                    add_attempt: retrying,
                    ..Default::default()
                },
            )
            .await;
        let target = SessionTarget {
            id: id.clone(),
            phone_number: session
                .phone_number
                .as_deref()
                .map(PhoneNumber::from_trusted),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let connected = tokio::select! {
            result = engine.connect(&target, tx) => result,
            _ = stop.changed() => break,
        };
        let ended = match connected {
            Ok(connection) => {
                inner.set_connection(&id, Some(connection.clone()));
                let ended = follow(&inner, &id, &connection, rx, &mut stop, &mut backoff).await;
                if ended.is_none() {
                    connection.close().await;
                }
                inner.set_connection(&id, None);
                ended
            }
            Err(EngineError::Transient(detail)) => Some(DisconnectReason::Network(detail)),
            Err(EngineError::NotConnected) => {
                Some(DisconnectReason::Network("not connected".into()))
            }
            Err(e) => {
                inner
                    .change(
                        &id,
                        SessionChange {
                            status: Some(SessionStatus::Failed),
                            last_disconnect_reason: Some(Some(format!(
                                "{}: {e}",
                                super::reason::CANNOT_CONNECT
                            ))),
                            last_disconnected: Some(inner.clock.now_millis()),
                            ..Default::default()
                        },
                    )
                    .await;
                break;
            }
        };
        let Some(reason) = ended else { break };
        tracing::info!(session = %id, reason = %reason.describe(), "session disconnected");
        let mut change = SessionChange {
            last_disconnect_reason: Some(Some(reason.describe())),
            last_disconnected: Some(inner.clock.now_millis()),
            ..Default::default()
        };
        match reason {
            DisconnectReason::Network(_) => {
                change.status = Some(SessionStatus::Connecting);
                inner.change(&id, change).await;
                retrying = true;
                if sleep_or_stop(backoff.next_delay(), &mut stop).await {
                    break;
                }
            }
            DisconnectReason::LoggedOut => {
                change.status = Some(SessionStatus::LoggedOut);
                change.is_active = Some(false);
                inner.change(&id, change).await;
                if let Err(e) = engine.forget(&id).await {
                    tracing::error!(session = %id, error = %e, "cannot forget the session's credentials");
                }
                break;
            }
            DisconnectReason::QrTimeout | DisconnectReason::Closed => {
                change.status = Some(SessionStatus::Disconnected);
                inner.change(&id, change).await;
                break;
            }
            _ => {
                change.status = Some(SessionStatus::Failed);
                inner.change(&id, change).await;
                break;
            }
        }
    }
    inner.finished(&id, generation);
}

/// Follows one connection's events until it ends (`Some(reason)`) or wasl stops it (`None`).
async fn follow(
    inner: &Arc<Inner>,
    id: &SessionId,
    connection: &Arc<dyn Connection>,
    mut events: mpsc::UnboundedReceiver<EngineEvent>,
    stop: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
) -> Option<DisconnectReason> {
    // Stops this connection's outbox worker when the connection ends, however it ends.
    let (outbox_stop, outbox_stop_rx) = watch::channel(false);
    let _stop_outbox = StopOnDrop(outbox_stop);
    let mut outbox_started = false;
    let mut lookahead = None;
    loop {
        let event = match lookahead.take() {
            Some(event) => Some(event),
            None => tokio::select! {
                event = events.recv() => event,
                _ = stop.changed() => return None,
            },
        };
        let Some(event) = event else {
            return Some(DisconnectReason::Network(
                "the engine stopped reporting".into(),
            ));
        };
        match event {
            EngineEvent::Qr { code } => {
                let url = match wasl_engine::qr::data_url(&code) {
                    Ok(url) => url,
                    Err(e) => {
                        tracing::error!(session = %id, error = %e, "cannot render the QR");
                        continue;
                    }
                };
                inner.set_qr(id, Some(url.clone()));
                let change = SessionChange {
                    status: Some(SessionStatus::Qr),
                    ..Default::default()
                };
                if let Some(session) = inner.change(id, change).await {
                    inner.observer.qr(&session, &url).await;
                }
            }
            EngineEvent::Connected { phone_number } => {
                inner.set_qr(id, None);
                backoff.reset();
                let change = SessionChange {
                    status: Some(SessionStatus::Connected),
                    phone_number: Some(phone_number.as_str().to_owned()),
                    last_connected: Some(inner.clock.now_millis()),
                    ..Default::default()
                };
                let session = inner.change(id, change).await;
                tracing::info!(session = %id, "session connected");
                if let (Some(session), false) = (session, outbox_started) {
                    inner
                        .observer
                        .connected(&session, connection.clone(), outbox_stop_rx.clone())
                        .await;
                    outbox_started = true;
                }
            }
            event @ (EngineEvent::Message(_)
            | EngineEvent::Reaction(_)
            | EngineEvent::Receipt { .. }) => {
                // Messages and receipts that arrive together (WhatsApp's backlog after a
                // reconnect, a busy number, the receipts of a broadcast) are stored together,
                // in the recorder's batches, instead of one round trip after another.
                let mut batch = vec![event];
                while batch.len() < TRAFFIC_BATCH {
                    match events.try_recv() {
                        Ok(
                            next @ (EngineEvent::Message(_)
                            | EngineEvent::Reaction(_)
                            | EngineEvent::Receipt { .. }),
                        ) => batch.push(next),
                        Ok(other) => {
                            lookahead = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                store_traffic(inner, id, connection, batch).await;
            }
            EngineEvent::Disconnected { reason } => return Some(reason),
            other => tracing::debug!(session = %id, event = ?other, "engine event not handled"),
        }
    }
}

/// What was stored, to acknowledge to the engine.
enum Stored {
    Message(String),
    Receipt(String, ReceiptStatus),
}

/// How many messages and receipts of one session are stored at once.
const TRAFFIC_BATCH: usize = 256;

/// Stores messages and receipts concurrently and acknowledges each message stored to the
/// engine (which confirms it to WhatsApp; one not stored is offered again later). Receipts of
/// one message may apply in any order: a status only ever moves forward.
async fn store_traffic(
    inner: &Arc<Inner>,
    id: &SessionId,
    connection: &Arc<dyn Connection>,
    batch: Vec<EngineEvent>,
) {
    let mut storing = tokio::task::JoinSet::new();
    for event in batch {
        let (observer, id) = (inner.observer.clone(), id.clone());
        storing.spawn(async move {
            match event {
                EngineEvent::Message(message) => {
                    let message_id = message.message_id.clone();
                    observer
                        .message(&id, message)
                        .await
                        .then_some(Stored::Message(message_id))
                }
                // A reaction is acknowledged like a message, by its own id.
                EngineEvent::Reaction(reaction) => {
                    let reaction_id = reaction.reaction_id.clone();
                    observer
                        .reaction(&id, reaction)
                        .await
                        .then_some(Stored::Message(reaction_id))
                }
                EngineEvent::Receipt {
                    message_id,
                    status,
                    at,
                } => observer
                    .receipt(&id, &message_id, status, at)
                    .await
                    .then_some(Stored::Receipt(message_id, status)),
                _ => None,
            }
        });
    }
    while let Some(done) = storing.join_next().await {
        match done {
            Ok(Some(Stored::Message(message_id))) => connection.acknowledge(&message_id),
            Ok(Some(Stored::Receipt(message_id, status))) => {
                connection.acknowledge_receipt(&message_id, status)
            }
            _ => {}
        }
    }
}

struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// Sleeps, unless wasl stops first; `true` when stopped.
async fn sleep_or_stop(delay: std::time::Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}
