//! Broadcasts (SPEC §15): one message to an audience of customers, written as a draft,
//! previewed, started now or at a time, paused, resumed and cancelled by owners and admins
//! (bulk sending puts the number at risk: it is not an agent's call). The [`BroadcastRunner`]
//! fixes the audience when a broadcast starts and hands its recipients to the outbox at the
//! broadcast's pace.

mod runner;

use std::sync::Arc;

use tokio::sync::Notify;
use wasl_domain::automation::Reply;
use wasl_domain::broadcast::{
    Audience, Broadcast, BroadcastStatus, Pacing, Progress, MOST_PER_MINUTE, MOST_PER_MINUTE_WEB,
};
use wasl_domain::{EngineKind, OrgId, Organization, ParseError, PhoneNumber, SessionName};
use wasl_store::{Listed, Page, PageRequest, Recipient, Store};

pub use runner::BroadcastRunner;

use crate::accounts::Caller;
use crate::automation::library::Library;
use crate::automation::reply::{check_reply, render};
use crate::automation::templates::Templates;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, Conflict};

/// How many rendered messages a preview shows.
const PREVIEW: usize = 3;

/// A broadcast as asked for.
#[derive(Debug, Clone)]
pub struct BroadcastDraft {
    pub name: String,
    pub session_name: SessionName,
    pub audience: Audience,
    pub message: Reply,
    /// When it starts once started (RFC 3339, or a local time of the organization).
    pub send_at: Option<String>,
    pub pacing: Pacing,
}

/// A broadcast with where its recipients stand.
#[derive(Debug, Clone)]
pub struct BroadcastState {
    pub broadcast: Broadcast,
    pub progress: Progress,
    pub estimated_finish_at: Option<i64>,
}

/// A broadcast's audience now and its first messages, as they would be sent.
pub struct Preview {
    pub count: i64,
    pub messages: Vec<(String, Option<String>)>,
}

pub struct Broadcasts {
    store: Store,
    templates: Arc<Templates>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    passes: Arc<std::sync::atomic::AtomicU64>,
}

/// When the recipients still queued will have been sent: at the pace seen so far, or at the
/// broadcast's pace before there is one to see.
pub(crate) fn estimate(b: &Broadcast, p: &Progress, now: i64) -> Option<i64> {
    if p.queued == 0 || !matches!(b.status, BroadcastStatus::Running) {
        return None;
    }
    let done = p.done();
    if let (Some(started), true) = (b.started_at, done >= 5) {
        let per_ms = done as f64 / (now - started).max(1) as f64;
        return Some(now + (p.queued as f64 / per_ms) as i64);
    }
    let mean = (b.pacing.pause_ms(0.0) + b.pacing.pause_ms(1.0)) / 2;
    Some(now + p.queued * mean.max(20))
}

/// The numbers of a list audience as read when it starts.
pub(crate) fn listed(audience: &Audience) -> Vec<Listed> {
    match audience {
        Audience::Filter { .. } => Vec::new(),
        Audience::List { phones } => phones
            .iter()
            .map(|p| match PhoneNumber::parse_written("phones", p, None) {
                Ok(n) => Listed::Phone(n.as_str().to_owned()),
                Err(_) => Listed::Invalid(p.clone()),
            })
            .collect(),
    }
}

impl Broadcasts {
    pub fn new(
        store: Store,
        templates: Arc<Templates>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        runner: &BroadcastRunner,
    ) -> Self {
        Broadcasts {
            store,
            templates,
            library,
            clock,
            wake: runner.waker(),
            passes: runner.passes(),
        }
    }

    /// How many times the runner has looked for what to do since wasl started (`/metrics`):
    /// a test that moved the clock waits for the next look instead of sleeping.
    pub fn runner_passes(&self) -> u64 {
        self.passes.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn organization(&self, org: &OrgId) -> AppResult<Organization> {
        self.store
            .organizations()
            .get(org)
            .await?
            .ok_or(AppError::InvalidToken)
    }

    /// Checks a draft against what exists: its session (and what its engine allows of the
    /// pace), its template and variables, its file; reads its time. The numbers of a list are
    /// read in the organization's country; one that is not a number is kept as written, to be
    /// skipped as invalid.
    async fn check(
        &self,
        caller: &Caller,
        mut draft: BroadcastDraft,
    ) -> AppResult<(BroadcastDraft, Option<i64>)> {
        caller.require_manager()?;
        let organization = self.organization(&caller.org_id).await?;
        let mut errors = Vec::new();
        if let Err(e) = check_reply(&self.store, &caller.org_id, "message", &draft.message).await {
            errors.push(e);
        }
        // A draft may name a session still to be linked; it must exist when it starts.
        match self
            .store
            .sessions()
            .get(&caller.org_id, &draft.session_name)
            .await?
        {
            None => {}
            Some(session) => {
                let most = if session.engine == EngineKind::Web {
                    MOST_PER_MINUTE_WEB
                } else {
                    MOST_PER_MINUTE
                };
                match draft.pacing.per_minute {
                    Some(0) if session.engine == EngineKind::Web => errors.push(ParseError::new(
                        "pacing.perMinute",
                        "a WhatsApp Web number cannot send without pauses (at most 20 a minute)",
                    )),
                    Some(n) if n > most => errors.push(ParseError::new(
                        "pacing.perMinute",
                        format!("at most {most} a minute on this session's engine"),
                    )),
                    _ => {}
                }
            }
        }
        let send_at = match draft
            .send_at
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(at) => match wasl_domain::schedule::parse_local_time(
                "schedule.sendAt",
                at,
                organization.timezone,
            ) {
                Ok(local) => Some(organization.timezone.instant(local)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if let Audience::List { phones } = &mut draft.audience {
            for p in phones.iter_mut() {
                if let Ok(n) = PhoneNumber::parse_written("phones", p, caller.default_country) {
                    *p = n.as_str().to_owned();
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        // Every recipient's message must be makeable: a template's variables that are not
        // contact fields need their values now.
        render(
            &self.templates,
            &self.library,
            &organization,
            &draft.message,
            None,
            "",
        )
        .await?;
        Ok((draft, send_at))
    }

    pub async fn create(&self, caller: &Caller, draft: BroadcastDraft) -> AppResult<Broadcast> {
        let (draft, send_at) = self.check(caller, draft).await?;
        let now = self.clock.now_millis();
        let broadcast = Broadcast {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: caller.org_id.clone(),
            name: draft.name,
            session_name: draft.session_name,
            audience: draft.audience,
            message: draft.message,
            send_at,
            pacing: draft.pacing,
            status: BroadcastStatus::Draft,
            waiting_reason: None,
            total: 0,
            skipped: 0,
            next_seq: 0,
            next_send_at: None,
            revision: 0,
            created_by: Some(caller.user_id.as_str().to_owned()),
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
        };
        self.store.broadcasts().insert(&broadcast).await?;
        tracing::info!(organization = %caller.org_id, broadcast = %broadcast.id, "broadcast drafted");
        Ok(broadcast)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<BroadcastState> {
        let broadcast = self
            .store
            .broadcasts()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.state(broadcast).await
    }

    async fn state(&self, broadcast: Broadcast) -> AppResult<BroadcastState> {
        let progress = self.store.broadcasts().progress(&broadcast.id).await?;
        let estimated_finish_at = estimate(&broadcast, &progress, self.clock.now_millis());
        Ok(BroadcastState {
            broadcast,
            progress,
            estimated_finish_at,
        })
    }

    pub async fn list(
        &self,
        caller: &Caller,
        status: Option<BroadcastStatus>,
        page: &PageRequest,
    ) -> AppResult<Page<BroadcastState>> {
        let found = self
            .store
            .broadcasts()
            .list(&caller.org_id, status, page)
            .await?;
        let mut items = Vec::with_capacity(found.items.len());
        for b in found.items {
            items.push(self.state(b).await?);
        }
        Ok(Page {
            items,
            total: found.total,
            next: found.next,
        })
    }

    /// Applies `change` to the broadcast as it is now, again if it moved in between.
    async fn change(
        &self,
        caller: &Caller,
        id: &str,
        change: impl Fn(Broadcast, i64) -> AppResult<Broadcast>,
    ) -> AppResult<BroadcastState> {
        caller.require_manager()?;
        for _ in 0..5 {
            let current = self
                .store
                .broadcasts()
                .get(&caller.org_id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let now = self.clock.now_millis();
            let mut changed = change(current, now)?;
            changed.updated_at = now;
            if self.store.broadcasts().update(&changed).await? {
                changed.revision += 1;
                self.wake.notify_one();
                return self.state(changed).await;
            }
        }
        Err(AppError::internal(
            "the broadcast kept changing while it was being changed",
        ))
    }

    /// Replaces a draft's (or a scheduled one's) settings; a started broadcast's audience and
    /// message are fixed.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        draft: BroadcastDraft,
    ) -> AppResult<BroadcastState> {
        self.get(caller, id).await?;
        let (draft, send_at) = self.check(caller, draft).await?;
        self.change(caller, id, |mut b, _| {
            if !matches!(
                b.status,
                BroadcastStatus::Draft | BroadcastStatus::Scheduled
            ) {
                return Err(Conflict::BroadcastStarted.into());
            }
            b.name.clone_from(&draft.name);
            b.session_name = draft.session_name.clone();
            b.audience = draft.audience.clone();
            b.message = draft.message.clone();
            b.pacing = draft.pacing;
            b.send_at = send_at;
            if b.status == BroadcastStatus::Scheduled {
                b.next_send_at = send_at;
                if send_at.is_none() {
                    b.status = BroadcastStatus::Draft;
                }
            }
            Ok(b)
        })
        .await
    }

    /// Who the broadcast would reach now, and its first messages as they would be sent.
    pub async fn preview(&self, caller: &Caller, id: &str) -> AppResult<Preview> {
        let state = self.get(caller, id).await?;
        let b = &state.broadcast;
        let organization = self.organization(&caller.org_id).await?;
        if b.started_at.is_some() {
            // Fixed: the recipients themselves.
            let first = self
                .store
                .broadcasts()
                .recipients(
                    &caller.org_id,
                    id,
                    None,
                    &PageRequest::first(PREVIEW as u32),
                )
                .await?;
            let mut messages = Vec::new();
            for r in first.items {
                messages.push(self.rendered(b, &organization, &r.phone).await?);
            }
            return Ok(Preview {
                count: b.total - b.skipped,
                messages,
            });
        }
        let (count, sample) = self
            .store
            .broadcasts()
            .audience_preview(&caller.org_id, &b.audience, &listed(&b.audience), PREVIEW)
            .await?;
        let mut messages = Vec::new();
        for (phone, _) in sample {
            messages.push(self.rendered(b, &organization, &phone).await?);
        }
        Ok(Preview { count, messages })
    }

    async fn rendered(
        &self,
        b: &Broadcast,
        organization: &Organization,
        phone: &str,
    ) -> AppResult<(String, Option<String>)> {
        let contact = self
            .store
            .contacts()
            .by_phone(&b.organization_id, phone)
            .await?;
        let answer = render(
            &self.templates,
            &self.library,
            organization,
            &b.message,
            contact.as_ref(),
            phone,
        )
        .await?;
        Ok((phone.to_owned(), answer.text.or(answer.caption)))
    }

    /// Starts the broadcast: at its `sendAt` when that is ahead, else now (its audience fixed
    /// at that moment).
    pub async fn start(&self, caller: &Caller, id: &str) -> AppResult<BroadcastState> {
        caller.require_manager()?;
        let b = self.get(caller, id).await?.broadcast;
        let now = self.clock.now_millis();
        match b.status {
            BroadcastStatus::Draft => {}
            BroadcastStatus::Scheduled => return self.state(b).await,
            _ => return Err(Conflict::BroadcastStarted.into()),
        }
        if let Some(at) = b.send_at.filter(|at| *at > now) {
            let state = self
                .change(caller, id, |mut b, _| {
                    if b.status != BroadcastStatus::Draft {
                        return Err(Conflict::BroadcastStarted.into());
                    }
                    b.status = BroadcastStatus::Scheduled;
                    b.next_send_at = Some(at);
                    Ok(b)
                })
                .await?;
            return Ok(state);
        }
        if self
            .store
            .sessions()
            .get(&caller.org_id, &b.session_name)
            .await?
            .is_none()
        {
            return Err(ParseError::new("sessionName", "no session of this name").into());
        }
        match self
            .store
            .broadcasts()
            .start(&b, &listed(&b.audience), now)
            .await?
        {
            Some((total, skipped)) => {
                tracing::info!(broadcast = %b.id, total, skipped, "broadcast started");
                self.wake.notify_one();
                self.get(caller, id).await
            }
            None => Err(Conflict::BroadcastStarted.into()),
        }
    }

    pub async fn pause(&self, caller: &Caller, id: &str) -> AppResult<BroadcastState> {
        self.change(caller, id, |mut b, _| match b.status {
            BroadcastStatus::Running | BroadcastStatus::Scheduled | BroadcastStatus::Paused => {
                b.status = BroadcastStatus::Paused;
                b.next_send_at = None;
                b.waiting_reason = None;
                Ok(b)
            }
            BroadcastStatus::Draft => Err(Conflict::BroadcastNotStarted.into()),
            _ => Err(Conflict::ScheduleEnded.into()),
        })
        .await
    }

    pub async fn resume(&self, caller: &Caller, id: &str) -> AppResult<BroadcastState> {
        self.change(caller, id, |mut b, now| match b.status {
            BroadcastStatus::Paused => {
                if b.started_at.is_some() {
                    b.status = BroadcastStatus::Running;
                    b.next_send_at = Some(now);
                } else {
                    b.status = BroadcastStatus::Scheduled;
                    b.next_send_at = Some(b.send_at.unwrap_or(now).max(now));
                }
                b.waiting_reason = None;
                Ok(b)
            }
            BroadcastStatus::Running | BroadcastStatus::Scheduled => Ok(b),
            BroadcastStatus::Draft => Err(Conflict::BroadcastNotStarted.into()),
            _ => Err(Conflict::ScheduleEnded.into()),
        })
        .await
    }

    /// Ends the broadcast: the recipients not handed to the outbox yet are cancelled.
    pub async fn cancel(&self, caller: &Caller, id: &str) -> AppResult<BroadcastState> {
        caller.require_manager()?;
        for _ in 0..5 {
            let b = self.get(caller, id).await?.broadcast;
            if b.status.ended() {
                return self.state(b).await;
            }
            if self
                .store
                .broadcasts()
                .cancel(&b, self.clock.now_millis())
                .await?
            {
                tracing::info!(broadcast = %b.id, "broadcast cancelled");
                return self.get(caller, id).await;
            }
        }
        Err(AppError::internal(
            "the broadcast kept changing while it was being cancelled",
        ))
    }

    /// Deletes a draft or an ended broadcast (its messages stay in their chats).
    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<BroadcastState> {
        caller.require_manager()?;
        let state = self.get(caller, id).await?;
        if !matches!(
            state.broadcast.status,
            BroadcastStatus::Draft | BroadcastStatus::Completed | BroadcastStatus::Cancelled
        ) {
            return Err(Conflict::BroadcastStarted.into());
        }
        if !self.store.broadcasts().delete(&caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        Ok(state)
    }

    /// How many an audience reaches now (opted-out and blocked customers not counted): the
    /// builder's live count.
    pub async fn audience_count(&self, caller: &Caller, mut audience: Audience) -> AppResult<i64> {
        caller.require_manager()?;
        if let Audience::List { phones } = &mut audience {
            for p in phones.iter_mut() {
                if let Ok(n) = PhoneNumber::parse_written("phones", p, caller.default_country) {
                    *p = n.as_str().to_owned();
                }
            }
        }
        let (count, _) = self
            .store
            .broadcasts()
            .audience_preview(&caller.org_id, &audience, &listed(&audience), 0)
            .await?;
        Ok(count)
    }

    pub async fn recipients(
        &self,
        caller: &Caller,
        id: &str,
        status: Option<&str>,
        page: &PageRequest,
    ) -> AppResult<Page<Recipient>> {
        self.get(caller, id).await?;
        Ok(self
            .store
            .broadcasts()
            .recipients(&caller.org_id, id, status, page)
            .await?)
    }
}
