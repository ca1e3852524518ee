//! API keys for servers such as a CRM (SPEC §2): created by owners and admins, shown once,
//! stored hashed, revoked by deleting them.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{ApiKeyId, ParseError, Role};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::ApiKeyView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(delete_api_key))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    /// What the key is for, e.g. "CRM".
    name: String,
    /// admin (default) or agent; an owner may also create owner keys.
    role: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    api_key: ApiKeyView,
    /// The key itself. Shown only in this response: store it now.
    key: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyList {
    api_keys: Vec<ApiKeyView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedKey {
    id: String,
}

fn parse_name(name: &str) -> Result<String, ParseError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ParseError::new("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

/// Creates a key. Only people create keys: a key cannot mint another key.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses((status = 201, body = Envelope<CreatedApiKey>), (status = 403)))]
async fn create_api_key(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<ApiOk<CreatedApiKey>, ApiError> {
    auth.require_manager()?;
    if !auth.is_person() {
        return Err(ApiError::forbidden());
    }
    let (name, role) = (
        parse_name(&body.name),
        body.role.as_deref().map_or(Ok(Role::Admin), Role::parse),
    )
        .validate()?;
    let created = state.accounts.create_api_key(&auth, name, role).await?;
    Ok(ApiOk::created(
        Msg::ApiKeyCreated,
        CreatedApiKey {
            api_key: ApiKeyView::from(&created.api_key),
            key: created.key,
        },
    ))
}

/// The organization's keys, newest first (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<ApiKeyList>), (status = 403)))]
async fn list_api_keys(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<ApiKeyList>, ApiError> {
    auth.require_manager()?;
    let page = query.parse()?;
    let keys = state.accounts.api_keys(&auth, page.clone()).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ApiKeyList {
            api_keys: keys.items.iter().map(ApiKeyView::from).collect(),
            pagination: Pagination::new(&page, keys.total),
        },
    ))
}

/// Revokes a key: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedKey>), (status = 403), (status = 404)))]
async fn delete_api_key(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<DeletedKey>, ApiError> {
    let id = ApiKeyId::from_trusted(id);
    state.accounts.delete_api_key(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::ApiKeyDeleted,
        DeletedKey { id: id.to_string() },
    ))
}
