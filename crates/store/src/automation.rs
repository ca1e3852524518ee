//! What automation reads and writes (SPEC §14): the queue of customers' messages it has yet
//! to consider, the facts a decision needs (the contact, who handles the conversation, the
//! automated answers the contact received lately), and settling a batch of decisions — the
//! answers stored, opt-outs recorded and the messages taken off the queue in one transaction.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};
use wasl_domain::{Contact, Conversation, Message, MessageMetadata, OrgId};

use crate::contacts::{contact, CONTACT_COLUMNS_BARE};
use crate::conversations::MESSAGE_COLUMNS_M;
use crate::conversations::{conversation, conversation_columns};
use crate::events::{insert_events, new_event, EventRenderer, StoredEvent};
use crate::messages::{message, MESSAGE_COLUMNS};
use crate::record::{record_in_tx, NewMessage, RecordOutcome};
use crate::sql::{rows_per_statement, Params, Rows, Ty};
use crate::{Recorded, Store, StoreError};

/// Puts the batch's stored incoming messages on the automation queue, in the transaction
/// that stores them.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    messages: &[&Message],
) -> Result<(), StoreError> {
    const COLUMNS: &[(&str, Ty)] = &[
        ("message_id", Ty::Text),
        ("organization_id", Ty::Text),
        ("created_at", Ty::Int),
    ];
    for chunk in messages.chunks(rows_per_statement(COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, COLUMNS);
        for m in chunk {
            rows.text(m.id.as_str())
                .text(m.organization_id.as_str())
                .int(m.created_at);
        }
        let sql = format!(
            "INSERT INTO automation_queue (message_id, organization_id, created_at) {}",
            rows.source().0
        );
        rows.query(&sql).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A customer's message taken from the queue, with what a decision on it needs to know.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub message: Message,
    /// Its contact; `None` only if the contact is gone (the message is then let go).
    pub contact: Option<Contact>,
    /// Its conversation as it is now (who handles it).
    pub conversation: Option<Conversation>,
}

/// An outgoing message sent lately to a contact: when, from which session, and what sent it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub contact_phone: String,
    pub session_id: String,
    pub metadata: MessageMetadata,
    pub created_at: i64,
}

/// A contact's opting out (or back in), decided on one of their messages.
#[derive(Debug, Clone)]
pub struct OptOutChange {
    pub organization_id: OrgId,
    pub contact_id: String,
    /// When they opted out; `None` when they opted back in.
    pub opted_out_at: Option<i64>,
    pub at: i64,
}

/// The decision on one queued message, to write.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// wasl's id of the customer's message, taken off the queue.
    pub message_id: String,
    pub answer: Option<NewMessage>,
    pub opt_out: Option<OptOutChange>,
}

/// What settling wrote: for each settlement its answer (when it had one: stored, or already
/// stored under its key) and the events to publish.
#[derive(Debug, Default)]
pub struct Settled {
    pub answers: Vec<Option<Recorded>>,
    pub events: Vec<StoredEvent>,
}

pub struct Automation<'a> {
    store: &'a Store,
}

impl Store {
    pub fn automation(&self) -> Automation<'_> {
        Automation { store: self }
    }
}

impl Automation<'_> {
    /// Takes up to `limit` queued messages (oldest first). On PostgreSQL, where several nodes
    /// share the queue (SPEC §19), they are held until `until` (rows another node is claiming
    /// are skipped, not waited for), and a node that dies lets them go when that time passes.
    /// A SQLite database has one wasl, with one worker: it reads the queue without writing, so
    /// that taking messages never waits behind the single writer.
    pub async fn claim(
        &self,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        let pool = &self.store.pool;
        let messages: Vec<Message> = match self.store.dialect {
            crate::Dialect::Sqlite => sqlx::query(&format!(
                "SELECT {MESSAGE_COLUMNS_M} FROM automation_queue q JOIN messages m ON m.id = q.message_id
                 ORDER BY q.created_at, q.message_id LIMIT $1"
            ))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
            .iter()
            .map(message)
            .collect::<Result<_, _>>()?,
            crate::Dialect::Postgres => {
                let mut w = self.store.begin_write().await?;
                let ids: Vec<String> = sqlx::query(
                    "UPDATE automation_queue SET claimed_until = $1
                     WHERE message_id IN (SELECT message_id FROM automation_queue WHERE claimed_until <= $2
                                          ORDER BY created_at, message_id LIMIT $3 FOR UPDATE SKIP LOCKED)
                     RETURNING message_id",
                )
                .bind(until)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *w.tx)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
                w.commit().await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut params = Params::new(self.store.dialect);
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({}) ORDER BY created_at, id",
                    params.texts(ids.iter().map(String::as_str))
                );
                params
                    .query(&sql)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(message)
                    .collect::<Result<_, _>>()?
            }
        };
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Params::new(self.store.dialect);
        let sql = format!(
            "SELECT {CONTACT_COLUMNS_BARE} FROM contacts WHERE id IN ({})",
            params.texts(messages.iter().map(|m| m.contact_id.as_str()))
        );
        let mut contacts = HashMap::new();
        for row in params.query(&sql).fetch_all(pool).await? {
            let c = contact(&row)?;
            contacts.insert(c.id.clone(), c);
        }
        let mut params = Params::new(self.store.dialect);
        let sql = format!(
            "SELECT {} FROM conversations v WHERE v.contact_id IN ({})",
            conversation_columns("v."),
            params.texts(messages.iter().map(|m| m.contact_id.as_str()))
        );
        let mut conversations = HashMap::new();
        for row in params.query(&sql).fetch_all(pool).await? {
            let c = conversation(&row)?;
            conversations.insert((c.session_id.as_str().to_owned(), c.contact_id.clone()), c);
        }
        let mut claimed = Vec::with_capacity(messages.len());
        for message in messages {
            let contact = contacts.get(&message.contact_id).cloned();
            let conversation = conversations
                .get(&(
                    message.session_id.as_str().to_owned(),
                    message.contact_id.clone(),
                ))
                .cloned();
            claimed.push(Claimed {
                message,
                contact,
                conversation,
            });
        }
        Ok(claimed)
    }

    /// The conversation of a contact on a session, as it is now.
    pub async fn conversation_of(
        &self,
        session_id: &str,
        contact_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        sqlx::query(&format!(
            "SELECT {} FROM conversations v WHERE v.session_id = $1 AND v.contact_id = $2",
            conversation_columns("v.")
        ))
        .bind(session_id)
        .bind(contact_id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(conversation)
        .transpose()
    }

    /// The outgoing messages sent to these contacts of the organization since `since`.
    pub async fn sent_since(
        &self,
        org: &OrgId,
        phones: &[&str],
        since: i64,
    ) -> Result<Vec<Sent>, StoreError> {
        if phones.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Params::new(self.store.dialect);
        let org = params.text(org.as_str());
        let list = params.texts(phones.iter().copied());
        let since = params.int(since);
        let sql = format!(
            "SELECT contact_phone, session_id, metadata, created_at FROM messages
             WHERE organization_id = {org} AND contact_phone IN ({list}) AND created_at >= {since}
               AND direction = 'outgoing'"
        );
        // No ORDER BY: sorted by time, SQLite would walk the organization's whole recent
        // history (every message of the hour) instead of each customer's own few.
        let mut sent = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(Sent {
                    contact_phone: row.try_get("contact_phone")?,
                    session_id: row.try_get("session_id")?,
                    metadata: row
                        .try_get::<Option<String>, _>("metadata")?
                        .map(|json| serde_json::from_str(&json))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))?
                        .unwrap_or_default(),
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        sent.sort_by_key(|s| s.created_at);
        Ok(sent)
    }

    /// Writes the decisions on a batch of queued messages in one transaction: their answers
    /// (each keyed, so an answer already stored is not stored again), the opt-outs with their
    /// `contact.updated`, and the messages off the queue. A crash before the commit leaves
    /// every message queued and nothing answered; after it, every answer is in the outbox.
    pub async fn settle(
        &self,
        settlements: &[Settlement],
        render: &dyn EventRenderer,
    ) -> Result<Settled, StoreError> {
        const ATTEMPTS: usize = 5;
        let mut attempt = 1;
        loop {
            match self.settle_once(settlements, render).await {
                Err(e) if e.is_deadlock() && attempt < ATTEMPTS => attempt += 1,
                result => return result,
            }
        }
    }

    async fn settle_once(
        &self,
        settlements: &[Settlement],
        render: &dyn EventRenderer,
    ) -> Result<Settled, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        let answers: Vec<NewMessage> = settlements
            .iter()
            .filter_map(|s| s.answer.clone())
            .collect();
        let recording = record_in_tx(tx, &answers, render).await?;
        let mut events = recording.events.clone();
        for change in settlements.iter().filter_map(|s| s.opt_out.as_ref()) {
            let row = sqlx::query(&format!(
                "UPDATE contacts SET opted_out_at = $1, updated_at = $2
                 WHERE organization_id = $3 AND id = $4 RETURNING {CONTACT_COLUMNS_BARE}"
            ))
            .bind(change.opted_out_at)
            .bind(change.at)
            .bind(change.organization_id.as_str())
            .bind(change.contact_id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(row) = row {
                let c = contact(&row)?;
                events.push(new_event(
                    &change.organization_id,
                    "contact.updated",
                    render.contact(&c),
                    change.at,
                ));
            }
        }
        for chunk in settlements.chunks(500) {
            let mut params = Params::new(self.store.dialect);
            let sql = format!(
                "DELETE FROM automation_queue WHERE message_id IN ({})",
                params.texts(chunk.iter().map(|s| s.message_id.as_str()))
            );
            params.query(&sql).execute(&mut **tx).await?;
        }
        insert_events(tx, &events).await?;
        w.commit().await?;
        let mut outcomes = recording.finish(&answers).into_iter();
        let answers = settlements
            .iter()
            .map(|s| {
                s.answer.as_ref()?;
                outcomes.next().as_ref().and_then(recorded)
            })
            .collect();
        Ok(Settled { answers, events })
    }

    /// How many customers' messages wait for automation (for `/metrics` and the tests).
    pub async fn waiting(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM automation_queue")
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?)
    }
}

/// What became of an answer: `Recorded` when this transaction stored it; `None` when its key
/// was taken already (stored by an earlier attempt).
pub(crate) fn recorded(outcome: &RecordOutcome) -> Option<Recorded> {
    match outcome {
        RecordOutcome::Stored(recorded) => Some((**recorded).clone()),
        RecordOutcome::Duplicate | RecordOutcome::IdempotencyTaken => None,
    }
}
