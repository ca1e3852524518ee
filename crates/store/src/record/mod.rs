//! Storing messages in batches: many messages (incoming and accepted outgoing ones) share one
//! transaction and one multi-row statement per table — contacts, messages, conversations,
//! events and webhook deliveries — so the cost of a commit and of each statement is paid once
//! per batch instead of once per message. Each message's outcome is still its own: a
//! duplicate or a reused idempotency key never fails the others.

mod contacts;
mod conversations;
mod messages;
mod moves;
mod stored;

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Transaction};
use wasl_domain::{
    Contact, ConversationOverview, Direction, Message, MessageStatus, OrgId, SessionId,
};

use crate::events::{insert_events, new_event, EventRenderer, StoredEvent};
use crate::messages::Messages;
use crate::{Recorded, StoreError};
use contacts::upsert_contacts;
use conversations::{upsert_conversations, Effect};
use messages::insert_messages;
use moves::move_all;
use stored::read_stored;

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
pub(crate) struct Recording {
    outcomes: Vec<Option<RecordOutcome>>,
    stored: Vec<usize>,
    contacts: HashMap<ContactKey, (Contact, ContactChange)>,
    /// The events to write with the batch, each owned by the message that caused it.
    pub(crate) events: Vec<StoredEvent>,
    owners: Vec<usize>,
}

impl Recording {
    /// Each message's outcome once the batch is committed, in the batch's order, each stored
    /// one with its contact and its own events.
    pub(crate) fn finish(mut self, records: &[NewMessage]) -> Vec<RecordOutcome> {
        let mut events_of: HashMap<usize, Vec<StoredEvent>> = HashMap::new();
        for (event, owner) in std::mem::take(&mut self.events)
            .into_iter()
            .zip(std::mem::take(&mut self.owners))
        {
            events_of.entry(owner).or_default().push(event);
        }
        for &i in &self.stored {
            let mut message = records[i].message.clone();
            let (contact, _) = &self.contacts[&contact_key(&message)];
            message.contact_id.clone_from(&contact.id);
            self.outcomes[i] = Some(RecordOutcome::Stored(Box::new(Recorded {
                message,
                contact: contact.clone(),
                events: events_of.remove(&i).unwrap_or_default(),
            })));
        }
        self.outcomes
            .into_iter()
            .map(|o| o.unwrap_or(RecordOutcome::Duplicate))
            .collect()
    }
}

impl Messages<'_> {
    /// Stores a batch of messages in one transaction, each with its contact, conversation,
    /// events and webhook deliveries. Outcomes come back in the batch's order.
    pub async fn record(
        &self,
        batch: &[NewMessage],
        render: &dyn EventRenderer,
    ) -> Result<Vec<RecordOutcome>, StoreError> {
        Ok(self.write_batch(batch, &[], render).await?.recorded)
    }

    /// Writes new messages and status moves in one transaction: one commit for all of them.
    ///
    /// On PostgreSQL, batches written side by side may lock the same rows (a contact, its
    /// conversation, an idempotency key) in different orders; the database then ends one of
    /// them with a deadlock, having written nothing of it, and the batch is simply written
    /// again (a few times, then the error is the caller's).
    pub async fn write_batch(
        &self,
        records: &[NewMessage],
        moves: &[StatusMove],
        render: &dyn EventRenderer,
    ) -> Result<BatchOutcome, StoreError> {
        const ATTEMPTS: usize = 5;
        let mut attempt = 1;
        loop {
            match self.write_batch_once(records, moves, render).await {
                Err(e) if e.is_deadlock() && attempt < ATTEMPTS => attempt += 1,
                result => return result,
            }
        }
    }

    async fn write_batch_once(
        &self,
        records: &[NewMessage],
        moves: &[StatusMove],
        render: &dyn EventRenderer,
    ) -> Result<BatchOutcome, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        let recording = record_in_tx(tx, records, render).await?;
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

        Ok(BatchOutcome {
            recorded: recording.finish(records),
            moved: moved
                .into_iter()
                .zip(move_events)
                .map(|(m, e)| m.map(|m| (m, e)))
                .collect(),
        })
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

pub(crate) async fn record_in_tx(
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
    let found = read_stored(tx, batch, &outcomes).await?;
    for (i, item) in batch.iter().enumerate() {
        let m = &item.message;
        if found
            .messages
            .contains(&(m.session_id.as_str().to_owned(), m.message_id.clone()))
        {
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
    let conversations =
        upsert_conversations(tx, batch, &stored, &contacts, found.conversations).await?;
    let incoming: Vec<&Message> = stored
        .iter()
        .map(|&i| &batch[i].message)
        .filter(|m| m.direction == Direction::Incoming)
        .collect();
    crate::automation::enqueue(tx, &incoming).await?;

    // Events: the contact's when it was created or named (once per contact per batch, with
    // its state after the batch), the conversation's when the batch started or reopened it
    // (likewise), and `message.received` for each incoming message, given to the first
    // message that caused them so that each event is published exactly once.
    let by_id: HashMap<&str, usize> = stored
        .iter()
        .map(|&i| (batch[i].message.id.as_str(), i))
        .collect();
    let mut announced = HashSet::new();
    let mut conversations_announced = HashSet::new();
    for &i in &stored {
        let m = &batch[i].message;
        let key = contact_key(m);
        let (contact, change) = &contacts[&key];
        let conversation_key = (m.session_id.as_str().to_owned(), contact.id.clone());
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
        if let Some((conversation, effect)) = conversations.get(&conversation_key) {
            let kind = match effect {
                Effect::Started => Some("conversation.created"),
                Effect::Reopened => Some("conversation.updated"),
                Effect::Continued => None,
            };
            if let Some(kind) = kind.filter(|_| conversations_announced.insert(conversation_key)) {
                // Its last message is one of this batch's (the batch started or reopened it).
                let last = by_id
                    .get(conversation.last_message_id.as_str())
                    .map_or(m, |&j| &batch[j].message);
                let mut last_message = last.clone();
                last_message.contact_id.clone_from(&contact.id);
                let overview = ConversationOverview {
                    conversation: conversation.clone(),
                    contact: contact.clone(),
                    last_message,
                };
                recording.events.push(new_event(
                    &m.organization_id,
                    kind,
                    render.conversation(&overview),
                    m.created_at,
                ));
                recording.owners.push(i);
            }
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
