//! Messages in both directions. Incoming ones are stored once per WhatsApp id; outgoing ones
//! are accepted into the outbox (status `pending`) before the API answers, and move on as the
//! outbox worker and receipts report.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::{
    Contact, Direction, Message, MessageMetadata, MessageStatus, OrgId, Quote, Reactions, SessionId,
};

use crate::events::StoredEvent;
use crate::sql::Params;
use crate::{Cursor, Page, PageRequest, Store, StoreError};

pub(crate) const MESSAGE_COLUMNS: &str = "id, organization_id, session_id, message_id, contact_id, contact_phone, from_number,
    to_number, direction, type, text, caption, media_path, mime_type, filename, media_size, ptt, status, sent_at,
    delivered_at, read_at, error_message, idempotency_key, attempts, related_user, created_at, quoted,
    customer_reaction, business_reaction, metadata";

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
        quoted: row
            .try_get::<Option<String>, _>("quoted")?
            .map(|json| {
                serde_json::from_str::<Quote>(&json)
                    .map_err(|e| StoreError::Corrupt(format!("quoted {json:?}: {e}")))
            })
            .transpose()?,
        reactions: Reactions {
            customer: row.try_get("customer_reaction")?,
            business: row.try_get("business_reaction")?,
        },
        metadata: row
            .try_get::<Option<String>, _>("metadata")?
            .map(|json| {
                serde_json::from_str::<MessageMetadata>(&json)
                    .map_err(|e| StoreError::Corrupt(format!("metadata {json:?}: {e}")))
            })
            .transpose()?
            .unwrap_or_default(),
    })
}

/// Metadata as the `metadata` column keeps it: NULL when there is none.
pub(crate) fn metadata_json(metadata: &MessageMetadata) -> Option<String> {
    (!metadata.is_empty())
        .then(|| serde_json::to_string(metadata).ok())
        .flatten()
}

/// A quote as the `quoted` column keeps it.
pub(crate) fn quoted_json(quote: Option<&Quote>) -> Option<String> {
    quote.and_then(|q| serde_json::to_string(q).ok())
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
    /// Full-text search: every one of these folded words ([`wasl_domain::search::terms`])
    /// starts a word of the message's text, caption or file name.
    pub terms: Vec<String>,
}

/// Whose reaction changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionSide {
    Customer,
    Business,
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

    /// The business has read the customer's messages `ids` (wasl's ids) and WhatsApp was told
    /// so: those still `delivered` become `read`. Returns how many changed.
    pub async fn mark_incoming_read(
        &self,
        org: &OrgId,
        ids: &[String],
        at: i64,
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let listed = (0..ids.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE messages SET status = 'read', read_at = $1
             WHERE organization_id = $2 AND direction = 'incoming' AND status = 'delivered'
               AND id IN ({listed})"
        );
        let mut query = sqlx::query(&sql).bind(at).bind(org.as_str());
        for id in ids {
            query = query.bind(id.as_str());
        }
        Ok(query.execute(&self.store.pool).await?.rows_affected())
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
        let searching = !filter.terms.is_empty();
        if searching {
            conditions.push(self.matches(&mut params, &filter.terms));
        }
        let total = if searching {
            // Matches are not counted anywhere ahead of time: counted here, with the same
            // conditions and no cursor.
            let sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM messages WHERE {}",
                conditions.join(" AND ")
            );
            params
                .query(&sql)
                .fetch_one(&self.store.pool)
                .await?
                .try_get(0)?
        } else {
            self.count_messages(org, filter).await?
        };
        if let Some(cursor) = &page.after {
            conditions.push(params.after("created_at", "id", cursor));
        }
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

    /// The condition that a message holds every search term, in the database's own full-text
    /// index: each term is a prefix query, so "فات" finds "فاتورة" as a person typing expects.
    /// The terms hold only letters and digits ([`wasl_domain::search::terms`]), so quoting
    /// them is all the query syntax needs.
    fn matches(&self, params: &mut Params, terms: &[String]) -> String {
        match self.store.dialect {
            crate::Dialect::Sqlite => {
                let query: Vec<String> = terms.iter().map(|t| format!("\"{t}\"*")).collect();
                format!(
                    "rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {})",
                    params.text(query.join(" "))
                )
            }
            crate::Dialect::Postgres => {
                let query: Vec<String> = terms.iter().map(|t| format!("'{t}':*")).collect();
                format!(
                    "to_tsvector('simple', search_text) @@ to_tsquery('simple', {})",
                    params.text(query.join(" & "))
                )
            }
        }
    }

    /// The session's message with this WhatsApp id.
    pub async fn by_whatsapp_id(
        &self,
        session: &SessionId,
        message_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND message_id = $2"
        );
        sqlx::query(&sql)
            .bind(session.as_str())
            .bind(message_id)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(message)
            .transpose()
    }

    /// Sets (or with `None` removes) one side's reaction to a message, with the
    /// `message.reaction` event; `None` when there is no such message. The customer's
    /// reaction is found by WhatsApp's id within the session and only on a message of their
    /// own chat; the business's by wasl's id within the organization.
    pub async fn react(
        &self,
        target: &crate::MessageRef,
        side: ReactionSide,
        customer_phone: Option<&str>,
        emoji: Option<&str>,
        at: i64,
        render: &dyn crate::EventRenderer,
    ) -> Result<Option<(Message, StoredEvent)>, StoreError> {
        let column = match side {
            ReactionSide::Customer => "customer_reaction",
            ReactionSide::Business => "business_reaction",
        };
        let (which, a, b) = match target {
            crate::MessageRef::Id { org, id } => (
                "organization_id = $2 AND id = $3",
                org.as_str(),
                id.as_str(),
            ),
            crate::MessageRef::WhatsApp {
                session,
                message_id,
            } => (
                "session_id = $2 AND message_id = $3",
                session.as_str(),
                message_id.as_str(),
            ),
        };
        let chat = if customer_phone.is_some() {
            " AND contact_phone = $4"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE messages SET {column} = $1 WHERE {which}{chat} RETURNING {MESSAGE_COLUMNS}"
        );
        let mut tx = self.store.pool.begin().await?;
        let mut query = sqlx::query(&sql).bind(emoji).bind(a).bind(b);
        if let Some(phone) = customer_phone {
            query = query.bind(phone);
        }
        let Some(row) = query.fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let updated = message(&row)?;
        let event = crate::events::insert_event(
            &mut tx,
            &updated.organization_id,
            "message.reaction",
            render.message(&updated),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(Some((updated, event)))
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
