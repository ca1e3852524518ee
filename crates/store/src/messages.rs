//! Messages in both directions. Incoming ones are stored once per WhatsApp id; outgoing ones
//! are accepted into the outbox (status `pending`) before the API answers, and move on as the
//! outbox worker and receipts report.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::{Contact, Direction, Message, MessageStatus, OrgId, SessionId};

use crate::contacts::touch_contact;
use crate::events::{insert_event, EventRenderer, StoredEvent};
use crate::{Page, PageRequest, Store, StoreError};

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

impl Store {
    /// Stores a message in a transaction with its contact, conversation and events.
    /// `Ok(None)` when this WhatsApp id was already stored for the session (a duplicate), or,
    /// for an outgoing message, `Conflict("idempotency")` when its key was used before.
    pub async fn record_message(
        &self,
        m: &Message,
        push_name: Option<&str>,
        new_contact_id: &str,
        render: &dyn EventRenderer,
    ) -> Result<Option<Recorded>, StoreError> {
        let mut w = self.begin_write().await?;
        let tx = &mut w.tx;
        let (contact, created) = touch_contact(
            tx,
            &m.organization_id,
            &m.contact_phone,
            push_name,
            new_contact_id,
            m.created_at,
        )
        .await?;
        let sql = format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
             ON CONFLICT (session_id, message_id) DO NOTHING"
        );
        let inserted = sqlx::query(&sql)
            .bind(&m.id)
            .bind(m.organization_id.as_str())
            .bind(m.session_id.as_str())
            .bind(&m.message_id)
            .bind(&contact.id)
            .bind(&m.contact_phone)
            .bind(&m.from)
            .bind(&m.to)
            .bind(m.direction.as_str())
            .bind(&m.kind)
            .bind(m.text.clone())
            .bind(m.caption.clone())
            .bind(m.media_path.clone())
            .bind(m.mime_type.clone())
            .bind(m.filename.clone())
            .bind(m.media_size)
            .bind(i64::from(m.ptt))
            .bind(m.status.as_str())
            .bind(m.sent_at)
            .bind(m.delivered_at)
            .bind(m.read_at)
            .bind(m.error_message.clone())
            .bind(m.idempotency_key.clone())
            .bind(m.attempts)
            .bind(m.related_user.clone())
            .bind(m.created_at)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::unique(e, "idempotency"))?;
        if inserted.rows_affected() == 0 {
            return Ok(None);
        }
        let unread = i64::from(m.direction == Direction::Incoming);
        sqlx::query(
            "INSERT INTO conversations (organization_id, session_id, contact_id, last_message_id, last_message_at, unread_count)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (session_id, contact_id) DO UPDATE SET
                last_message_id = CASE WHEN conversations.last_message_at <= excluded.last_message_at
                                       THEN excluded.last_message_id ELSE conversations.last_message_id END,
                last_message_at = CASE WHEN conversations.last_message_at <= excluded.last_message_at
                                       THEN excluded.last_message_at ELSE conversations.last_message_at END,
                unread_count = conversations.unread_count + excluded.unread_count",
        )
        .bind(m.organization_id.as_str())
        .bind(m.session_id.as_str())
        .bind(&contact.id)
        .bind(&m.id)
        .bind(m.created_at)
        .bind(unread)
        .execute(&mut **tx)
        .await?;
        let mut stored = m.clone();
        stored.contact_id.clone_from(&contact.id);
        let mut events = Vec::new();
        let contact_event = if created {
            "contact.created"
        } else {
            "contact.updated"
        };
        events.push(
            insert_event(
                tx,
                &m.organization_id,
                contact_event,
                render.contact(&contact),
                m.created_at,
            )
            .await?,
        );
        if m.direction == Direction::Incoming {
            events.push(
                insert_event(
                    tx,
                    &m.organization_id,
                    "message.received",
                    render.message(&stored),
                    m.created_at,
                )
                .await?,
            );
        }
        w.commit().await?;
        Ok(Some(Recorded {
            message: stored,
            contact,
            events,
        }))
    }

    pub async fn message(&self, org: &OrgId, id: &str) -> Result<Option<Message>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE organization_id = $1 AND id = $2"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(message)
            .transpose()
    }

    pub async fn message_by_idempotency_key(
        &self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<Message>, StoreError> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE organization_id = $1 AND idempotency_key = $2");
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(message)
            .transpose()
    }

    /// Messages newest first. Only the filters given become conditions, so each listing can
    /// use its index (a catch-all `$n = '' OR …` would defeat PostgreSQL's generic plans).
    pub async fn list_messages(
        &self,
        org: &OrgId,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let mut conditions = vec!["organization_id = $1".to_owned()];
        let mut values: Vec<String> = vec![org.as_str().to_owned()];
        let mut add = |column: &str, value: String| {
            values.push(value);
            conditions.push(format!("{column} = ${}", values.len()));
        };
        if let Some(session) = &filter.session {
            add("session_id", session.as_str().to_owned());
        }
        if let Some(phone) = &filter.contact_phone {
            add("contact_phone", phone.clone());
        }
        if let Some(direction) = filter.direction {
            add("direction", direction.as_str().to_owned());
        }
        let conditions = conditions.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM messages WHERE {conditions}");
        let mut count = sqlx::query(&count_sql);
        for v in &values {
            count = count.bind(v.as_str());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get(0)?;
        let n = values.len();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE {conditions} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for v in &values {
            query = query.bind(v.as_str());
        }
        let items = query
            .bind(i64::from(page.limit))
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }
}
