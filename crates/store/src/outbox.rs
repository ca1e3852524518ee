//! The outbox side of outgoing messages: what is due to send, and how each attempt ended.

use wasl_domain::{Message, SessionId};

use crate::messages::{message, MESSAGE_COLUMNS};
use crate::{Store, StoreError};

/// Outgoing messages waiting for their engine, and their retries.
pub struct Outbox<'a> {
    store: &'a Store,
}

impl Store {
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { store: self }
    }
}

impl Outbox<'_> {
    /// Pending outgoing messages of the session that are due now, in the order they came due
    /// (a new message is due when it is accepted; ids grow with time), read in index order.
    pub async fn due(
        &self,
        session: &SessionId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE session_id = $1 AND status = 'pending' AND next_attempt_at <= $2
             ORDER BY next_attempt_at, id LIMIT $3"
        );
        sqlx::query(&sql)
            .bind(session.as_str())
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(message)
            .collect()
    }

    /// When the session's next pending message is due (a retry), if it has one.
    pub async fn next_attempt(&self, session: &SessionId) -> Result<Option<i64>, StoreError> {
        use sqlx::Row;
        Ok(sqlx::query(
            "SELECT MIN(next_attempt_at) FROM messages WHERE session_id = $1 AND status = 'pending'",
        )
        .bind(session.as_str())
        .fetch_one(&self.store.pool)
        .await?
        .try_get::<Option<i64>, _>(0)?)
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
            .execute(&self.store.pool)
            .await?;
        Ok(())
    }
}
