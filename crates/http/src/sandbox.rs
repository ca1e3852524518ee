//! The sandbox engine's "phone" and "customers" over HTTP (SPEC §4): scan the QR, write to the
//! session, read its messages, break its connection. Only for sessions on the sandbox engine.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::AppError;
use wasl_domain::{ParseError, PhoneNumber};
use wasl_engine::{IncomingMessage, IncomingReaction, Media, MessageKind, QuotedMessage};

use super::error::{code, ApiError, Validate};
use super::extract::{ApiJson, Auth};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;
use wasl_app::clock::now_millis;

/// WhatsApp's own limit on media, which wasl enforces everywhere (SPEC §10).
pub const MAX_MEDIA_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scan))
        .routes(routes!(incoming))
        .routes(routes!(read))
        .routes(routes!(reaction))
        .routes(routes!(drop_connection))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanRequest {
    /// The number of the simulated phone that scans.
    phone_number: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncomingRequest {
    /// The customer's number.
    from: String,
    push_name: Option<String>,
    /// text, image, video, audio or document.
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    caption: Option<String>,
    media_base64: Option<String>,
    mime_type: Option<String>,
    filename: Option<String>,
    /// WhatsApp's id for the message; generated when absent. Send the same id twice to see
    /// a duplicate delivery handled.
    message_id: Option<String>,
    /// WhatsApp's id (`messageId`) of a message of this chat the customer replies to.
    quoted_message_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerReactionRequest {
    /// The customer's number.
    from: String,
    /// WhatsApp's id (`messageId`) of the message of their chat they react to.
    message_id: String,
    /// One emoji; empty takes the customer's reaction back.
    emoji: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadRequest {
    message_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncomingData {
    message_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxDone {
    session_id: String,
}

/// The simulated phone scans the session's QR: the session connects as this number.
#[utoipa::path(post, path = "/api/v1/whatsapp/sandbox/{sessionName}/scan", tag = "sandbox", security(("bearer" = [])),
    params(("sessionName" = String, Path)), request_body = ScanRequest,
    responses((status = 200, body = Envelope<SandboxDone>), (status = 404), (status = 409)))]
async fn scan(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ScanRequest>,
) -> Result<ApiOk<SandboxDone>, ApiError> {
    let phone = PhoneNumber::parse("phoneNumber", &body.phone_number)?;
    let session = state.sessions.sandbox_scan(&auth, &name, phone).await?;
    Ok(ApiOk::ok(
        Msg::SandboxScanned,
        SandboxDone {
            session_id: session.id.to_string(),
        },
    ))
}

/// `type/subtype` with optional parameters, in visible ASCII: what a phone's app sends. A
/// control character (a header injection, a log forgery) is no part of one.
fn is_media_type(mime: &str) -> bool {
    mime.len() <= 255
        && mime.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && mime
            .split(';')
            .next()
            .and_then(|essence| essence.trim().split_once('/'))
            .is_some_and(|(t, sub)| !t.is_empty() && !sub.is_empty())
}

fn parse_incoming(
    body: IncomingRequest,
) -> Result<(PhoneNumber, MessageKind, IncomingRequest), ApiError> {
    let from = PhoneNumber::parse("from", &body.from);
    let kind = MessageKind::parse(&body.kind)
        .ok_or_else(|| ParseError::new("type", "must be text, image, video, audio or document"));
    let text = match (&kind, &body.text) {
        (Ok(MessageKind::Text), None) => {
            Err(ParseError::new("text", "is required for a text message"))
        }
        (_, Some(t)) if t.is_empty() || t.chars().count() > 4096 => {
            Err(ParseError::new("text", "must be 1 to 4096 characters"))
        }
        _ => Ok(()),
    };
    let media = match (&kind, &body.media_base64, &body.mime_type) {
        (_, _, Some(mime)) if !is_media_type(mime) => Err(ParseError::new(
            "mimeType",
            "must be a media type like image/png (at most 255 visible ASCII characters)",
        )),
        (Ok(MessageKind::Text), _, _) | (Err(_), _, _) => Ok(()),
        (Ok(_), Some(_), Some(_)) => Ok(()),
        (Ok(_), _, _) => Err(ParseError::new(
            "mediaBase64",
            "media messages need mediaBase64 and mimeType",
        )),
    };
    let message_id = match &body.message_id {
        Some(id)
            if id.trim().is_empty()
                || id.chars().count() > 128
                || id.chars().any(char::is_control) =>
        {
            Err(ParseError::new(
                "messageId",
                "must be 1 to 128 characters, without control characters (or left out)",
            ))
        }
        _ => Ok(()),
    };
    let quoted = match &body.quoted_message_id {
        Some(id) if id.chars().count() > 128 || id.chars().any(char::is_control) => {
            Err(ParseError::new(
                "quotedMessageId",
                "must be at most 128 characters, without control characters",
            ))
        }
        _ => Ok(()),
    };
    let (from, kind, _, _, _, _) = (from, kind, text, media, message_id, quoted).validate()?;
    Ok((from, kind, body))
}

/// A simulated customer writes to the session's number.
#[utoipa::path(post, path = "/api/v1/whatsapp/sandbox/{sessionName}/incoming", tag = "sandbox", security(("bearer" = [])),
    params(("sessionName" = String, Path)), request_body = IncomingRequest,
    responses((status = 200, body = Envelope<IncomingData>), (status = 400), (status = 404), (status = 409), (status = 413), (status = 503, description = "MESSAGE_NOT_CONFIRMED: send it again with the same messageId")))]
async fn incoming(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<IncomingRequest>,
) -> Result<ApiOk<IncomingData>, ApiError> {
    let (from, kind, body) = parse_incoming(body)?;
    // Decoded whatever the type, so that what is sent is checked even where it is not used.
    let media = match (kind, body.media_base64) {
        (_, None) => None,
        (_, Some(b64)) => {
            // 4 base64 characters carry 3 bytes: refuse before decoding anything oversized.
            if b64.len() / 4 * 3 > MAX_MEDIA_BYTES + 3 {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::FILE_TOO_LARGE,
                    Msg::FileTooLarge,
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| {
                    ApiError::validation(&[ParseError::new("mediaBase64", "is not valid base64")])
                })?;
            if bytes.len() > MAX_MEDIA_BYTES {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::FILE_TOO_LARGE,
                    Msg::FileTooLarge,
                ));
            }
            Some(Media {
                bytes,
                mime_type: body.mime_type.unwrap_or_default(),
                filename: body.filename,
            })
        }
    };
    let message_id = body
        .message_id
        .map(|id| id.trim().to_owned())
        .unwrap_or_else(|| format!("SBXIN{}", uuid::Uuid::now_v7().simple()).to_uppercase());
    let message = IncomingMessage {
        message_id: message_id.clone(),
        from,
        push_name: body.push_name.filter(|n| !n.trim().is_empty()),
        kind,
        text: if kind == MessageKind::Text {
            body.text
        } else {
            None
        },
        caption: body.caption.filter(|c| !c.is_empty()),
        media: media.filter(|_| kind != MessageKind::Text),
        timestamp: now_millis(),
        // What the quote shows is taken from the stored message; the simulated phone only
        // names it.
        quote: body
            .quoted_message_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .map(|message_id| QuotedMessage {
                message_id,
                from_me: false,
                kind: MessageKind::Text,
                text: None,
            }),
    };
    // Answered once the message is stored: a 200 means wasl has it, whatever happens next.
    match state.sessions.sandbox_incoming(&auth, &name, message).await {
        Ok(_) => {}
        // Stored later or not at all: the customer's phone sends it again, same id.
        Err(AppError::MessageNotConfirmed(reason)) => {
            return Err(
                ApiError::from(AppError::MessageNotConfirmed(reason.clone()))
                    .with_details(serde_json::json!({ "reason": reason, "messageId": message_id })),
            )
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ApiOk::ok(Msg::SandboxIncoming, IncomingData { message_id }))
}

/// A simulated customer reacts to a message of their chat (or takes the reaction back with
/// an empty emoji); answered once the reaction is stored.
#[utoipa::path(post, path = "/api/v1/whatsapp/sandbox/{sessionName}/reaction", tag = "sandbox", security(("bearer" = [])),
    params(("sessionName" = String, Path)), request_body = CustomerReactionRequest,
    responses((status = 200, body = Envelope<SandboxDone>), (status = 400), (status = 404), (status = 409), (status = 503)))]
async fn reaction(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<CustomerReactionRequest>,
) -> Result<ApiOk<SandboxDone>, ApiError> {
    let message_id = body.message_id.trim();
    let (from, _, _) = (
        PhoneNumber::parse("from", &body.from),
        if message_id.is_empty() || message_id.chars().count() > 128 {
            Err(ParseError::new("messageId", "must be 1 to 128 characters"))
        } else {
            Ok(())
        },
        if body.emoji.chars().count() > 16 || body.emoji.chars().any(char::is_control) {
            Err(ParseError::new("emoji", "must be one emoji, or empty"))
        } else {
            Ok(())
        },
    )
        .validate()?;
    let reaction = IncomingReaction {
        reaction_id: format!("SBXRE{}", uuid::Uuid::now_v7().simple()).to_uppercase(),
        from,
        message_id: message_id.to_owned(),
        emoji: body.emoji.trim().to_owned(),
        timestamp: now_millis(),
    };
    let session = state
        .sessions
        .sandbox_reaction(&auth, &name, reaction)
        .await?;
    Ok(ApiOk::ok(
        Msg::SandboxReaction,
        SandboxDone {
            session_id: session.id.to_string(),
        },
    ))
}

/// The simulated customer reads a message the session sent: a `read` receipt follows.
#[utoipa::path(post, path = "/api/v1/whatsapp/sandbox/{sessionName}/read", tag = "sandbox", security(("bearer" = [])),
    params(("sessionName" = String, Path)), request_body = ReadRequest,
    responses((status = 200, body = Envelope<SandboxDone>), (status = 404), (status = 409)))]
async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ReadRequest>,
) -> Result<ApiOk<SandboxDone>, ApiError> {
    let session = state
        .sessions
        .sandbox_read(&auth, &name, body.message_id.trim())
        .await?;
    Ok(ApiOk::ok(
        Msg::SandboxRead,
        SandboxDone {
            session_id: session.id.to_string(),
        },
    ))
}

/// The session's connection breaks, as a network failure would break it; wasl reconnects.
#[utoipa::path(post, path = "/api/v1/whatsapp/sandbox/{sessionName}/drop", tag = "sandbox", security(("bearer" = [])),
    params(("sessionName" = String, Path)),
    responses((status = 200, body = Envelope<SandboxDone>), (status = 404), (status = 409)))]
async fn drop_connection(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<ApiOk<SandboxDone>, ApiError> {
    let session = state.sessions.sandbox_drop(&auth, &name).await?;
    Ok(ApiOk::ok(
        Msg::SandboxDropped,
        SandboxDone {
            session_id: session.id.to_string(),
        },
    ))
}
