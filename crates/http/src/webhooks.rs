//! Webhook subscriptions over HTTP (SPEC §8): create (the secret shown once), list, read,
//! change, delete, the delivery log with every attempt, and replay by hand.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::records::Webhook;
use wasl_app::webhooks::{NewWebhook, WebhookChanges, EVENT_TYPES};
use wasl_domain::ParseError;

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use wasl_app::clock::rfc3339;
use wasl_app::webhooks::signature;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay_delivery))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWebhookRequest {
    /// https://… of the receiver.
    url: String,
    /// Any of message.received, message.sent, message.status, session.status, session.qr,
    /// contact.created, contact.updated.
    events: Vec<String>,
    /// `whsec_` + base64 of 16–64 random bytes; generated when absent.
    secret: Option<String>,
    is_active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWebhookRequest {
    url: Option<String>,
    events: Option<Vec<String>>,
    secret: Option<String>,
    is_active: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    id: String,
    url: String,
    events: Vec<String>,
    is_active: bool,
    created_at: String,
    updated_at: String,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        WebhookView {
            id: w.id.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            is_active: w.is_active,
            created_at: rfc3339(w.created_at),
            updated_at: rfc3339(w.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    webhook: WebhookView,
    /// The signing secret. Shown only here: store it now.
    secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookData {
    webhook: WebhookView,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    attempt: i64,
    at: String,
    status_code: Option<i64>,
    latency_ms: i64,
    error: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    id: String,
    /// The `webhook-id` header: the same on every attempt and replay, for de-duplication.
    event_id: String,
    event_type: String,
    /// pending, delivered or dead.
    status: String,
    attempts: i64,
    next_attempt_at: Option<String>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
    attempt_log: Vec<AttemptView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    deliveries: Vec<DeliveryView>,
    pagination: Pagination,
}

fn delivery_view(
    d: &wasl_app::records::Delivery,
    attempts: &[wasl_app::records::Attempt],
) -> DeliveryView {
    DeliveryView {
        id: d.id.clone(),
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status.clone(),
        attempts: d.attempts,
        next_attempt_at: (d.status == "pending").then(|| rfc3339(d.next_attempt_at)),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        created_at: rfc3339(d.created_at),
        delivered_at: d.delivered_at.map(rfc3339),
        attempt_log: attempts
            .iter()
            .map(|a| AttemptView {
                attempt: a.attempt,
                at: rfc3339(a.at),
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error.clone(),
            })
            .collect(),
    }
}

fn parse_events(events: Vec<String>) -> Result<Vec<String>, ParseError> {
    if events.is_empty() {
        return Err(ParseError::new("events", "choose at least one event"));
    }
    let mut clean = Vec::new();
    for e in events {
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(ParseError::new(
                "events",
                format!("unknown event {e:?}; use: {}", EVENT_TYPES.join(", ")),
            ));
        }
        if !clean.contains(&e) {
            clean.push(e);
        }
    }
    Ok(clean)
}

fn parse_secret(secret: Option<String>) -> Result<Option<String>, ParseError> {
    match secret {
        None => Ok(None),
        Some(s) if signature::secret_key(s.trim()).is_some() => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(ParseError::new(
            "secret",
            "must be whsec_ followed by base64 of 16 to 64 bytes",
        )),
    }
}

/// Subscribes a URL to events. The answer carries the signing secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses((status = 201, body = Envelope<CreatedWebhook>), (status = 400), (status = 403)))]
async fn create_webhook(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateWebhookRequest>,
) -> Result<ApiOk<CreatedWebhook>, ApiError> {
    auth.require_manager()?;
    let (events, secret) = (parse_events(body.events), parse_secret(body.secret)).validate()?;
    let new = NewWebhook {
        url: body.url,
        events,
        secret,
        is_active: body.is_active.unwrap_or(true),
    };
    let (webhook, secret) = state.webhooks.create(&auth, new).await?;
    Ok(ApiOk::created(
        Msg::WebhookCreated,
        CreatedWebhook {
            webhook: WebhookView::from(&webhook),
            secret,
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<WebhookList>), (status = 403)))]
async fn list_webhooks(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<WebhookList>, ApiError> {
    auth.require_manager()?;
    let page = query.parse()?;
    let found = state.webhooks.list(&auth, page.clone()).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        WebhookList {
            webhooks: found.items.iter().map(WebhookView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<WebhookData>), (status = 404)))]
async fn get_webhook(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<WebhookData>, ApiError> {
    let webhook = state.webhooks.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        WebhookData {
            webhook: WebhookView::from(&webhook),
        },
    ))
}

/// Changes the URL, events, secret or active state.
#[utoipa::path(put, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateWebhookRequest,
    responses((status = 200, body = Envelope<WebhookData>), (status = 400), (status = 404)))]
async fn update_webhook(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWebhookRequest>,
) -> Result<ApiOk<WebhookData>, ApiError> {
    // Someone else's webhook (or none) answers 404 before their input is judged.
    state.webhooks.get(&auth, &id).await?;
    let (events, secret) = (
        body.events.map(parse_events).transpose(),
        parse_secret(body.secret),
    )
        .validate()?;
    let changes = WebhookChanges {
        url: body.url,
        events,
        secret,
        is_active: body.is_active,
    };
    let webhook = state.webhooks.update(&auth, &id, changes).await?;
    Ok(ApiOk::ok(
        Msg::WebhookUpdated,
        WebhookData {
            webhook: WebhookView::from(&webhook),
        },
    ))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<WebhookData>), (status = 404)))]
async fn delete_webhook(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<WebhookData>, ApiError> {
    let webhook = state.webhooks.delete(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::WebhookDeleted,
        WebhookData {
            webhook: WebhookView::from(&webhook),
        },
    ))
}

/// Every delivery of the webhook, newest first, with each attempt's status code, latency and error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery), responses((status = 200, body = Envelope<DeliveryList>), (status = 404)))]
async fn list_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<DeliveryList>, ApiError> {
    state.webhooks.get(&auth, &id).await?;
    let page = query.parse()?;
    let found = state.webhooks.deliveries(&auth, &id, page.clone()).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        DeliveryList {
            deliveries: found
                .items
                .iter()
                .map(|(d, a)| delivery_view(d, a))
                .collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

/// Sends a delivered or dead delivery again now, with the same `webhook-id`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{deliveryId}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("deliveryId" = String, Path)),
    responses((status = 200, body = Envelope<WebhookData>), (status = 404), (status = 409, description = "DELIVERY_PENDING")))]
async fn replay_delivery(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<ApiOk<WebhookData>, ApiError> {
    let webhook = state.webhooks.replay(&auth, &id, &delivery_id).await?;
    Ok(ApiOk::ok(
        Msg::DeliveryReplayed,
        WebhookData {
            webhook: WebhookView::from(&webhook),
        },
    ))
}
