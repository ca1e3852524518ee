use sqlx::Row;
use wasl_domain::OrgId;

use crate::{Store, StoreError};

/// An organization's numbers (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub total_sessions: i64,
    pub active_sessions: i64,
    pub total_messages: i64,
    pub total_contacts: i64,
    pub messages_last_24h: i64,
    /// (UTC day number since the epoch, incoming, outgoing), oldest first, days with messages only.
    pub per_day: Vec<(i64, i64, i64)>,
}

const DAY_MS: i64 = 86_400_000;

/// Figures for the dashboard and the stats API.
pub struct Analytics<'a> {
    store: &'a Store,
}

impl Store {
    pub fn analytics(&self) -> Analytics<'_> {
        Analytics { store: self }
    }
}

impl Analytics<'_> {
    pub async fn overview(&self, org: &OrgId, now: i64, days: i64) -> Result<Stats, StoreError> {
        let count = |sql: &'static str, bind_now: Option<i64>| {
            let pool = self.store.pool.clone();
            let org = org.as_str().to_owned();
            async move {
                let mut q = sqlx::query(sql).bind(org);
                if let Some(since) = bind_now {
                    q = q.bind(since);
                }
                q.fetch_one(&pool)
                    .await?
                    .try_get::<i64, _>(0)
                    .map_err(StoreError::from)
            }
        };
        let total_sessions = count(
            "SELECT COUNT(*) FROM sessions WHERE organization_id = $1",
            None,
        )
        .await?;
        let active_sessions = count(
            "SELECT COUNT(*) FROM sessions WHERE organization_id = $1 AND status = 'connected'",
            None,
        )
        .await?;
        let total_messages = count(
            "SELECT COUNT(*) FROM messages WHERE organization_id = $1",
            None,
        )
        .await?;
        let total_contacts = count(
            "SELECT COUNT(*) FROM contacts WHERE organization_id = $1",
            None,
        )
        .await?;
        let messages_last_24h = count(
            "SELECT COUNT(*) FROM messages WHERE organization_id = $1 AND created_at >= $2",
            Some(now - DAY_MS),
        )
        .await?;
        let first_day = now / DAY_MS - (days - 1);
        let rows = sqlx::query(
            "SELECT created_at / $3 AS day,
                    SUM(CASE WHEN direction = 'incoming' THEN 1 ELSE 0 END) AS incoming,
                    SUM(CASE WHEN direction = 'outgoing' THEN 1 ELSE 0 END) AS outgoing
             FROM messages WHERE organization_id = $1 AND created_at >= $2
             GROUP BY created_at / $3 ORDER BY day",
        )
        .bind(org.as_str())
        .bind(first_day * DAY_MS)
        .bind(DAY_MS)
        .fetch_all(&self.store.pool)
        .await?;
        let per_day = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("day")?,
                    r.try_get::<i64, _>("incoming")?,
                    r.try_get::<i64, _>("outgoing")?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Stats {
            total_sessions,
            active_sessions,
            total_messages,
            total_contacts,
            messages_last_24h,
            per_day,
        })
    }
}
