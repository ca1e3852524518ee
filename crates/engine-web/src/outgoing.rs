//! Turning wasl's outgoing messages into WhatsApp messages, and the crate's send errors into
//! wasl's: which ones are worth retrying and which are final.

use wasl_engine::{EngineError, Media, MessageKind};
use whatsapp_rust::download::MediaType;
use whatsapp_rust::media::{
    audio_message, document_message, image_message, video_message, AudioOptions, DocumentOptions,
    ImageOptions, VideoOptions,
};
use whatsapp_rust::upload::UploadResponse;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{ClientError, SendError};

/// What the crate's upload is asked to encrypt and store for a kind of message.
pub fn media_type(kind: MessageKind) -> Result<MediaType, EngineError> {
    match kind {
        MessageKind::Image => Ok(MediaType::Image),
        MessageKind::Video => Ok(MediaType::Video),
        MessageKind::Audio => Ok(MediaType::Audio),
        MessageKind::Document => Ok(MediaType::Document),
        MessageKind::Text => Err(EngineError::Rejected(
            "a text message carries no media".into(),
        )),
    }
}

/// The message that points at an uploaded file.
pub fn media_message(
    kind: MessageKind,
    upload: UploadResponse,
    media: &Media,
    caption: Option<String>,
    ptt: bool,
) -> Result<wa::Message, EngineError> {
    let mimetype = Some(media.mime_type.clone()).filter(|m| !m.is_empty());
    Ok(match kind {
        MessageKind::Image => image_message(
            upload,
            ImageOptions {
                caption,
                mimetype,
                ..Default::default()
            },
        ),
        MessageKind::Video => video_message(
            upload,
            VideoOptions {
                caption,
                mimetype,
                ..Default::default()
            },
        ),
        // A voice note must be OGG/Opus to play on phones; wasl accepts what the caller
        // uploads and labels it, it does not transcode.
        MessageKind::Audio => audio_message(
            upload,
            AudioOptions {
                mimetype,
                ptt: Some(ptt),
                ..Default::default()
            },
        ),
        MessageKind::Document => document_message(
            upload,
            DocumentOptions {
                mimetype,
                title: media.filename.clone(),
                file_name: media.filename.clone(),
                caption,
                ..Default::default()
            },
        ),
        MessageKind::Text => {
            return Err(EngineError::Rejected(
                "a text message carries no media".into(),
            ))
        }
    })
}

/// Not connected or not logged in: try again once the session is back. A request WhatsApp
/// cannot take is final. Everything else (socket, IQ timeouts, encryption hiccups) is
/// worth another attempt with the same message id.
pub fn send_error(e: SendError) -> EngineError {
    match e {
        SendError::NotLoggedIn => EngineError::NotConnected,
        SendError::Client(ClientError::NotConnected | ClientError::NotLoggedIn) => {
            EngineError::NotConnected
        }
        SendError::InvalidRequest(detail) => EngineError::Rejected(detail),
        other => EngineError::Transient(other.to_string()),
    }
}
