//! The event log: what webhooks deliver and live clients hear. Events are written inside the
//! transaction of the change they describe.

use sqlx::{Any, Row, Transaction};
use wasl_domain::{Contact, ConversationOverview, Message, OrgId, Session};

use crate::sql::{batch_query, rows_per_statement, Binds, Rows, Ty};
use crate::{Store, StoreError};

/// Renders models into the JSON that events carry (the API's own shapes), so the store can
/// write events without knowing the API.
pub trait EventRenderer: Send + Sync {
    fn message(&self, message: &Message) -> serde_json::Value;
    fn contact(&self, contact: &Contact) -> serde_json::Value;
    /// A session, with its QR while it has one.
    fn session(&self, session: &Session, qr_code: Option<&str>) -> serde_json::Value;
    fn conversation(&self, conversation: &ConversationOverview) -> serde_json::Value;
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: String,
    pub organization_id: OrgId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub created_at: i64,
}

/// The body a webhook receives: the event's id, type, organization, time and data.
pub fn webhook_body(event: &StoredEvent) -> serde_json::Value {
    serde_json::json!({
        "id": event.id,
        "type": event.kind,
        "organizationId": event.organization_id.as_str(),
        "timestamp": chrono::DateTime::from_timestamp_millis(event.created_at)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": event.payload,
    })
}

pub(crate) fn new_event_id() -> String {
    format!("evt_{}", uuid_like())
}

/// A time-ordered unique id without pulling a UUID crate into the store: milliseconds then
/// random bits.
fn uuid_like() -> String {
    let now = crate::rows::now_millis();
    let random: u64 = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i64(now);
        h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        h.finish()
    };
    format!("{now:012x}{random:016x}")
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    kind: &str,
    payload: serde_json::Value,
    at: i64,
) -> Result<StoredEvent, StoreError> {
    let event = new_event(org, kind, payload, at);
    insert_events(tx, std::slice::from_ref(&event)).await?;
    Ok(event)
}

/// A new event, not yet stored.
pub fn new_event(org: &OrgId, kind: &str, payload: serde_json::Value, at: i64) -> StoredEvent {
    StoredEvent {
        id: new_event_id(),
        organization_id: org.clone(),
        kind: kind.to_owned(),
        payload,
        created_at: at,
    }
}

/// Writes events and, in the same transaction, one delivery per subscribed webhook: an event
/// that happened is always delivered, and one that did not happen (rolled back) never is.
pub(crate) async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    events: &[StoredEvent],
) -> Result<(), StoreError> {
    const EVENT_COLUMNS: &[(&str, Ty)] = &[
        ("id", Ty::Text),
        ("organization_id", Ty::Text),
        ("type", Ty::Text),
        ("payload", Ty::Text),
        ("created_at", Ty::Int),
    ];
    for chunk in events.chunks(rows_per_statement(EVENT_COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, EVENT_COLUMNS);
        for event in chunk {
            rows.text(event.id.as_str())
                .text(event.organization_id.as_str())
                .text(event.kind.as_str())
                .text(event.payload.to_string())
                .int(event.created_at);
        }
        let sql = format!(
            "INSERT INTO events (id, organization_id, type, payload, created_at) {}",
            rows.source().0
        );
        rows.query(&sql).execute(&mut **tx).await?;
    }
    let subscribers = active_webhooks(tx, events).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let deliveries: Vec<(&StoredEvent, &str)> = events
        .iter()
        .flat_map(|event| {
            subscribers
                .iter()
                .filter(move |w| w.organization_id == event.organization_id.as_str())
                .filter(move |w| w.events.contains(&event.kind))
                .map(move |w| (event, w.id.as_str()))
        })
        .collect();
    const DELIVERY_COLUMNS: &[(&str, Ty)] = &[
        ("id", Ty::Text),
        ("webhook_id", Ty::Text),
        ("organization_id", Ty::Text),
        ("event_id", Ty::Text),
        ("event_type", Ty::Text),
        ("body", Ty::Text),
        ("status", Ty::Text),
        ("attempts", Ty::Int),
        ("next_attempt_at", Ty::Int),
        ("created_at", Ty::Int),
    ];
    for chunk in deliveries.chunks(rows_per_statement(DELIVERY_COLUMNS.len())) {
        let mut rows = Rows::for_tx(tx, DELIVERY_COLUMNS);
        for (event, webhook_id) in chunk {
            rows.text(format!("{}:{webhook_id}", event.id))
                .text(*webhook_id)
                .text(event.organization_id.as_str())
                .text(event.id.as_str())
                .text(event.kind.as_str())
                .text(webhook_body(event).to_string())
                .text("pending")
                .int(0)
                .int(event.created_at)
                .int(event.created_at);
        }
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event_id, event_type, body, status,
                                             attempts, next_attempt_at, created_at)
             {}",
            rows.source().0
        );
        rows.query(&sql).execute(&mut **tx).await?;
    }
    Ok(())
}

struct Subscriber {
    id: String,
    organization_id: String,
    events: Vec<String>,
}

/// The active webhooks of the organizations these events belong to.
async fn active_webhooks(
    tx: &mut Transaction<'static, Any>,
    events: &[StoredEvent],
) -> Result<Vec<Subscriber>, StoreError> {
    let mut orgs: Vec<&str> = events.iter().map(|e| e.organization_id.as_str()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, organization_id, events FROM webhooks WHERE is_active = 1 AND organization_id IN ({})",
        Binds::for_tx(tx).list(orgs.len())
    );
    let mut query = batch_query(&sql);
    for org in &orgs {
        query = query.bind(*org);
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| {
            let events: String = row.try_get("events")?;
            Ok(Subscriber {
                id: row.try_get("id")?,
                organization_id: row.try_get("organization_id")?,
                events: serde_json::from_str(&events)
                    .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
            })
        })
        .collect()
}

/// The event log the live socket and webhooks read.
pub struct Events<'a> {
    store: &'a Store,
}

impl Store {
    pub fn events(&self) -> Events<'_> {
        Events { store: self }
    }
}

impl Events<'_> {
    /// Records an event on its own (session status, QR), outside any other change.
    pub async fn record(
        &self,
        org: &OrgId,
        kind: &str,
        payload: serde_json::Value,
    ) -> Result<StoredEvent, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        let event = insert_event(tx, org, kind, payload, crate::rows::now_millis()).await?;
        w.commit().await?;
        Ok(event)
    }

    /// The organization's events after `after_id` (exclusive), oldest first.
    pub async fn after(
        &self,
        org: &OrgId,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, organization_id, type, payload, created_at FROM events
             WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(org.as_str())
        .bind(after_id.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                Ok(StoredEvent {
                    id: row.try_get("id")?,
                    organization_id: OrgId::from_trusted(
                        row.try_get::<String, _>("organization_id")?,
                    ),
                    kind: row.try_get("type")?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
