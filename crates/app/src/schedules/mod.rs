//! Scheduled messages (SPEC §15): a message to one customer at a local time in the
//! organization's zone, once or repeated daily, weekly or monthly. Anyone of the organization
//! schedules; the author, owners and admins change, pause, resume, cancel and delete. The
//! [`Scheduler`] fires what is due, each occurrence at most once.

mod worker;

use std::sync::Arc;

use tokio::sync::Notify;
use wasl_domain::automation::Reply;
use wasl_domain::schedule::{
    parse_local_time, upcoming, Occurrence, Recurrence, Repeat, ScheduleStatus, ScheduledMessage,
};
use wasl_domain::{OrgId, Organization, ParseError, PhoneNumber, SessionName, TimeZone};
use wasl_store::{Page, PageRequest, Store};

pub use worker::Scheduler;

use crate::accounts::Caller;
use crate::automation::library::Library;
use crate::automation::reply::{check_reply, render};
use crate::automation::templates::Templates;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, Conflict};

/// How far in the past a one-off time may be and still be taken (sent at once): a form filled
/// in a minute ago for "now" is not an error.
const PAST_SLACK_MS: i64 = 60_000;
/// The most schedules the calendar reads, and the most occurrences it shows.
const CALENDAR_SCHEDULES: u32 = 500;
const CALENDAR_OCCURRENCES: usize = 1_000;

/// How a schedule repeats, as asked for (read in the organization's zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatDraft {
    pub frequency: String,
    pub interval: Option<i64>,
    pub until: Option<String>,
    pub count: Option<i64>,
}

/// A scheduled message as asked for; the times are read in the organization's zone.
#[derive(Debug, Clone)]
pub struct ScheduleDraft {
    pub to: PhoneNumber,
    pub session_name: Option<SessionName>,
    pub message: Reply,
    pub schedule_at: String,
    pub repeat: Option<RepeatDraft>,
    pub is_active: bool,
}

/// An occurrence to come, for the calendar.
#[derive(Debug, Clone)]
pub struct Upcoming {
    pub schedule: ScheduledMessage,
    pub number: u32,
    pub at: i64,
}

pub struct ScheduledMessages {
    store: Store,
    templates: Arc<Templates>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    /// Wakes the scheduler: a schedule may be due sooner than it thought.
    wake: Arc<Notify>,
    /// How many times the scheduler has looked for what is due (`/metrics`).
    passes: Arc<std::sync::atomic::AtomicU64>,
}

impl ScheduledMessages {
    pub fn new(
        store: Store,
        templates: Arc<Templates>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        scheduler: &Scheduler,
    ) -> Self {
        ScheduledMessages {
            store,
            templates,
            library,
            clock,
            wake: scheduler.waker(),
            passes: scheduler.passes(),
        }
    }

    /// How many times the scheduler has looked for what is due since wasl started: a test
    /// that moved the clock waits for the next look instead of sleeping.
    pub fn scheduler_passes(&self) -> u64 {
        self.passes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many active schedules are due now and not fired yet: a number that stays above
    /// zero means the scheduler cannot keep up or cannot write.
    pub async fn due_now(&self) -> Option<i64> {
        self.store
            .schedules()
            .due_count(self.clock.now_millis())
            .await
            .ok()
    }

    async fn organization(&self, org: &OrgId) -> AppResult<Organization> {
        self.store
            .organizations()
            .get(org)
            .await?
            .ok_or(AppError::InvalidToken)
    }

    /// The draft's occurrences, read in `zone`.
    fn recurrence(draft: &ScheduleDraft, zone: TimeZone) -> AppResult<Recurrence> {
        let start = parse_local_time("scheduleAt", &draft.schedule_at, zone);
        let repeat = draft
            .repeat
            .as_ref()
            .map(|r| Repeat::parse(&r.frequency, r.interval, r.until.as_deref(), r.count, zone))
            .transpose();
        match (start, repeat) {
            (Ok(start), Ok(repeat)) => Ok(Recurrence { start, repeat }),
            (start, repeat) => {
                let mut errors: Vec<ParseError> = start.err().into_iter().collect();
                errors.extend(repeat.err().unwrap_or_default());
                Err(AppError::Invalid(errors))
            }
        }
    }

    /// Checks what the message names and that it can be made for the customer: the template
    /// and its variables (`TemplateVariables` names what is missing), the file.
    async fn check(&self, caller: &Caller, draft: &ScheduleDraft) -> AppResult<Organization> {
        let organization = self.organization(&caller.org_id).await?;
        let mut errors = Vec::new();
        if let Err(e) = check_reply(&self.store, &caller.org_id, "message", &draft.message).await {
            errors.push(e);
        }
        if let Some(name) = &draft.session_name {
            if self
                .store
                .sessions()
                .get(&caller.org_id, name)
                .await?
                .is_none()
            {
                errors.push(ParseError::new("sessionName", "no session of this name"));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let contact = self
            .store
            .contacts()
            .by_phone(&caller.org_id, draft.to.as_str())
            .await?;
        render(
            &self.templates,
            &self.library,
            &organization,
            &draft.message,
            contact.as_ref(),
            draft.to.as_str(),
        )
        .await?;
        Ok(organization)
    }

    /// Where a schedule stands from `now`: its next occurrence (or none), as `status` allows.
    fn plan(
        recurrence: &Recurrence,
        zone: TimeZone,
        now: i64,
        status: ScheduleStatus,
    ) -> AppResult<(ScheduleStatus, u32, Option<i64>)> {
        let from = if recurrence.repeat.is_none() {
            now - PAST_SLACK_MS
        } else {
            now
        };
        match recurrence.next_from(zone, from, 0) {
            Some((n, at)) => Ok(match status {
                ScheduleStatus::Active => (status, n, Some(at)),
                _ => (status, n, None),
            }),
            None if recurrence.repeat.is_none() => {
                Err(ParseError::new("scheduleAt", "is in the past").into())
            }
            None => Err(ParseError::new(
                "repeat",
                "the schedule has no occurrence to come (its until or count has passed)",
            )
            .into()),
        }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        draft: ScheduleDraft,
    ) -> AppResult<ScheduledMessage> {
        let organization = self.check(caller, &draft).await?;
        let zone = organization.timezone;
        let recurrence = Self::recurrence(&draft, zone)?;
        let now = self.clock.now_millis();
        let wanted = if draft.is_active {
            ScheduleStatus::Active
        } else {
            ScheduleStatus::Paused
        };
        let (status, next_number, next_run_at) = Self::plan(&recurrence, zone, now, wanted)?;
        let schedule = ScheduledMessage {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: caller.org_id.clone(),
            session_name: draft.session_name,
            to: draft.to.as_str().to_owned(),
            message: draft.message,
            recurrence,
            status,
            next_number,
            next_run_at,
            revision: 0,
            created_by: Some(caller.user_id.as_str().to_owned()),
            created_at: now,
            updated_at: now,
        };
        self.store.schedules().insert(&schedule).await?;
        tracing::info!(organization = %caller.org_id, schedule = %schedule.id, "message scheduled");
        self.wake.notify_one();
        Ok(schedule)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<ScheduledMessage> {
        self.store
            .schedules()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn list(
        &self,
        caller: &Caller,
        status: Option<ScheduleStatus>,
        page: &PageRequest,
    ) -> AppResult<Page<ScheduledMessage>> {
        Ok(self
            .store
            .schedules()
            .list(&caller.org_id, status, page)
            .await?)
    }

    /// The author, owners and admins may change a schedule.
    fn may_change(caller: &Caller, schedule: &ScheduledMessage) -> AppResult<()> {
        if caller.role.can_manage()
            || schedule.created_by.as_deref() == Some(caller.user_id.as_str())
        {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Applies `change` to the schedule as it is now, again if it fired or was changed in
    /// between (the store takes a change only at the revision it was read at).
    async fn change(
        &self,
        caller: &Caller,
        id: &str,
        change: impl Fn(ScheduledMessage, i64) -> AppResult<ScheduledMessage>,
    ) -> AppResult<ScheduledMessage> {
        for _ in 0..5 {
            let current = self.get(caller, id).await?;
            Self::may_change(caller, &current)?;
            let now = self.clock.now_millis();
            let mut changed = change(current, now)?;
            changed.updated_at = now;
            if self.store.schedules().update(&changed).await? {
                changed.revision += 1;
                self.wake.notify_one();
                return Ok(changed);
            }
        }
        Err(AppError::internal(
            "the schedule kept changing while it was being changed",
        ))
    }

    /// Replaces a schedule's message and timing. A new time or repetition starts its series
    /// again from now; a cancelled schedule cannot be changed.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        draft: ScheduleDraft,
    ) -> AppResult<ScheduledMessage> {
        let current = self.get(caller, id).await?;
        Self::may_change(caller, &current)?;
        let organization = self.check(caller, &draft).await?;
        let zone = organization.timezone;
        let recurrence = Self::recurrence(&draft, zone)?;
        self.change(caller, id, |mut s, now| {
            if s.status == ScheduleStatus::Cancelled {
                return Err(Conflict::ScheduleEnded.into());
            }
            let wanted = if draft.is_active {
                ScheduleStatus::Active
            } else {
                ScheduleStatus::Paused
            };
            let unchanged = s.recurrence == recurrence && s.status == wanted;
            if !unchanged {
                let (status, n, at) = Self::plan(&recurrence, zone, now, wanted)?;
                s.status = status;
                s.next_number = n;
                s.next_run_at = at;
            }
            s.recurrence = recurrence;
            s.to = draft.to.as_str().to_owned();
            s.session_name = draft.session_name.clone();
            s.message = draft.message.clone();
            Ok(s)
        })
        .await
    }

    /// Stops sending until resumed; occurrences meanwhile are passed over.
    pub async fn pause(&self, caller: &Caller, id: &str) -> AppResult<ScheduledMessage> {
        self.change(caller, id, |mut s, _| match s.status {
            ScheduleStatus::Active | ScheduleStatus::Paused => {
                s.status = ScheduleStatus::Paused;
                s.next_run_at = None;
                Ok(s)
            }
            _ => Err(Conflict::ScheduleEnded.into()),
        })
        .await
    }

    /// Sends again from the next occurrence after now.
    pub async fn resume(&self, caller: &Caller, id: &str) -> AppResult<ScheduledMessage> {
        let organization = self.organization(&caller.org_id).await?;
        let zone = organization.timezone;
        self.change(caller, id, |mut s, now| match s.status {
            ScheduleStatus::Active => Ok(s),
            ScheduleStatus::Paused => {
                match s.recurrence.next_from(zone, now, s.next_number) {
                    Some((n, at)) => {
                        s.status = ScheduleStatus::Active;
                        s.next_number = n;
                        s.next_run_at = Some(at);
                    }
                    None => {
                        s.status = ScheduleStatus::Completed;
                        s.next_run_at = None;
                    }
                }
                Ok(s)
            }
            _ => Err(Conflict::ScheduleEnded.into()),
        })
        .await
    }

    /// Ends the schedule for good; it stays, with its occurrences.
    pub async fn cancel(&self, caller: &Caller, id: &str) -> AppResult<ScheduledMessage> {
        self.change(caller, id, |mut s, _| {
            if matches!(s.status, ScheduleStatus::Active | ScheduleStatus::Paused) {
                s.status = ScheduleStatus::Cancelled;
                s.next_run_at = None;
            }
            Ok(s)
        })
        .await
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<ScheduledMessage> {
        let schedule = self.get(caller, id).await?;
        Self::may_change(caller, &schedule)?;
        if !self.store.schedules().delete(&caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        Ok(schedule)
    }

    pub async fn occurrences(
        &self,
        caller: &Caller,
        id: &str,
        page: &PageRequest,
    ) -> AppResult<Page<Occurrence>> {
        self.get(caller, id).await?;
        Ok(self
            .store
            .schedules()
            .occurrences(&caller.org_id, id, page)
            .await?)
    }

    /// The occurrences to come from the local day `from` (today when not given) for `days`
    /// days: the calendar.
    pub async fn calendar(
        &self,
        caller: &Caller,
        from: Option<chrono::NaiveDate>,
        days: u32,
    ) -> AppResult<(Vec<Upcoming>, TimeZone)> {
        let zone = self.organization(&caller.org_id).await?.timezone;
        let from = from.unwrap_or_else(|| zone.local(self.clock.now_millis()).date());
        let start = zone.instant(from.and_time(chrono::NaiveTime::MIN));
        let end = from
            .checked_add_days(chrono::Days::new(u64::from(days)))
            .map(|d| zone.instant(d.and_time(chrono::NaiveTime::MIN)))
            .unwrap_or(i64::MAX)
            - 1;
        let schedules = self
            .store
            .schedules()
            .coming(&caller.org_id, end, CALENDAR_SCHEDULES)
            .await?;
        let mut found = Vec::new();
        for s in schedules {
            for (number, at) in upcoming(
                &s.recurrence,
                zone,
                s.next_number,
                start.max(s.next_run_at.unwrap_or(start)),
                end,
                CALENDAR_OCCURRENCES,
            ) {
                found.push(Upcoming {
                    schedule: s.clone(),
                    number,
                    at,
                });
            }
        }
        found.sort_by(|a, b| a.at.cmp(&b.at).then(a.schedule.id.cmp(&b.schedule.id)));
        found.truncate(CALENDAR_OCCURRENCES);
        Ok((found, zone))
    }
}
