//! Scheduled messages over HTTP (SPEC §15): a message to one customer at a local time of the
//! organization, once or repeated; its occurrences with their messages; pause, resume and
//! cancel; and a calendar of what is coming.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::clock::rfc3339;
use wasl_app::schedules::{RepeatDraft, ScheduleDraft, Upcoming};
use wasl_domain::automation::{Reply, ReplyFields};
use wasl_domain::schedule::{
    write_local, Occurrence, OccurrenceOutcome, ScheduleStatus, ScheduledMessage,
};
use wasl_domain::{MessageStatus, ParseError, PhoneNumber, SessionName};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_scheduled_message, list_scheduled_messages))
        .routes(routes!(scheduled_calendar))
        .routes(routes!(
            get_scheduled_message,
            update_scheduled_message,
            delete_scheduled_message
        ))
        .routes(routes!(list_occurrences))
        .routes(routes!(pause_scheduled_message))
        .routes(routes!(resume_scheduled_message))
        .routes(routes!(cancel_scheduled_message))
}

/// What is sent: `text` (with `{{contact.name}}` and other contact fields filled), a
/// `template` of the organization by name (with `variables`), or `media` (a `mediaId` of the
/// media library, with a `caption`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedMessageView {
    /// text, template or media.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    caption: Option<String>,
}

impl AutomatedMessageView {
    pub(crate) fn of(reply: &Reply) -> Self {
        let f = reply.fields();
        let media = f.kind == "media";
        AutomatedMessageView {
            text: if media { None } else { f.text.clone() },
            caption: if media { f.text } else { None },
            kind: f.kind,
            template: f.template,
            language: f.language,
            variables: f.variables,
            media_id: f.media_id,
        }
    }

    /// The reply this describes; `field` names it in errors.
    pub(crate) fn parse(&self, field: &'static str) -> Result<Reply, ParseError> {
        let media = self.kind.trim() == "media";
        Reply::parse(
            field,
            &ReplyFields {
                kind: self.kind.clone(),
                text: if media {
                    self.caption.clone().or_else(|| self.text.clone())
                } else {
                    self.text.clone()
                },
                template: self.template.clone(),
                language: self.language.clone(),
                variables: self.variables.clone(),
                media_id: self.media_id.clone(),
            },
        )
    }
}

/// How a schedule repeats, in the organization's time zone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepeatView {
    /// daily, weekly or monthly. Monthly on a day a month lacks (the 31st) falls on its
    /// last day.
    frequency: String,
    /// Every how many days, weeks or months (1 to 365); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    interval: Option<i64>,
    /// The last local date (`2027-12-31`, the whole day) or time of an occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<String>,
    /// How many occurrences in all (1 to 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateScheduledMessageRequest {
    /// The customer's number.
    to: String,
    /// The session it is sent from; `default` when absent.
    session_name: Option<String>,
    message: AutomatedMessageView,
    /// The first (or only) time, local to the organization (`2027-03-15T09:00`), or with an
    /// offset (`2027-03-15T09:00:00+03:00`).
    #[schema(example = "2027-03-15T09:00")]
    schedule_at: String,
    repeat: Option<RepeatView>,
    /// false: saved paused. Default true.
    is_active: Option<bool>,
}

/// What to change; a field left out stays. `null` removes the repetition or the session.
/// A new time or repetition starts the series again from now.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateScheduledMessageRequest {
    to: Option<String>,
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    session_name: Option<Option<String>>,
    message: Option<AutomatedMessageView>,
    schedule_at: Option<String>,
    #[serde(default, deserialize_with = "absent_or_null_repeat")]
    #[schema(value_type = Option<RepeatView>)]
    repeat: Option<Option<RepeatView>>,
    is_active: Option<bool>,
}

fn absent_or_null_repeat<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<RepeatView>>, D::Error> {
    Option::<RepeatView>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledMessageView {
    id: String,
    to: String,
    session_name: Option<String>,
    message: AutomatedMessageView,
    /// The first occurrence, local to the organization.
    schedule_at: String,
    repeat: Option<RepeatView>,
    /// active, paused, completed or cancelled.
    status: String,
    is_active: bool,
    /// When the next occurrence is sent (UTC); null when none is coming (paused, ended).
    next_run_at: Option<String>,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&ScheduledMessage> for ScheduledMessageView {
    fn from(s: &ScheduledMessage) -> Self {
        ScheduledMessageView {
            id: s.id.clone(),
            to: s.to.clone(),
            session_name: s.session_name.as_ref().map(|n| n.as_str().to_owned()),
            message: AutomatedMessageView::of(&s.message),
            schedule_at: write_local(s.recurrence.start),
            repeat: s.recurrence.repeat.map(|r| RepeatView {
                frequency: r.frequency.as_str().to_owned(),
                interval: Some(i64::from(r.interval)),
                until: r.until.map(write_local),
                count: r.count.map(i64::from),
            }),
            status: s.status.as_str().to_owned(),
            is_active: s.status == ScheduleStatus::Active,
            next_run_at: s.next_run_at.map(rfc3339),
            created_by: s.created_by.clone(),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledMessageData {
    scheduled_message: ScheduledMessageView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledMessageList {
    scheduled_messages: Vec<ScheduledMessageView>,
    pagination: Pagination,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ScheduledMessageQuery {
    /// active, paused, completed or cancelled.
    status: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

/// A request's fields, checked one by one.
struct Parts<'a> {
    to: &'a str,
    session_name: Option<&'a str>,
    message: &'a AutomatedMessageView,
    schedule_at: &'a str,
    repeat: Option<&'a RepeatView>,
    is_active: bool,
}

impl Parts<'_> {
    fn draft(&self, auth: &Auth) -> Result<ScheduleDraft, ApiError> {
        let (to, session_name, message) = (
            PhoneNumber::parse_written("to", self.to, auth.default_country),
            self.session_name
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(SessionName::parse)
                .transpose(),
            self.message.parse("message"),
        )
            .validate()?;
        Ok(ScheduleDraft {
            to,
            session_name,
            message,
            schedule_at: self.schedule_at.to_owned(),
            repeat: self.repeat.map(|r| RepeatDraft {
                frequency: r.frequency.clone(),
                interval: r.interval,
                until: r.until.clone(),
                count: r.count,
            }),
            is_active: self.is_active,
        })
    }
}

/// Schedules a message (anyone of the organization).
#[utoipa::path(post, path = "/api/v1/whatsapp/scheduled-messages", tag = "scheduled-messages", security(("bearer" = [])),
    request_body = CreateScheduledMessageRequest,
    responses((status = 201, body = Envelope<ScheduledMessageData>), (status = 400), (status = 422)))]
async fn create_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateScheduledMessageRequest>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    let draft = Parts {
        to: &body.to,
        session_name: body.session_name.as_deref(),
        message: &body.message,
        schedule_at: &body.schedule_at,
        repeat: body.repeat.as_ref(),
        is_active: body.is_active.unwrap_or(true),
    }
    .draft(&auth)?;
    let schedule = state.scheduled_messages.create(&auth, draft).await?;
    Ok(ApiOk::created(
        Msg::ScheduledMessageCreated,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

/// The organization's scheduled messages, the newest first.
#[utoipa::path(get, path = "/api/v1/whatsapp/scheduled-messages", tag = "scheduled-messages", security(("bearer" = [])),
    params(ScheduledMessageQuery), responses((status = 200, body = Envelope<ScheduledMessageList>), (status = 400)))]
async fn list_scheduled_messages(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ScheduledMessageQuery>,
) -> Result<ApiOk<ScheduledMessageList>, ApiError> {
    let page = PageQuery {
        page: q.page,
        limit: q.limit,
    }
    .parse()?;
    let (status,) = (q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| ScheduleStatus::parse("status", s))
        .transpose(),)
        .validate()?;
    let found = state.scheduled_messages.list(&auth, status, &page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ScheduledMessageList {
            scheduled_messages: found.items.iter().map(ScheduledMessageView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/whatsapp/scheduled-messages/{id}", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<ScheduledMessageData>), (status = 404)))]
async fn get_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    let schedule = state.scheduled_messages.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

/// Changes a scheduled message (its author, owners and admins); what is left out stays.
#[utoipa::path(put, path = "/api/v1/whatsapp/scheduled-messages/{id}", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateScheduledMessageRequest,
    responses((status = 200, body = Envelope<ScheduledMessageData>), (status = 400), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn update_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateScheduledMessageRequest>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    // Someone else's schedule (or none) answers 404 before their input is judged.
    let before = ScheduledMessageView::from(&state.scheduled_messages.get(&auth, &id).await?);
    let session_name = match &body.session_name {
        None => before.session_name.as_deref(),
        Some(name) => name.as_deref(),
    };
    let repeat = match &body.repeat {
        None => before.repeat.as_ref(),
        Some(repeat) => repeat.as_ref(),
    };
    let draft = Parts {
        to: body.to.as_deref().unwrap_or(&before.to),
        session_name,
        message: body.message.as_ref().unwrap_or(&before.message),
        schedule_at: body.schedule_at.as_deref().unwrap_or(&before.schedule_at),
        repeat,
        is_active: body
            .is_active
            .unwrap_or(before.status != ScheduleStatus::Paused.as_str()),
    }
    .draft(&auth)?;
    let schedule = state.scheduled_messages.update(&auth, &id, draft).await?;
    Ok(ApiOk::ok(
        Msg::ScheduledMessageUpdated,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

/// Deletes a scheduled message and its occurrences; the messages it sent stay.
#[utoipa::path(delete, path = "/api/v1/whatsapp/scheduled-messages/{id}", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<ScheduledMessageData>), (status = 403), (status = 404)))]
async fn delete_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    let schedule = state.scheduled_messages.delete(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::ScheduledMessageDeleted,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

/// Stops sending until resumed; occurrences meanwhile are passed over.
#[utoipa::path(post, path = "/api/v1/whatsapp/scheduled-messages/{id}/pause", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<ScheduledMessageData>), (status = 403), (status = 404), (status = 409)))]
async fn pause_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    let schedule = state.scheduled_messages.pause(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::ScheduledMessagePaused,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

/// Sends again from the next occurrence after now.
#[utoipa::path(post, path = "/api/v1/whatsapp/scheduled-messages/{id}/resume", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<ScheduledMessageData>), (status = 403), (status = 404), (status = 409)))]
async fn resume_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    let schedule = state.scheduled_messages.resume(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::ScheduledMessageResumed,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

/// Ends the schedule for good; it stays, with its occurrences.
#[utoipa::path(post, path = "/api/v1/whatsapp/scheduled-messages/{id}/cancel", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<ScheduledMessageData>), (status = 403), (status = 404)))]
async fn cancel_scheduled_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<ScheduledMessageData>, ApiError> {
    let schedule = state.scheduled_messages.cancel(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::ScheduledMessageCancelled,
        ScheduledMessageData {
            scheduled_message: ScheduledMessageView::from(&schedule),
        },
    ))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceView {
    number: u32,
    due_at: String,
    /// When wasl handled it.
    fired_at: String,
    /// queued (in the outbox), sent, delivered, read or failed (its message's status);
    /// missed (wasl was down longer than the grace period), skipped (blocked, opted out)
    /// or failed (it could not be made).
    status: String,
    /// Why it was missed, skipped or failed: down (wasl was down past the grace period),
    /// blocked, opted_out (a marketing template), session_gone, content_gone (its template
    /// or file was deleted, or its variables cannot be filled) or file_too_large.
    reason: Option<String>,
    message_id: Option<String>,
}

impl From<&Occurrence> for OccurrenceView {
    fn from(o: &Occurrence) -> Self {
        let status = match (o.outcome, o.message_status) {
            (OccurrenceOutcome::Sent, Some(MessageStatus::Pending)) => "queued",
            (OccurrenceOutcome::Sent, Some(status)) => status.as_str(),
            (outcome, _) => outcome.as_str(),
        };
        OccurrenceView {
            number: o.number,
            due_at: rfc3339(o.due_at),
            fired_at: rfc3339(o.fired_at),
            status: status.to_owned(),
            reason: o.reason.clone(),
            message_id: o.message_id.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceList {
    occurrences: Vec<OccurrenceView>,
    pagination: Pagination,
}

/// The occurrences that came, the latest first, each with its message and status.
#[utoipa::path(get, path = "/api/v1/whatsapp/scheduled-messages/{id}/occurrences", tag = "scheduled-messages", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = Envelope<OccurrenceList>), (status = 400), (status = 404)))]
async fn list_occurrences(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<OccurrenceList>, ApiError> {
    let page = query.parse()?;
    let found = state
        .scheduled_messages
        .occurrences(&auth, &id, &page)
        .await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        OccurrenceList {
            occurrences: found.items.iter().map(OccurrenceView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// The first local day (`2027-03-01`); today when absent.
    from: Option<String>,
    /// How many days (1 to 62); default 35.
    days: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpcomingView {
    scheduled_message_id: String,
    number: u32,
    /// When it is sent (UTC).
    at: String,
    /// The same time, local to the organization.
    local_time: String,
    to: String,
    message: AutomatedMessageView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalendarData {
    timezone: String,
    occurrences: Vec<UpcomingView>,
}

/// The occurrences to come in a window of local days, soonest first (at most 1000).
#[utoipa::path(get, path = "/api/v1/whatsapp/scheduled-messages/calendar", tag = "scheduled-messages", security(("bearer" = [])),
    params(CalendarQuery), responses((status = 200, body = Envelope<CalendarData>), (status = 400)))]
async fn scheduled_calendar(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<ApiOk<CalendarData>, ApiError> {
    let (from, days) = (
        q.from
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                chrono::NaiveDate::parse_from_str(f, "%Y-%m-%d")
                    .map_err(|_| ParseError::new("from", "a date such as 2027-03-01"))
            })
            .transpose(),
        match q.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => Ok(35),
            Some(d) => d
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=62).contains(d))
                .ok_or_else(|| ParseError::new("days", "a whole number from 1 to 62")),
        },
    )
        .validate()?;
    let (found, zone) = state.scheduled_messages.calendar(&auth, from, days).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        CalendarData {
            timezone: zone.name().to_owned(),
            occurrences: found
                .iter()
                .map(|u: &Upcoming| UpcomingView {
                    scheduled_message_id: u.schedule.id.clone(),
                    number: u.number,
                    at: rfc3339(u.at),
                    local_time: write_local(zone.local(u.at)),
                    to: u.schedule.to.clone(),
                    message: AutomatedMessageView::of(&u.schedule.message),
                })
                .collect(),
        },
    ))
}
