//! Status moves: a batch's moves applied with one statement per kind of move.

use sqlx::{Any, Transaction};
use wasl_domain::{Message, MessageStatus};

use super::{MessageRef, StatusMove};
use crate::messages::{message, MESSAGE_COLUMNS};
use crate::sql::{batch_query, Binds};
use crate::StoreError;

/// Applies a batch's status moves with one statement per kind of move (sent, delivered, read,
/// failed; by wasl's id or by WhatsApp's), in that order, so a delivered and a read receipt
/// for one message in one batch both apply. Results come back in the moves' order; a message
/// moved twice the same way is reported moved once.
pub(super) async fn move_all(
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
