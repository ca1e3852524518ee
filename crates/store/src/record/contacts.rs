//! The contacts of a batch: created on a first message, named from a push name.

use std::collections::HashMap;

use sqlx::{Any, Transaction};
use wasl_domain::Contact;

use super::{contact_key, ContactChange, ContactKey, NewMessage};
use crate::contacts::{contact, search_text, CONTACT_COLUMNS_BARE};
use crate::sql::{rows_per_statement, Rows, Ty};
use crate::StoreError;

/// Makes sure every contact of the batch exists and notes its latest message time; a push
/// name fills an empty name but never replaces one a person chose. Rows go in a fixed order
/// so concurrent batches on PostgreSQL lock contacts in the same order.
pub(super) async fn upsert_contacts(
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
