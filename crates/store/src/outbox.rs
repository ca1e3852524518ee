//! The outbox side of outgoing messages: what is due to send, and how each attempt ended.

use wasl_domain::{Message, MessageStatus, OrgId, SessionId};

use crate::events::{insert_event, EventRenderer, StoredEvent};
use crate::messages::{message, MESSAGE_COLUMNS};
use crate::{rows::now_millis, Store, StoreError};

impl Store {
    /// Pending outgoing messages of the session that are due now, oldest first.
    pub async fn due_outbox(
        &self,
        session: &SessionId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE session_id = $1 AND status = 'pending' AND next_attempt_at <= $2
             ORDER BY created_at, id LIMIT $3"
        );
        sqlx::query(&sql)
            .bind(session.as_str())
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message)
            .collect()
    }

    /// The engine accepted the message: `sent`, with a `message.sent` event.
    pub async fn mark_sent(
        &self,
        org: &OrgId,
        id: &str,
        at: i64,
        render: &dyn EventRenderer,
    ) -> Result<Option<(Message, Vec<StoredEvent>)>, StoreError> {
        self.move_status(
            org,
            id,
            MessageStatus::Sent,
            at,
            None,
            "message.sent",
            render,
        )
        .await
    }

    /// The message can never be sent: `failed` with the reason.
    pub async fn mark_failed(
        &self,
        org: &OrgId,
        id: &str,
        error: &str,
        render: &dyn EventRenderer,
    ) -> Result<Option<(Message, Vec<StoredEvent>)>, StoreError> {
        self.move_status(
            org,
            id,
            MessageStatus::Failed,
            now_millis(),
            Some(error),
            "message.status",
            render,
        )
        .await
    }

    /// A temporary failure: try again at `next_attempt_at`.
    pub async fn schedule_retry(
        &self,
        id: &str,
        attempts: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE messages SET attempts = $1, next_attempt_at = $2, error_message = $3 WHERE id = $4 AND status = 'pending'")
            .bind(attempts)
            .bind(next_attempt_at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A receipt from WhatsApp for a message the session sent. Statuses only move forward.
    pub async fn apply_receipt(
        &self,
        session: &SessionId,
        message_id: &str,
        status: MessageStatus,
        at: i64,
        render: &dyn EventRenderer,
    ) -> Result<Option<(Message, Vec<StoredEvent>)>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND message_id = $2"
        );
        let Some(current) = sqlx::query(&sql)
            .bind(session.as_str())
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(message)
            .transpose()?
        else {
            return Ok(None);
        };
        self.move_status(
            &current.organization_id,
            &current.id,
            status,
            at,
            None,
            "message.status",
            render,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn move_status(
        &self,
        org: &OrgId,
        id: &str,
        status: MessageStatus,
        at: i64,
        error: Option<&str>,
        event: &str,
        render: &dyn EventRenderer,
    ) -> Result<Option<(Message, Vec<StoredEvent>)>, StoreError> {
        // Only forward: pending → sent → delivered → read; failed only from pending.
        let allowed: &[&str] = match status {
            MessageStatus::Sent => &["pending"],
            MessageStatus::Delivered => &["pending", "sent"],
            MessageStatus::Read => &["pending", "sent", "delivered"],
            MessageStatus::Failed => &["pending"],
            MessageStatus::Pending => &[],
        };
        if allowed.is_empty() {
            return Ok(None);
        }
        let placeholders: Vec<String> = (0..allowed.len()).map(|i| format!("${}", i + 5)).collect();
        let sql = format!(
            "UPDATE messages SET status = $1,
                sent_at = CASE WHEN sent_at IS NULL AND $1 <> 'failed' THEN $2 ELSE sent_at END,
                delivered_at = CASE WHEN delivered_at IS NULL AND $1 IN ('delivered', 'read') THEN $2 ELSE delivered_at END,
                read_at = CASE WHEN $1 = 'read' THEN $2 ELSE read_at END,
                error_message = CASE WHEN $1 = 'failed' THEN $3 WHEN $1 = 'sent' THEN NULL ELSE error_message END
             WHERE id = $4 AND status IN ({})",
            placeholders.join(", ")
        );
        let mut w = self.begin_write().await?;
        let tx = &mut w.tx;
        let mut query = sqlx::query(&sql)
            .bind(status.as_str())
            .bind(at)
            .bind(error)
            .bind(id);
        for s in allowed {
            query = query.bind(*s);
        }
        if query.execute(&mut **tx).await?.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
        let updated = message(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?;
        let events = vec![insert_event(tx, org, event, render.message(&updated), at).await?];
        w.commit().await?;
        Ok(Some((updated, events)))
    }
}
