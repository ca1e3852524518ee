use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::{EngineKind, OrgId, Session, SessionId, SessionName, SessionStatus};

use crate::Conflict;
use crate::{rows::now_millis, Page, PageRequest, Store, StoreError};

const COLUMNS: &str =
    "id, organization_id, name, engine, phone_number, status, last_disconnect_reason,
    last_connected, last_disconnected, connection_attempts, is_active, created_at, updated_at";

fn session(row: &AnyRow) -> Result<Session, StoreError> {
    let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("{what} {v:?}"));
    let name: String = row.try_get("name")?;
    let engine: String = row.try_get("engine")?;
    let status: String = row.try_get("status")?;
    Ok(Session {
        id: SessionId::from_trusted(row.try_get::<String, _>("id")?),
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        name: SessionName::parse(&name).map_err(|_| corrupt("session name", &name))?,
        engine: EngineKind::parse(&engine).map_err(|_| corrupt("engine", &engine))?,
        phone_number: row.try_get("phone_number")?,
        status: SessionStatus::parse(&status).map_err(|_| corrupt("status", &status))?,
        last_disconnect_reason: row.try_get("last_disconnect_reason")?,
        last_connected: row.try_get("last_connected")?,
        last_disconnected: row.try_get("last_disconnected")?,
        connection_attempts: row.try_get("connection_attempts")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A change of a session's connection state, written as one update.
#[derive(Debug, Clone, Default)]
pub struct SessionChange {
    pub status: Option<SessionStatus>,
    pub phone_number: Option<String>,
    /// `Some(None)` clears the reason (a fresh connection).
    pub last_disconnect_reason: Option<Option<String>>,
    pub last_connected: Option<i64>,
    pub last_disconnected: Option<i64>,
    pub add_attempt: bool,
    pub is_active: Option<bool>,
}

/// WhatsApp sessions (linked numbers) and their state.
pub struct Sessions<'a> {
    store: &'a Store,
}

impl Store {
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { store: self }
    }
}

impl Sessions<'_> {
    /// Creates the session, or, when `(organization, name)` exists, hands it back untouched so
    /// the caller can decide (409, or pair again).
    pub async fn insert(&self, s: &Session) -> Result<(), StoreError> {
        self.store
            .sessions()
            .insert_within(s, None)
            .await?
            .map_err(|_| StoreError::Conflict(Conflict::SessionLimit))
    }

    /// Creates the session unless the organization already has `limit` active sessions, in
    /// which case nothing is written and the count comes back as `Err(active)`. The count and
    /// the insert are one transaction, with the organization locked on PostgreSQL (SQLite's
    /// writes are serialized anyway), so two creates at once cannot both pass the limit.
    pub async fn insert_within(
        &self,
        s: &Session,
        limit: Option<u32>,
    ) -> Result<Result<(), i64>, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        if self.store.dialect == crate::Dialect::Postgres {
            sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
                .bind(s.organization_id.as_str())
                .execute(&mut **tx)
                .await?;
        }
        if let Some(limit) = limit {
            let active: i64 = sqlx::query(
                "SELECT COUNT(*) FROM sessions WHERE organization_id = $1 AND is_active = 1",
            )
            .bind(s.organization_id.as_str())
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
            if active >= i64::from(limit) {
                return Ok(Err(active));
            }
        }
        let sql = format!("INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        sqlx::query(&sql)
            .bind(s.id.as_str())
            .bind(s.organization_id.as_str())
            .bind(s.name.as_str())
            .bind(s.engine.as_str())
            .bind(s.phone_number.clone())
            .bind(s.status.as_str())
            .bind(s.last_disconnect_reason.clone())
            .bind(s.last_connected)
            .bind(s.last_disconnected)
            .bind(s.connection_attempts)
            .bind(i64::from(s.is_active))
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::unique(e, Conflict::Session))?;
        w.commit().await?;
        Ok(Ok(()))
    }

    pub async fn get(
        &self,
        org: &OrgId,
        name: &SessionName,
    ) -> Result<Option<Session>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM sessions WHERE organization_id = $1 AND name = $2");
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(session)
            .transpose()
    }

    /// Deletes the session with its messages and conversations (the contacts stay: they are
    /// the organization's); the media files its messages kept, for the caller to remove.
    pub async fn delete(&self, id: &SessionId) -> Result<Vec<String>, StoreError> {
        let mut tx = self.store.pool.begin().await?;
        let paths = sqlx::query(
            "SELECT media_path FROM messages WHERE session_id = $1 AND media_path IS NOT NULL",
        )
        .bind(id.as_str())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
        // Deleted explicitly, not left to the cascade: SQLite runs a cascade row by row, with
        // the full-text index's trigger for each, inside this one statement either way.
        sqlx::query("DELETE FROM messages WHERE session_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(paths)
    }

    pub async fn by_id(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
        sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(session)
            .transpose()
    }

    pub async fn list(&self, org: &OrgId, page: PageRequest) -> Result<Page<Session>, StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM sessions WHERE organization_id = $1")
            .bind(org.as_str())
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE organization_id = $1 ORDER BY created_at, name LIMIT $2 OFFSET $3"
        );
        let items = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(i64::from(page.limit))
            .bind(page.offset())
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(session)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// Active sessions of the organization, which count against its plan.
    pub async fn count_active(&self, org: &OrgId) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM sessions WHERE organization_id = $1 AND is_active = 1",
        )
        .bind(org.as_str())
        .fetch_one(&self.store.pool)
        .await?
        .try_get(0)?)
    }

    /// Every active session on this server, for resuming them at start-up.
    pub async fn active(&self) -> Result<Vec<Session>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE is_active = 1 ORDER BY created_at");
        sqlx::query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(session)
            .collect()
    }

    /// Applies a state change; returns the session as it now is.
    pub async fn change(
        &self,
        id: &SessionId,
        change: &SessionChange,
    ) -> Result<Option<Session>, StoreError> {
        sqlx::query(
            "UPDATE sessions SET
                status = COALESCE($1, status),
                phone_number = COALESCE($2, phone_number),
                last_disconnect_reason = CASE WHEN $3 = 1 THEN $4 ELSE last_disconnect_reason END,
                last_connected = COALESCE($5, last_connected),
                last_disconnected = COALESCE($6, last_disconnected),
                connection_attempts = connection_attempts + $7,
                is_active = COALESCE($8, is_active),
                updated_at = $9
             WHERE id = $10",
        )
        .bind(change.status.map(SessionStatus::as_str))
        .bind(change.phone_number.clone())
        .bind(i64::from(change.last_disconnect_reason.is_some()))
        .bind(change.last_disconnect_reason.clone().flatten())
        .bind(change.last_connected)
        .bind(change.last_disconnected)
        .bind(i64::from(change.add_attempt))
        .bind(change.is_active.map(i64::from))
        .bind(now_millis())
        .bind(id.as_str())
        .execute(&self.store.pool)
        .await?;
        self.store.sessions().by_id(id).await
    }

    /// Starts a session's pairing over: a new engine, no number, no attempts.
    pub async fn reset(
        &self,
        id: &SessionId,
        engine: EngineKind,
    ) -> Result<Option<Session>, StoreError> {
        sqlx::query(
            "UPDATE sessions SET engine = $1, phone_number = NULL, status = $2, last_disconnect_reason = NULL,
                connection_attempts = 0, is_active = 1, updated_at = $3 WHERE id = $4",
        )
        .bind(engine.as_str())
        .bind(SessionStatus::Connecting.as_str())
        .bind(now_millis())
        .bind(id.as_str())
        .execute(&self.store.pool)
        .await?;
        self.store.sessions().by_id(id).await
    }
}
