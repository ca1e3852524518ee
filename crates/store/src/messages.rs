//! Messages in both directions. Incoming ones are stored once per WhatsApp id; outgoing ones
//! are accepted into the outbox (status `pending`) before the API answers, and move on as the
//! outbox worker and receipts report.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::{Contact, Direction, Message, MessageStatus, OrgId, SessionId};

use crate::events::StoredEvent;
use crate::sql::Params;
use crate::{Cursor, Page, PageRequest, Store, StoreError};

pub(crate) const MESSAGE_COLUMNS: &str = "id, organization_id, session_id, message_id, contact_id, contact_phone, from_number,
    to_number, direction, type, text, caption, media_path, mime_type, filename, media_size, ptt, status, sent_at,
    delivered_at, read_at, error_message, idempotency_key, attempts, related_user, created_at";

pub(crate) fn message(row: &AnyRow) -> Result<Message, StoreError> {
    let direction: String = row.try_get("direction")?;
    let status: String = row.try_get("status")?;
    Ok(Message {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        session_id: SessionId::from_trusted(row.try_get::<String, _>("session_id")?),
        message_id: row.try_get("message_id")?,
        contact_id: row.try_get("contact_id")?,
        contact_phone: row.try_get("contact_phone")?,
        from: row.try_get("from_number")?,
        to: row.try_get("to_number")?,
        direction: Direction::parse(&direction)
            .ok_or_else(|| StoreError::Corrupt(format!("direction {direction:?}")))?,
        kind: row.try_get("type")?,
        text: row.try_get("text")?,
        caption: row.try_get("caption")?,
        media_path: row.try_get("media_path")?,
        mime_type: row.try_get("mime_type")?,
        filename: row.try_get("filename")?,
        media_size: row.try_get("media_size")?,
        ptt: row.try_get::<i64, _>("ptt")? != 0,
        status: MessageStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
        sent_at: row.try_get("sent_at")?,
        delivered_at: row.try_get("delivered_at")?,
        read_at: row.try_get("read_at")?,
        error_message: row.try_get("error_message")?,
        idempotency_key: row.try_get("idempotency_key")?,
        attempts: row.try_get("attempts")?,
        related_user: row.try_get("related_user")?,
        created_at: row.try_get("created_at")?,
    })
}

/// What a stored change produced: the message, its contact, and the events written with it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub message: Message,
    pub contact: Contact,
    pub events: Vec<StoredEvent>,
}

/// Filters of a message listing.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub session: Option<SessionId>,
    pub contact_phone: Option<String>,
    pub direction: Option<Direction>,
}

/// Messages: stored in batches with their contacts, conversations and events, read back, and moved along their statuses.
pub struct Messages<'a> {
    pub(crate) store: &'a Store,
}

impl Store {
    pub fn messages(&self) -> Messages<'_> {
        Messages { store: self }
    }
}

impl Messages<'_> {
    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<Message>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE organization_id = $1 AND id = $2"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(message)
            .transpose()
    }

    /// The message first sent with this `Idempotency-Key`, and the digest of the request that
    /// sent it (none for messages stored before digests were kept).
    pub async fn by_idempotency_key(
        &self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<(Message, Option<String>)>, StoreError> {
        let sql = format!("SELECT {MESSAGE_COLUMNS}, idempotency_fingerprint FROM messages WHERE organization_id = $1 AND idempotency_key = $2");
        let Some(row) = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(key)
            .fetch_optional(&self.store.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            message(&row)?,
            row.try_get("idempotency_fingerprint")?,
        )))
    }

    /// Messages newest first. Only the filters given become conditions, so each listing can
    /// use its index (a catch-all `$n = '' OR …` would defeat PostgreSQL's generic plans).
    pub async fn list(
        &self,
        org: &OrgId,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let mut conditions = vec![format!("organization_id = {}", params.text(org.as_str()))];
        if let Some(session) = &filter.session {
            conditions.push(format!("session_id = {}", params.text(session.as_str())));
        }
        if let Some(phone) = &filter.contact_phone {
            conditions.push(format!("contact_phone = {}", params.text(phone.as_str())));
        }
        if let Some(direction) = filter.direction {
            conditions.push(format!("direction = {}", params.text(direction.as_str())));
        }
        if let Some(cursor) = &page.after {
            conditions.push(params.after("created_at", "id", cursor));
        }
        let total = self.count_messages(org, filter).await?;
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE {} ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            conditions.join(" AND "),
            params.int(page.probe()),
            params.int(page.offset())
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(message)
            .collect::<Result<_, _>>()?;
        Ok(Page::keyset(items, total, &page, |m: &Message| Cursor {
            at: m.created_at,
            id: m.id.clone(),
        }))
    }

    /// How many messages a listing has, from the conversations' counters: a sum over a few
    /// rows, where a `COUNT(*)` would read every message of a busy contact.
    async fn count_messages(&self, org: &OrgId, filter: &MessageFilter) -> Result<i64, StoreError> {
        let counted = match filter.direction {
            None => "v.incoming_count + v.outgoing_count",
            Some(Direction::Incoming) => "v.incoming_count",
            Some(Direction::Outgoing) => "v.outgoing_count",
        };
        let mut params = Params::new(self.store.dialect);
        let mut conditions = vec![format!("v.organization_id = {}", params.text(org.as_str()))];
        if let Some(session) = &filter.session {
            conditions.push(format!("v.session_id = {}", params.text(session.as_str())));
        }
        if let Some(phone) = &filter.contact_phone {
            // A subquery, not a join: the contact is one row found by its unique key, and the
            // planner must not walk every conversation of the organization to find it.
            conditions.push(format!(
                "v.contact_id = (SELECT id FROM contacts WHERE organization_id = {} AND phone_number = {})",
                params.text(org.as_str()),
                params.text(phone.as_str())
            ));
        }
        let sql = format!(
            "SELECT CAST(COALESCE(SUM({counted}), 0) AS BIGINT) FROM conversations v WHERE {}",
            conditions.join(" AND ")
        );
        Ok(params
            .query(&sql)
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?)
    }
}
