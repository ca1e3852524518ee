use sqlx::Row;
use wasl_domain::search::fold;
use wasl_domain::{Conversation, OrgId, SessionId};

use crate::contacts::{contact, escape_like, CONTACT_COLUMNS};
use crate::messages::message;
use crate::{Page, PageRequest, Store, StoreError};

const MESSAGE_COLUMNS_M: &str = "m.id, m.organization_id, m.session_id, m.message_id, m.contact_id, m.contact_phone, m.from_number,
    m.to_number, m.direction, m.type, m.text, m.caption, m.media_path, m.mime_type, m.filename, m.media_size, m.ptt, m.status,
    m.sent_at, m.delivered_at, m.read_at, m.error_message, m.idempotency_key, m.attempts, m.related_user, m.created_at";

impl Store {
    /// Conversations, most recent first, with their last message and unread count.
    pub async fn list_conversations(
        &self,
        org: &OrgId,
        session: Option<&SessionId>,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        let mut conditions = vec!["v.organization_id = $1".to_owned()];
        let mut values = vec![org.as_str().to_owned()];
        if let Some(session) = session {
            values.push(session.as_str().to_owned());
            conditions.push(format!("v.session_id = ${}", values.len()));
        }
        if let Some(search) = search.map(fold).filter(|s| !s.is_empty()) {
            values.push(format!("%{}%", escape_like(&search)));
            conditions.push(format!("c.search_text LIKE ${} ESCAPE '\\'", values.len()));
        }
        let from = format!(
            "FROM conversations v JOIN contacts c ON c.id = v.contact_id JOIN messages m ON m.id = v.last_message_id
             WHERE {}",
            conditions.join(" AND ")
        );
        let count_sql = format!("SELECT COUNT(*) {from}");
        let mut count = sqlx::query(&count_sql);
        for v in &values {
            count = count.bind(v.as_str());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get(0)?;
        let n = values.len();
        // Contact columns are read by position-free aliases: `c_*` would clash with messages'.
        let sql = format!(
            "SELECT v.unread_count AS unread, {MESSAGE_COLUMNS_M} {from}
             ORDER BY v.last_message_at DESC, v.contact_id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for v in &values {
            query = query.bind(v.as_str());
        }
        let rows = query
            .bind(i64::from(page.limit))
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let last_message = message(row)?;
            let contact_sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1");
            let contact = contact(
                &sqlx::query(&contact_sql)
                    .bind(&last_message.contact_id)
                    .fetch_one(&self.pool)
                    .await?,
            )?;
            items.push(Conversation {
                session_id: last_message.session_id.clone(),
                contact,
                unread_count: row.try_get("unread")?,
                last_message,
            });
        }
        Ok(Page { items, total })
    }

    /// An agent opened the chat: nothing in it is unread any more.
    pub async fn mark_conversation_read(
        &self,
        org: &OrgId,
        session: &SessionId,
        contact_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE conversations SET unread_count = 0 WHERE organization_id = $1 AND session_id = $2 AND contact_id = $3")
            .bind(org.as_str())
            .bind(session.as_str())
            .bind(contact_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
