//! Storing messages in batches: many messages (incoming and accepted outgoing ones) share one
//! transaction and one multi-row statement per table — contacts, messages, conversations,
//! events and webhook deliveries — so the cost of a commit and of each statement is paid once
//! per batch instead of once per message. Each message's outcome is still its own: a
//! duplicate or a reused idempotency key never fails the others.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use wasl_domain::{Contact, Direction, Message, MessageStatus, OrgId, SessionId};

use crate::bulk::{batch_query, rows_per_statement, Binds, Rows, Ty};
use crate::contacts::{contact, search_text, CONTACT_COLUMNS_BARE};
use crate::events::{insert_events, new_event, EventRenderer, StoredEvent};
use crate::messages::{message, MESSAGE_COLUMNS};
use crate::Conflict;
use crate::{Recorded, Store, StoreError};

/// A message to store, with what its contact needs if it is new.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message: Message,
    /// The name the customer gave themselves on WhatsApp (incoming messages).
    pub push_name: Option<String>,
    /// The id the contact gets if this message creates it.
    pub new_contact_id: String,
    /// A digest of the request that sent this message with an `Idempotency-Key`: the key
    /// repeated with another request is refused instead of answered with this message.
    pub idempotency_fingerprint: Option<String>,
}

/// What became of one message of a batch.
#[derive(Debug, Clone)]
pub enum RecordOutcome {
    /// Stored, with its contact and the events written for it.
    Stored(Box<Recorded>),
    /// This WhatsApp id was already stored for the session: nothing was written.
    Duplicate,
    /// An outgoing message whose idempotency key was used before: nothing was written.
    IdempotencyTaken,
}

type ContactKey = (String, String);

/// What storing messages did to a contact. A message alone (its time) is not news about the
/// contact: `contact.updated` is for a change a CRM would want, here a name learned from the
/// customer's WhatsApp profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContactChange {
    Created,
    Named,
    None,
}

fn contact_key(m: &Message) -> ContactKey {
    (
        m.organization_id.as_str().to_owned(),
        m.contact_phone.clone(),
    )
}

/// Which message a status move is about.
#[derive(Debug, Clone)]
pub enum MessageRef {
    /// wasl's id, within the organization.
    Id { org: OrgId, id: String },
    /// WhatsApp's id, within the session (receipts name messages this way).
    WhatsApp {
        session: SessionId,
        message_id: String,
    },
}

/// A message's status moving forward (pending → sent → delivered → read, or pending → failed),
/// with the event that announces it.
#[derive(Debug, Clone)]
pub struct StatusMove {
    pub message: MessageRef,
    pub status: MessageStatus,
    pub at: i64,
    pub error: Option<String>,
    /// WhatsApp's id for the message, when the engine chose it on sending (Meta's `wamid`):
    /// the message takes it, and its receipts are matched by it from then on.
    pub assigned_id: Option<String>,
    pub event: &'static str,
}

impl StatusMove {
    /// The engine accepted the message.
    pub fn sent(org: &OrgId, id: &str, at: i64) -> Self {
        StatusMove {
            message: MessageRef::Id {
                org: org.clone(),
                id: id.to_owned(),
            },
            status: MessageStatus::Sent,
            at,
            error: None,
            assigned_id: None,
            event: "message.sent",
        }
    }

    /// The engine gave the message an id of its own when it accepted it.
    pub fn with_assigned_id(mut self, whatsapp_id: Option<String>) -> Self {
        self.assigned_id = whatsapp_id;
        self
    }

    /// The message can never be sent.
    pub fn failed(org: &OrgId, id: &str, error: &str, at: i64) -> Self {
        StatusMove {
            message: MessageRef::Id {
                org: org.clone(),
                id: id.to_owned(),
            },
            status: MessageStatus::Failed,
            at,
            error: Some(error.to_owned()),
            assigned_id: None,
            event: "message.status",
        }
    }

    /// WhatsApp reports the message delivered or read.
    pub fn receipt(session: &SessionId, message_id: &str, status: MessageStatus, at: i64) -> Self {
        StatusMove {
            message: MessageRef::WhatsApp {
                session: session.clone(),
                message_id: message_id.to_owned(),
            },
            status,
            at,
            error: None,
            assigned_id: None,
            event: "message.status",
        }
    }
}

/// A message after its status moved, with the events written for it.
pub type Moved = (Message, Vec<StoredEvent>);

/// What a batch wrote: one outcome per recorded message and per status move (`None` when the
/// move did not apply: unknown message, or not a step forward), in the batch's order.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub recorded: Vec<RecordOutcome>,
    pub moved: Vec<Option<Moved>>,
}

/// The recording half of a batch, before its events are written and the batch committed.
struct Recording {
    outcomes: Vec<Option<RecordOutcome>>,
    stored: Vec<usize>,
    contacts: HashMap<ContactKey, (Contact, ContactChange)>,
    events: Vec<StoredEvent>,
    owners: Vec<usize>,
}

impl Store {
    /// Stores a batch of messages in one transaction, each with its contact, conversation,
    /// events and webhook deliveries. Outcomes come back in the batch's order.
    pub async fn record_messages(
        &self,
        batch: &[NewMessage],
        render: &dyn EventRenderer,
    ) -> Result<Vec<RecordOutcome>, StoreError> {
        Ok(self.write_batch(batch, &[], render).await?.recorded)
    }

    /// Writes new messages and status moves in one transaction: one commit for all of them.
    pub async fn write_batch(
        &self,
        records: &[NewMessage],
        moves: &[StatusMove],
        render: &dyn EventRenderer,
    ) -> Result<BatchOutcome, StoreError> {
        let mut w = self.begin_write().await?;
        let tx = &mut w.tx;
        let mut recording = record_in_tx(tx, records, render).await?;
        // A receipt can overtake the outbox's own record of the send (the two are queued from
        // different tasks). A message delivered or read while still pending is first marked
        // sent, so its `message.sent` event is never skipped; the outbox's move then finds it
        // sent already and adds nothing.
        let receipts: Vec<usize> = (0..moves.len())
            .filter(|&i| {
                matches!(
                    moves[i].status,
                    MessageStatus::Delivered | MessageStatus::Read
                )
            })
            .collect();
        let all: Vec<StatusMove> = receipts
            .iter()
            .map(|&i| StatusMove {
                status: MessageStatus::Sent,
                error: None,
                assigned_id: None,
                event: "message.sent",
                ..moves[i].clone()
            })
            .chain(moves.iter().cloned())
            .collect();
        let results = move_all(tx, &all).await?;
        let (implied, results) = results.split_at(receipts.len());
        let mut move_events: Vec<Vec<StoredEvent>> = vec![Vec::new(); moves.len()];
        for (&i, result) in receipts.iter().zip(implied) {
            if let Some(message) = result {
                move_events[i].push(new_event(
                    &message.organization_id,
                    "message.sent",
                    render.message(message),
                    moves[i].at,
                ));
            }
        }
        let mut moved = Vec::with_capacity(moves.len());
        for ((change, result), events) in moves.iter().zip(results).zip(&mut move_events) {
            if let Some(message) = result {
                events.push(new_event(
                    &message.organization_id,
                    change.event,
                    render.message(message),
                    change.at,
                ));
            }
            moved.push(result.clone());
        }
        let written: Vec<StoredEvent> = recording
            .events
            .iter()
            .chain(move_events.iter().flatten())
            .cloned()
            .collect();
        if written.is_empty() && recording.stored.is_empty() && moved.iter().all(Option::is_none) {
            // Nothing changed (duplicates, moves that did not apply): nothing to commit.
            drop(w);
        } else {
            insert_events(tx, &written).await?;
            w.commit().await?;
        }

        let mut events_of: HashMap<usize, Vec<StoredEvent>> = HashMap::new();
        for (event, owner) in std::mem::take(&mut recording.events)
            .into_iter()
            .zip(std::mem::take(&mut recording.owners))
        {
            events_of.entry(owner).or_default().push(event);
        }
        for &i in &recording.stored {
            let mut message = records[i].message.clone();
            let (contact, _) = &recording.contacts[&contact_key(&message)];
            message.contact_id.clone_from(&contact.id);
            recording.outcomes[i] = Some(RecordOutcome::Stored(Box::new(Recorded {
                message,
                contact: contact.clone(),
                events: events_of.remove(&i).unwrap_or_default(),
            })));
        }
        Ok(BatchOutcome {
            recorded: recording
                .outcomes
                .into_iter()
                .map(|o| o.unwrap_or(RecordOutcome::Duplicate))
                .collect(),
            moved: moved
                .into_iter()
                .zip(move_events)
                .map(|(m, e)| m.map(|m| (m, e)))
                .collect(),
        })
    }

    /// Stores one message (see [`Store::record_messages`]). `Ok(None)` for a duplicate,
    /// `Conflict(IdempotencyKey)` when an outgoing message's key was used before.
    pub async fn record_message(
        &self,
        m: &Message,
        push_name: Option<&str>,
        new_contact_id: &str,
        render: &dyn EventRenderer,
    ) -> Result<Option<Recorded>, StoreError> {
        let item = NewMessage {
            message: m.clone(),
            push_name: push_name.map(str::to_owned),
            new_contact_id: new_contact_id.to_owned(),
            idempotency_fingerprint: None,
        };
        match self.record_messages(&[item], render).await?.pop() {
            Some(RecordOutcome::Stored(recorded)) => Ok(Some(*recorded)),
            Some(RecordOutcome::IdempotencyTaken) => {
                Err(StoreError::Conflict(Conflict::IdempotencyKey))
            }
            Some(RecordOutcome::Duplicate) | None => Ok(None),
        }
    }

    /// Moves one message's status (see [`StatusMove`]).
    pub async fn move_status(
        &self,
        change: StatusMove,
        render: &dyn EventRenderer,
    ) -> Result<Option<Moved>, StoreError> {
        Ok(self
            .write_batch(&[], std::slice::from_ref(&change), render)
            .await?
            .moved
            .pop()
            .flatten())
    }
}

async fn record_in_tx(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    render: &dyn EventRenderer,
) -> Result<Recording, StoreError> {
    let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; batch.len()];
    let mut recording = Recording {
        outcomes: Vec::new(),
        stored: Vec::new(),
        contacts: HashMap::new(),
        events: Vec::new(),
        owners: Vec::new(),
    };
    if batch.is_empty() {
        return Ok(recording);
    }
    let mut seen = HashSet::new();
    for (i, item) in batch.iter().enumerate() {
        let m = &item.message;
        if !seen.insert((m.session_id.as_str(), m.message_id.as_str())) {
            outcomes[i] = Some(RecordOutcome::Duplicate);
        }
    }
    let known = already_stored(tx, batch, &outcomes).await?;
    for (i, item) in batch.iter().enumerate() {
        let m = &item.message;
        if known.contains(&(m.session_id.as_str().to_owned(), m.message_id.clone())) {
            outcomes[i] = Some(RecordOutcome::Duplicate);
        }
    }
    let candidates: Vec<usize> = (0..batch.len())
        .filter(|&i| outcomes[i].is_none())
        .collect();
    if candidates.is_empty() {
        recording.outcomes = outcomes;
        return Ok(recording);
    }
    let contacts = upsert_contacts(tx, batch, &candidates).await?;
    let inserted = insert_messages(tx, batch, &candidates, &contacts).await?;
    let stored: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| inserted.contains(batch[i].message.id.as_str()))
        .collect();
    for &i in &candidates {
        if !inserted.contains(batch[i].message.id.as_str()) {
            outcomes[i] = Some(if batch[i].message.idempotency_key.is_some() {
                RecordOutcome::IdempotencyTaken
            } else {
                RecordOutcome::Duplicate
            });
        }
    }
    upsert_conversations(tx, batch, &stored, &contacts).await?;

    // Events: the contact's when it was created or named (once per contact per batch, with
    // its state after the batch) and `message.received` for each incoming message, given to
    // the first message that caused them so that each event is published exactly once.
    let mut announced = HashSet::new();
    for &i in &stored {
        let m = &batch[i].message;
        let key = contact_key(m);
        let (contact, change) = &contacts[&key];
        let kind = match change {
            ContactChange::Created => Some("contact.created"),
            ContactChange::Named => Some("contact.updated"),
            ContactChange::None => None,
        };
        if let Some(kind) = kind.filter(|_| announced.insert(key)) {
            recording.events.push(new_event(
                &m.organization_id,
                kind,
                render.contact(contact),
                m.created_at,
            ));
            recording.owners.push(i);
        }
        if m.direction == Direction::Incoming {
            let mut message = m.clone();
            message.contact_id.clone_from(&contact.id);
            recording.events.push(new_event(
                &m.organization_id,
                "message.received",
                render.message(&message),
                m.created_at,
            ));
            recording.owners.push(i);
        }
    }
    recording.outcomes = outcomes;
    recording.stored = stored;
    recording.contacts = contacts;
    Ok(recording)
}

/// Applies a batch's status moves with one statement per kind of move (sent, delivered, read,
/// failed; by wasl's id or by WhatsApp's), in that order, so a delivered and a read receipt
/// for one message in one batch both apply. Results come back in the moves' order; a message
/// moved twice the same way is reported moved once.
async fn move_all(
    tx: &mut Transaction<'static, Any>,
    moves: &[StatusMove],
) -> Result<Vec<Option<Message>>, StoreError> {
    let mut results: Vec<Option<Message>> = vec![None; moves.len()];
    if moves.len() == 1 {
        results[0] = move_in_tx(tx, &moves[0]).await?;
        return Ok(results);
    }
    for status in [
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
    ] {
        for by_id in [true, false] {
            let group: Vec<usize> = (0..moves.len())
                .filter(|&i| {
                    moves[i].status == status
                        && matches!(moves[i].message, MessageRef::Id { .. }) == by_id
                })
                .collect();
            if group.is_empty() {
                continue;
            }
            for chunk in group.chunks(1_000) {
                let updated = move_group(tx, moves, chunk, status, by_id).await?;
                for message in updated {
                    let found = chunk.iter().copied().find(|&i| {
                        results[i].is_none()
                            && match &moves[i].message {
                                MessageRef::Id { id, .. } => *id == message.id,
                                MessageRef::WhatsApp {
                                    session,
                                    message_id,
                                } => {
                                    *session == message.session_id
                                        && *message_id == message.message_id
                                }
                            }
                    });
                    if let Some(i) = found {
                        results[i] = Some(message);
                    }
                }
            }
        }
    }
    Ok(results)
}

/// One `UPDATE … FROM (VALUES …)` for moves of one kind. Only the values are bound; the
/// status and the statuses it may come from are this code's own words, written in the SQL.
async fn move_group(
    tx: &mut Transaction<'static, Any>,
    moves: &[StatusMove],
    chunk: &[usize],
    status: MessageStatus,
    by_id: bool,
) -> Result<Vec<Message>, StoreError> {
    let set = match status {
        MessageStatus::Sent => {
            "status = 'sent', sent_at = COALESCE(sent_at, v.column3), error_message = NULL,
             message_id = CASE WHEN v.column5 <> '' THEN v.column5 ELSE messages.message_id END"
        }
        MessageStatus::Delivered => {
            "status = 'delivered', sent_at = COALESCE(sent_at, v.column3),
             delivered_at = COALESCE(delivered_at, v.column3)"
        }
        MessageStatus::Read => {
            "status = 'read', sent_at = COALESCE(sent_at, v.column3),
             delivered_at = COALESCE(delivered_at, v.column3), read_at = v.column3"
        }
        MessageStatus::Failed => "status = 'failed', error_message = v.column4",
        MessageStatus::Pending => return Ok(Vec::new()),
    };
    // The statuses it may come from, by the one rule (`MessageStatus::can_move_to`).
    let allowed = status
        .moved_from()
        .map(|from| format!("'{}'", from.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let key = if by_id {
        "messages.organization_id = v.column1 AND messages.id = v.column2"
    } else {
        "messages.session_id = v.column1 AND messages.message_id = v.column2"
    };
    let sql = format!(
        "UPDATE messages SET {set}
         FROM (VALUES {}) AS v
         WHERE {key} AND messages.status IN ({allowed})
         RETURNING {MESSAGE_COLUMNS}",
        Binds::for_tx(tx).rows(chunk.len(), 5)
    );
    let mut query = batch_query(&sql);
    for &i in chunk {
        let change = &moves[i];
        let (a, b) = match &change.message {
            MessageRef::Id { org, id } => (org.as_str(), id.as_str()),
            MessageRef::WhatsApp {
                session,
                message_id,
            } => (session.as_str(), message_id.as_str()),
        };
        query = query
            .bind(a.to_owned())
            .bind(b.to_owned())
            .bind(change.at)
            .bind(change.error.clone().unwrap_or_default())
            .bind(change.assigned_id.clone().unwrap_or_default());
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(message)
        .collect()
}

/// Applies one status move; the message as it is afterwards, or `None` when the move does
/// not apply. Statuses only go forward: pending → sent → delivered → read, and failed only
/// from pending.
async fn move_in_tx(
    tx: &mut Transaction<'static, Any>,
    change: &StatusMove,
) -> Result<Option<Message>, StoreError> {
    let allowed: Vec<&str> = change
        .status
        .moved_from()
        .map(MessageStatus::as_str)
        .collect();
    if allowed.is_empty() {
        return Ok(None);
    }
    // Numbered placeholders are fine here: a handful of values, not a batch's worth.
    let which = match &change.message {
        MessageRef::Id { .. } => "organization_id = $4 AND id = $5",
        MessageRef::WhatsApp { .. } => "session_id = $4 AND message_id = $5",
    };
    let placeholders: Vec<String> = (0..allowed.len()).map(|i| format!("${}", i + 7)).collect();
    let sql = format!(
        "UPDATE messages SET status = $1,
            sent_at = CASE WHEN sent_at IS NULL AND $1 <> 'failed' THEN $2 ELSE sent_at END,
            delivered_at = CASE WHEN delivered_at IS NULL AND $1 IN ('delivered', 'read') THEN $2 ELSE delivered_at END,
            read_at = CASE WHEN $1 = 'read' THEN $2 ELSE read_at END,
            error_message = CASE WHEN $1 = 'failed' THEN $3 WHEN $1 = 'sent' THEN NULL ELSE error_message END,
            message_id = CASE WHEN $6 <> '' THEN $6 ELSE message_id END
         WHERE {which} AND status IN ({})
         RETURNING {MESSAGE_COLUMNS}",
        placeholders.join(", ")
    );
    let (key_a, key_b) = match &change.message {
        MessageRef::Id { org, id } => (org.as_str(), id.as_str()),
        MessageRef::WhatsApp {
            session,
            message_id,
        } => (session.as_str(), message_id.as_str()),
    };
    let mut query = sqlx::query(&sql)
        .bind(change.status.as_str())
        .bind(change.at)
        .bind(change.error.as_deref())
        .bind(key_a)
        .bind(key_b)
        .bind(change.assigned_id.clone().unwrap_or_default());
    for s in allowed {
        query = query.bind(s);
    }
    query
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(message)
        .transpose()
}

/// The (session, WhatsApp id) pairs of this batch's incoming messages that are already
/// stored, one indexed query per session. Outgoing messages carry ids chosen just now, so only
/// incoming ones (which WhatsApp may deliver again) are looked up.
async fn already_stored(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    outcomes: &[Option<RecordOutcome>],
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut by_session: HashMap<&str, Vec<&str>> = HashMap::new();
    for (item, outcome) in batch.iter().zip(outcomes) {
        let m = &item.message;
        if outcome.is_none() && m.direction == Direction::Incoming {
            by_session
                .entry(m.session_id.as_str())
                .or_default()
                .push(m.message_id.as_str());
        }
    }
    let mut known = HashSet::new();
    for (session, ids) in by_session {
        for chunk in ids.chunks(rows_per_statement(1) - 1) {
            let mut binds = Binds::for_tx(tx);
            let sql = format!(
                "SELECT message_id FROM messages WHERE session_id = {} AND message_id IN ({})",
                binds.one(),
                binds.list(chunk.len())
            );
            let mut query = batch_query(&sql).bind(session);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut **tx).await? {
                known.insert((session.to_owned(), row.try_get::<String, _>(0)?));
            }
        }
    }
    Ok(known)
}

/// Makes sure every contact of the batch exists and notes its latest message time; a push
/// name fills an empty name but never replaces one a person chose. Rows go in a fixed order
/// so concurrent batches on PostgreSQL lock contacts in the same order.
async fn upsert_contacts(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    candidates: &[usize],
) -> Result<HashMap<ContactKey, (Contact, ContactChange)>, StoreError> {
    struct Touch<'a> {
        new_id: &'a str,
        push_name: Option<&'a str>,
        at: i64,
    }
    let mut touches: std::collections::BTreeMap<ContactKey, Touch> = Default::default();
    for &i in candidates {
        let item = &batch[i];
        let m = &item.message;
        let touch = touches.entry(contact_key(m)).or_insert(Touch {
            new_id: &item.new_contact_id,
            push_name: None,
            at: m.created_at,
        });
        touch.at = touch.at.max(m.created_at);
        if touch.push_name.is_none() {
            touch.push_name = item.push_name.as_deref();
        }
    }
    let touches: Vec<(ContactKey, Touch)> = touches.into_iter().collect();
    const COLUMNS: &[(&str, Ty)] = &[
        ("id", Ty::Text),
        ("organization_id", Ty::Text),
        ("phone_number", Ty::Text),
        ("name", Ty::Text),
        ("search_text", Ty::Text),
        ("created_at", Ty::Int),
        ("updated_at", Ty::Int),
        ("last_message_at", Ty::Int),
    ];
    let mut contacts = HashMap::with_capacity(touches.len());
    for chunk in touches.chunks(rows_per_statement(COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, COLUMNS);
        for ((org, phone), touch) in chunk {
            rows.text(touch.new_id)
                .text(org.as_str())
                .text(phone.as_str())
                .text(touch.push_name)
                .text(search_text(touch.push_name, phone, &[]))
                .int(touch.at)
                .int(touch.at)
                .int(touch.at);
        }
        let sql = format!(
            "INSERT INTO contacts AS c (id, organization_id, phone_number, name, search_text, created_at, updated_at, last_message_at)
             {}
             ON CONFLICT (organization_id, phone_number) DO UPDATE SET
                last_message_at = CASE WHEN c.last_message_at IS NULL OR c.last_message_at < excluded.last_message_at
                                       THEN excluded.last_message_at ELSE c.last_message_at END,
                name = COALESCE(c.name, excluded.name),
                search_text = CASE WHEN c.name IS NULL AND excluded.name IS NOT NULL
                                   THEN excluded.search_text || ' ' || c.search_text ELSE c.search_text END,
                updated_at = CASE WHEN c.name IS NULL AND excluded.name IS NOT NULL
                                  THEN excluded.updated_at ELSE c.updated_at END
             RETURNING {CONTACT_COLUMNS_BARE}",
            rows.source().0
        );
        let query = rows.query(&sql);
        for row in query.fetch_all(&mut **tx).await? {
            let contact = contact(&row)?;
            let key = (
                contact.organization_id.as_str().to_owned(),
                contact.phone_number.clone(),
            );
            let change = match touches.binary_search_by(|(k, _)| k.cmp(&key)) {
                Ok(at) if touches[at].1.new_id == contact.id => ContactChange::Created,
                // `updated_at` moves only when the push name filled an empty name.
                Ok(at)
                    if contact.updated_at == touches[at].1.at
                        && contact.name.as_deref() == touches[at].1.push_name =>
                {
                    ContactChange::Named
                }
                _ => ContactChange::None,
            };
            contacts.insert(key, (contact, change));
        }
    }
    Ok(contacts)
}

/// Inserts the messages; returns the ids actually inserted. `ON CONFLICT DO NOTHING` without
/// a target covers both unique keys: a WhatsApp id seen before and an idempotency key used
/// before (which the caller tells apart by the key).
async fn insert_messages(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    candidates: &[usize],
    contacts: &HashMap<ContactKey, (Contact, ContactChange)>,
) -> Result<HashSet<String>, StoreError> {
    const COLUMNS: &[(&str, Ty)] = &[
        ("id", Ty::Text),
        ("organization_id", Ty::Text),
        ("session_id", Ty::Text),
        ("message_id", Ty::Text),
        ("contact_id", Ty::Text),
        ("contact_phone", Ty::Text),
        ("from_number", Ty::Text),
        ("to_number", Ty::Text),
        ("direction", Ty::Text),
        ("type", Ty::Text),
        ("text", Ty::Text),
        ("caption", Ty::Text),
        ("media_path", Ty::Text),
        ("mime_type", Ty::Text),
        ("filename", Ty::Text),
        ("media_size", Ty::Int),
        ("ptt", Ty::Int),
        ("status", Ty::Text),
        ("sent_at", Ty::Int),
        ("delivered_at", Ty::Int),
        ("read_at", Ty::Int),
        ("error_message", Ty::Text),
        ("idempotency_key", Ty::Text),
        ("attempts", Ty::Int),
        ("related_user", Ty::Text),
        ("created_at", Ty::Int),
        ("idempotency_fingerprint", Ty::Text),
    ];
    let mut inserted = HashSet::with_capacity(candidates.len());
    for chunk in candidates.chunks(rows_per_statement(COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, COLUMNS);
        for &i in chunk {
            let m = &batch[i].message;
            let contact_id = contacts
                .get(&contact_key(m))
                .map(|(c, _)| c.id.as_str())
                .ok_or_else(|| StoreError::Corrupt("a message's contact was not stored".into()))?;
            rows.text(m.id.as_str())
                .text(m.organization_id.as_str())
                .text(m.session_id.as_str())
                .text(m.message_id.as_str())
                .text(contact_id)
                .text(m.contact_phone.as_str())
                .text(m.from.as_str())
                .text(m.to.as_str())
                .text(m.direction.as_str())
                .text(m.kind.as_str())
                .text(m.text.as_deref())
                .text(m.caption.as_deref())
                .text(m.media_path.as_deref())
                .text(m.mime_type.as_deref())
                .text(m.filename.as_deref())
                .int(m.media_size)
                .int(i64::from(m.ptt))
                .text(m.status.as_str())
                .int(m.sent_at)
                .int(m.delivered_at)
                .int(m.read_at)
                .text(m.error_message.as_deref())
                .text(m.idempotency_key.as_deref())
                .int(m.attempts)
                .text(m.related_user.as_deref())
                .int(m.created_at)
                .text(batch[i].idempotency_fingerprint.as_deref());
        }
        let sql = format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}, idempotency_fingerprint) {} ON CONFLICT DO NOTHING RETURNING id",
            rows.source().0
        );
        let query = rows.query(&sql);
        for row in query.fetch_all(&mut **tx).await? {
            inserted.insert(row.try_get::<String, _>(0)?);
        }
    }
    Ok(inserted)
}

/// Moves each conversation's last message and its counters (unread, and messages by
/// direction, which listings use for their totals).
async fn upsert_conversations(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    stored: &[usize],
    contacts: &HashMap<ContactKey, (Contact, ContactChange)>,
) -> Result<(), StoreError> {
    #[derive(Default)]
    struct Tally<'a> {
        organization_id: &'a str,
        last_id: &'a str,
        last_at: i64,
        incoming: i64,
        outgoing: i64,
    }
    let mut tallies: std::collections::BTreeMap<(&str, &str), Tally> = Default::default();
    for &i in stored {
        let m = &batch[i].message;
        let Some((contact, _)) = contacts.get(&contact_key(m)) else {
            continue;
        };
        let tally = tallies
            .entry((m.session_id.as_str(), contact.id.as_str()))
            .or_default();
        tally.organization_id = m.organization_id.as_str();
        if tally.last_id.is_empty() || m.created_at >= tally.last_at {
            tally.last_id = &m.id;
            tally.last_at = m.created_at;
        }
        match m.direction {
            Direction::Incoming => tally.incoming += 1,
            Direction::Outgoing => tally.outgoing += 1,
        }
    }
    let tallies: Vec<_> = tallies.into_iter().collect();
    const COLUMNS: &[(&str, Ty)] = &[
        ("organization_id", Ty::Text),
        ("session_id", Ty::Text),
        ("contact_id", Ty::Text),
        ("last_message_id", Ty::Text),
        ("last_message_at", Ty::Int),
        ("unread_count", Ty::Int),
        ("incoming_count", Ty::Int),
        ("outgoing_count", Ty::Int),
    ];
    for chunk in tallies.chunks(rows_per_statement(COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, COLUMNS);
        for ((session, contact), tally) in chunk {
            rows.text(tally.organization_id)
                .text(*session)
                .text(*contact)
                .text(tally.last_id)
                .int(tally.last_at)
                .int(tally.incoming)
                .int(tally.incoming)
                .int(tally.outgoing);
        }
        let sql = format!(
            "INSERT INTO conversations (organization_id, session_id, contact_id, last_message_id, last_message_at,
                                        unread_count, incoming_count, outgoing_count)
             {}
             ON CONFLICT (session_id, contact_id) DO UPDATE SET
                last_message_id = CASE WHEN conversations.last_message_at <= excluded.last_message_at
                                       THEN excluded.last_message_id ELSE conversations.last_message_id END,
                last_message_at = CASE WHEN conversations.last_message_at <= excluded.last_message_at
                                       THEN excluded.last_message_at ELSE conversations.last_message_at END,
                unread_count = conversations.unread_count + excluded.unread_count,
                incoming_count = conversations.incoming_count + excluded.incoming_count,
                outgoing_count = conversations.outgoing_count + excluded.outgoing_count",
            rows.source().0
        );
        let query = rows.query(&sql);
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
