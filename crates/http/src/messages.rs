//! Sending and reading messages (SPEC §5). A send is validated, written to the outbox and
//! answered; the session's outbox worker does the sending.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::messaging::{MessageSelection, SendRequest};
use wasl_app::records::MessageFilter;
use wasl_domain::{Direction, ParseError, PhoneNumber};
use wasl_engine::MessageKind;

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::{current_lang, Msg};
use super::response::{Envelope, Pagination};
use super::sandbox::MAX_MEDIA_BYTES;
use super::state::AppState;
use super::upload::{read_upload, SendForm};
use super::views::MessageView;
use wasl_app::messaging::Accepted;
use wasl_app::{AppError, Conflict};

pub fn router() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(send_image))
        .routes(routes!(send_document))
        .routes(routes!(send_video))
        .routes(routes!(send_audio))
        // The file limit is enforced while streaming (see `upload`); this only bounds the
        // whole request, with room for the form's other fields.
        .layer(DefaultBodyLimit::max(MAX_MEDIA_BYTES + 1024 * 1024));
    OpenApiRouter::new()
        .routes(routes!(send_text))
        .routes(routes!(list_messages))
        .routes(routes!(message_media))
        .routes(routes!(react))
        .merge(uploads)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendTextRequest {
    /// The recipient's number: digits, optional +, spaces and dashes; 8–15 digits.
    to: String,
    /// 1–4096 characters.
    text: String,
    /// Default "default".
    session_name: Option<String>,
    /// The `id` of the message this one replies to, a message of the same chat: the
    /// customer sees it quoted above the reply.
    quoted_message_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactionRequest {
    /// One emoji; empty takes the business's reaction back.
    emoji: String,
}

#[derive(Serialize, ToSchema)]
pub struct MessageData {
    message: MessageView,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    messages: Vec<MessageView>,
    pagination: Pagination,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    session_name: Option<String>,
    /// The customer's phone number.
    contact: Option<String>,
    /// incoming or outgoing.
    direction: Option<String>,
    /// Page number, from 1.
    page: Option<String>,
    /// Items per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// The `nextCursor` of the page before, for the older messages after it.
    /// With a cursor, `page` is ignored.
    #[param(pattern = r"^([0-9]{1,15}\.[A-Za-z0-9_-]{1,100})?$")]
    cursor: Option<String>,
    /// Words to find in the messages' text, captions and file names, newest first. Arabic
    /// matches with or without hamza, diacritics and tatweel; each word matches the start
    /// of a word. With `contact`, within that chat.
    q: Option<String>,
}

/// wasl's id of a quoted message, as given.
pub(super) fn parse_quoted(id: Option<&str>) -> Result<Option<String>, ParseError> {
    match id.map(str::trim) {
        None | Some("") => Ok(None),
        Some(id) if id.len() <= 100 && id.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(Some(id.to_owned()))
        }
        Some(_) => Err(ParseError::new(
            "quotedMessageId",
            "must be the id of a message",
        )),
    }
}

/// One emoji (a flag, a keycap, a skin tone or a family joined by ZWJ included); `None` to
/// remove. Read by the code points emoji are made of, so no letter, digit alone, space or
/// markup passes for one.
fn parse_emoji(emoji: Option<&str>) -> Result<Option<String>, ParseError> {
    let Some(emoji) = emoji.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let pictographic =
        |c: char| matches!(u32::from(c), 0xA9 | 0xAE | 0x203C..=0x3299 | 0x1F000..=0x1FAFF);
    let part = |c: char| {
        pictographic(c)
            // Variation selector, ZWJ, keycap, tags (subdivision flags).
            || matches!(u32::from(c), 0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F)
            // The base of a keycap: 1️⃣, #️⃣, *️⃣.
            || c.is_ascii_digit()
            || c == '#'
            || c == '*'
    };
    let one = emoji.chars().count() <= 16
        && emoji.chars().all(part)
        && (emoji.chars().any(pictographic) || emoji.contains('\u{20E3}'));
    if one {
        Ok(Some(emoji.to_owned()))
    } else {
        Err(ParseError::new("emoji", "must be one emoji"))
    }
}

pub(super) fn parse_text(field: &'static str, text: &str) -> Result<String, ParseError> {
    let count = text.chars().count();
    if count == 0 || count > 4096 || text.trim().is_empty() {
        return Err(ParseError::new(field, "must be 1 to 4096 characters"));
    }
    Ok(text.to_owned())
}

/// A message accepted (or replayed): 201 with the message, and `Idempotent-Replayed` on a replay.
pub(super) fn accepted(result: Accepted) -> Result<Response, ApiError> {
    let (message, replayed) = match result {
        Accepted::New(m) => (m, false),
        Accepted::Existing(m) => (m, true),
        Accepted::KeyReused => return Err(AppError::from(Conflict::IdempotencyKeyReused).into()),
    };
    let body = Envelope {
        success: true,
        message: Msg::MessageSent.text(current_lang()).to_owned(),
        data: MessageData {
            message: MessageView::from(&message),
        },
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => match v.to_str().map(str::trim) {
            Ok(key) if !key.is_empty() && key.len() <= 255 => Ok(Some(key.to_owned())),
            _ => Err(ParseError::new(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into()),
        },
    }
}

async fn send(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    mut request: SendRequest,
) -> Result<Response, ApiError> {
    request.idempotency_key = idempotency_key(headers)?;
    accepted(state.messaging.send(auth, request).await?)
}

/// Sends a text message.
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/send", tag = "messages", security(("bearer" = [])),
    request_body = SendTextRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first result")),
    responses((status = 201, body = Envelope<MessageData>), (status = 400), (status = 404), (status = 409, description = "SESSION_NOT_CONNECTED, CONTACT_BLOCKED")))]
async fn send_text(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendTextRequest>,
) -> Result<Response, ApiError> {
    let (to, text, quoted_message_id) = (
        PhoneNumber::parse_written("to", &body.to, auth.default_country),
        parse_text("text", &body.text),
        parse_quoted(body.quoted_message_id.as_deref()),
    )
        .validate()?;
    let request = SendRequest {
        to,
        session_name: body.session_name,
        kind: MessageKind::Text,
        text: Some(text),
        caption: None,
        media: None,
        ptt: false,
        idempotency_key: None,
        quoted_message_id,
        metadata: Default::default(),
        marketing: false,
    };
    send(&state, &auth, &headers, request).await
}

async fn send_upload(
    state: AppState,
    auth: Auth,
    headers: HeaderMap,
    form: SendForm,
    kind: MessageKind,
) -> Result<Response, ApiError> {
    let request = read_upload(form, kind, auth.default_country).await?;
    send(&state, &auth, &headers, request).await
}

/// Sends an image (multipart: `image`, `to`, `caption?`, `sessionName?`).
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/send-image", tag = "messages", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "image, to, caption?, sessionName?"),
    responses((status = 201, body = Envelope<MessageData>), (status = 400), (status = 409), (status = 413), (status = 415)))]
async fn send_image(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    form: SendForm,
) -> Result<Response, ApiError> {
    send_upload(state, auth, headers, form, MessageKind::Image).await
}

/// Sends a document (multipart: `document`, `to`, `caption?`, `sessionName?`).
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/send-document", tag = "messages", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "document, to, caption?, sessionName?"),
    responses((status = 201, body = Envelope<MessageData>), (status = 400), (status = 409), (status = 413), (status = 415)))]
async fn send_document(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    form: SendForm,
) -> Result<Response, ApiError> {
    send_upload(state, auth, headers, form, MessageKind::Document).await
}

/// Sends a video (multipart: `video`, `to`, `caption?`, `sessionName?`).
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/send-video", tag = "messages", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "video, to, caption?, sessionName?"),
    responses((status = 201, body = Envelope<MessageData>), (status = 400), (status = 409), (status = 413), (status = 415)))]
async fn send_video(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    form: SendForm,
) -> Result<Response, ApiError> {
    send_upload(state, auth, headers, form, MessageKind::Video).await
}

/// Sends an audio, or a voice note with `ptt=true` (multipart: `audio`, `to`, `sessionName?`, `ptt?`).
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/send-audio", tag = "messages", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "audio, to, sessionName?, ptt?"),
    responses((status = 201, body = Envelope<MessageData>), (status = 400), (status = 409), (status = 413), (status = 415)))]
async fn send_audio(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    form: SendForm,
) -> Result<Response, ApiError> {
    send_upload(state, auth, headers, form, MessageKind::Audio).await
}

/// Messages, newest first.
#[utoipa::path(get, path = "/api/v1/whatsapp/messages", tag = "messages", security(("bearer" = [])),
    params(MessageQuery), responses((status = 200, body = Envelope<MessageList>), (status = 400), (status = 404)))]
async fn list_messages(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<MessageQuery>,
) -> Result<super::response::ApiOk<MessageList>, ApiError> {
    let page = PageQuery {
        page: query.page,
        limit: query.limit,
    }
    .parse_after(query.cursor.as_deref())?;
    let (contact, direction, terms) = (
        query
            .contact
            .as_deref()
            .filter(|c| !c.is_empty())
            // As a person writes it; else as stored (numbers kept before validation).
            .map(|c| {
                PhoneNumber::parse_written("contact", c, auth.default_country)
                    .or_else(|e| PhoneNumber::parse("contact", c).map_err(|_| e))
            })
            .transpose(),
        query
            .direction
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| {
                Direction::parse(d)
                    .ok_or_else(|| ParseError::new("direction", "must be incoming or outgoing"))
            })
            .transpose(),
        parse_search(query.q.as_deref()),
    )
        .validate()?;
    let selection = MessageSelection {
        session_name: query.session_name,
        filter: MessageFilter {
            session: None,
            contact_phone: contact.map(|c| c.as_str().to_owned()),
            direction,
            terms,
        },
    };
    let messages = state
        .messaging
        .messages(&auth, selection, page.clone())
        .await?;
    Ok(super::response::ApiOk::ok(
        Msg::Ok,
        MessageList {
            messages: messages.items.iter().map(MessageView::from).collect(),
            pagination: Pagination::keyset(&page, &messages),
        },
    ))
}

/// The folded words of a message search; none without `q`.
fn parse_search(q: Option<&str>) -> Result<Vec<String>, ParseError> {
    let Some(q) = q.filter(|q| !q.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    if q.chars().count() > 200 {
        return Err(ParseError::new("q", "must be at most 200 characters"));
    }
    let terms = wasl_domain::search::terms(q);
    if terms.is_empty() {
        return Err(ParseError::new("q", "must contain a letter or a digit"));
    }
    Ok(terms)
}

/// Reacts to a message as the business (one emoji), or takes the reaction back.
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/{id}/reaction", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReactionRequest,
    responses((status = 200, body = Envelope<MessageData>), (status = 400), (status = 404), (status = 409, description = "SESSION_NOT_CONNECTED, CONTACT_BLOCKED, MESSAGE_NOT_SENT")))]
async fn react(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReactionRequest>,
) -> Result<super::response::ApiOk<MessageData>, ApiError> {
    let emoji = parse_emoji(Some(&body.emoji))?;
    let said = if emoji.is_some() {
        Msg::ReactionSet
    } else {
        Msg::ReactionRemoved
    };
    let message = state
        .messaging
        .react(&auth, &state.sessions, &id, emoji)
        .await?;
    Ok(super::response::ApiOk::ok(
        said,
        MessageData {
            message: MessageView::from(&message),
        },
    ))
}

/// The media file of a message.
#[utoipa::path(get, path = "/api/v1/whatsapp/messages/{id}/media", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, description = "the file"), (status = 404)))]
async fn message_media(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (message, bytes) = state.messaging.media_of(&auth, &id).await?;
    Ok(file_response(
        bytes,
        message.mime_type.as_deref(),
        message.filename.as_deref(),
    ))
}

/// A stored file as an answer. Served as what it is only when that is passive media or a
/// known document; never a type a browser would run (SVG, HTML, XML…), whatever was stored
/// for it.
pub(super) fn file_response(
    bytes: Vec<u8>,
    mime_type: Option<&str>,
    filename: Option<&str>,
) -> Response {
    let (mime, inline) = wasl_app::messaging::media::served_as(
        mime_type.unwrap_or(wasl_app::messaging::media::OPAQUE),
    );
    let disposition = match (filename, inline) {
        (Some(name), _) => format!("attachment; filename*=UTF-8''{}", percent_encode(name)),
        (None, false) => "attachment".to_owned(),
        (None, true) => "inline".to_owned(),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Even opened on its own (a blob: URL, a new tab), the file runs nothing in wasl's origin.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self' data: blob:; media-src 'self' data: blob:; style-src 'unsafe-inline'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}

/// RFC 5987 encoding of a filename for `Content-Disposition`.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
