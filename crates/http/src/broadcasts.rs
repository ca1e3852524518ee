//! Broadcasts over HTTP (SPEC §15): drafts, a preview of who they reach and what they say,
//! start (now or at `sendAt`), pause, resume, cancel, progress, and each recipient with its
//! message and status.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::broadcasts::{BroadcastDraft, BroadcastState};
use wasl_app::clock::rfc3339;
use wasl_domain::broadcast::{
    Audience, AudienceFilter, BroadcastStatus, Pacing, TagsMode, MOST_LIST, MOST_PER_MINUTE,
};
use wasl_domain::{ParseError, SessionName};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::scheduled_messages::AutomatedMessageView;
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_broadcast, list_broadcasts))
        .routes(routes!(get_broadcast, update_broadcast, delete_broadcast))
        .routes(routes!(preview_broadcast))
        .routes(routes!(start_broadcast))
        .routes(routes!(pause_broadcast))
        .routes(routes!(resume_broadcast))
        .routes(routes!(cancel_broadcast))
        .routes(routes!(list_recipients))
        .routes(routes!(count_audience))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudienceRequest {
    recipients: RecipientsView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudienceData {
    /// How many it reaches now (opted-out and blocked customers not counted).
    count: i64,
}

/// How many an audience reaches now, before any broadcast is saved (the builder's live count).
#[utoipa::path(post, path = "/api/v1/whatsapp/broadcasts/audience", tag = "broadcasts", security(("bearer" = [])),
    request_body = AudienceRequest,
    responses((status = 200, body = Envelope<AudienceData>), (status = 400), (status = 403)))]
async fn count_audience(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<AudienceRequest>,
) -> Result<ApiOk<AudienceData>, ApiError> {
    auth.require_manager()?;
    let (audience,) = (body.recipients.parse(),).validate()?;
    let count = state.broadcasts.audience_count(&auth, audience).await?;
    Ok(ApiOk::ok(Msg::Ok, AudienceData { count }))
}

/// Which contacts: all of them unless filtered. Tags compare without regard to case.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FiltersView {
    #[serde(default)]
    tags: Vec<String>,
    /// any (default) or all of `tags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags_mode: Option<String>,
    #[serde(default)]
    exclude_tags: Vec<String>,
    /// Only contacts whose last message came before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_message_before: Option<String>,
    /// Only contacts whose last message came after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_message_after: Option<String>,
}

/// Who it goes to: a `filter` on the contacts, or a `list` of numbers (at most 100,000).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientsView {
    /// filter or list.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filters: Option<FiltersView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phones: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// When it starts once started: RFC 3339, or a local time of the organization.
    send_at: String,
}

/// How fast: `perMinute` on average (absent: a random 6–15 s between messages; 0: no pause,
/// on the sandbox and the Cloud API only; at most 20 on WhatsApp Web), each pause varying by
/// ±`jitterPercent` (default 40).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PacingView {
    #[serde(default)]
    per_minute: Option<i64>,
    #[serde(default)]
    jitter_percent: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateBroadcastRequest {
    name: String,
    /// The session it is sent from.
    session_name: String,
    recipients: RecipientsView,
    message: AutomatedMessageView,
    schedule: Option<ScheduleView>,
    pacing: Option<PacingView>,
}

/// What to change of a draft; a field left out stays.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBroadcastRequest {
    name: Option<String>,
    session_name: Option<String>,
    recipients: Option<RecipientsView>,
    message: Option<AutomatedMessageView>,
    #[serde(default, deserialize_with = "absent_or_null_schedule")]
    #[schema(value_type = Option<ScheduleView>)]
    schedule: Option<Option<ScheduleView>>,
    pacing: Option<PacingView>,
}

fn absent_or_null_schedule<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<ScheduleView>>, D::Error> {
    Option::<ScheduleView>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastView {
    id: String,
    name: String,
    session_name: String,
    recipients: RecipientsView,
    message: AutomatedMessageView,
    schedule: Option<ScheduleView>,
    pacing: PacingView,
    /// draft, scheduled, running, paused, completed or cancelled.
    status: String,
    /// Why it waits or was paused by itself: daily_cap, session_not_connected,
    /// session_ended, session_gone, number_restricted, content_gone, file_too_large.
    waiting_reason: Option<String>,
    /// Recipients fixed at the start (skipped ones included).
    total: i64,
    /// Waiting their turn or in the outbox.
    queued: i64,
    sent: i64,
    delivered: i64,
    read: i64,
    failed: i64,
    skipped: i64,
    cancelled: i64,
    started_at: Option<String>,
    finished_at: Option<String>,
    estimated_finish_at: Option<String>,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
}

fn iso(ms: Option<i64>) -> Option<String> {
    ms.map(rfc3339)
}

impl From<&BroadcastState> for BroadcastView {
    fn from(s: &BroadcastState) -> Self {
        let b = &s.broadcast;
        let p = &s.progress;
        let recipients = match &b.audience {
            Audience::Filter { filters } => RecipientsView {
                kind: "filter".into(),
                filters: Some(FiltersView {
                    tags: filters.tags.clone(),
                    tags_mode: Some(
                        match filters.tags_mode {
                            TagsMode::Any => "any",
                            TagsMode::All => "all",
                        }
                        .into(),
                    ),
                    exclude_tags: filters.exclude_tags.clone(),
                    last_message_before: iso(filters.last_message_before),
                    last_message_after: iso(filters.last_message_after),
                }),
                phones: None,
            },
            Audience::List { phones } => RecipientsView {
                kind: "list".into(),
                filters: None,
                phones: Some(phones.clone()),
            },
        };
        BroadcastView {
            id: b.id.clone(),
            name: b.name.clone(),
            session_name: b.session_name.as_str().to_owned(),
            recipients,
            message: AutomatedMessageView::of(&b.message),
            schedule: b.send_at.map(|at| ScheduleView {
                send_at: rfc3339(at),
            }),
            pacing: PacingView {
                per_minute: b.pacing.per_minute.map(i64::from),
                jitter_percent: Some(i64::from(b.pacing.jitter_percent)),
            },
            status: b.status.as_str().to_owned(),
            waiting_reason: b.waiting_reason.clone(),
            total: b.total,
            queued: p.queued,
            sent: p.sent,
            delivered: p.delivered,
            read: p.read,
            failed: p.failed,
            skipped: p.skipped,
            cancelled: p.cancelled,
            started_at: iso(b.started_at),
            finished_at: iso(b.finished_at),
            estimated_finish_at: iso(s.estimated_finish_at),
            created_by: b.created_by.clone(),
            created_at: rfc3339(b.created_at),
            updated_at: rfc3339(b.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastData {
    broadcast: BroadcastView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastList {
    broadcasts: Vec<BroadcastView>,
    pagination: Pagination,
}

fn time(field: &'static str, value: Option<&str>) -> Result<Option<i64>, ParseError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_millis())
                .map_err(|_| ParseError::new(field, "is not an RFC 3339 time"))
        })
        .transpose()
}

impl RecipientsView {
    /// The numbers, when given: 1 to 100,000 of at most 64 characters of text each.
    fn phones(&self) -> Result<Option<Vec<String>>, ParseError> {
        let Some(phones) = &self.phones else {
            return Ok(None);
        };
        if phones.is_empty() || phones.len() > MOST_LIST {
            return Err(ParseError::new(
                "recipients.phones",
                format!("1 to {MOST_LIST} numbers"),
            ));
        }
        if phones
            .iter()
            .any(|p| p.chars().count() > 64 || p.chars().any(char::is_control))
        {
            return Err(ParseError::new(
                "recipients.phones",
                "each number is at most 64 characters of text",
            ));
        }
        Ok(Some(phones.iter().map(|p| p.trim().to_owned()).collect()))
    }

    fn parse(&self) -> Result<Audience, ParseError> {
        let phones = self.phones()?;
        match self.kind.trim() {
            "filter" => {
                let f = self.filters.clone().unwrap_or_default();
                let tags_mode = match f.tags_mode.as_deref().map(str::trim) {
                    None | Some("" | "any") => TagsMode::Any,
                    Some("all") => TagsMode::All,
                    Some(_) => {
                        return Err(ParseError::new("recipients.filters.tagsMode", "any or all"))
                    }
                };
                let filters = AudienceFilter {
                    tags: f.tags.iter().map(|t| t.trim().to_owned()).collect(),
                    tags_mode,
                    exclude_tags: f.exclude_tags.iter().map(|t| t.trim().to_owned()).collect(),
                    last_message_before: time(
                        "recipients.filters.lastMessageBefore",
                        f.last_message_before.as_deref(),
                    )?,
                    last_message_after: time(
                        "recipients.filters.lastMessageAfter",
                        f.last_message_after.as_deref(),
                    )?,
                };
                filters.check()?;
                Ok(Audience::Filter { filters })
            }
            "list" => match phones {
                Some(phones) => Ok(Audience::List { phones }),
                None => Err(ParseError::new(
                    "recipients.phones",
                    format!("1 to {MOST_LIST} numbers"),
                )),
            },
            _ => Err(ParseError::new("recipients.type", "filter or list")),
        }
    }
}

impl PacingView {
    fn parse(&self) -> Result<Pacing, ParseError> {
        let per_minute = match self.per_minute {
            None => None,
            Some(n) => Some(
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= MOST_PER_MINUTE)
                    .ok_or_else(|| {
                        ParseError::new("pacing.perMinute", format!("0 to {MOST_PER_MINUTE}"))
                    })?,
            ),
        };
        let jitter_percent = match self.jitter_percent {
            None => 40,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= 90)
                .ok_or_else(|| ParseError::new("pacing.jitterPercent", "0 to 90"))?,
        };
        Ok(Pacing {
            per_minute,
            jitter_percent,
        })
    }
}

fn parse_name(name: &str) -> Result<String, ParseError> {
    let long = name.chars().count() > 100;
    let name = name.trim();
    if name.is_empty() || long || name.chars().any(char::is_control) {
        return Err(ParseError::new("name", "1 to 100 characters of text"));
    }
    Ok(name.to_owned())
}

struct Parts<'a> {
    name: &'a str,
    session_name: &'a str,
    recipients: &'a RecipientsView,
    message: &'a AutomatedMessageView,
    send_at: Option<&'a str>,
    pacing: Option<&'a PacingView>,
}

impl Parts<'_> {
    fn draft(&self) -> Result<BroadcastDraft, ApiError> {
        let (name, session_name, audience, message, pacing) = (
            parse_name(self.name),
            SessionName::parse(self.session_name.trim()),
            self.recipients.parse(),
            self.message.parse("message"),
            self.pacing
                .map(PacingView::parse)
                .unwrap_or(Ok(Pacing::default())),
        )
            .validate()?;
        Ok(BroadcastDraft {
            name,
            session_name,
            audience,
            message,
            send_at: self.send_at.map(str::to_owned),
            pacing,
        })
    }
}

/// Saves a broadcast as a draft (owners and admins).
#[utoipa::path(post, path = "/api/v1/whatsapp/broadcasts", tag = "broadcasts", security(("bearer" = [])),
    request_body = CreateBroadcastRequest,
    responses((status = 201, body = Envelope<BroadcastData>), (status = 400), (status = 403)))]
async fn create_broadcast(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateBroadcastRequest>,
) -> Result<ApiOk<BroadcastData>, ApiError> {
    auth.require_manager()?;
    let draft = Parts {
        name: &body.name,
        session_name: &body.session_name,
        recipients: &body.recipients,
        message: &body.message,
        send_at: body.schedule.as_ref().map(|s| s.send_at.as_str()),
        pacing: body.pacing.as_ref(),
    }
    .draft()?;
    let b = state.broadcasts.create(&auth, draft).await?;
    let s = state.broadcasts.get(&auth, &b.id).await?;
    Ok(ApiOk::created(
        Msg::BroadcastCreated,
        BroadcastData {
            broadcast: BroadcastView::from(&s),
        },
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct BroadcastQuery {
    /// draft, scheduled, running, paused, completed or cancelled.
    status: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

/// The organization's broadcasts, the newest first, each with its progress.
#[utoipa::path(get, path = "/api/v1/whatsapp/broadcasts", tag = "broadcasts", security(("bearer" = [])),
    params(BroadcastQuery), responses((status = 200, body = Envelope<BroadcastList>), (status = 400)))]
async fn list_broadcasts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<BroadcastQuery>,
) -> Result<ApiOk<BroadcastList>, ApiError> {
    let page = PageQuery {
        page: q.page,
        limit: q.limit,
    }
    .parse()?;
    let (status,) = (q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| BroadcastStatus::parse("status", s))
        .transpose(),)
        .validate()?;
    let found = state.broadcasts.list(&auth, status, &page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        BroadcastList {
            broadcasts: found.items.iter().map(BroadcastView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

/// A broadcast with its progress: `total`, `queued`, `sent`, `delivered`, `read`, `failed`,
/// `skipped`, and when it should finish.
#[utoipa::path(get, path = "/api/v1/whatsapp/broadcasts/{id}", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<BroadcastData>), (status = 404)))]
async fn get_broadcast(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<BroadcastData>, ApiError> {
    let s = state.broadcasts.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        BroadcastData {
            broadcast: BroadcastView::from(&s),
        },
    ))
}

/// Changes a draft (or a broadcast waiting for its time); what is left out stays.
#[utoipa::path(put, path = "/api/v1/whatsapp/broadcasts/{id}", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateBroadcastRequest,
    responses((status = 200, body = Envelope<BroadcastData>), (status = 400), (status = 403), (status = 404), (status = 409)))]
async fn update_broadcast(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBroadcastRequest>,
) -> Result<ApiOk<BroadcastData>, ApiError> {
    let before = BroadcastView::from(&state.broadcasts.get(&auth, &id).await?);
    auth.require_manager()?;
    let send_at = match &body.schedule {
        None => before.schedule.as_ref().map(|s| s.send_at.as_str()),
        Some(s) => s.as_ref().map(|s| s.send_at.as_str()),
    };
    let draft = Parts {
        name: body.name.as_deref().unwrap_or(&before.name),
        session_name: body.session_name.as_deref().unwrap_or(&before.session_name),
        recipients: body.recipients.as_ref().unwrap_or(&before.recipients),
        message: body.message.as_ref().unwrap_or(&before.message),
        send_at,
        pacing: Some(body.pacing.as_ref().unwrap_or(&before.pacing)),
    }
    .draft()?;
    let s = state.broadcasts.update(&auth, &id, draft).await?;
    Ok(ApiOk::ok(
        Msg::BroadcastUpdated,
        BroadcastData {
            broadcast: BroadcastView::from(&s),
        },
    ))
}

/// Deletes a draft or an ended broadcast; its messages stay in their chats.
#[utoipa::path(delete, path = "/api/v1/whatsapp/broadcasts/{id}", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<BroadcastData>), (status = 403), (status = 404), (status = 409)))]
async fn delete_broadcast(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<BroadcastData>, ApiError> {
    let s = state.broadcasts.delete(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::BroadcastDeleted,
        BroadcastData {
            broadcast: BroadcastView::from(&s),
        },
    ))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewMessageView {
    to: String,
    /// The message as this customer would get it (a caption for a file).
    text: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastPreviewData {
    /// How many it reaches now (opted-out and blocked customers not counted).
    count: i64,
    messages: Vec<PreviewMessageView>,
}

/// Who the broadcast reaches now, and its first messages as they would be sent.
#[utoipa::path(get, path = "/api/v1/whatsapp/broadcasts/{id}/preview", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<BroadcastPreviewData>), (status = 404)))]
async fn preview_broadcast(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<BroadcastPreviewData>, ApiError> {
    let p = state.broadcasts.preview(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        BroadcastPreviewData {
            count: p.count,
            messages: p
                .messages
                .into_iter()
                .map(|(to, text)| PreviewMessageView { to, text })
                .collect(),
        },
    ))
}

macro_rules! action {
    ($name:ident, $path:literal, $method:ident, $msg:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "broadcasts", security(("bearer" = [])),
            params(("id" = String, Path)),
            responses((status = 200, body = Envelope<BroadcastData>), (status = 400), (status = 403), (status = 404), (status = 409)))]
        async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            Path(id): Path<String>,
        ) -> Result<ApiOk<BroadcastData>, ApiError> {
            let s = state.broadcasts.$method(&auth, &id).await?;
            let msg = ($msg)(&s);
            Ok(ApiOk::ok(
                msg,
                BroadcastData {
                    broadcast: BroadcastView::from(&s),
                },
            ))
        }
    };
}

action!(
    start_broadcast,
    "/api/v1/whatsapp/broadcasts/{id}/start",
    start,
    |s: &BroadcastState| if s.broadcast.status == BroadcastStatus::Scheduled {
        Msg::BroadcastScheduled
    } else {
        Msg::BroadcastStarting
    },
    "Starts the broadcast: at its `sendAt` when that is ahead, else now. Its audience is fixed when it starts."
);
action!(
    pause_broadcast,
    "/api/v1/whatsapp/broadcasts/{id}/pause",
    pause,
    |_: &BroadcastState| Msg::BroadcastPaused,
    "Stops handing recipients to the outbox until resumed."
);
action!(
    resume_broadcast,
    "/api/v1/whatsapp/broadcasts/{id}/resume",
    resume,
    |_: &BroadcastState| Msg::BroadcastResumed,
    "Goes on from the next recipient."
);
action!(
    cancel_broadcast,
    "/api/v1/whatsapp/broadcasts/{id}/cancel",
    cancel,
    |_: &BroadcastState| Msg::BroadcastCancelled,
    "Ends the broadcast: the recipients not handed to the outbox yet are cancelled."
);

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// queued, sent, delivered, read, failed, skipped or cancelled.
    status: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientView {
    /// Its place in the sending order, from 1.
    number: i64,
    phone: String,
    contact_id: Option<String>,
    /// queued, sent, delivered, read, failed, skipped or cancelled.
    status: String,
    /// Why it was skipped: opted_out, blocked, invalid or duplicate.
    reason: Option<String>,
    message_id: Option<String>,
    /// When it was handed to the outbox.
    queued_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientList {
    recipients: Vec<RecipientView>,
    pagination: Pagination,
}

const RECIPIENT_STATUSES: [&str; 7] = [
    "queued",
    "sent",
    "delivered",
    "read",
    "failed",
    "skipped",
    "cancelled",
];

/// The broadcast's recipients in their order, each with its message and status.
#[utoipa::path(get, path = "/api/v1/whatsapp/broadcasts/{id}/recipients", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path), RecipientQuery),
    responses((status = 200, body = Envelope<RecipientList>), (status = 400), (status = 404)))]
async fn list_recipients(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RecipientQuery>,
) -> Result<ApiOk<RecipientList>, ApiError> {
    let page = PageQuery {
        page: q.page,
        limit: q.limit,
    }
    .parse()?;
    let (status,) = (match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if RECIPIENT_STATUSES.contains(&s) => Ok(Some(s)),
        Some(_) => Err(ParseError::new(
            "status",
            "queued, sent, delivered, read, failed, skipped or cancelled",
        )),
    },)
        .validate()?;
    let found = state
        .broadcasts
        .recipients(&auth, &id, status, &page)
        .await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        RecipientList {
            recipients: found
                .items
                .iter()
                .map(|r| RecipientView {
                    number: r.seq + 1,
                    phone: r.phone.clone(),
                    contact_id: r.contact_id.clone(),
                    status: r.status.clone(),
                    reason: r.reason.clone(),
                    message_id: r.message_id.clone(),
                    queued_at: iso(r.dispatched_at),
                })
                .collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}
