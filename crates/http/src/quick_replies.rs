//! Quick replies over HTTP (SPEC §13): canned answers, the organization's or one person's,
//! listed by short-code prefix first and then by content.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::automation::quick_replies::QuickReplyDraft;
use wasl_app::clock::rfc3339;
use wasl_domain::automation::token;
use wasl_domain::content::MOST_QUICK_REPLY_CHARS;
use wasl_domain::{ParseError, QuickReply, ShortCode, Visibility};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_quick_reply, list_quick_replies))
        .routes(routes!(
            get_quick_reply,
            update_quick_reply,
            delete_quick_reply
        ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateQuickReplyRequest {
    /// What an agent types after `/`: letters, digits, `_` and `-`.
    short_code: String,
    /// The text inserted, at most 4096 characters (may be empty with a file).
    #[serde(default)]
    content: String,
    /// A file of the media library sent with it.
    media_id: Option<String>,
    /// organization (owners and admins; everyone sees it) or personal (only you); default
    /// personal.
    visibility: Option<String>,
}

/// What to change; a field left out stays. `mediaId: null` removes the file.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateQuickReplyRequest {
    short_code: Option<String>,
    content: Option<String>,
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    media_id: Option<Option<String>>,
    visibility: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyView {
    id: String,
    short_code: String,
    content: String,
    media_id: Option<String>,
    /// organization or personal.
    visibility: String,
    /// The one person who sees a personal quick reply.
    owner_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&QuickReply> for QuickReplyView {
    fn from(q: &QuickReply) -> Self {
        QuickReplyView {
            id: q.id.clone(),
            short_code: q.short_code.as_str().to_owned(),
            content: q.content.clone(),
            media_id: q.media_id.clone(),
            visibility: q.visibility.as_str().to_owned(),
            owner_id: q.owner_id.as_ref().map(ToString::to_string),
            created_at: rfc3339(q.created_at),
            updated_at: rfc3339(q.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyData {
    quick_reply: QuickReplyView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyList {
    quick_replies: Vec<QuickReplyView>,
    pagination: Pagination,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct QuickReplyQuery {
    /// What was typed after `/`: short codes starting with it first, then the rest whose
    /// short code or text contains it (Arabic spellings folded).
    search: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

fn parse_content(content: &str) -> Result<String, ParseError> {
    if content.chars().count() > MOST_QUICK_REPLY_CHARS || content.contains('\0') {
        return Err(ParseError::new(
            "content",
            format!("at most {MOST_QUICK_REPLY_CHARS} characters"),
        ));
    }
    Ok(content.trim().to_owned())
}

fn parse_media(id: Option<&str>) -> Result<Option<String>, ParseError> {
    id.map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| token("mediaId", id))
        .transpose()
}

fn parse_visibility(value: Option<&str>) -> Result<Visibility, ParseError> {
    value.map_or(Ok(Visibility::Personal), |v| {
        Visibility::parse("visibility", v)
    })
}

/// Saves a quick reply: a personal one for yourself, or (owners and admins) one for the
/// whole organization.
#[utoipa::path(post, path = "/api/v1/whatsapp/quick-replies", tag = "quick-replies", security(("bearer" = [])),
    request_body = CreateQuickReplyRequest,
    responses((status = 201, body = Envelope<QuickReplyData>), (status = 400), (status = 403), (status = 409, description = "SHORT_CODE_TAKEN")))]
async fn create_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateQuickReplyRequest>,
) -> Result<ApiOk<QuickReplyData>, ApiError> {
    let (short_code, content, media_id, visibility) = (
        ShortCode::parse("shortCode", &body.short_code),
        parse_content(&body.content),
        parse_media(body.media_id.as_deref()),
        parse_visibility(body.visibility.as_deref()),
    )
        .validate()?;
    let q = state
        .quick_replies
        .create(
            &auth,
            QuickReplyDraft {
                short_code,
                content,
                media_id,
                visibility,
            },
        )
        .await?;
    Ok(ApiOk::created(
        Msg::QuickReplyCreated,
        QuickReplyData {
            quick_reply: QuickReplyView::from(&q),
        },
    ))
}

/// The organization's quick replies and your own.
#[utoipa::path(get, path = "/api/v1/whatsapp/quick-replies", tag = "quick-replies", security(("bearer" = [])),
    params(QuickReplyQuery), responses((status = 200, body = Envelope<QuickReplyList>), (status = 400)))]
async fn list_quick_replies(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<QuickReplyQuery>,
) -> Result<ApiOk<QuickReplyList>, ApiError> {
    let page = PageQuery {
        page: q.page,
        limit: q.limit,
    }
    .parse()?;
    let found = state
        .quick_replies
        .list(&auth, q.search.as_deref(), &page)
        .await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        QuickReplyList {
            quick_replies: found.items.iter().map(QuickReplyView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/whatsapp/quick-replies/{id}", tag = "quick-replies", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<QuickReplyData>), (status = 404)))]
async fn get_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<QuickReplyData>, ApiError> {
    let q = state.quick_replies.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        QuickReplyData {
            quick_reply: QuickReplyView::from(&q),
        },
    ))
}

#[utoipa::path(put, path = "/api/v1/whatsapp/quick-replies/{id}", tag = "quick-replies", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateQuickReplyRequest,
    responses((status = 200, body = Envelope<QuickReplyData>), (status = 400), (status = 403), (status = 404), (status = 409, description = "SHORT_CODE_TAKEN")))]
async fn update_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateQuickReplyRequest>,
) -> Result<ApiOk<QuickReplyData>, ApiError> {
    // Someone else's quick reply (or none) answers 404 before their input is judged.
    let before = state.quick_replies.get(&auth, &id).await?;
    let media = match &body.media_id {
        None => before.media_id.as_deref(),
        Some(media) => media.as_deref(),
    };
    let (short_code, content, media_id, visibility) = (
        body.short_code
            .as_deref()
            .map_or(Ok(before.short_code.clone()), |c| {
                ShortCode::parse("shortCode", c)
            }),
        parse_content(body.content.as_deref().unwrap_or(&before.content)),
        parse_media(media),
        body.visibility
            .as_deref()
            .map_or(Ok(before.visibility), |v| {
                Visibility::parse("visibility", v)
            }),
    )
        .validate()?;
    let q = state
        .quick_replies
        .update(
            &auth,
            &id,
            QuickReplyDraft {
                short_code,
                content,
                media_id,
                visibility,
            },
        )
        .await?;
    Ok(ApiOk::ok(
        Msg::QuickReplyUpdated,
        QuickReplyData {
            quick_reply: QuickReplyView::from(&q),
        },
    ))
}

#[utoipa::path(delete, path = "/api/v1/whatsapp/quick-replies/{id}", tag = "quick-replies", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<QuickReplyData>), (status = 403), (status = 404)))]
async fn delete_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<QuickReplyData>, ApiError> {
    let q = state.quick_replies.delete(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::QuickReplyDeleted,
        QuickReplyData {
            quick_reply: QuickReplyView::from(&q),
        },
    ))
}
