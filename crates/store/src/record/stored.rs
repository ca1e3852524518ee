//! What a batch reads before it writes, in one statement per session: which of its incoming
//! messages are stored already (WhatsApp delivers some twice), and the conversations its
//! contacts already have, which the domain's rule needs to apply the batch's messages to
//! them (locked on PostgreSQL until the transaction ends). One read instead of two, because
//! a round trip is what a batch pays most for on PostgreSQL.

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
    let mut by_session: BTreeMap<&str, Asked> = BTreeMap::new();
    for (item, outcome) in batch.iter().zip(outcomes) {
        if outcome.is_some() {
            continue;
        }
        let m = &item.message;
        let asked = by_session.entry(m.session_id.as_str()).or_default();
        asked.organization = m.organization_id.as_str();
        asked.phones.insert(m.contact_phone.as_str());
        // Outgoing messages carry ids chosen just now: only incoming ones can be repeats.
        if m.direction == Direction::Incoming {
            asked.incoming_ids.push(m.message_id.as_str());
        }
    }
    let dialect = Dialect::of(tx);
    let sql = statement(dialect);
    let mut stored = Stored::default();
    for (session, asked) in by_session {
        let rows = sqlx::query(&sql)
            // PostgreSQL plans it for the values each time: a plan kept from a small table
            // would read whole tables. SQLite's plan does not change with them.
            .persistent(dialect == Dialect::Sqlite)
            .bind(session)
            .bind(asked.organization)
            .bind(dialect.texts(asked.phones))
            .bind(dialect.texts(asked.incoming_ids))
            .fetch_all(&mut **tx)
            .await?;
        for row in rows {
            if let Some(id) = row.try_get::<Option<String>, _>("known_message_id")? {
                stored.messages.insert((session.to_owned(), id));
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
    }
    Ok(stored)
}

/// One statement for any batch: the phones and ids go as one value each. Conversations are
/// found through their contact's phone (the batch's contacts are written after this read).
/// Message rows carry only their id and fill the conversation's columns with NULLs.
///
/// On PostgreSQL each phone and id is looked up on its own by a unique index (a `LATERAL`
/// subquery with `LIMIT 1` cannot be turned into a join): a plan chosen from statistics taken
/// while the tables were small read every message of the session to find a batch's few. Rows
/// are locked in the order of the phones (sorted), so two batches lock the rows they share
/// in the same order.
fn statement(dialect: Dialect) -> String {
    let conversations = format!(
        "{}, v.incoming_count AS v_incoming_count, v.outgoing_count AS v_outgoing_count",
        conversation_columns("v.")
    );
    let nulls = vec!["NULL"; COLUMNS.len() + 2].join(", ");
    match dialect {
        // CROSS JOIN keeps SQLite from walking the session's conversations to find a few.
        Dialect::Sqlite => format!(
            "SELECT NULL AS known_message_id, {conversations}
             FROM contacts c CROSS JOIN conversations v
             WHERE c.organization_id = ?2 AND c.phone_number IN (SELECT value FROM json_each(?3))
               AND v.session_id = ?1 AND v.contact_id = c.id
             UNION ALL
             SELECT m.message_id, {nulls} FROM messages m
             WHERE m.session_id = ?1 AND m.message_id IN (SELECT value FROM json_each(?4))"
        ),
        Dialect::Postgres => format!(
            "WITH found AS (
                SELECT {conversations}
                FROM unnest(CAST($3 AS text[])) AS p(phone)
                CROSS JOIN LATERAL (SELECT id FROM contacts
                                    WHERE organization_id = $2 AND phone_number = p.phone LIMIT 1) c
                CROSS JOIN LATERAL (SELECT * FROM conversations
                                    WHERE session_id = $1 AND contact_id = c.id LIMIT 1 FOR UPDATE) v)
             SELECT NULL AS known_message_id, found.* FROM found
             UNION ALL
             SELECT m.message_id, {nulls}
             FROM unnest(CAST($4 AS text[])) AS ids(id)
             CROSS JOIN LATERAL (SELECT message_id FROM messages
                                 WHERE session_id = $1 AND message_id = ids.id LIMIT 1) m"
        ),
    }
}
