//! The webhook delivery queue: which webhooks have deliveries due, taking (claiming) a
//! webhook's due deliveries in one statement, and logging a batch of attempts in one
//! transaction. Batches keep the queue's cost per delivery small enough for thousands of
//! deliveries a second on a single SQLite writer.

use sqlx::Row;

use crate::sql::{batch_query, rows_per_statement, Binds};
use crate::webhooks::{delivery, DELIVERY_COLUMNS};
use crate::{Attempt, AttemptOutcome, Delivery, Store, StoreError};

/// One finished attempt of a delivery, to be logged.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: String,
    pub attempt: Attempt,
    pub outcome: AttemptOutcome,
}

/// Webhook deliveries due, claimed by the dispatcher, and their attempts.
pub struct Deliveries<'a> {
    store: &'a Store,
}

impl Store {
    pub fn deliveries(&self) -> Deliveries<'_> {
        Deliveries { store: self }
    }
}

impl Deliveries<'_> {
    /// Active webhooks with at least one delivery due at `now`. One index probe per webhook:
    /// a dead receiver's backlog of due deliveries is never scanned.
    pub async fn webhooks_due(&self, now: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT w.id FROM webhooks w WHERE w.is_active = 1 AND EXISTS (
                SELECT 1 FROM webhook_deliveries d
                WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= $1)",
        )
        .bind(now)
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
    }

    /// Takes up to `limit` of a webhook's deliveries due at `now`, oldest first, until
    /// `until`: nobody starts them again meanwhile, and if the process dies mid-attempt the
    /// claim runs out and they are tried again (at-least-once).
    pub async fn claim_due(
        &self,
        webhook_id: &str,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut w = self.store.begin_write().await?;
        // The outer conditions repeat the inner ones so that a delivery someone else claimed
        // between the two is not taken twice.
        // Not kept prepared: a generic plan for this choice between indexes, made while the
        // table was small, would stay (see `bulk::batch_query`).
        let rows = batch_query(&format!(
            "UPDATE webhook_deliveries SET next_attempt_at = $1
             WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE webhook_id = $2 AND status = 'pending' AND next_attempt_at <= $3
                ORDER BY next_attempt_at, id LIMIT $4)
             AND status = 'pending' AND next_attempt_at <= $3
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(until)
        .bind(webhook_id)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *w.tx)
        .await?;
        w.commit().await?;
        let mut claimed: Vec<Delivery> = rows.iter().map(delivery).collect::<Result<_, _>>()?;
        // RETURNING keeps no order.
        claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(claimed)
    }

    /// Logs attempts and moves their deliveries on (delivered, retry later, dead), all in
    /// one transaction.
    pub async fn record_attempts(&self, records: &[AttemptRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut w = self.store.begin_write().await?;
        for chunk in records.chunks(rows_per_statement(7)) {
            insert_attempts(&mut w.tx, chunk).await?;
            update_deliveries(&mut w.tx, chunk).await?;
        }
        w.commit().await?;
        Ok(())
    }
}

async fn insert_attempts(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    records: &[AttemptRecord],
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO webhook_attempts (id, delivery_id, attempt, at, status_code, latency_ms, error)
         VALUES {} ON CONFLICT DO NOTHING",
        Binds::for_tx(tx).rows(records.len(), 7)
    );
    let mut query = batch_query(&sql);
    for r in records {
        let a = &r.attempt;
        query = query
            .bind(format!("{}#{}", r.delivery_id, a.attempt))
            .bind(r.delivery_id.clone())
            .bind(a.attempt)
            .bind(a.at)
            .bind(a.status_code)
            .bind(a.latency_ms)
            .bind(a.error.clone());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// One `UPDATE … FROM (VALUES …)` for the whole batch. Values that may be absent travel as
/// sentinels (-1, '' and 0) and become NULL again in the SQL, so that no value in `VALUES`
/// is an untyped NULL, which PostgreSQL cannot type.
async fn update_deliveries(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    records: &[AttemptRecord],
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE webhook_deliveries SET status = v.column2, attempts = v.column3,
            next_attempt_at = v.column4, last_status_code = NULLIF(v.column5, -1),
            last_error = NULLIF(v.column6, ''),
            delivered_at = COALESCE(NULLIF(v.column7, 0), webhook_deliveries.delivered_at)
         FROM (VALUES {}) AS v
         WHERE webhook_deliveries.id = v.column1",
        Binds::for_tx(tx).rows(records.len(), 7)
    );
    let mut query = batch_query(&sql);
    for r in records {
        let a = &r.attempt;
        let (status, next, delivered_at) = match r.outcome {
            AttemptOutcome::Delivered => ("delivered", a.at, a.at),
            AttemptOutcome::RetryAt(at) => ("pending", at, 0),
            AttemptOutcome::Dead => ("dead", a.at, 0),
        };
        query = query
            .bind(r.delivery_id.clone())
            .bind(status)
            .bind(a.attempt)
            .bind(next)
            .bind(a.status_code.unwrap_or(-1))
            .bind(a.error.clone().unwrap_or_default())
            .bind(delivered_at);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
