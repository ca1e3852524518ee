//! The media library over HTTP (SPEC §13): upload a file once (`POST /media`, multipart
//! `file`, the same 16 MB and type checks as a send) and refer to it by its `mediaId` from
//! templates, quick replies and auto-replies.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::clock::rfc3339;
use wasl_domain::MediaItem;

use super::error::ApiError;
use super::extract::{ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::messages::file_response;
use super::response::{ApiOk, Envelope, Pagination};
use super::sandbox::MAX_MEDIA_BYTES;
use super::state::AppState;
use super::upload::{read_library_upload, SendForm};

pub fn router() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(upload_media, list_media))
        .layer(DefaultBodyLimit::max(MAX_MEDIA_BYTES + 1024 * 1024));
    OpenApiRouter::new()
        .routes(routes!(get_media, delete_media))
        .routes(routes!(media_content))
        .merge(upload)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    id: String,
    /// image, video, audio or document.
    #[serde(rename = "type")]
    kind: String,
    mime_type: String,
    filename: Option<String>,
    size: i64,
    /// Where to download it (with the same Authorization header).
    url: String,
    created_by: Option<String>,
    created_at: String,
}

impl From<&MediaItem> for MediaView {
    fn from(m: &MediaItem) -> Self {
        MediaView {
            id: m.id.clone(),
            kind: m.kind.clone(),
            mime_type: m.mime_type.clone(),
            filename: m.filename.clone(),
            size: m.size,
            url: format!("/api/v1/whatsapp/media/{}/content", m.id),
            created_by: m.created_by.as_ref().map(ToString::to_string),
            created_at: rfc3339(m.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaData {
    /// What templates, quick replies and auto-replies name it by.
    media_id: String,
    media: MediaView,
}

impl From<&MediaItem> for MediaData {
    fn from(m: &MediaItem) -> Self {
        MediaData {
            media_id: m.id.clone(),
            media: MediaView::from(m),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MediaList {
    media: Vec<MediaView>,
    pagination: Pagination,
}

/// Keeps a file to send again and again; answers its `mediaId`.
#[utoipa::path(post, path = "/api/v1/whatsapp/media", tag = "media", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "file, type?"),
    responses((status = 201, body = Envelope<MediaData>), (status = 400), (status = 413), (status = 415)))]
async fn upload_media(
    State(state): State<AppState>,
    auth: Auth,
    form: SendForm,
) -> Result<ApiOk<MediaData>, ApiError> {
    let upload = read_library_upload(form).await?;
    let item = state.library.upload(&auth, upload).await?;
    Ok(ApiOk::created(Msg::MediaUploaded, MediaData::from(&item)))
}

/// The organization's files, newest first.
#[utoipa::path(get, path = "/api/v1/whatsapp/media", tag = "media", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<MediaList>), (status = 400)))]
async fn list_media(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<MediaList>, ApiError> {
    let page = query.parse()?;
    let found = state.library.list(&auth, &page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        MediaList {
            media: found.items.iter().map(MediaView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/whatsapp/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<MediaData>), (status = 404)))]
async fn get_media(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<MediaData>, ApiError> {
    let item = state.library.get(&auth, &id).await?;
    Ok(ApiOk::ok(Msg::Ok, MediaData::from(&item)))
}

/// The file itself.
#[utoipa::path(get, path = "/api/v1/whatsapp/media/{id}/content", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, description = "the file"), (status = 404)))]
async fn media_content(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (item, bytes) = state.library.content(&auth, &id).await?;
    Ok(file_response(
        bytes,
        Some(&item.mime_type),
        item.filename.as_deref(),
    ))
}

/// Deletes a file nothing sends any more (its uploader, owners and admins).
#[utoipa::path(delete, path = "/api/v1/whatsapp/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<MediaData>), (status = 403), (status = 404), (status = 409, description = "MEDIA_IN_USE")))]
async fn delete_media(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<MediaData>, ApiError> {
    let item = state.library.delete(&auth, &id).await?;
    Ok(ApiOk::ok(Msg::MediaDeleted, MediaData::from(&item)))
}
