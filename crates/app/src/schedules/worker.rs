//! The scheduler: takes the schedules that are due, decides what becomes of each occurrence
//! that came (sent, or missed when it is older than the grace period, or skipped for the
//! customer's sake) and fires them in one transaction with their messages. It reads what is
//! due from the store, never from memory, so a crash at any point neither loses nor repeats an
//! occurrence: before the commit nothing happened, after it everything did.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{watch, Notify};
use wasl_domain::schedule::{due_occurrences, OccurrenceOutcome, ScheduledMessage};
use wasl_domain::{Automation, AutomationKind, Contact, OrgId, Organization, Session, SessionName};
use wasl_store::{Firing, OccurrenceRecord, Store};

use crate::automation::library::Library;
use crate::automation::reply::{automated_message, render};
use crate::automation::templates::Templates;
use crate::clock::{rfc3339, Clock};
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;

/// Schedules fired together.
const BATCH: u32 = 200;
/// How long a node holds the schedules it took (PostgreSQL); one that dies lets them go.
const LEASE_MS: i64 = 30_000;

pub struct Scheduler {
    store: Store,
    messaging: Arc<Messaging>,
    templates: Arc<Templates>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// An occurrence later than this when wasl comes back is missed, not sent.
    grace_ms: i64,
    passes: Arc<AtomicU64>,
}

impl Scheduler {
    pub fn new(
        store: Store,
        messaging: Arc<Messaging>,
        templates: Arc<Templates>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        grace: Duration,
    ) -> Self {
        Scheduler {
            store,
            messaging,
            templates,
            library,
            clock,
            wake: Arc::default(),
            grace_ms: i64::try_from(grace.as_millis()).unwrap_or(i64::MAX),
            passes: Arc::default(),
        }
    }

    /// What wakes the scheduler: a schedule saved may be due at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The count of the scheduler's looks for what is due.
    pub fn passes(&self) -> Arc<AtomicU64> {
        self.passes.clone()
    }

    /// Works until `stop` turns true.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        crate::job::run(&self, &self.wake, &self.passes, stop).await;
    }

    /// Fires one batch of due schedules; how many it took.
    pub async fn step(&self) -> AppResult<usize> {
        let now = self.clock.now_millis();
        let due = self
            .store
            .schedules()
            .claim(now, now + LEASE_MS, BATCH)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut organizations: HashMap<OrgId, Option<Organization>> = HashMap::new();
        let mut sessions: HashMap<(OrgId, String), Option<Session>> = HashMap::new();
        // The batch's customers, read at once per organization (one round trip, not one each).
        let mut contacts: HashMap<(OrgId, String), Contact> = HashMap::new();
        let mut by_org: HashMap<&OrgId, Vec<&str>> = HashMap::new();
        for s in &due {
            by_org
                .entry(&s.organization_id)
                .or_default()
                .push(s.to.as_str());
        }
        for (org, phones) in by_org {
            for c in self.store.contacts().by_phones(org, &phones).await? {
                contacts.insert((org.clone(), c.phone_number.clone()), c);
            }
        }
        let mut firings = Vec::with_capacity(due.len());
        for schedule in &due {
            let org = &schedule.organization_id;
            if !organizations.contains_key(org) {
                let found = self.store.organizations().get(org).await?;
                organizations.insert(org.clone(), found);
            }
            let Some(organization) = organizations.get(org).and_then(Option::as_ref) else {
                continue;
            };
            let contact = contacts.get(&(org.clone(), schedule.to.clone()));
            firings.push(
                self.firing(schedule, organization, contact, &mut sessions, now)
                    .await?,
            );
        }
        let fired = match self
            .store
            .schedules()
            .fire(&firings, self.messaging.renderer().as_ref())
            .await
        {
            Ok(fired) => fired,
            Err(e) => {
                self.forget_files(firings.iter()).await;
                return Err(e.into());
            }
        };
        // Files of messages not stored (a schedule changed meanwhile) are nobody's.
        self.forget_files(
            firings
                .iter()
                .zip(&fired.messages)
                .filter(|(_, stored)| stored.is_none())
                .map(|(f, _)| f),
        )
        .await;
        for recorded in fired.messages.iter().flatten() {
            self.messaging.wake_outbox(&recorded.message.session_id);
        }
        let sent = fired.messages.iter().flatten().count();
        if sent > 0 {
            tracing::info!(sent, "scheduled messages sent to the outbox");
        }
        self.messaging.bus().publish(fired.events);
        Ok(due.len())
    }

    async fn forget_files(&self, firings: impl Iterator<Item = &Firing>) {
        for f in firings {
            if let Some(path) = f
                .message
                .as_ref()
                .and_then(|(_, m)| m.message.media_path.as_ref())
            {
                self.messaging.media().remove(path).await;
            }
        }
    }

    /// What becomes of the schedule's occurrences due now.
    async fn firing(
        &self,
        schedule: &ScheduledMessage,
        organization: &Organization,
        contact: Option<&Contact>,
        sessions: &mut HashMap<(OrgId, String), Option<Session>>,
        now: i64,
    ) -> AppResult<Firing> {
        let zone = organization.timezone;
        let due = due_occurrences(
            &schedule.recurrence,
            zone,
            schedule.next_number,
            now,
            self.grace_ms,
        );
        let mut occurrences: Vec<OccurrenceRecord> = due
            .missed
            .iter()
            .map(|&(number, due_at)| OccurrenceRecord {
                id: uuid::Uuid::now_v7().to_string(),
                number,
                due_at,
                outcome: OccurrenceOutcome::Missed,
                reason: Some("down".into()),
            })
            .collect();
        if !due.missed.is_empty() {
            tracing::warn!(schedule = %schedule.id, missed = due.missed.len(), "occurrences missed while wasl was down");
        }
        let mut message = None;
        let mut event = None;
        if let Some((number, due_at)) = due.send {
            let (outcome, reason, made) = self
                .make(schedule, organization, contact, sessions, number, due_at)
                .await?;
            if let Some(item) = made {
                event = Some(json!({
                    "scheduledMessageId": schedule.id,
                    "to": schedule.to,
                    "occurrence": {"number": number, "dueAt": rfc3339(due_at)},
                    "messageId": item.message.id,
                    "sessionName": schedule.session_name.as_ref().map_or("default", |n| n.as_str()),
                }));
                message = Some((number, item));
            }
            occurrences.push(OccurrenceRecord {
                id: uuid::Uuid::now_v7().to_string(),
                number,
                due_at,
                outcome,
                reason,
            });
        }
        let (next_number, next_run_at) = match due.next {
            Some((n, at)) => (n, Some(at)),
            None => (
                occurrences
                    .last()
                    .map_or(schedule.next_number, |o| o.number.saturating_add(1)),
                None,
            ),
        };
        Ok(Firing {
            schedule_id: schedule.id.clone(),
            organization_id: schedule.organization_id.clone(),
            revision: schedule.revision,
            occurrences,
            message,
            event,
            next_number,
            next_run_at,
            at: now,
        })
    }

    /// The occurrence's message, or why there is none.
    async fn make(
        &self,
        schedule: &ScheduledMessage,
        organization: &Organization,
        contact: Option<&Contact>,
        sessions: &mut HashMap<(OrgId, String), Option<Session>>,
        number: u32,
        due_at: i64,
    ) -> AppResult<(
        OccurrenceOutcome,
        Option<String>,
        Option<wasl_store::NewMessage>,
    )> {
        let failed = |reason: &str| Ok((OccurrenceOutcome::Failed, Some(reason.to_owned()), None));
        let skipped =
            |reason: &str| Ok((OccurrenceOutcome::Skipped, Some(reason.to_owned()), None));
        let name = match &schedule.session_name {
            Some(name) => name.clone(),
            None => SessionName::parse("default").map_err(AppError::from)?,
        };
        let key = (schedule.organization_id.clone(), name.as_str().to_owned());
        if !sessions.contains_key(&key) {
            let found = self
                .store
                .sessions()
                .get(&schedule.organization_id, &name)
                .await?;
            sessions.insert(key.clone(), found);
        }
        let Some(session) = sessions.get(&key).and_then(Option::as_ref) else {
            return failed("session_gone");
        };
        if contact.is_some_and(|c| c.is_blocked) {
            return skipped("blocked");
        }
        let answer = match render(
            &self.templates,
            &self.library,
            organization,
            &schedule.message,
            contact,
            &schedule.to,
        )
        .await
        {
            Ok(answer) => answer,
            Err(AppError::Store(e)) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(schedule = %schedule.id, error = %e, "a scheduled message cannot be made");
                return failed("content_gone");
            }
        };
        if answer.marketing && contact.is_some_and(|c| c.opted_out_at.is_some()) {
            return skipped("opted_out");
        }
        let automation = Automation {
            kind: AutomationKind::Schedule,
            id: schedule.id.clone(),
            incoming_message_id: None,
        };
        let key = format!(
            "schedule·{}·{}·{number}·{due_at}",
            schedule.id, schedule.revision
        );
        match automated_message(
            &self.messaging,
            session,
            &schedule.to,
            answer,
            automation,
            key,
        )
        .await?
        {
            Some(item) => Ok((OccurrenceOutcome::Sent, None, Some(item))),
            None => failed("file_too_large"),
        }
    }
}

#[async_trait::async_trait]
impl crate::job::Job for Scheduler {
    const WHAT: &'static str = "the scheduler firing what is due";

    async fn step(&self) -> AppResult<bool> {
        Ok(Scheduler::step(self).await? > 0)
    }

    async fn next_due(&self) -> Option<i64> {
        self.store.schedules().next_due().await.ok().flatten()
    }

    fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}
