//! The broadcast runner: starts the broadcasts whose time came (their audience fixed then),
//! and hands each running broadcast's recipients to the outbox at its pace — one at a time
//! with a random pause on WhatsApp Web, a window of them when the broadcast goes without
//! pauses — never more than the number's daily cap, never while its session is down. The
//! outbox holds at most that window of a broadcast's messages, so a conversation's reply is
//! never queued behind a broadcast. It reads what to do from the store, never from memory, so
//! `kill -9` at any point neither skips nor repeats a recipient.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use rand::Rng;
use serde_json::json;
use tokio::sync::{watch, Notify};
use wasl_domain::broadcast::{daily_cap, Broadcast, BroadcastStatus, Progress};
use wasl_domain::{Automation, AutomationKind, EngineKind, SessionStatus};
use wasl_store::{NewMessage, Step, Store, StoredEvent};

use super::{estimate, listed};
use crate::automation::library::Library;
use crate::automation::reply::{automated_message, render};
use crate::automation::templates::Templates;
use crate::clock::{rfc3339, Clock};
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;

/// Broadcasts looked at together.
const BATCH: u32 = 20;
/// How long a node holds the broadcasts it took (PostgreSQL).
const LEASE_MS: i64 = 30_000;
/// Messages of one broadcast in the outbox at once when it goes without pauses, and handed
/// over per transaction.
const WINDOW: i64 = 1_000;
const HAND_OVER: i64 = 250;
/// How soon a broadcast is looked at again while its session is down or its messages wait
/// in the outbox.
const RECHECK_MS: i64 = 1_000;
/// How soon, once the number's daily cap is reached.
const CAP_RECHECK_MS: i64 = 10 * 60_000;
const DAY_MS: i64 = 24 * 3_600_000;
/// `broadcast.progress` at most this often per broadcast.
const PROGRESS_EVERY_MS: i64 = 1_000;

pub struct BroadcastRunner {
    store: Store,
    messaging: Arc<Messaging>,
    templates: Arc<Templates>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    passes: Arc<AtomicU64>,
    /// The most broadcast messages a WhatsApp Web number sends in 24 hours once warmed up.
    daily_cap: u32,
    /// When each broadcast last told its progress.
    told: Mutex<HashMap<String, i64>>,
}

/// A broadcast's progress as events and webhooks carry it.
pub(crate) fn progress_payload(b: &Broadcast, p: &Progress, now: i64) -> serde_json::Value {
    json!({
        "id": b.id,
        "name": b.name,
        "status": b.status.as_str(),
        "sessionName": b.session_name.as_str(),
        "total": b.total,
        "queued": p.queued,
        "sent": p.sent,
        "delivered": p.delivered,
        "read": p.read,
        "failed": p.failed,
        "skipped": p.skipped,
        "cancelled": p.cancelled,
        "startedAt": b.started_at.map(rfc3339),
        "finishedAt": b.finished_at.map(rfc3339),
        "estimatedFinishAt": estimate(b, p, now).map(rfc3339),
        "waitingReason": b.waiting_reason,
    })
}

impl BroadcastRunner {
    pub fn new(
        store: Store,
        messaging: Arc<Messaging>,
        templates: Arc<Templates>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        daily_cap: u32,
    ) -> Self {
        BroadcastRunner {
            store,
            messaging,
            templates,
            library,
            clock,
            wake: Arc::default(),
            passes: Arc::default(),
            daily_cap,
            told: Mutex::default(),
        }
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn passes(&self) -> Arc<AtomicU64> {
        self.passes.clone()
    }

    /// Works until `stop` turns true.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        crate::job::run(&self, &self.wake, &self.passes, stop).await;
    }

    /// Does what is due; `true` when it handed someone over (more may be due at once).
    pub async fn step(&self) -> AppResult<bool> {
        let now = self.clock.now_millis();
        let due = self
            .store
            .broadcasts()
            .claim(now, now + LEASE_MS, BATCH)
            .await?;
        let mut busy = false;
        for b in due {
            busy |= match b.status {
                BroadcastStatus::Scheduled => {
                    self.start(&b, now).await?;
                    true
                }
                BroadcastStatus::Running => self.advance(&b, now).await?,
                _ => false,
            };
        }
        Ok(busy)
    }

    async fn start(&self, b: &Broadcast, now: i64) -> AppResult<()> {
        if let Some((total, skipped)) = self
            .store
            .broadcasts()
            .start(b, &listed(&b.audience), now)
            .await?
        {
            tracing::info!(broadcast = %b.id, total, skipped, "scheduled broadcast started");
        }
        Ok(())
    }

    /// Moves the broadcast to `step`, telling its progress when due.
    async fn wait(&self, b: &Broadcast, step: Step) -> AppResult<bool> {
        let events = self.progress_events(b, &step, false).await?;
        if self
            .store
            .broadcasts()
            .step(b, &step, &["running"], &events)
            .await?
        {
            self.messaging.bus().publish(events);
        }
        Ok(false)
    }

    /// `broadcast.progress` (at most once a second, and always when it ends) and, when it
    /// completes, `broadcast.completed`.
    async fn progress_events(
        &self,
        b: &Broadcast,
        step: &Step,
        force: bool,
    ) -> AppResult<Vec<StoredEvent>> {
        let ended = step.status != BroadcastStatus::Running;
        {
            let told = self.told.lock().unwrap_or_else(|e| e.into_inner());
            let last = told.get(&b.id).copied().unwrap_or(i64::MIN);
            if !force && !ended && step.at.saturating_sub(last) < PROGRESS_EVERY_MS {
                return Ok(Vec::new());
            }
        }
        let progress = self.store.broadcasts().progress(&b.id).await?;
        let moved = Broadcast {
            status: step.status,
            waiting_reason: step.waiting_reason.clone(),
            finished_at: step.finished_at,
            ..b.clone()
        };
        let payload = progress_payload(&moved, &progress, step.at);
        let mut events = vec![wasl_store::new_event(
            &b.organization_id,
            "broadcast.progress",
            payload.clone(),
            step.at,
        )];
        if step.status == BroadcastStatus::Completed {
            events.push(wasl_store::new_event(
                &b.organization_id,
                "broadcast.completed",
                payload,
                step.at,
            ));
        }
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        if ended {
            told.remove(&b.id);
        } else {
            told.insert(b.id.clone(), step.at);
        }
        Ok(events)
    }

    /// Hands the broadcast's next recipients to the outbox, or says why it waits.
    async fn advance(&self, b: &Broadcast, now: i64) -> AppResult<bool> {
        let waiting = |reason: Option<&str>, after: i64| Step {
            status: BroadcastStatus::Running,
            next_seq: b.next_seq,
            next_send_at: Some(now + after),
            waiting_reason: reason.map(str::to_owned),
            finished_at: None,
            at: now,
        };
        let Some(session) = self
            .store
            .sessions()
            .get(&b.organization_id, &b.session_name)
            .await?
        else {
            return self
                .wait(
                    b,
                    Step {
                        status: BroadcastStatus::Paused,
                        next_send_at: None,
                        ..waiting(Some("session_gone"), 0)
                    },
                )
                .await;
        };
        if matches!(
            session.status,
            SessionStatus::LoggedOut | SessionStatus::Failed
        ) {
            let banned = session
                .last_disconnect_reason
                .as_deref()
                .is_some_and(|r| r.contains("banned"));
            let reason = if banned {
                "number_restricted"
            } else {
                "session_ended"
            };
            tracing::warn!(broadcast = %b.id, reason, "a broadcast is paused: its number cannot send");
            return self
                .wait(
                    b,
                    Step {
                        status: BroadcastStatus::Paused,
                        next_send_at: None,
                        ..waiting(Some(reason), 0)
                    },
                )
                .await;
        }
        if session.status != SessionStatus::Connected {
            return self
                .wait(b, waiting(Some("session_not_connected"), RECHECK_MS))
                .await;
        }
        let paced = !b.pacing.is_off();
        let window = if paced { 1 } else { WINDOW };
        let in_outbox = self
            .store
            .broadcasts()
            .in_outbox(&b.id, (b.next_seq - 2 * window).max(0))
            .await?;
        let mut room = window - in_outbox;
        if session.engine == EngineKind::Web {
            let days = (now - session.created_at).max(0) / DAY_MS;
            let cap = i64::from(daily_cap(self.daily_cap, days));
            let used = self
                .store
                .broadcasts()
                .handed_over_since(&b.organization_id, &b.session_name, now - DAY_MS)
                .await?;
            if used >= cap {
                return self
                    .wait(b, waiting(Some("daily_cap"), CAP_RECHECK_MS))
                    .await;
            }
            room = room.min(cap - used);
        }
        let next = self
            .store
            .broadcasts()
            .waiting(
                &b.id,
                b.next_seq,
                u32::try_from(room.clamp(0, HAND_OVER)).unwrap_or(1),
            )
            .await?;
        if next.is_empty() {
            if room > 0 || in_outbox == 0 {
                // Everyone handed over: complete once the outbox has sent them all.
                let left = self.store.broadcasts().in_outbox(&b.id, 0).await?;
                if left == 0 {
                    let step = Step {
                        status: BroadcastStatus::Completed,
                        next_send_at: None,
                        waiting_reason: None,
                        finished_at: Some(now),
                        ..waiting(None, 0)
                    };
                    let events = self.progress_events(b, &step, true).await?;
                    if self
                        .store
                        .broadcasts()
                        .step(b, &step, &["running"], &events)
                        .await?
                    {
                        tracing::info!(broadcast = %b.id, "broadcast completed");
                        self.messaging.bus().publish(events);
                    }
                    return Ok(false);
                }
            }
            return self.wait(b, waiting(None, RECHECK_MS)).await;
        }
        let organization = self
            .store
            .organizations()
            .get(&b.organization_id)
            .await?
            .ok_or_else(|| AppError::internal("the broadcast's organization is gone"))?;
        let mut items: Vec<(i64, NewMessage)> = Vec::with_capacity(next.len());
        for r in &next {
            let contact = self
                .store
                .contacts()
                .by_phone(&b.organization_id, &r.phone)
                .await?;
            let answer = match render(
                &self.templates,
                &self.library,
                &organization,
                &b.message,
                contact.as_ref(),
                &r.phone,
            )
            .await
            {
                Ok(answer) => answer,
                Err(AppError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(broadcast = %b.id, error = %e, "the broadcast's message cannot be made; it is paused");
                    return self
                        .wait(
                            b,
                            Step {
                                status: BroadcastStatus::Paused,
                                next_send_at: None,
                                ..waiting(Some("content_gone"), 0)
                            },
                        )
                        .await;
                }
            };
            let automation = Automation {
                kind: AutomationKind::Broadcast,
                id: b.id.clone(),
                incoming_message_id: None,
            };
            let key = format!("broadcast·{}·{}", b.id, r.seq);
            match automated_message(&self.messaging, &session, &r.phone, answer, automation, key)
                .await?
            {
                Some(item) => items.push((r.seq, item)),
                None => {
                    return self
                        .wait(
                            b,
                            Step {
                                status: BroadcastStatus::Paused,
                                next_send_at: None,
                                ..waiting(Some("file_too_large"), 0)
                            },
                        )
                        .await
                }
            }
        }
        let last = next.last().map_or(b.next_seq, |r| r.seq);
        let pause = if paced {
            b.pacing.pause_ms(rand::thread_rng().gen_range(0.0..1.0))
        } else {
            0
        };
        let step = Step {
            next_seq: last + 1,
            next_send_at: Some(now + pause),
            ..waiting(None, 0)
        };
        let events = self.progress_events(b, &step, false).await?;
        let handed = self
            .store
            .broadcasts()
            .hand_over(
                b,
                &items,
                &step,
                &events,
                self.messaging.renderer().as_ref(),
            )
            .await;
        let forget = |items: &[(i64, NewMessage)]| {
            items
                .iter()
                .filter_map(|(_, m)| m.message.media_path.clone())
                .collect::<Vec<_>>()
        };
        match handed {
            Ok(Some((_, written))) => {
                self.messaging.wake_outbox(&session.id);
                self.messaging.bus().publish(written);
                Ok(true)
            }
            Ok(None) => {
                self.messaging.forget_media(&forget(&items)).await;
                Ok(false)
            }
            Err(e) => {
                self.messaging.forget_media(&forget(&items)).await;
                Err(e.into())
            }
        }
    }
}

#[async_trait::async_trait]
impl crate::job::Job for BroadcastRunner {
    const WHAT: &'static str = "the broadcast runner";

    async fn step(&self) -> AppResult<bool> {
        BroadcastRunner::step(self).await
    }

    async fn next_due(&self) -> Option<i64> {
        self.store.broadcasts().next_due().await.ok().flatten()
    }

    fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}
