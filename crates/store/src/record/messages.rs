//! Inserting the messages of a batch.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use wasl_domain::Contact;

use super::{contact_key, ContactChange, ContactKey, NewMessage};
use crate::messages::{metadata_json, quoted_json, MESSAGE_COLUMNS};
use crate::sql::{rows_per_statement, Rows, Ty};
use crate::StoreError;

/// Inserts the messages; returns the ids actually inserted. `ON CONFLICT DO NOTHING` without
/// a target covers both unique keys: a WhatsApp id seen before and an idempotency key used
/// before (which the caller tells apart by the key).
pub(super) async fn insert_messages(
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
        ("quoted", Ty::Text),
        ("customer_reaction", Ty::Text),
        ("business_reaction", Ty::Text),
        ("metadata", Ty::Text),
        ("idempotency_fingerprint", Ty::Text),
        ("search_text", Ty::Text),
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
                .text(quoted_json(m.quoted.as_ref()))
                .text(m.reactions.customer.as_deref())
                .text(m.reactions.business.as_deref())
                .text(metadata_json(&m.metadata))
                .text(batch[i].idempotency_fingerprint.as_deref())
                .text(wasl_domain::search::document(&[
                    m.text.as_deref(),
                    m.caption.as_deref(),
                    m.filename.as_deref(),
                ]));
        }
        let sql = format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}, idempotency_fingerprint, search_text) {} ON CONFLICT DO NOTHING RETURNING id",
            rows.source().0
        );
        let query = rows.query(&sql);
        for row in query.fetch_all(&mut **tx).await? {
            inserted.insert(row.try_get::<String, _>(0)?);
        }
    }
    Ok(inserted)
}
