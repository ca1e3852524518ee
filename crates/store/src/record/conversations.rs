//! The conversations of a batch. Each existing conversation is read (and on PostgreSQL
//! locked) first, its messages of the batch are applied in time order by the domain's rule
//! ([`Conversation::record`]), and the result is written back with the ones the batch starts,
//! in one statement. What a batch did to each conversation (started
//! it, reopened it) is returned for its events.

use std::collections::{BTreeMap, HashMap};

use sqlx::{Any, Transaction};
use wasl_domain::{Contact, Conversation, Direction, Message};

use super::{contact_key, ContactChange, ContactKey, NewMessage};
use crate::conversations::{conversation, conversation_columns};
use crate::sql::{rows_per_statement, Rows, Ty};
use crate::{Dialect, StoreError};

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
pub(super) struct Counted {
    pub(super) conversation: Conversation,
    pub(super) incoming: i64,
    pub(super) outgoing: i64,
}

/// Applies the stored messages of the batch to their conversations.
pub(super) async fn upsert_conversations(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    stored: &[usize],
    contacts: &HashMap<ContactKey, (Contact, ContactChange)>,
    mut existing: HashMap<ConversationKey, Counted>,
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
    // Continued and reopened conversations first, then the ones the batch starts: one write.
    let mut written: Vec<Counted> = Vec::new();
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
                written.push(current);
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
    written.append(&mut started);
    for (conversation, created) in write_conversations(tx, &written).await? {
        let key = (
            conversation.session_id.as_str().to_owned(),
            conversation.contact_id.clone(),
        );
        match effects.get_mut(&key) {
            // Continued or reopened: the effect was known when it was read.
            Some((known, _)) => *known = conversation,
            None => {
                let effect = if created {
                    Effect::Started
                } else {
                    Effect::Continued
                };
                effects.insert(key, (conversation, effect));
            }
        }
    }
    Ok(effects)
}

/// Writes the conversations of the batch in one statement: those it continued or reopened
/// (read under lock in this transaction, so what is written is what they now are) and those
/// it starts. Another transaction may have started the same conversation meanwhile
/// (PostgreSQL, two batches for a new contact): the row it wrote keeps its id and gets this
/// batch's messages added as counts. Each comes back as stored, with whether this batch
/// created it.
async fn write_conversations(
    tx: &mut Transaction<'static, Any>,
    conversations: &[Counted],
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
        ("resolved_at", Ty::Int),
        ("created_at", Ty::Int),
        ("updated_at", Ty::Int),
    ];
    let new_ids: std::collections::HashSet<&str> = conversations
        .iter()
        .map(|c| c.conversation.id.as_str())
        .collect();
    // Only PostgreSQL runs write transactions side by side, so only there can another batch
    // have started a conversation since this one read: SQLite's rows are what was computed,
    // and reading them back would only cost time.
    let racing = Dialect::of(tx) == Dialect::Postgres;
    let mut stored = Vec::new();
    for chunk in conversations.chunks(rows_per_statement(COLUMNS.len())) {
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
                .int(v.resolved_at)
                .int(v.created_at)
                .int(v.updated_at);
        }
        let columns: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
        // `same`: the row is the one this batch read and worked out, its values are final.
        // Otherwise another batch started it first, and this batch's messages are merged in.
        let same = "excluded.id = conversations.id";
        let later = "conversations.last_message_at <= excluded.last_message_at";
        let reopens = "conversations.status = 'resolved' AND excluded.incoming_count > 0";
        let sql = format!(
            "INSERT INTO conversations ({columns})
             {source}
             ON CONFLICT (session_id, contact_id) DO UPDATE SET
                status = CASE WHEN {same} THEN excluded.status
                              WHEN {reopens} THEN 'open' ELSE conversations.status END,
                resolved_at = CASE WHEN {same} THEN excluded.resolved_at
                                   WHEN {reopens} THEN NULL ELSE conversations.resolved_at END,
                first_response_at = CASE WHEN {same} THEN excluded.first_response_at
                                         ELSE conversations.first_response_at END,
                last_message_id = CASE WHEN {same} OR {later}
                                       THEN excluded.last_message_id ELSE conversations.last_message_id END,
                last_message_at = CASE WHEN {same} OR {later}
                                       THEN excluded.last_message_at ELSE conversations.last_message_at END,
                unread_count = CASE WHEN {same} THEN excluded.unread_count
                                    ELSE conversations.unread_count + excluded.unread_count END,
                incoming_count = CASE WHEN {same} THEN excluded.incoming_count
                                      ELSE conversations.incoming_count + excluded.incoming_count END,
                outgoing_count = CASE WHEN {same} THEN excluded.outgoing_count
                                      ELSE conversations.outgoing_count + excluded.outgoing_count END,
                waiting_since = CASE WHEN {same} OR conversations.waiting_since IS NULL
                                     THEN excluded.waiting_since
                                     WHEN excluded.waiting_since IS NULL THEN conversations.waiting_since
                                     WHEN excluded.waiting_since < conversations.waiting_since
                                     THEN excluded.waiting_since ELSE conversations.waiting_since END,
                updated_at = CASE WHEN {same} OR excluded.updated_at > conversations.updated_at
                                  THEN excluded.updated_at ELSE conversations.updated_at END
             {returning}",
            columns = columns.join(", "),
            source = rows.source().0,
            returning = if racing {
                format!("RETURNING {}", conversation_columns(""))
            } else {
                String::new()
            },
        );
        if !racing {
            rows.query(&sql).execute(&mut **tx).await?;
            stored.extend(chunk.iter().map(|c| (c.conversation.clone(), true)));
            continue;
        }
        for row in rows.query(&sql).fetch_all(&mut **tx).await? {
            let conversation = conversation(&row)?;
            let created = new_ids.contains(conversation.id.as_str());
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
