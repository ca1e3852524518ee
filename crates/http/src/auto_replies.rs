//! Auto-replies over HTTP (SPEC §14): the rules, and `POST …/auto-replies/test`, which says
//! which rule would answer a message, with what, or why none would.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::automation::auto_replies::{RuleDraft, TestMessage, TestOutcome};
use wasl_app::clock::rfc3339;
use wasl_domain::automation::{
    self, AutoReply, ConditionFields, Conditions, MatchType, RangeFields, Reply, ReplyFields,
    Trigger, Verdict,
};
use wasl_domain::{ParseError, PhoneNumber, SessionName};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_auto_reply, list_auto_replies))
        .routes(routes!(
            get_auto_reply,
            update_auto_reply,
            delete_auto_reply
        ))
        .routes(routes!(test_auto_replies))
}

/// What a rule answers with: `text` (with `{{contact.name}}` and defaults filled), a
/// `template` of the organization (by name, with `variables`), or `media` (a `mediaId` of
/// the media library, with `text` as its caption).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyView {
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
}

impl From<ReplyFields> for ReplyView {
    fn from(f: ReplyFields) -> Self {
        ReplyView {
            kind: f.kind,
            text: f.text,
            template: f.template,
            language: f.language,
            variables: f.variables,
            media_id: f.media_id,
        }
    }
}

impl ReplyView {
    fn fields(&self) -> ReplyFields {
        ReplyFields {
            kind: self.kind.clone(),
            text: self.text.clone(),
            template: self.template.clone(),
            language: self.language.clone(),
            variables: self.variables.clone(),
            media_id: self.media_id.clone(),
        }
    }
}

/// A daily time range: `HH:MM` to `HH:MM`; an end at or before the start runs past midnight
/// (`22:00`–`02:00`), its morning belonging to the day it started.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimeRangeView {
    #[schema(example = "09:00")]
    start: String,
    #[schema(example = "17:00")]
    end: String,
}

/// When the rule's own response applies, in the organization's time zone; outside them it
/// answers with its `awayResponse`, if it has one. All must hold; none given holds always.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConditionsView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_range: Option<TimeRangeView>,
    /// sunday … saturday; empty is every day.
    #[serde(default)]
    days: Vec<String>,
    /// true: only within business hours; false: only outside them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    within_business_hours: Option<bool>,
}

impl From<ConditionFields> for ConditionsView {
    fn from(f: ConditionFields) -> Self {
        ConditionsView {
            time_range: f.time_range.map(|r| TimeRangeView {
                start: r.start,
                end: r.end,
            }),
            days: f.days,
            within_business_hours: f.within_business_hours,
        }
    }
}

impl ConditionsView {
    fn parse(&self) -> Result<Conditions, ParseError> {
        if self.days.len() > 7 {
            return Err(ParseError::new("conditions.days", "at most the seven days"));
        }
        Conditions::parse(&ConditionFields {
            time_range: self.time_range.as_ref().map(|r| RangeFields {
                start: r.start.clone(),
                end: r.end.clone(),
            }),
            days: self.days.clone(),
            within_business_hours: self.within_business_hours,
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAutoReplyRequest {
    name: String,
    /// What to listen for; ignored (may be empty) with matchType `any`.
    #[serde(default)]
    trigger: String,
    /// exact, contains, startsWith, regex or any. Matching ignores case, Arabic diacritics,
    /// tatweel and hamza/ta marbuta/alef maqsura forms; Arabic-Indic digits equal Latin ones.
    match_type: String,
    response: ReplyView,
    #[serde(default)]
    conditions: ConditionsView,
    away_response: Option<ReplyView>,
    /// Only messages to this session; every session when absent.
    session_name: Option<String>,
    /// 0–1000, higher answers first; default 0.
    priority: Option<i64>,
    /// Minutes before the same rule answers the same contact again; default 60.
    cooldown_minutes: Option<i64>,
    is_active: Option<bool>,
}

/// What to change; a field left out stays. `null` removes the away response or the session.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAutoReplyRequest {
    name: Option<String>,
    trigger: Option<String>,
    match_type: Option<String>,
    response: Option<ReplyView>,
    conditions: Option<ConditionsView>,
    #[serde(default, deserialize_with = "absent_or_null_reply")]
    #[schema(value_type = Option<ReplyView>)]
    away_response: Option<Option<ReplyView>>,
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    session_name: Option<Option<String>>,
    priority: Option<i64>,
    cooldown_minutes: Option<i64>,
    is_active: Option<bool>,
}

fn absent_or_null_reply<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<ReplyView>>, D::Error> {
    Option::<ReplyView>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoReplyView {
    id: String,
    name: String,
    trigger: String,
    match_type: String,
    response: ReplyView,
    conditions: ConditionsView,
    away_response: Option<ReplyView>,
    session_name: Option<String>,
    priority: i64,
    cooldown_minutes: u32,
    is_active: bool,
    created_at: String,
    updated_at: String,
}

impl From<&AutoReply> for AutoReplyView {
    fn from(r: &AutoReply) -> Self {
        AutoReplyView {
            id: r.id.clone(),
            name: r.name.clone(),
            trigger: r.trigger.text().to_owned(),
            match_type: r.trigger.match_type().as_str().to_owned(),
            response: ReplyView::from(r.response.fields()),
            conditions: ConditionsView::from(r.conditions.fields()),
            away_response: r
                .away_response
                .as_ref()
                .map(|a| ReplyView::from(a.fields())),
            session_name: r.session_name.as_ref().map(|s| s.as_str().to_owned()),
            priority: r.priority,
            cooldown_minutes: r.cooldown_minutes,
            is_active: r.is_active,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoReplyData {
    auto_reply: AutoReplyView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoReplyList {
    auto_replies: Vec<AutoReplyView>,
    pagination: Pagination,
}

/// A rule's parts as given, checked field by field.
struct Parts<'a> {
    name: &'a str,
    trigger: &'a str,
    match_type: &'a str,
    response: &'a ReplyView,
    conditions: &'a ConditionsView,
    away_response: Option<&'a ReplyView>,
    session_name: Option<&'a str>,
    priority: i64,
    cooldown_minutes: i64,
    is_active: bool,
}

fn parse_name(name: &str) -> Result<String, ParseError> {
    let long = name.chars().count() > automation::MOST_NAME_CHARS;
    let name = name.trim();
    if name.is_empty() || long || name.chars().any(char::is_control) {
        return Err(ParseError::new(
            "name",
            format!("1 to {} characters of text", automation::MOST_NAME_CHARS),
        ));
    }
    Ok(name.to_owned())
}

impl Parts<'_> {
    fn draft(&self) -> Result<RuleDraft, ApiError> {
        let (name, trigger, response, conditions, away_response, session_name) = (
            parse_name(self.name),
            MatchType::parse("matchType", self.match_type)
                .and_then(|m| Trigger::parse("trigger", m, self.trigger)),
            Reply::parse("response", &self.response.fields()),
            self.conditions.parse(),
            self.away_response
                .map(|a| Reply::parse("awayResponse", &a.fields()))
                .transpose(),
            self.session_name
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(SessionName::parse)
                .transpose(),
        )
            .validate()?;
        let (priority, cooldown_minutes) = (
            if (0..=automation::MOST_PRIORITY).contains(&self.priority) {
                Ok(self.priority)
            } else {
                Err(ParseError::new(
                    "priority",
                    format!("0 to {}", automation::MOST_PRIORITY),
                ))
            },
            u32::try_from(self.cooldown_minutes)
                .ok()
                .filter(|m| *m <= automation::MOST_COOLDOWN_MINUTES)
                .ok_or_else(|| {
                    ParseError::new(
                        "cooldownMinutes",
                        format!("0 to {} minutes", automation::MOST_COOLDOWN_MINUTES),
                    )
                }),
        )
            .validate()?;
        Ok(RuleDraft {
            name,
            trigger,
            response,
            conditions,
            away_response,
            session_name,
            priority,
            cooldown_minutes,
            is_active: self.is_active,
        })
    }
}

/// Saves a rule (owners and admins).
#[utoipa::path(post, path = "/api/v1/whatsapp/auto-replies", tag = "auto-replies", security(("bearer" = [])),
    request_body = CreateAutoReplyRequest,
    responses((status = 201, body = Envelope<AutoReplyData>), (status = 400), (status = 403)))]
async fn create_auto_reply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateAutoReplyRequest>,
) -> Result<ApiOk<AutoReplyData>, ApiError> {
    auth.require_manager()?;
    let draft = Parts {
        name: &body.name,
        trigger: &body.trigger,
        match_type: &body.match_type,
        response: &body.response,
        conditions: &body.conditions,
        away_response: body.away_response.as_ref(),
        session_name: body.session_name.as_deref(),
        priority: body.priority.unwrap_or(0),
        cooldown_minutes: body
            .cooldown_minutes
            .unwrap_or(i64::from(automation::DEFAULT_COOLDOWN_MINUTES)),
        is_active: body.is_active.unwrap_or(true),
    }
    .draft()?;
    let rule = state.auto_replies.create(&auth, draft).await?;
    Ok(ApiOk::created(
        Msg::AutoReplyCreated,
        AutoReplyData {
            auto_reply: AutoReplyView::from(&rule),
        },
    ))
}

/// The rules, in the order they are tried: highest priority first, then the oldest.
#[utoipa::path(get, path = "/api/v1/whatsapp/auto-replies", tag = "auto-replies", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<AutoReplyList>), (status = 400)))]
async fn list_auto_replies(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<AutoReplyList>, ApiError> {
    let page = query.parse()?;
    let found = state.auto_replies.list(&auth, &page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        AutoReplyList {
            auto_replies: found.items.iter().map(AutoReplyView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/whatsapp/auto-replies/{id}", tag = "auto-replies", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<AutoReplyData>), (status = 404)))]
async fn get_auto_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<AutoReplyData>, ApiError> {
    let rule = state.auto_replies.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        AutoReplyData {
            auto_reply: AutoReplyView::from(&rule),
        },
    ))
}

/// Changes a rule (owners and admins); what is left out stays.
#[utoipa::path(put, path = "/api/v1/whatsapp/auto-replies/{id}", tag = "auto-replies", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateAutoReplyRequest,
    responses((status = 200, body = Envelope<AutoReplyData>), (status = 400), (status = 403), (status = 404)))]
async fn update_auto_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateAutoReplyRequest>,
) -> Result<ApiOk<AutoReplyData>, ApiError> {
    // Someone else's rule (or none) answers 404 before their input is judged.
    let before = AutoReplyView::from(&state.auto_replies.get(&auth, &id).await?);
    auth.require_manager()?;
    let away_response = match &body.away_response {
        None => before.away_response.as_ref(),
        Some(away) => away.as_ref(),
    };
    let session_name = match &body.session_name {
        None => before.session_name.as_deref(),
        Some(name) => name.as_deref(),
    };
    let draft = Parts {
        name: body.name.as_deref().unwrap_or(&before.name),
        trigger: body.trigger.as_deref().unwrap_or(&before.trigger),
        match_type: body.match_type.as_deref().unwrap_or(&before.match_type),
        response: body.response.as_ref().unwrap_or(&before.response),
        conditions: body.conditions.as_ref().unwrap_or(&before.conditions),
        away_response,
        session_name,
        priority: body.priority.unwrap_or(before.priority),
        cooldown_minutes: body
            .cooldown_minutes
            .unwrap_or(i64::from(before.cooldown_minutes)),
        is_active: body.is_active.unwrap_or(before.is_active),
    }
    .draft()?;
    let rule = state.auto_replies.update(&auth, &id, draft).await?;
    Ok(ApiOk::ok(
        Msg::AutoReplyUpdated,
        AutoReplyData {
            auto_reply: AutoReplyView::from(&rule),
        },
    ))
}

#[utoipa::path(delete, path = "/api/v1/whatsapp/auto-replies/{id}", tag = "auto-replies", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<AutoReplyData>), (status = 403), (status = 404)))]
async fn delete_auto_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<AutoReplyData>, ApiError> {
    let rule = state.auto_replies.delete(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::AutoReplyDeleted,
        AutoReplyData {
            auto_reply: AutoReplyView::from(&rule),
        },
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestAutoReplyRequest {
    /// The customer's message.
    text: Option<String>,
    /// Who writes: their blocking, opting out, conversation, and the answers they had
    /// lately (cooldowns, the hourly limit) count.
    from: Option<String>,
    /// When (RFC 3339); now when absent.
    at: Option<String>,
    /// The session it comes to; default "default".
    session_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleVerdictView {
    id: String,
    name: String,
    priority: i64,
    /// answers, answers_away, no_match, conditions_not_met, cooldown, hourly_limit,
    /// other_session, inactive or not_reached (a rule before it decided).
    verdict: String,
    /// In a cooldown: when it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    cooldown_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoReplyTestData {
    /// Whether a message would go out.
    answers: bool,
    /// answers, or why not: no_rule_matched, conditions_not_met, cooldown, hourly_limit,
    /// contact_blocked, agent_handling; for opt-out words stop_word, start_word (answered
    /// with the confirmation) or already_opted_out.
    reason: String,
    rule_id: Option<String>,
    rule_name: Option<String>,
    /// Whether the rule answers with its away response (outside its conditions).
    away: bool,
    /// What the customer would get, filled for them (a caption for a file).
    text: Option<String>,
    /// The time it was judged at, in the organization's zone.
    local_time: String,
    within_business_hours: bool,
    rules: Vec<RuleVerdictView>,
}

impl From<&TestOutcome> for AutoReplyTestData {
    fn from(o: &TestOutcome) -> Self {
        AutoReplyTestData {
            answers: o.text.is_some(),
            reason: o.reason.to_owned(),
            rule_id: o.rule.as_ref().map(|(r, _)| r.id.clone()),
            rule_name: o.rule.as_ref().map(|(r, _)| r.name.clone()),
            away: o.rule.as_ref().is_some_and(|(_, away)| *away),
            text: o.text.clone(),
            local_time: o.local_time.format("%Y-%m-%dT%H:%M").to_string(),
            within_business_hours: o.within_business_hours,
            rules: o
                .verdicts
                .iter()
                .map(|v| RuleVerdictView {
                    id: v.rule.id.clone(),
                    name: v.rule.name.clone(),
                    priority: v.rule.priority,
                    verdict: v.verdict.code().to_owned(),
                    cooldown_until: match v.verdict {
                        Verdict::Cooldown { until } => Some(rfc3339(until)),
                        _ => None,
                    },
                })
                .collect(),
        }
    }
}

/// Which rule would answer this message, with what, or why none would. Nothing is sent.
#[utoipa::path(post, path = "/api/v1/whatsapp/auto-replies/test", tag = "auto-replies", security(("bearer" = [])),
    request_body = TestAutoReplyRequest,
    responses((status = 200, body = Envelope<AutoReplyTestData>), (status = 400)))]
async fn test_auto_replies(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TestAutoReplyRequest>,
) -> Result<ApiOk<AutoReplyTestData>, ApiError> {
    let (text, from, at, session_name) = (
        match body.text.as_deref() {
            Some(t) if t.chars().count() > automation::MOST_TEXT_CHARS || t.contains('\0') => {
                Err(ParseError::new("text", "at most 4096 characters"))
            }
            t => Ok(t.filter(|t| !t.trim().is_empty()).map(str::to_owned)),
        },
        body.from
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .map(|f| PhoneNumber::parse_written("from", f, auth.default_country))
            .transpose(),
        body.at
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .map(|a| {
                chrono::DateTime::parse_from_rfc3339(a.trim())
                    .map(|t| t.timestamp_millis())
                    .map_err(|_| ParseError::new("at", "is not an RFC 3339 time"))
            })
            .transpose(),
        body.session_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(SessionName::parse)
            .transpose(),
    )
        .validate()?;
    let outcome = state
        .auto_replies
        .test(
            &auth,
            TestMessage {
                text,
                from,
                at,
                session_name,
            },
        )
        .await?;
    Ok(ApiOk::ok(Msg::Ok, AutoReplyTestData::from(&outcome)))
}
