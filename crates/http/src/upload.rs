//! Reading the multipart forms of the media sends. The file is counted while it streams in
//! and refused (413) the moment it passes 16 MB; its type is sniffed from its bytes (415 when
//! it does not fit the endpoint); a missing, duplicated or unreadable part is a 400.

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use wasl_domain::{Country, ParseError, PhoneNumber};
use wasl_engine::{Media, MessageKind};

use super::error::{code, ApiError, Validate};
use super::i18n::Msg;
use super::messages::parse_text;
use super::sandbox::MAX_MEDIA_BYTES;
use wasl_app::automation::library::Upload;
use wasl_app::messaging::media::{fits, sniff};
use wasl_app::messaging::SendRequest;

/// A multipart form whose rejection answers with the envelope (415 when it is not multipart).
pub struct SendForm(Multipart);

impl<S: Send + Sync> FromRequest<S> for SendForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Multipart::from_request(req, state).await.map(SendForm).map_err(|e: MultipartRejection| {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, code::UNSUPPORTED_MEDIA_TYPE, Msg::UnsupportedMediaType)
                .with_details(serde_json::json!({ "reason": e.body_text(), "expected": "multipart/form-data" }))
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::FILE_TOO_LARGE,
        Msg::FileTooLarge,
    )
    .with_details(serde_json::json!({ "maxBytes": MAX_MEDIA_BYTES }))
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::validation(&[ParseError::new(
        "form",
        format!("the multipart body cannot be read: {}", e.body_text()),
    )])
}

fn field_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Image => "image",
        MessageKind::Video => "video",
        MessageKind::Audio => "audio",
        MessageKind::Document | MessageKind::Text => "document",
    }
}

async fn read_file(mut field: Field<'_>) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > MAX_MEDIA_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn read_text(field: Field<'_>, name: &'static str) -> Result<String, ApiError> {
    // Text parts are small; anything bigger than a long caption is not a form field.
    let bytes = field.bytes().await.map_err(multipart_error)?;
    if bytes.len() > 64 * 1024 {
        return Err(ParseError::new(name, "is too long").into());
    }
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ParseError::new(name, "must be valid UTF-8 text"))?;
    // As in JSON bodies: no field means a NUL, and PostgreSQL cannot store one.
    if text.contains('\0') {
        return Err(ParseError::new(name, "must not contain the NUL character").into());
    }
    Ok(text)
}

pub(super) async fn read_upload(
    form: SendForm,
    kind: MessageKind,
    country: Option<Country>,
) -> Result<SendRequest, ApiError> {
    let SendForm(mut multipart) = form;
    let file_field = field_name(kind);
    let mut file: Option<(Vec<u8>, Option<String>)> = None;
    let mut to: Option<String> = None;
    let mut caption: Option<String> = None;
    let mut session_name: Option<String> = None;
    let mut ptt: Option<String> = None;
    let mut quoted: Option<String> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let duplicate = || {
            ApiError::from(ParseError::new(
                "form",
                format!("the part {name:?} is given more than once"),
            ))
        };
        match name.as_str() {
            n if n == file_field => {
                if file.is_some() {
                    return Err(duplicate());
                }
                let filename = field
                    .file_name()
                    .and_then(wasl_domain::text::clean_filename);
                file = Some((read_file(field).await?, filename));
            }
            "to" | "caption" | "sessionName" | "ptt" | "quotedMessageId" => {
                let slot = match name.as_str() {
                    "to" => &mut to,
                    "caption" => &mut caption,
                    "sessionName" => &mut session_name,
                    "quotedMessageId" => &mut quoted,
                    _ => &mut ptt,
                };
                if slot.is_some() {
                    return Err(duplicate());
                }
                let value = read_text(field, "form").await?;
                *slot = Some(value);
            }
            // Unknown parts are read and ignored, as HTML forms send extra fields.
            _ => {
                let _ = field.bytes().await.map_err(multipart_error)?;
            }
        }
    }
    let ptt = match ptt.as_deref().map(str::trim) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") if kind == MessageKind::Audio => Ok(true),
        Some(_) => Err(ParseError::new(
            "ptt",
            "must be true or false, and only for audio",
        )),
    };
    let file_part = file.ok_or_else(|| ParseError::new(file_field, "the file part is required"));
    let (to, caption, ptt, quoted_message_id, (bytes, filename)) = (
        to.as_deref().map_or_else(
            || Err(ParseError::new("to", "is required")),
            |t| PhoneNumber::parse_written("to", t, country),
        ),
        caption
            .filter(|c| !c.trim().is_empty())
            .map(|c| parse_text("caption", &c))
            .transpose(),
        ptt,
        super::messages::parse_quoted(quoted.as_deref()),
        file_part.and_then(|(b, f)| {
            if b.is_empty() {
                Err(ParseError::new(file_field, "the file is empty"))
            } else {
                Ok((b, f))
            }
        }),
    )
        .validate()?;
    let media = typed(kind, bytes, filename)?;
    Ok(SendRequest {
        to,
        session_name: session_name.filter(|s| !s.is_empty()),
        kind,
        text: None,
        caption: if kind == MessageKind::Audio {
            None
        } else {
            caption
        },
        media: Some(media),
        ptt,
        idempotency_key: None,
        quoted_message_id,
        metadata: Default::default(),
        marketing: false,
    })
}

/// A file made ready to send as `kind`: a voice note recorded in a browser (Opus in WebM)
/// goes to WhatsApp as Opus in Ogg, the one form phones play as a voice note (the same sound,
/// in another container); its type is read from its bytes and must fit the kind (415).
fn typed(kind: MessageKind, bytes: Vec<u8>, filename: Option<String>) -> Result<Media, ApiError> {
    let (bytes, filename) = match kind {
        MessageKind::Audio if wasl_app::messaging::voice::is_webm(&bytes) => {
            match wasl_app::messaging::voice::webm_opus_to_ogg(&bytes) {
                Some(ogg) => (
                    ogg,
                    filename.map(|f| match f.rsplit_once('.') {
                        Some((stem, _)) => format!("{stem}.ogg"),
                        None => format!("{f}.ogg"),
                    }),
                ),
                None => (bytes, filename),
            }
        }
        _ => (bytes, filename),
    };
    let mime = sniff(&bytes);
    if !fits(kind, mime) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            Msg::WrongFileType,
        )
        .with_details(serde_json::json!({ "detected": mime, "endpoint": kind.as_str() })));
    }
    let mime_type = match mime {
        // Opus is always in Ogg here: named as WhatsApp names its voice notes.
        Some("audio/opus") => "audio/ogg; codecs=opus".to_owned(),
        Some(m) => m.to_owned(),
        None => document_type(filename.as_deref()),
    };
    Ok(Media {
        bytes,
        mime_type,
        filename,
    })
}

/// The kind a file of the media library is, from its bytes: what WhatsApp shows as an image,
/// a video or audio, else a document.
fn kind_of(bytes: &[u8]) -> MessageKind {
    let mime = sniff(bytes);
    [MessageKind::Image, MessageKind::Video, MessageKind::Audio]
        .into_iter()
        .find(|&k| fits(k, mime) && !(k == MessageKind::Audio && mime == Some("video/mp4")))
        .unwrap_or(MessageKind::Document)
}

/// Reads the form of `POST /media`: the `file`, and the `type` to keep it as (image, video,
/// audio or document; read from its bytes when absent).
pub(super) async fn read_library_upload(form: SendForm) -> Result<Upload, ApiError> {
    let SendForm(mut multipart) = form;
    let mut file: Option<(Vec<u8>, Option<String>)> = None;
    let mut kind: Option<String> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let duplicate = || {
            ApiError::from(ParseError::new(
                "form",
                format!("the part {name:?} is given more than once"),
            ))
        };
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(duplicate());
                }
                let filename = field
                    .file_name()
                    .and_then(wasl_domain::text::clean_filename);
                file = Some((read_file(field).await?, filename));
            }
            "type" => {
                if kind.is_some() {
                    return Err(duplicate());
                }
                kind = Some(read_text(field, "type").await?);
            }
            _ => {
                let _ = field.bytes().await.map_err(multipart_error)?;
            }
        }
    }
    let kind = match kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => MessageKind::parse(k)
            .filter(|k| *k != MessageKind::Text)
            .map(Some)
            .ok_or_else(|| ParseError::new("type", "must be image, video, audio or document")),
    };
    let file = file
        .ok_or_else(|| ParseError::new("file", "the file part is required"))
        .and_then(|(bytes, name)| {
            if bytes.is_empty() {
                Err(ParseError::new("file", "the file is empty"))
            } else {
                Ok((bytes, name))
            }
        });
    let (kind, (bytes, filename)) = (kind, file).validate()?;
    let kind = kind.unwrap_or_else(|| kind_of(&bytes));
    Ok(Upload {
        kind,
        media: typed(kind, bytes, filename)?,
    })
}

/// A type for documents whose bytes carry no signature (plain text, CSV…), from the name.
fn document_type(filename: Option<&str>) -> String {
    let ext = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") => "text/plain",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
    .to_owned()
}
