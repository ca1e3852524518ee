//! What a batch reads before it writes: which of its incoming messages are stored already
//! (WhatsApp delivers some twice), and the conversations its contacts already have, which the
//! domain's rule needs to apply the batch's messages to them (locked on PostgreSQL until the
//! transaction ends, with their contacts). One statement for the batch on PostgreSQL, where
//! a round trip is what a batch pays most for; one per session on SQLite.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use wasl_domain::Direction;

use super::conversations::{ConversationKey, Counted};
use super::{NewMessage, RecordOutcome};
use crate::conversations::{conversation, conversation_columns, COLUMNS};
use crate::{Dialect, StoreError};

/// What the batch found stored.
#[derive(Default)]
pub(super) struct Stored {
    /// (session id, WhatsApp id) of the batch's incoming messages stored before.
    pub(super) messages: HashSet<(String, String)>,
    /// The stored conversations of the batch's contacts, by (session id, contact id).
    pub(super) conversations: HashMap<ConversationKey, Counted>,
}

/// What one session's part of the batch asks about.
#[derive(Default)]
struct Asked<'a> {
    organization: &'a str,
    incoming_ids: Vec<&'a str>,
    phones: BTreeSet<&'a str>,
}

/// Reads what is stored of the messages still undecided (`outcomes[i]` is `None`).
pub(super) async fn read_stored(
    tx: &mut Transaction<'static, Any>,
    batch: &[NewMessage],
    outcomes: &[Option<RecordOutcome>],
) -> Result<Stored, StoreError> {
    let undecided = || {
        batch
            .iter()
            .zip(outcomes)
            .filter(|(_, outcome)| outcome.is_none())
            .map(|(item, _)| &item.message)
    };
    let mut stored = Stored::default();
    match Dialect::of(tx) {
        // SQLite writes one transaction at a time, so nothing is locked and the order of the
        // reads does not matter: one statement per session keeps each a plain index lookup.
        Dialect::Sqlite => {
            let mut by_session: BTreeMap<&str, Asked> = BTreeMap::new();
            for m in undecided() {
                let asked = by_session.entry(m.session_id.as_str()).or_default();
                asked.organization = m.organization_id.as_str();
                asked.phones.insert(m.contact_phone.as_str());
                // Outgoing messages carry ids chosen just now: only incoming ones can repeat.
                if m.direction == Direction::Incoming {
                    asked.incoming_ids.push(m.message_id.as_str());
                }
            }
            let dialect = Dialect::Sqlite;
            for (session, asked) in by_session {
                let rows = sqlx::query(SQLITE.as_str())
                    .bind(session)
                    .bind(asked.organization)
                    .bind(dialect.texts(asked.phones))
                    .bind(dialect.texts(asked.incoming_ids))
                    .fetch_all(&mut **tx)
                    .await?;
                take_rows(&mut stored, rows)?;
            }
        }
        // PostgreSQL: the whole batch in one statement, its contacts in one global order.
        Dialect::Postgres => {
            let conversations: BTreeSet<(&str, &str, &str)> = undecided()
                .map(|m| {
                    (
                        m.organization_id.as_str(),
                        m.contact_phone.as_str(),
                        m.session_id.as_str(),
                    )
                })
                .collect();
            let incoming: Vec<(&str, &str)> = undecided()
                .filter(|m| m.direction == Direction::Incoming)
                .map(|m| (m.session_id.as_str(), m.message_id.as_str()))
                .collect();
            let dialect = Dialect::Postgres;
            let column = |values: Vec<&str>| dialect.texts(values);
            let rows = sqlx::query(POSTGRES.as_str())
                // Planned for the values each time: a plan kept from a small table would
                // read whole tables.
                .persistent(false)
                .bind(column(conversations.iter().map(|c| c.0).collect()))
                .bind(column(conversations.iter().map(|c| c.1).collect()))
                .bind(column(conversations.iter().map(|c| c.2).collect()))
                .bind(column(incoming.iter().map(|m| m.0).collect()))
                .bind(column(incoming.iter().map(|m| m.1).collect()))
                .fetch_all(&mut **tx)
                .await?;
            take_rows(&mut stored, rows)?;
        }
    }
    Ok(stored)
}

/// Sorts the rows of either statement into what the batch found.
fn take_rows(stored: &mut Stored, rows: Vec<sqlx::any::AnyRow>) -> Result<(), StoreError> {
    for row in rows {
        if let Some(id) = row.try_get::<Option<String>, _>("known_message_id")? {
            let session: String = row.try_get("known_session_id")?;
            stored.messages.insert((session, id));
            continue;
        }
        let conversation = conversation(&row)?;
        stored.conversations.insert(
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
    Ok(())
}

/// The columns of a found conversation, and the NULLs a found message fills them with.
/// Message rows carry only their id and session.
fn columns() -> (String, String) {
    let conversations = format!(
        "{}, v.incoming_count AS v_incoming_count, v.outgoing_count AS v_outgoing_count",
        conversation_columns("v.")
    );
    (conversations, vec!["NULL"; COLUMNS.len() + 2].join(", "))
}

/// One session's part: its phones and incoming ids go as one JSON value each. Conversations
/// are found through their contact's phone (the batch's contacts are written after this
/// read). CROSS JOIN keeps SQLite from walking the session's conversations to find a few.
static SQLITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let (conversations, nulls) = columns();
    format!(
        "SELECT NULL AS known_message_id, NULL AS known_session_id, {conversations}
         FROM contacts c CROSS JOIN conversations v
         WHERE c.organization_id = ?2 AND c.phone_number IN (SELECT value FROM json_each(?3))
           AND v.session_id = ?1 AND v.contact_id = c.id
         UNION ALL
         SELECT m.message_id, m.session_id, {nulls} FROM messages m
         WHERE m.session_id = ?1 AND m.message_id IN (SELECT value FROM json_each(?4))"
    )
});

/// The whole batch: (organization, phone, session) of each conversation sorted, and
/// (session, id) of each incoming message, as parallel arrays.
///
/// Each phone and id is looked up on its own by a unique index (a `LATERAL` subquery with
/// `LIMIT 1` cannot be turned into a join): a plan chosen from statistics taken while the
/// tables were small read every message of the session to find a batch's few.
///
/// Locks: each contact, then its conversations, in the order of (organization, phone) —
/// one order for every batch. Every batch takes a contact's row lock before it touches the
/// contact's conversations (here, or by the contacts upsert for a contact new to it), so
/// batches meeting on a contact queue on that one lock instead of each holding half of what
/// the other needs: conversations locked before their contacts, and per session rather than
/// over the whole batch, were the deadlocks PostgreSQL broke after a second each. `NO KEY
/// UPDATE`, the lock an upsert itself takes, leaves the key-share locks of the messages'
/// foreign keys free.
static POSTGRES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let (conversations, nulls) = columns();
    format!(
        "WITH found AS (
            SELECT {conversations}
            FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS text[]))
                 AS p(organization_id, phone, session_id)
            CROSS JOIN LATERAL (SELECT id FROM contacts
                                WHERE organization_id = p.organization_id AND phone_number = p.phone
                                LIMIT 1 FOR NO KEY UPDATE) c
            CROSS JOIN LATERAL (SELECT * FROM conversations
                                WHERE session_id = p.session_id AND contact_id = c.id
                                LIMIT 1 FOR NO KEY UPDATE) v)
         SELECT NULL AS known_message_id, NULL AS known_session_id, found.* FROM found
         UNION ALL
         SELECT m.message_id, m.session_id, {nulls}
         FROM unnest(CAST($4 AS text[]), CAST($5 AS text[])) AS ids(session_id, id)
         CROSS JOIN LATERAL (SELECT message_id, session_id FROM messages
                             WHERE session_id = ids.session_id AND message_id = ids.id LIMIT 1) m"
    )
});
