//! The conversations of a batch. Each existing conversation is read (and on PostgreSQL
//! locked) first, its messages of the batch are applied in time order by the domain's rule
//! ([`Conversation::record`]), and the result is written back: one statement for those that
//! changed, one for those the batch starts. What a batch did to each conversation (started
//! it, reopened it) is returned for its events.

use std::collections::{BTreeMap, HashMap};

use sqlx::{Any, Row, Transaction};
use wasl_domain::{Contact, Conversation, Direction, Message};

use super::{contact_key, ContactChange, ContactKey, NewMessage};
use crate::bulk::{batch_query, rows_per_statement, Binds, Rows, Ty};
use crate::conversations::{conversation, conversation_columns};
use crate::StoreError;

/// (session id, contact id).
pub(super) type ConversationKey = (String, String);

/// What a batch did to a conversation, for its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// Its first message: `conversation.created`.
    Started,
    /// A customer's message opened it again: `conversation.updated`.
    Reopened,
    /// More messages, same status: no event of its own.
    Continued,
}

/// A conversation as stored, with the per-direction counts listings use for their totals.
struct Counted {
    conversation: Conversation,
    incoming: i64,
    outgoing: i64,
}

/// Applies the stored messages of the batch to their conversations.
pub(super) async fn upsert_conversations(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    stored: &[usize],
    contacts: &HashMap<ContactKey, (Contact, ContactChange)>,
) -> Result<HashMap<ConversationKey, (Conversation, Effect)>, StoreError> {
    // The batch's messages per conversation, in time order (a batch may hold them out of it).
    let mut groups: BTreeMap<ConversationKey, Vec<&Message>> = BTreeMap::new();
    for &i in stored {
        let m = &batch[i].message;
        if let Some((contact, _)) = contacts.get(&contact_key(m)) {
            groups
                .entry((m.session_id.as_str().to_owned(), contact.id.clone()))
                .or_default()
                .push(m);
        }
    }
    for messages in groups.values_mut() {
        messages.sort_by_key(|m| m.created_at);
    }
    let mut existing = existing(tx, groups.keys()).await?;

    let mut changed: Vec<Counted> = Vec::new();
    let mut started: Vec<Counted> = Vec::new();
    let mut effects: HashMap<ConversationKey, (Conversation, Effect)> = HashMap::new();
    for (key, messages) in groups {
        let counts = |messages: &[&Message]| {
            let incoming = messages
                .iter()
                .filter(|m| m.direction == Direction::Incoming)
                .count() as i64;
            (incoming, messages.len() as i64 - incoming)
        };
        let (incoming, outgoing) = counts(&messages);
        match existing.remove(&key) {
            Some(mut current) => {
                let mut reopened = false;
                for m in &messages {
                    reopened |= current.conversation.record(m);
                }
                current.incoming += incoming;
                current.outgoing += outgoing;
                let effect = if reopened {
                    Effect::Reopened
                } else {
                    Effect::Continued
                };
                effects.insert(key, (current.conversation.clone(), effect));
                changed.push(current);
            }
            None => {
                let Some((first, rest)) = messages.split_first() else {
                    continue;
                };
                let mut conversation = Conversation::started(uuid_v7(), first);
                conversation.contact_id.clone_from(&key.1);
                for m in rest {
                    conversation.record(m);
                }
                started.push(Counted {
                    conversation,
                    incoming,
                    outgoing,
                });
            }
        }
    }
    write_changed(tx, &changed).await?;
    for (conversation, created) in insert_started(tx, &started).await? {
        let key = (
            conversation.session_id.as_str().to_owned(),
            conversation.contact_id.clone(),
        );
        let effect = if created {
            Effect::Started
        } else {
            Effect::Continued
        };
        effects.insert(key, (conversation, effect));
    }
    Ok(effects)
}

/// The stored conversations of these keys, locked until the transaction ends on PostgreSQL
/// (SQLite writes one transaction at a time). Keys are read in order, so two batches lock
/// the rows they share in the same order.
async fn existing<'a>(
    tx: &mut Transaction<'static, Any>,
    keys: impl Iterator<Item = &'a ConversationKey>,
) -> Result<HashMap<ConversationKey, Counted>, StoreError> {
    let mut by_session: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (session, contact) in keys {
        by_session.entry(session).or_default().push(contact);
    }
    let dialect = Binds::for_tx(tx).dialect();
    let mut found = HashMap::new();
    for (session, contacts) in by_session {
        for chunk in contacts.chunks(rows_per_statement(1) - 1) {
            let mut binds = Binds::for_tx(tx);
            let sql = format!(
                "SELECT {}, v.incoming_count AS v_incoming_count, v.outgoing_count AS v_outgoing_count
                 FROM conversations v WHERE v.session_id = {} AND v.contact_id IN ({})
                 ORDER BY v.contact_id{}",
                conversation_columns("v."),
                binds.one(),
                binds.list(chunk.len()),
                dialect.lock_rows()
            );
            let mut query = batch_query(&sql).bind(session);
            for contact in chunk {
                query = query.bind(*contact);
            }
            for row in query.fetch_all(&mut **tx).await? {
                let conversation = conversation(&row)?;
                found.insert(
                    (
                        conversation.session_id.as_str().to_owned(),
                        conversation.contact_id.clone(),
                    ),
                    Counted {
                        conversation,
                        incoming: row.try_get("v_incoming_count")?,
                        outgoing: row.try_get("v_outgoing_count")?,
                    },
                );
            }
        }
    }
    Ok(found)
}

/// Writes back the conversations the batch continued or reopened, whole: they were read
/// under lock in this transaction, so what is written is what they now are.
async fn write_changed(
    tx: &mut Transaction<'static, Any>,
    changed: &[Counted],
) -> Result<(), StoreError> {
    const WIDTH: usize = 11;
    for chunk in changed.chunks(rows_per_statement(WIDTH)) {
        let sql = format!(
            "UPDATE conversations SET status = v.column2, unread_count = v.column3,
                last_message_id = v.column4, last_message_at = v.column5, waiting_since = v.column6,
                first_response_at = v.column7, resolved_at = v.column8, updated_at = v.column9,
                incoming_count = v.column10, outgoing_count = v.column11
             FROM (VALUES {}) AS v
             WHERE conversations.id = v.column1",
            Binds::for_tx(tx).rows(chunk.len(), WIDTH)
        );
        let mut query = batch_query(&sql);
        for c in chunk {
            let v = &c.conversation;
            query = query
                .bind(v.id.clone())
                .bind(v.status.as_str())
                .bind(v.unread_count)
                .bind(v.last_message_id.clone())
                .bind(v.last_message_at)
                .bind(v.waiting_since)
                .bind(v.first_response_at)
                .bind(v.resolved_at)
                .bind(v.updated_at)
                .bind(c.incoming)
                .bind(c.outgoing);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts the conversations the batch starts. Another transaction may have started the same
/// one meanwhile (PostgreSQL, two batches for a new contact): the batch's messages are then
/// added to it as counts, and it is not reported as started. Returns each conversation as
/// stored, and whether this batch created it.
async fn insert_started(
    tx: &mut Transaction<'static, Any>,
    started: &[Counted],
) -> Result<Vec<(Conversation, bool)>, StoreError> {
    const COLUMNS: &[(&str, Ty)] = &[
        ("id", Ty::Text),
        ("organization_id", Ty::Text),
        ("session_id", Ty::Text),
        ("contact_id", Ty::Text),
        ("status", Ty::Text),
        ("unread_count", Ty::Int),
        ("last_message_id", Ty::Text),
        ("last_message_at", Ty::Int),
        ("incoming_count", Ty::Int),
        ("outgoing_count", Ty::Int),
        ("waiting_since", Ty::Int),
        ("first_response_at", Ty::Int),
        ("created_at", Ty::Int),
        ("updated_at", Ty::Int),
    ];
    let proposed: std::collections::HashSet<&str> =
        started.iter().map(|c| c.conversation.id.as_str()).collect();
    let mut stored = Vec::with_capacity(started.len());
    for chunk in started.chunks(rows_per_statement(COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, COLUMNS);
        for c in chunk {
            let v = &c.conversation;
            rows.text(v.id.as_str())
                .text(v.organization_id.as_str())
                .text(v.session_id.as_str())
                .text(v.contact_id.as_str())
                .text(v.status.as_str())
                .int(v.unread_count)
                .text(v.last_message_id.as_str())
                .int(v.last_message_at)
                .int(c.incoming)
                .int(c.outgoing)
                .int(v.waiting_since)
                .int(v.first_response_at)
                .int(v.created_at)
                .int(v.updated_at);
        }
        let columns: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
        let sql = format!(
            "INSERT INTO conversations ({})
             {}
             ON CONFLICT (session_id, contact_id) DO UPDATE SET
                last_message_id = CASE WHEN conversations.last_message_at <= excluded.last_message_at
                                       THEN excluded.last_message_id ELSE conversations.last_message_id END,
                last_message_at = CASE WHEN conversations.last_message_at <= excluded.last_message_at
                                       THEN excluded.last_message_at ELSE conversations.last_message_at END,
                unread_count = conversations.unread_count + excluded.unread_count,
                incoming_count = conversations.incoming_count + excluded.incoming_count,
                outgoing_count = conversations.outgoing_count + excluded.outgoing_count,
                status = CASE WHEN conversations.status = 'resolved' AND excluded.incoming_count > 0
                              THEN 'open' ELSE conversations.status END,
                resolved_at = CASE WHEN conversations.status = 'resolved' AND excluded.incoming_count > 0
                                   THEN NULL ELSE conversations.resolved_at END,
                waiting_since = CASE WHEN conversations.waiting_since IS NULL THEN excluded.waiting_since
                                     WHEN excluded.waiting_since IS NULL THEN conversations.waiting_since
                                     WHEN excluded.waiting_since < conversations.waiting_since
                                     THEN excluded.waiting_since ELSE conversations.waiting_since END,
                updated_at = CASE WHEN excluded.updated_at > conversations.updated_at
                                  THEN excluded.updated_at ELSE conversations.updated_at END
             RETURNING {}",
            columns.join(", "),
            rows.source().0,
            conversation_columns("")
        );
        for row in rows.query(&sql).fetch_all(&mut **tx).await? {
            let conversation = conversation(&row)?;
            let created = proposed.contains(conversation.id.as_str());
            stored.push((conversation, created));
        }
    }
    Ok(stored)
}

/// A time-ordered id like every other id wasl makes (UUID v7 layout), without a UUID crate in
/// the store: 48 bits of milliseconds, then random bits with the version and variant set.
fn uuid_v7() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = crate::rows::now_millis() as u64 & 0xFFFF_FFFF_FFFF;
    let random = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now);
        h.write_u64(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        h.finish()
    };
    let (a, b) = (random(), random());
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        now >> 16,
        now & 0xFFFF,
        a & 0xFFF,
        0x8000 | ((a >> 12) & 0x3FFF),
        b & 0xFFFF_FFFF_FFFF
    )
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    #[test]
    fn conversation_ids_look_like_uuid_v7_and_differ() {
        let a = super::uuid_v7();
        let b = super::uuid_v7();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "7");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
