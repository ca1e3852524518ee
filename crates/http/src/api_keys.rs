//! API keys for servers such as a CRM (SPEC §2): created by owners and admins, shown once,
//! stored hashed, revoked by deleting them.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{ApiKey, ApiKeyId, ParseError, Role};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, Credential, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::ApiKeyView;
use wasl_app::auth::api_keys;
use wasl_app::auth::revocation::Revoked;
use wasl_app::clock::now_millis;

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
    if !matches!(auth.credential, Credential::User { .. }) {
        return Err(ApiError::forbidden());
    }
    let (name, role) = (
        parse_name(&body.name),
        body.role.as_deref().map_or(Ok(Role::Admin), Role::parse),
    )
        .validate()?;
    if role > auth.role {
        return Err(ApiError::forbidden());
    }
    let generated = api_keys::generate();
    let key = ApiKey {
        id: ApiKeyId::from_trusted(uuid::Uuid::now_v7().to_string()),
        organization_id: auth.org_id.clone(),
        created_by: auth.user_id.clone(),
        name,
        prefix: generated.display_prefix,
        role,
        created_at: now_millis(),
        last_used_at: None,
    };
    state.store.create_api_key(&key, &generated.hash).await?;
    tracing::info!(organization = %key.organization_id, api_key = %key.id, "api key created");
    Ok(ApiOk::created(
        Msg::ApiKeyCreated,
        CreatedApiKey {
            api_key: ApiKeyView::from(&key),
            key: generated.key,
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
    let keys = state.store.list_api_keys(&auth.org_id, page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ApiKeyList {
            api_keys: keys.items.iter().map(ApiKeyView::from).collect(),
            pagination: Pagination::new(page, keys.total),
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
    auth.require_manager()?;
    let id = ApiKeyId::from_trusted(id);
    if !state.store.delete_api_key(&auth.org_id, &id).await? {
        return Err(ApiError::not_found());
    }
    state.revocations.publish(Revoked::ApiKey(id.clone()));
    tracing::info!(organization = %auth.org_id, api_key = %id, "api key revoked");
    Ok(ApiOk::ok(
        Msg::ApiKeyDeleted,
        DeletedKey { id: id.to_string() },
    ))
}
