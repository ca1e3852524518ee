//! Scheduled messages (SPEC §15): the schedules, what is due, and firing occurrences. Firing
//! moves a schedule on from the revision the worker read — in the transaction that writes the
//! occurrence and puts its message in the outbox — so an occurrence is fired at most once
//! whatever crashes or however many workers read the schedule, or whoever changed it; and,
//! once that transaction commits, its message is in the outbox and sent exactly once.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::automation::{Reply, ReplyFields};
use wasl_domain::schedule::{
    read_local, write_local, Frequency, Occurrence, OccurrenceOutcome, Recurrence, Repeat,
    ScheduleStatus, ScheduledMessage,
};
use wasl_domain::{MessageStatus, OrgId, SessionName};

use crate::events::{insert_events, new_event, EventRenderer, StoredEvent};
use crate::record::{record_in_tx, NewMessage};
use crate::sql::{rows_per_statement, Rows, Ty};
use crate::{Page, PageRequest, Recorded, Store, StoreError};

const COLUMNS: &str = "id, organization_id, session_name, to_phone, message, schedule_local,
    repeat_frequency, repeat_interval, repeat_until, repeat_count, status, next_number,
    next_run_at, revision, created_by, created_at, updated_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("scheduled message {what}"))
}

fn schedule(row: &AnyRow) -> Result<ScheduledMessage, StoreError> {
    let fields: ReplyFields = serde_json::from_str(&row.try_get::<String, _>("message")?)
        .map_err(|_| corrupt("message"))?;
    let start =
        read_local(&row.try_get::<String, _>("schedule_local")?).ok_or_else(|| corrupt("time"))?;
    let repeat = match row.try_get::<Option<String>, _>("repeat_frequency")? {
        None => None,
        Some(frequency) => Some(Repeat {
            frequency: Frequency::parse("frequency", &frequency)
                .map_err(|_| corrupt("frequency"))?,
            interval: u32::try_from(
                row.try_get::<Option<i64>, _>("repeat_interval")?
                    .unwrap_or(1),
            )
            .map_err(|_| corrupt("interval"))?,
            until: row
                .try_get::<Option<String>, _>("repeat_until")?
                .map(|u| read_local(&u).ok_or_else(|| corrupt("until")))
                .transpose()?,
            count: row
                .try_get::<Option<i64>, _>("repeat_count")?
                .map(|c| u32::try_from(c).map_err(|_| corrupt("count")))
                .transpose()?,
        }),
    };
    Ok(ScheduledMessage {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        session_name: row
            .try_get::<Option<String>, _>("session_name")?
            .map(|n| SessionName::parse(&n).map_err(|_| corrupt("session")))
            .transpose()?,
        to: row.try_get("to_phone")?,
        message: Reply::parse("message", &fields).map_err(|_| corrupt("message"))?,
        recurrence: Recurrence { start, repeat },
        status: ScheduleStatus::from_stored(&row.try_get::<String, _>("status")?),
        next_number: u32::try_from(row.try_get::<i64, _>("next_number")?)
            .map_err(|_| corrupt("number"))?,
        next_run_at: row.try_get("next_run_at")?,
        revision: row.try_get("revision")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The values of a schedule's row, in [`COLUMNS`] order.
struct Values {
    message: String,
    schedule_local: String,
    frequency: Option<&'static str>,
    interval: Option<i64>,
    until: Option<String>,
    count: Option<i64>,
}

fn values(s: &ScheduledMessage) -> Result<Values, StoreError> {
    let repeat = s.recurrence.repeat;
    Ok(Values {
        message: serde_json::to_string(&s.message.fields()).map_err(|_| corrupt("message"))?,
        schedule_local: write_local(s.recurrence.start),
        frequency: repeat.map(|r| r.frequency.as_str()),
        interval: repeat.map(|r| i64::from(r.interval)),
        until: repeat.and_then(|r| r.until).map(write_local),
        count: repeat.and_then(|r| r.count).map(i64::from),
    })
}

/// One occurrence to record with a firing.
#[derive(Debug, Clone)]
pub struct OccurrenceRecord {
    pub id: String,
    pub number: u32,
    pub due_at: i64,
    pub outcome: OccurrenceOutcome,
    pub reason: Option<String>,
}

/// What a worker decided for one due schedule: the occurrences that came (missed, skipped,
/// failed, or sent with `message`), and where the schedule goes on from.
#[derive(Debug, Clone)]
pub struct Firing {
    pub schedule_id: String,
    pub organization_id: OrgId,
    /// The schedule's revision the worker read: the firing applies only if it is still that.
    pub revision: i64,
    pub occurrences: Vec<OccurrenceRecord>,
    /// The message of the occurrence sent, with the number it belongs to.
    pub message: Option<(u32, NewMessage)>,
    /// `scheduled_message.sent`'s payload, for the message.
    pub event: Option<serde_json::Value>,
    pub next_number: u32,
    pub next_run_at: Option<i64>,
    pub at: i64,
}

/// What firing wrote: per firing whether it applied and, if its message was stored, the
/// message; and the events to publish.
#[derive(Debug, Default)]
pub struct Fired {
    pub applied: Vec<bool>,
    pub messages: Vec<Option<Recorded>>,
    pub events: Vec<StoredEvent>,
}

pub struct Schedules<'a> {
    store: &'a Store,
}

impl Store {
    pub fn schedules(&self) -> Schedules<'_> {
        Schedules { store: self }
    }
}

impl Schedules<'_> {
    pub async fn insert(&self, s: &ScheduledMessage) -> Result<(), StoreError> {
        let v = values(s)?;
        sqlx::query(&format!(
            "INSERT INTO scheduled_messages ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(s.id.as_str())
        .bind(s.organization_id.as_str())
        .bind(s.session_name.as_ref().map(|n| n.as_str().to_owned()))
        .bind(s.to.as_str())
        .bind(v.message)
        .bind(v.schedule_local)
        .bind(v.frequency)
        .bind(v.interval)
        .bind(v.until)
        .bind(v.count)
        .bind(s.status.as_str())
        .bind(i64::from(s.next_number))
        .bind(s.next_run_at)
        .bind(s.revision)
        .bind(s.created_by.as_deref())
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Replaces a schedule's settings and state if it is still at the revision it was read
    /// at (`s.revision`: not fired nor changed meanwhile), moving it to the next revision;
    /// `false` otherwise (read it again).
    pub async fn update(&self, s: &ScheduledMessage) -> Result<bool, StoreError> {
        let v = values(s)?;
        let done = sqlx::query(
            "UPDATE scheduled_messages SET session_name = $1, to_phone = $2, message = $3,
                 schedule_local = $4, repeat_frequency = $5, repeat_interval = $6,
                 repeat_until = $7, repeat_count = $8, status = $9, next_number = $10,
                 next_run_at = $11, updated_at = $12, revision = revision + 1, claimed_until = 0
             WHERE organization_id = $13 AND id = $14 AND revision = $15",
        )
        .bind(s.session_name.as_ref().map(|n| n.as_str().to_owned()))
        .bind(s.to.as_str())
        .bind(v.message)
        .bind(v.schedule_local)
        .bind(v.frequency)
        .bind(v.interval)
        .bind(v.until)
        .bind(v.count)
        .bind(s.status.as_str())
        .bind(i64::from(s.next_number))
        .bind(s.next_run_at)
        .bind(s.updated_at)
        .bind(s.organization_id.as_str())
        .bind(s.id.as_str())
        .bind(s.revision)
        .execute(&self.store.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<ScheduledMessage>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM scheduled_messages WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(schedule)
        .transpose()
    }

    /// A page of the organization's schedules, newest first, of one status if asked.
    pub async fn list(
        &self,
        org: &OrgId,
        status: Option<ScheduleStatus>,
        page: &PageRequest,
    ) -> Result<Page<ScheduledMessage>, StoreError> {
        let mut params = crate::sql::Params::new(self.store.dialect);
        let mut filter = format!("organization_id = {}", params.text(org.as_str()));
        if let Some(status) = status {
            filter.push_str(&format!(" AND status = {}", params.text(status.as_str())));
        }
        let total: i64 = params
            .query(&format!(
                "SELECT COUNT(*) FROM scheduled_messages WHERE {filter}"
            ))
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_messages WHERE {filter}
             ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            params.int(i64::from(page.limit)),
            params.int(page.offset())
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(schedule)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// The organization's schedules with an occurrence to come before `before`, soonest
    /// first, at most `limit` (the calendar).
    pub async fn coming(
        &self,
        org: &OrgId,
        before: i64,
        limit: u32,
    ) -> Result<Vec<ScheduledMessage>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM scheduled_messages
             WHERE organization_id = $1 AND status = 'active' AND next_run_at IS NOT NULL
               AND next_run_at <= $2
             ORDER BY next_run_at, id LIMIT $3"
        ))
        .bind(org.as_str())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(schedule)
        .collect()
    }

    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM scheduled_messages WHERE organization_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(id)
                .execute(&self.store.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A page of a schedule's occurrences, the latest first, each with its message's status.
    pub async fn occurrences(
        &self,
        org: &OrgId,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<Occurrence>, StoreError> {
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM scheduled_occurrences WHERE organization_id = $1 AND schedule_id = $2",
        )
        .bind(org.as_str())
        .bind(id)
        .fetch_one(&self.store.pool)
        .await?
        .try_get(0)?;
        let items = sqlx::query(
            "SELECT o.schedule_id, o.number, o.due_at, o.fired_at, o.outcome, o.reason,
                    o.message_id, m.status AS message_status
             FROM scheduled_occurrences o LEFT JOIN messages m ON m.id = o.message_id
             WHERE o.organization_id = $1 AND o.schedule_id = $2
             ORDER BY o.due_at DESC, o.fired_at DESC, o.id DESC LIMIT $3 OFFSET $4",
        )
        .bind(org.as_str())
        .bind(id)
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(occurrence)
        .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// Takes up to `limit` schedules due at `now`, the longest due first. On PostgreSQL, where
    /// several nodes share them (SPEC §19), they are held until `until`: rows another node is
    /// claiming are skipped, not waited for, and a node that dies lets them go when that time
    /// passes. SQLite has one wasl with one worker: it reads without writing. Either way the
    /// firing itself is what makes an occurrence happen once (see [`Schedules::fire`]).
    pub async fn claim(
        &self,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<ScheduledMessage>, StoreError> {
        match self.store.dialect {
            crate::Dialect::Sqlite => sqlx::query(&format!(
                "SELECT {COLUMNS} FROM scheduled_messages
                 WHERE next_run_at IS NOT NULL AND next_run_at <= $1 AND status = 'active'
                 ORDER BY next_run_at, id LIMIT $2"
            ))
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(schedule)
            .collect(),
            crate::Dialect::Postgres => {
                let mut w = self.store.begin_write().await?;
                let rows = sqlx::query(&format!(
                    "UPDATE scheduled_messages SET claimed_until = $1
                     WHERE id IN (SELECT id FROM scheduled_messages
                                  WHERE next_run_at IS NOT NULL AND next_run_at <= $2
                                    AND status = 'active' AND claimed_until <= $3
                                  ORDER BY next_run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                     RETURNING {COLUMNS}"
                ))
                .bind(until)
                .bind(now)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *w.tx)
                .await?;
                w.commit().await?;
                let mut due = rows.iter().map(schedule).collect::<Result<Vec<_>, _>>()?;
                due.sort_by(|a, b| a.next_run_at.cmp(&b.next_run_at).then(a.id.cmp(&b.id)));
                Ok(due)
            }
        }
    }

    /// How many active schedules are due at `now` and not fired yet.
    pub async fn due_count(&self, now: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM scheduled_messages
             WHERE next_run_at IS NOT NULL AND next_run_at <= $1 AND status = 'active'",
        )
        .bind(now)
        .fetch_one(&self.store.pool)
        .await?
        .try_get(0)?)
    }

    /// When the soonest occurrence of all comes, if any (how long the worker may rest).
    pub async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query(
            "SELECT MIN(next_run_at) FROM scheduled_messages
             WHERE next_run_at IS NOT NULL AND status = 'active'",
        )
        .fetch_one(&self.store.pool)
        .await?
        .try_get::<Option<i64>, _>(0)?)
    }

    /// Writes a batch of firings in one transaction: each moves its schedule on only if the
    /// schedule is still active at the number its worker read; the occurrences and messages
    /// of those that apply are written with it, the others' are not written at all.
    pub async fn fire(
        &self,
        firings: &[Firing],
        render: &dyn EventRenderer,
    ) -> Result<Fired, StoreError> {
        const ATTEMPTS: usize = 5;
        let mut attempt = 1;
        loop {
            match self.fire_once(firings, render).await {
                Err(e) if e.is_deadlock() && attempt < ATTEMPTS => attempt += 1,
                result => return result,
            }
        }
    }

    async fn fire_once(
        &self,
        firings: &[Firing],
        render: &dyn EventRenderer,
    ) -> Result<Fired, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        let mut applied = Vec::with_capacity(firings.len());
        for f in firings {
            let status = if f.next_run_at.is_some() {
                ScheduleStatus::Active
            } else {
                ScheduleStatus::Completed
            };
            let done = sqlx::query(
                "UPDATE scheduled_messages SET next_number = $1, next_run_at = $2, status = $3,
                     claimed_until = 0, revision = revision + 1
                 WHERE id = $4 AND revision = $5 AND status = 'active'",
            )
            .bind(i64::from(f.next_number))
            .bind(f.next_run_at)
            .bind(status.as_str())
            .bind(f.schedule_id.as_str())
            .bind(f.revision)
            .execute(&mut **tx)
            .await?;
            applied.push(done.rows_affected() > 0);
        }
        let messages: Vec<NewMessage> = firings
            .iter()
            .zip(&applied)
            .filter(|(_, ok)| **ok)
            .filter_map(|(f, _)| f.message.as_ref().map(|(_, m)| m.clone()))
            .collect();
        let recording = record_in_tx(tx, &messages, render).await?;
        let mut events = recording.events.clone();
        const COLUMNS: &[(&str, Ty)] = &[
            ("id", Ty::Text),
            ("schedule_id", Ty::Text),
            ("number", Ty::Int),
            ("organization_id", Ty::Text),
            ("due_at", Ty::Int),
            ("fired_at", Ty::Int),
            ("outcome", Ty::Text),
            ("reason", Ty::Text),
            ("message_id", Ty::Text),
        ];
        let mut occurrences: Vec<(&Firing, &OccurrenceRecord, Option<&str>)> = Vec::new();
        for (f, _) in firings.iter().zip(&applied).filter(|(_, ok)| **ok) {
            let sent = f.message.as_ref().map(|(n, m)| (*n, m.message.id.as_str()));
            for o in &f.occurrences {
                let message_id = sent.filter(|(n, _)| *n == o.number).map(|(_, id)| id);
                occurrences.push((f, o, message_id));
            }
            if let Some(payload) = &f.event {
                events.push(new_event(
                    &f.organization_id,
                    "scheduled_message.sent",
                    payload.clone(),
                    f.at,
                ));
            }
        }
        // One statement per chunk of rows: PostgreSQL's round trips, not its work, were the
        // cost of a burst of due schedules.
        for chunk in occurrences.chunks(rows_per_statement(COLUMNS.len())) {
            let mut rows = Rows::for_tx(tx, COLUMNS);
            for (f, o, message_id) in chunk {
                rows.text(o.id.as_str())
                    .text(f.schedule_id.as_str())
                    .int(i64::from(o.number))
                    .text(f.organization_id.as_str())
                    .int(o.due_at)
                    .int(f.at)
                    .text(o.outcome.as_str())
                    .text(o.reason.as_deref())
                    .text(*message_id);
            }
            let sql = format!(
                "INSERT INTO scheduled_occurrences
                     (id, schedule_id, number, organization_id, due_at, fired_at, outcome, reason, message_id) {}",
                rows.source().0
            );
            rows.query(&sql).execute(&mut **tx).await?;
        }
        insert_events(tx, &events).await?;
        w.commit().await?;
        let mut outcomes = recording.finish(&messages).into_iter();
        let recorded = firings
            .iter()
            .zip(&applied)
            .map(|(f, ok)| {
                if !*ok || f.message.is_none() {
                    return None;
                }
                outcomes
                    .next()
                    .as_ref()
                    .and_then(crate::automation::recorded)
            })
            .collect();
        Ok(Fired {
            applied,
            messages: recorded,
            events,
        })
    }
}

fn occurrence(row: &AnyRow) -> Result<Occurrence, StoreError> {
    Ok(Occurrence {
        schedule_id: row.try_get("schedule_id")?,
        number: u32::try_from(row.try_get::<i64, _>("number")?).map_err(|_| corrupt("number"))?,
        due_at: row.try_get("due_at")?,
        fired_at: row.try_get("fired_at")?,
        outcome: OccurrenceOutcome::from_stored(&row.try_get::<String, _>("outcome")?),
        reason: row.try_get("reason")?,
        message_id: row.try_get("message_id")?,
        message_status: row
            .try_get::<Option<String>, _>("message_status")?
            .and_then(|s| MessageStatus::parse(&s)),
    })
}
