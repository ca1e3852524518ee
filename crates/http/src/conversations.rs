//! Conversations (SPEC §16): the team inbox's list, one conversation, resolving, reopening
//! and assigning it by hand, and marking it read.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::conversations::{Assignee, ConversationEdit, ConversationListing};
use wasl_domain::{ConversationStatus, Country, ParseError, SessionName};

use super::error::ApiError;
use super::extract::{search_terms, ApiJson, ApiQuery, Auth, MaybeJson, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::ConversationView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation, update_conversation))
        .routes(routes!(read_conversation))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// open, pending or resolved; all when absent.
    status: Option<String>,
    /// `me`, `unassigned` or a person's id; anyone's when absent.
    assignee: Option<String>,
    session_name: Option<String>,
    /// Matches the contact's name, phone and tags; Arabic spelling variants match each other.
    search: Option<String>,
    /// `true`: only conversations with unread messages.
    #[param(pattern = "^(true|false)?$")]
    unread: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    /// The `nextCursor` of the page before, for the page after it.
    /// With a cursor, `page` is ignored.
    #[param(pattern = r"^([0-9]{1,15}\.[A-Za-z0-9_-]{1,100})?$")]
    cursor: Option<String>,
}

impl ConversationQuery {
    fn parse(self, country: Option<Country>) -> Result<ConversationListing, ApiError> {
        let page = PageQuery {
            page: self.page,
            limit: self.limit,
        }
        .parse_after(self.cursor.as_deref())?;
        let mut errors = Vec::new();
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => ConversationStatus::parse("status", s)
                .map(Some)
                .unwrap_or_else(|e| {
                    errors.push(e);
                    None
                }),
            None => None,
        };
        let assignee = match self.assignee.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(a) => Assignee::parse("assignee", a)
                .map(Some)
                .unwrap_or_else(|e| {
                    errors.push(e);
                    None
                }),
            None => None,
        };
        let unread = match self.unread.as_deref() {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push(ParseError::new("unread", "must be true or false"));
                false
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(&errors));
        }
        Ok(ConversationListing {
            session_name: self.session_name,
            status,
            assignee,
            search: search_terms(self.search, country),
            unread,
            page,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    conversations: Vec<ConversationView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationData {
    conversation: ConversationView,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConversationRequest {
    /// open, pending or resolved. A customer's message reopens a resolved conversation.
    status: Option<String>,
    /// A person of the organization; null unassigns.
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    assignee_id: Option<Option<String>>,
}

impl UpdateConversationRequest {
    fn parse(self) -> Result<ConversationEdit, ApiError> {
        let mut errors = Vec::new();
        let status = match self.status.as_deref() {
            Some(s) => ConversationStatus::parse("status", s)
                .map(Some)
                .unwrap_or_else(|e| {
                    errors.push(e);
                    None
                }),
            None => None,
        };
        let assignee_id = match self.assignee_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(id)) => match Assignee::parse("assigneeId", &id) {
                Ok(Assignee::Person(id)) => Some(Some(id)),
                _ => {
                    errors.push(ParseError::new(
                        "assigneeId",
                        "must be the id of a person of the organization, or null",
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(&errors));
        }
        Ok(ConversationEdit {
            status,
            assignee_id,
        })
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReadConversationRequest {
    /// Only for the first release's form, where the path names the contact: its session
    /// ("default" when absent).
    session_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadData {
    unread_count: i64,
}

/// Conversations by last message, newest first, with status, assignee and unread count.
#[utoipa::path(get, path = "/api/v1/whatsapp/conversations", tag = "conversations", security(("bearer" = [])),
    params(ConversationQuery), responses((status = 200, body = Envelope<ConversationList>), (status = 400), (status = 404)))]
async fn list_conversations(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> Result<ApiOk<ConversationList>, ApiError> {
    let listing = q.parse(auth.default_country)?;
    let page = listing.page.clone();
    let found = state.conversations.list(&auth, listing).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ConversationList {
            conversations: found.items.iter().map(ConversationView::from).collect(),
            pagination: Pagination::keyset(&page, &found),
        },
    ))
}

/// One conversation, with its contact and last message.
#[utoipa::path(get, path = "/api/v1/whatsapp/conversations/{conversationId}", tag = "conversations", security(("bearer" = [])),
    params(("conversationId" = String, Path)),
    responses((status = 200, body = Envelope<ConversationData>), (status = 404)))]
async fn get_conversation(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<ConversationData>, ApiError> {
    let found = state.conversations.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ConversationData {
            conversation: ConversationView::from(&found),
        },
    ))
}

/// Resolves, reopens or assigns a conversation by hand; a change is a `conversation.updated`
/// event.
#[utoipa::path(put, path = "/api/v1/whatsapp/conversations/{conversationId}", tag = "conversations", security(("bearer" = [])),
    params(("conversationId" = String, Path)), request_body = UpdateConversationRequest,
    responses((status = 200, body = Envelope<ConversationData>), (status = 400), (status = 404)))]
async fn update_conversation(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateConversationRequest>,
) -> Result<ApiOk<ConversationData>, ApiError> {
    let edit = body.parse()?;
    let updated = state.conversations.update(&auth, &id, edit).await?;
    Ok(ApiOk::ok(
        Msg::ConversationUpdated,
        ConversationData {
            conversation: ConversationView::from(&updated),
        },
    ))
}

/// Someone opened the conversation: its unread count goes to zero, and the customer's messages
/// it covered are marked read on WhatsApp (the customer sees them read) when the session is
/// connected. The first release's clients name the contact here instead, with `sessionName`
/// in the body; that still works.
#[utoipa::path(post, path = "/api/v1/whatsapp/conversations/{conversationId}/read", tag = "conversations", security(("bearer" = [])),
    params(("conversationId" = String, Path)), request_body(content = Option<ReadConversationRequest>),
    responses((status = 200, body = Envelope<ReadData>), (status = 404)))]
async fn read_conversation(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<ReadConversationRequest>,
) -> Result<ApiOk<ReadData>, ApiError> {
    let body = body.unwrap_or_default();
    if let Some(name) = &body.session_name {
        SessionName::parse(name).map_err(|e| ApiError::validation(&[e]))?;
    }
    let overview = state
        .conversations
        .read(&auth, &id, body.session_name.as_deref())
        .await?;
    // The read itself is done; telling the customer is best effort (the session may be
    // offline, and the next read sends what this one could not).
    if let Err(error) = state
        .messaging
        .send_read_receipts(&state.sessions, &overview)
        .await
    {
        tracing::warn!(conversation = %overview.conversation.id, %error, "read receipts not sent");
    }
    Ok(ApiOk::ok(
        Msg::ConversationRead,
        ReadData { unread_count: 0 },
    ))
}
