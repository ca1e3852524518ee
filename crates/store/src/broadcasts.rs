//! Broadcasts (SPEC §15): the broadcasts, their audience fixed into recipients when they
//! start (read from the contacts a page at a time, never whole in memory), handing recipients
//! to the outbox, and where each recipient stands. Handing over moves the broadcast on from
//! the revision its runner read, in the transaction that stores the recipients' messages and
//! marks them handed over: a crash before the commit hands nobody over, after it everybody in
//! the batch is in the outbox — no recipient is skipped or handed over twice.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::automation::{Reply, ReplyFields};
use wasl_domain::broadcast::{Audience, Broadcast, BroadcastStatus, Pacing, Progress};
use wasl_domain::{OrgId, SessionName};

use crate::events::{insert_events, EventRenderer, StoredEvent};
use crate::record::{record_in_tx, NewMessage, RecordOutcome};
use crate::sql::{rows_per_statement, Params, Rows, Ty};
use crate::{Page, PageRequest, Store, StoreError};

const COLUMNS: &str = "id, organization_id, name, session_name, audience, message, send_at,
    pacing, status, waiting_reason, total, skipped, next_seq, next_send_at, revision,
    created_by, created_at, updated_at, started_at, finished_at";

/// Contacts read per page while the audience is fixed.
const CONTACTS_PAGE: i64 = 2_000;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("broadcast {what}"))
}

fn broadcast(row: &AnyRow) -> Result<Broadcast, StoreError> {
    let fields: ReplyFields = serde_json::from_str(&row.try_get::<String, _>("message")?)
        .map_err(|_| corrupt("message"))?;
    Ok(Broadcast {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        name: row.try_get("name")?,
        session_name: SessionName::parse(&row.try_get::<String, _>("session_name")?)
            .map_err(|_| corrupt("session"))?,
        audience: serde_json::from_str(&row.try_get::<String, _>("audience")?)
            .map_err(|_| corrupt("audience"))?,
        message: Reply::parse("message", &fields).map_err(|_| corrupt("message"))?,
        send_at: row.try_get("send_at")?,
        pacing: serde_json::from_str::<Pacing>(&row.try_get::<String, _>("pacing")?)
            .map_err(|_| corrupt("pacing"))?,
        status: BroadcastStatus::from_stored(&row.try_get::<String, _>("status")?),
        waiting_reason: row.try_get("waiting_reason")?,
        total: row.try_get("total")?,
        skipped: row.try_get("skipped")?,
        next_seq: row.try_get("next_seq")?,
        next_send_at: row.try_get("next_send_at")?,
        revision: row.try_get("revision")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// A recipient as the API lists it.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub seq: i64,
    pub phone: String,
    pub contact_id: Option<String>,
    /// queued (waiting or in the outbox), sent, delivered, read, failed, skipped, cancelled.
    pub status: String,
    pub reason: Option<String>,
    pub message_id: Option<String>,
    pub dispatched_at: Option<i64>,
}

/// A recipient to hand to the outbox.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub seq: i64,
    pub phone: String,
    pub contact_id: Option<String>,
}

/// A number of a list audience as read: the number in its one form, or the text given when it
/// is not a number (recorded skipped, `invalid`).
#[derive(Debug, Clone)]
pub enum Listed {
    Phone(String),
    Invalid(String),
}

/// Where a broadcast goes after a hand-over or a look at it.
#[derive(Debug, Clone)]
pub struct Step {
    pub status: BroadcastStatus,
    pub next_seq: i64,
    pub next_send_at: Option<i64>,
    pub waiting_reason: Option<String>,
    pub finished_at: Option<i64>,
    pub at: i64,
}

/// The SQL that says where each recipient stands: its own status until it is handed over,
/// its message's after (a message still pending is queued).
const STANDING: &str = "CASE WHEN r.message_id IS NULL THEN r.status
    WHEN m.status IS NULL THEN 'sent' WHEN m.status = 'pending' THEN 'queued' ELSE m.status END";

pub struct Broadcasts<'a> {
    store: &'a Store,
}

impl Store {
    pub fn broadcasts(&self) -> Broadcasts<'_> {
        Broadcasts { store: self }
    }
}

impl Broadcasts<'_> {
    pub async fn insert(&self, b: &Broadcast) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO broadcasts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                 $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
        ))
        .bind(b.id.as_str())
        .bind(b.organization_id.as_str())
        .bind(b.name.as_str())
        .bind(b.session_name.as_str())
        .bind(serde_json::to_string(&b.audience).map_err(|_| corrupt("audience"))?)
        .bind(serde_json::to_string(&b.message.fields()).map_err(|_| corrupt("message"))?)
        .bind(b.send_at)
        .bind(serde_json::to_string(&b.pacing).map_err(|_| corrupt("pacing"))?)
        .bind(b.status.as_str())
        .bind(b.waiting_reason.as_deref())
        .bind(b.total)
        .bind(b.skipped)
        .bind(b.next_seq)
        .bind(b.next_send_at)
        .bind(b.revision)
        .bind(b.created_by.as_deref())
        .bind(b.created_at)
        .bind(b.updated_at)
        .bind(b.started_at)
        .bind(b.finished_at)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Replaces a broadcast's settings and state if it is still at the revision it was read
    /// at, moving it to the next; `false` otherwise (read it again).
    pub async fn update(&self, b: &Broadcast) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE broadcasts SET name = $1, session_name = $2, audience = $3, message = $4,
                 send_at = $5, pacing = $6, status = $7, waiting_reason = $8, next_send_at = $9,
                 updated_at = $10, finished_at = $11, revision = revision + 1, claimed_until = 0
             WHERE organization_id = $12 AND id = $13 AND revision = $14",
        )
        .bind(b.name.as_str())
        .bind(b.session_name.as_str())
        .bind(serde_json::to_string(&b.audience).map_err(|_| corrupt("audience"))?)
        .bind(serde_json::to_string(&b.message.fields()).map_err(|_| corrupt("message"))?)
        .bind(b.send_at)
        .bind(serde_json::to_string(&b.pacing).map_err(|_| corrupt("pacing"))?)
        .bind(b.status.as_str())
        .bind(b.waiting_reason.as_deref())
        .bind(b.next_send_at)
        .bind(b.updated_at)
        .bind(b.finished_at)
        .bind(b.organization_id.as_str())
        .bind(b.id.as_str())
        .bind(b.revision)
        .execute(&self.store.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<Broadcast>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(broadcast)
        .transpose()
    }

    /// A page of the organization's broadcasts, the newest first, of one status if asked.
    pub async fn list(
        &self,
        org: &OrgId,
        status: Option<BroadcastStatus>,
        page: &PageRequest,
    ) -> Result<Page<Broadcast>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let mut filter = format!("organization_id = {}", params.text(org.as_str()));
        if let Some(status) = status {
            filter.push_str(&format!(" AND status = {}", params.text(status.as_str())));
        }
        let total: i64 = params
            .query(&format!("SELECT COUNT(*) FROM broadcasts WHERE {filter}"))
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE {filter}
             ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            params.int(i64::from(page.limit)),
            params.int(page.offset())
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(broadcast)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM broadcasts WHERE organization_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Where the broadcast's recipients stand.
    pub async fn progress(&self, id: &str) -> Result<Progress, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {STANDING} AS standing, COUNT(*) AS n
             FROM broadcast_recipients r LEFT JOIN messages m ON m.id = r.message_id
             WHERE r.broadcast_id = $1 GROUP BY 1"
        ))
        .bind(id)
        .fetch_all(&self.store.pool)
        .await?;
        let mut p = Progress::default();
        for row in rows {
            let n: i64 = row.try_get("n")?;
            match row.try_get::<String, _>("standing")?.as_str() {
                "queued" => p.queued += n,
                "sent" => p.sent += n,
                "delivered" => p.delivered += n,
                "read" => p.read += n,
                "failed" => p.failed += n,
                "skipped" => p.skipped += n,
                "cancelled" => p.cancelled += n,
                _ => {}
            }
        }
        Ok(p)
    }

    /// A page of the recipients in their order, of one standing if asked.
    pub async fn recipients(
        &self,
        org: &OrgId,
        id: &str,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Recipient>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let mut filter = format!(
            "r.broadcast_id = {} AND b.organization_id = {}",
            params.text(id),
            params.text(org.as_str())
        );
        if let Some(status) = status {
            filter.push_str(&format!(" AND ({STANDING}) = {}", params.text(status)));
        }
        let from = "broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id
                    LEFT JOIN messages m ON m.id = r.message_id";
        let total: i64 = params
            .query(&format!("SELECT COUNT(*) FROM {from} WHERE {filter}"))
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let sql = format!(
            "SELECT r.seq, r.phone, r.contact_id, {STANDING} AS standing, r.reason, r.message_id,
                    r.dispatched_at
             FROM {from} WHERE {filter} ORDER BY r.seq LIMIT {} OFFSET {}",
            params.int(i64::from(page.limit)),
            params.int(page.offset())
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(Recipient {
                    seq: row.try_get("seq")?,
                    phone: row.try_get("phone")?,
                    contact_id: row.try_get("contact_id")?,
                    status: row.try_get("standing")?,
                    reason: row.try_get("reason")?,
                    message_id: row.try_get("message_id")?,
                    dispatched_at: row.try_get("dispatched_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::counted(items, total))
    }

    /// How many contacts a filter audience holds now, and the first few of them (a preview).
    pub async fn audience_preview(
        &self,
        org: &OrgId,
        audience: &Audience,
        listed: &[Listed],
        first: usize,
    ) -> Result<(i64, Vec<(String, Option<String>)>), StoreError> {
        let mut count = 0i64;
        let mut sample = Vec::new();
        match audience {
            Audience::Filter { filters } => {
                let mut after = String::new();
                loop {
                    let page = self.contacts_page(&self.store.pool, org, &after).await?;
                    let Some(last) = page.last() else { break };
                    after.clone_from(&last.id);
                    for c in &page {
                        if !c.blocked && !c.opted_out && filters.admits(&c.tags, c.last_message_at)
                        {
                            count += 1;
                            if sample.len() < first {
                                sample.push((c.phone.clone(), Some(c.id.clone())));
                            }
                        }
                    }
                }
            }
            Audience::List { .. } => {
                let mut seen = HashSet::new();
                for l in listed {
                    if let Listed::Phone(p) = l {
                        if seen.insert(p.as_str()) {
                            count += 1;
                            if sample.len() < first {
                                sample.push((p.clone(), None));
                            }
                        }
                    }
                }
            }
        }
        Ok((count, sample))
    }

    async fn contacts_page<'e, E>(
        &self,
        executor: E,
        org: &OrgId,
        after: &str,
    ) -> Result<Vec<AudienceContact>, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        sqlx::query(
            "SELECT id, phone_number, tags, last_message_at, is_blocked, opted_out_at FROM contacts
             WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(org.as_str())
        .bind(after)
        .bind(CONTACTS_PAGE)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            Ok(AudienceContact {
                id: row.try_get("id")?,
                phone: row.try_get("phone_number")?,
                tags: serde_json::from_str(&row.try_get::<String, _>("tags")?).unwrap_or_default(),
                last_message_at: row.try_get("last_message_at")?,
                blocked: row.try_get::<i64, _>("is_blocked")? != 0,
                opted_out: row.try_get::<Option<i64>, _>("opted_out_at")?.is_some(),
            })
        })
        .collect()
    }

    /// Starts the broadcast: its audience fixed into recipients (opted-out, blocked, invalid
    /// and repeated numbers recorded as skipped with the reason) and the broadcast running,
    /// in one transaction, if it is still at the revision read. `None` when it was not.
    pub async fn start(
        &self,
        b: &Broadcast,
        listed: &[Listed],
        now: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let mut w = self.store.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE broadcasts SET status = 'running', revision = revision + 1, started_at = $1,
                 next_seq = 0, next_send_at = $2, waiting_reason = NULL, updated_at = $3,
                 claimed_until = 0
             WHERE id = $4 AND revision = $5 AND status IN ('draft', 'scheduled')",
        )
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(b.id.as_str())
        .bind(b.revision)
        .execute(&mut *w.tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Ok(None);
        }
        let mut batch: Vec<RecipientRow> = Vec::new();
        let (mut total, mut skipped, mut seq) = (0i64, 0i64, 0i64);
        let mut push = |batch: &mut Vec<RecipientRow>,
                        phone: String,
                        contact: Option<String>,
                        reason: Option<&'static str>| {
            total += 1;
            if reason.is_some() {
                skipped += 1;
            }
            batch.push(RecipientRow {
                seq,
                phone,
                contact_id: contact,
                reason,
            });
            seq += 1;
        };
        match &b.audience {
            Audience::Filter { filters } => {
                let mut after = String::new();
                loop {
                    let page = self
                        .contacts_page(&mut *w.tx, &b.organization_id, &after)
                        .await?;
                    let Some(last) = page.last() else { break };
                    after.clone_from(&last.id);
                    for c in page {
                        if !filters.admits(&c.tags, c.last_message_at) {
                            continue;
                        }
                        let reason = if c.blocked {
                            Some("blocked")
                        } else if c.opted_out {
                            Some("opted_out")
                        } else {
                            None
                        };
                        push(&mut batch, c.phone, Some(c.id), reason);
                    }
                    insert_recipients(&mut w.tx, &b.id, &mut batch).await?;
                }
            }
            Audience::List { .. } => {
                let mut seen: HashSet<&str> = HashSet::new();
                for chunk in listed.chunks(CONTACTS_PAGE as usize) {
                    let phones: Vec<&str> = chunk
                        .iter()
                        .filter_map(|l| match l {
                            Listed::Phone(p) => Some(p.as_str()),
                            Listed::Invalid(_) => None,
                        })
                        .collect();
                    let known = self
                        .contacts_by_phone(&mut w.tx, &b.organization_id, &phones)
                        .await?;
                    for l in chunk {
                        match l {
                            Listed::Invalid(text) => {
                                push(&mut batch, text.clone(), None, Some("invalid"))
                            }
                            Listed::Phone(p) if !seen.insert(p.as_str()) => {
                                push(&mut batch, p.clone(), None, Some("duplicate"))
                            }
                            Listed::Phone(p) => {
                                let contact = known.get(p.as_str());
                                let reason = match contact {
                                    Some(c) if c.blocked => Some("blocked"),
                                    Some(c) if c.opted_out => Some("opted_out"),
                                    _ => None,
                                };
                                push(&mut batch, p.clone(), contact.map(|c| c.id.clone()), reason);
                            }
                        }
                    }
                    insert_recipients(&mut w.tx, &b.id, &mut batch).await?;
                }
            }
        }
        sqlx::query("UPDATE broadcasts SET total = $1, skipped = $2 WHERE id = $3")
            .bind(total)
            .bind(skipped)
            .bind(b.id.as_str())
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(Some((total, skipped)))
    }

    async fn contacts_by_phone(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        org: &OrgId,
        phones: &[&str],
    ) -> Result<HashMap<String, AudienceContact>, StoreError> {
        let mut found = HashMap::new();
        for chunk in phones.chunks(500) {
            let mut params = Params::new(self.store.dialect);
            let sql = format!(
                "SELECT id, phone_number, tags, last_message_at, is_blocked, opted_out_at FROM contacts
                 WHERE organization_id = {} AND phone_number IN ({})",
                params.text(org.as_str()),
                params.texts(chunk.iter().copied())
            );
            for row in params.query(&sql).fetch_all(&mut **tx).await? {
                let c = AudienceContact {
                    id: row.try_get("id")?,
                    phone: row.try_get("phone_number")?,
                    tags: Vec::new(),
                    last_message_at: row.try_get("last_message_at")?,
                    blocked: row.try_get::<i64, _>("is_blocked")? != 0,
                    opted_out: row.try_get::<Option<i64>, _>("opted_out_at")?.is_some(),
                };
                found.insert(c.phone.clone(), c);
            }
        }
        Ok(found)
    }

    /// Takes up to `limit` broadcasts with something to do at `now` (to start, or recipients
    /// to hand over). On PostgreSQL they are held until `until`, so that several nodes share
    /// them; SQLite has one runner, which reads without writing.
    pub async fn claim(
        &self,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<Broadcast>, StoreError> {
        let mut due = match self.store.dialect {
            crate::Dialect::Sqlite => sqlx::query(&format!(
                "SELECT {COLUMNS} FROM broadcasts
                 WHERE next_send_at IS NOT NULL AND next_send_at <= $1
                   AND status IN ('scheduled', 'running')
                 ORDER BY next_send_at, id LIMIT $2"
            ))
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(broadcast)
            .collect::<Result<Vec<_>, _>>()?,
            crate::Dialect::Postgres => {
                let mut w = self.store.begin_write().await?;
                let rows = sqlx::query(&format!(
                    "UPDATE broadcasts SET claimed_until = $1
                     WHERE id IN (SELECT id FROM broadcasts
                                  WHERE next_send_at IS NOT NULL AND next_send_at <= $2
                                    AND status IN ('scheduled', 'running') AND claimed_until <= $3
                                  ORDER BY next_send_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                     RETURNING {COLUMNS}"
                ))
                .bind(until)
                .bind(now)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *w.tx)
                .await?;
                w.commit().await?;
                rows.iter().map(broadcast).collect::<Result<Vec<_>, _>>()?
            }
        };
        due.sort_by(|a, b| a.next_send_at.cmp(&b.next_send_at).then(a.id.cmp(&b.id)));
        Ok(due)
    }

    /// When the soonest broadcast has something to do, if any.
    pub async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query(
            "SELECT MIN(next_send_at) FROM broadcasts
             WHERE next_send_at IS NOT NULL AND status IN ('scheduled', 'running')",
        )
        .fetch_one(&self.store.pool)
        .await?
        .try_get::<Option<i64>, _>(0)?)
    }

    /// The next recipients waiting their turn, from recipient `from` on.
    pub async fn waiting(
        &self,
        id: &str,
        from: i64,
        limit: u32,
    ) -> Result<Vec<Waiting>, StoreError> {
        sqlx::query(
            "SELECT seq, phone, contact_id FROM broadcast_recipients
             WHERE broadcast_id = $1 AND seq >= $2 AND status = 'queued' AND message_id IS NULL
             ORDER BY seq LIMIT $3",
        )
        .bind(id)
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Waiting {
                seq: row.try_get("seq")?,
                phone: row.try_get("phone")?,
                contact_id: row.try_get("contact_id")?,
            })
        })
        .collect()
    }

    /// How many of the broadcast's messages handed over since recipient `since` are still in
    /// the outbox (not yet sent).
    pub async fn in_outbox(&self, id: &str, since: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM broadcast_recipients r JOIN messages m ON m.id = r.message_id
             WHERE r.broadcast_id = $1 AND r.seq >= $2 AND m.status = 'pending'",
        )
        .bind(id)
        .bind(since)
        .fetch_one(&self.store.pool)
        .await?
        .try_get(0)?)
    }

    /// How many broadcast messages the organization's session handed over since `since`.
    pub async fn handed_over_since(
        &self,
        org: &OrgId,
        session: &SessionName,
        since: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id
             WHERE r.dispatched_at IS NOT NULL AND r.dispatched_at >= $1
               AND b.organization_id = $2 AND b.session_name = $3",
        )
        .bind(since)
        .bind(org.as_str())
        .bind(session.as_str())
        .fetch_one(&self.store.pool)
        .await?
        .try_get(0)?)
    }

    /// Hands recipients to the outbox: their messages stored, the recipients marked with
    /// them, the broadcast moved on — all in one transaction, and only if the broadcast is
    /// still running at the revision read (`None` otherwise: nothing written). `events` are
    /// written with it (the progress).
    pub async fn hand_over(
        &self,
        b: &Broadcast,
        items: &[(i64, NewMessage)],
        step: &Step,
        events: &[StoredEvent],
        render: &dyn EventRenderer,
    ) -> Result<Option<(Vec<RecordOutcome>, Vec<StoredEvent>)>, StoreError> {
        let mut w = self.store.begin_write().await?;
        if !move_on(&mut w.tx, b, step, &["running"]).await? {
            return Ok(None);
        }
        let messages: Vec<NewMessage> = items.iter().map(|(_, m)| m.clone()).collect();
        let recording = record_in_tx(&mut w.tx, &messages, render).await?;
        for (seq, m) in items {
            sqlx::query(
                "UPDATE broadcast_recipients SET message_id = $1, dispatched_at = $2
                 WHERE broadcast_id = $3 AND seq = $4 AND message_id IS NULL",
            )
            .bind(m.message.id.as_str())
            .bind(step.at)
            .bind(b.id.as_str())
            .bind(*seq)
            .execute(&mut *w.tx)
            .await?;
        }
        let mut written = recording.events.clone();
        written.extend(events.iter().cloned());
        insert_events(&mut w.tx, &written).await?;
        w.commit().await?;
        Ok(Some((recording.finish(&messages), written)))
    }

    /// Moves the broadcast to `step` (waiting, completed) if it is still in one of `from` at
    /// the revision read, with `events`; `false` when it was not.
    pub async fn step(
        &self,
        b: &Broadcast,
        step: &Step,
        from: &[&str],
        events: &[StoredEvent],
    ) -> Result<bool, StoreError> {
        let mut w = self.store.begin_write().await?;
        if !move_on(&mut w.tx, b, step, from).await? {
            return Ok(false);
        }
        insert_events(&mut w.tx, events).await?;
        w.commit().await?;
        Ok(true)
    }

    /// Cancels the broadcast if it is still at the revision read: the recipients not handed
    /// over are cancelled with it.
    pub async fn cancel(&self, b: &Broadcast, now: i64) -> Result<bool, StoreError> {
        let mut w = self.store.begin_write().await?;
        let step = Step {
            status: BroadcastStatus::Cancelled,
            next_seq: b.next_seq,
            next_send_at: None,
            waiting_reason: None,
            finished_at: Some(now),
            at: now,
        };
        if !move_on(
            &mut w.tx,
            b,
            &step,
            &["draft", "scheduled", "running", "paused"],
        )
        .await?
        {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE broadcast_recipients SET status = 'cancelled'
             WHERE broadcast_id = $1 AND status = 'queued' AND message_id IS NULL",
        )
        .bind(b.id.as_str())
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(true)
    }
}

async fn move_on(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    b: &Broadcast,
    step: &Step,
    from: &[&str],
) -> Result<bool, StoreError> {
    let statuses = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let done = sqlx::query(&format!(
        "UPDATE broadcasts SET status = $1, next_seq = $2, next_send_at = $3, waiting_reason = $4,
             finished_at = $5, updated_at = $6, claimed_until = 0, revision = revision + 1
         WHERE id = $7 AND revision = $8 AND status IN ({statuses})"
    ))
    .bind(step.status.as_str())
    .bind(step.next_seq)
    .bind(step.next_send_at)
    .bind(step.waiting_reason.as_deref())
    .bind(step.finished_at)
    .bind(step.at)
    .bind(b.id.as_str())
    .bind(b.revision)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

struct AudienceContact {
    id: String,
    phone: String,
    tags: Vec<String>,
    last_message_at: Option<i64>,
    blocked: bool,
    opted_out: bool,
}

struct RecipientRow {
    seq: i64,
    phone: String,
    contact_id: Option<String>,
    reason: Option<&'static str>,
}

/// Writes the rows gathered so far and empties `batch`.
async fn insert_recipients(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    broadcast: &str,
    batch: &mut Vec<RecipientRow>,
) -> Result<(), StoreError> {
    const COLUMNS: &[(&str, Ty)] = &[
        ("broadcast_id", Ty::Text),
        ("seq", Ty::Int),
        ("phone", Ty::Text),
        ("contact_id", Ty::Text),
        ("status", Ty::Text),
        ("reason", Ty::Text),
    ];
    for chunk in batch.chunks(rows_per_statement(COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, COLUMNS);
        for r in chunk {
            rows.text(broadcast)
                .int(r.seq)
                .text(r.phone.as_str())
                .text(r.contact_id.as_deref())
                .text(if r.reason.is_some() {
                    "skipped"
                } else {
                    "queued"
                })
                .text(r.reason);
        }
        let sql = format!(
            "INSERT INTO broadcast_recipients (broadcast_id, seq, phone, contact_id, status, reason) {}",
            rows.source().0
        );
        rows.query(&sql).execute(&mut **tx).await?;
    }
    batch.clear();
    Ok(())
}
