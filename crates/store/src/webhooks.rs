//! Webhook subscriptions and their durable deliveries (SPEC §8).

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::OrgId;

use crate::{Page, PageRequest, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub organization_id: OrgId,
    pub url: String,
    pub events: Vec<String>,
    pub secret_sealed: Vec<u8>,
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub organization_id: OrgId,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    /// pending, delivered or dead.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: i64,
    pub at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// How an attempt ended, and so what becomes of the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    RetryAt(i64),
    Dead,
}

const WEBHOOK_COLUMNS: &str =
    "id, organization_id, url, events, secret_sealed, is_active, created_at, updated_at";
pub(crate) const DELIVERY_COLUMNS: &str = "id, webhook_id, organization_id, event_id, event_type, body, status, attempts, next_attempt_at,
    last_status_code, last_error, created_at, delivered_at";

fn webhook(row: &AnyRow) -> Result<Webhook, StoreError> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        url: row.try_get("url")?,
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        secret_sealed: row.try_get("secret_sealed")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn delivery(row: &AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        body: row.try_get("body")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

fn events_json(events: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(events).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Webhook subscriptions and the record of their deliveries.
pub struct Webhooks<'a> {
    store: &'a Store,
}

impl Store {
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { store: self }
    }
}

impl Webhooks<'_> {
    pub async fn create(&self, w: &Webhook) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&w.id)
        .bind(w.organization_id.as_str())
        .bind(&w.url)
        .bind(events_json(&w.events)?)
        .bind(w.secret_sealed.clone())
        .bind(i64::from(w.is_active))
        .bind(w.created_at)
        .bind(w.updated_at)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<Webhook>, StoreError> {
        sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(webhook)
        .transpose()
    }

    /// Any organization's webhook, for the delivery worker.
    pub async fn by_id(&self, id: &str) -> Result<Option<Webhook>, StoreError> {
        sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(webhook)
        .transpose()
    }

    pub async fn list(&self, org: &OrgId, page: PageRequest) -> Result<Page<Webhook>, StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM webhooks WHERE organization_id = $1")
            .bind(org.as_str())
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let items = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE organization_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
        ))
        .bind(org.as_str())
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(webhook)
        .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// Saves a changed webhook (url, events, secret, active).
    pub async fn update(&self, w: &Webhook) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhooks SET url = $1, events = $2, secret_sealed = $3, is_active = $4, updated_at = $5
             WHERE organization_id = $6 AND id = $7",
        )
        .bind(&w.url)
        .bind(events_json(&w.events)?)
        .bind(w.secret_sealed.clone())
        .bind(i64::from(w.is_active))
        .bind(w.updated_at)
        .bind(w.organization_id.as_str())
        .bind(&w.id)
        .execute(&self.store.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM webhooks WHERE organization_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A webhook's deliveries, newest first, each with its attempts.
    pub async fn deliveries(
        &self,
        org: &OrgId,
        webhook_id: &str,
        page: PageRequest,
    ) -> Result<Page<(Delivery, Vec<Attempt>)>, StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM webhook_deliveries WHERE organization_id = $1 AND webhook_id = $2")
            .bind(org.as_str())
            .bind(webhook_id)
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let deliveries: Vec<Delivery> = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organization_id = $1 AND webhook_id = $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(org.as_str())
        .bind(webhook_id)
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(delivery)
        .collect::<Result<_, _>>()?;
        let mut items = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let attempts = sqlx::query(
                "SELECT attempt, at, status_code, latency_ms, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
            )
            .bind(&d.id)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Attempt {
                    attempt: r.try_get("attempt")?,
                    at: r.try_get("at")?,
                    status_code: r.try_get("status_code")?,
                    latency_ms: r.try_get("latency_ms")?,
                    error: r.try_get("error")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
            items.push((d, attempts));
        }
        Ok(Page::counted(items, total))
    }

    /// Sends a delivered or dead delivery again, now, under the same event id.
    pub async fn replay(
        &self,
        org: &OrgId,
        webhook_id: &str,
        delivery_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1
             WHERE organization_id = $2 AND webhook_id = $3 AND id = $4 AND status IN ('delivered', 'dead')",
        )
        .bind(now)
        .bind(org.as_str())
        .bind(webhook_id)
        .bind(delivery_id)
        .execute(&self.store.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delivery(
        &self,
        org: &OrgId,
        webhook_id: &str,
        delivery_id: &str,
    ) -> Result<Option<Delivery>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organization_id = $1 AND webhook_id = $2 AND id = $3"
        ))
        .bind(org.as_str())
        .bind(webhook_id)
        .bind(delivery_id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(delivery)
        .transpose()
    }
}
