//! Turning wasl's outgoing messages into WhatsApp messages, and the crate's send errors into
//! wasl's: which ones are worth retrying and which are final.

use wasl_engine::{EngineError, Media, MessageKind, OutgoingReaction, QuotedMessage};
use whatsapp_rust::download::MediaType;
use whatsapp_rust::media::{
    audio_message, document_message, image_message, video_message, AudioOptions, DocumentOptions,
    ImageOptions, VideoOptions,
};
use whatsapp_rust::prelude::MessageField;
use whatsapp_rust::upload::UploadResponse;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{ClientError, Jid, SendError};

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

/// The context that makes a message a reply: the quoted message's id, its author (the
/// customer, or this session's own number) and a copy of its content for the quote to show.
/// Media are copied as their kind with the caption only: WhatsApp shows the quote's label
/// ("Photo") and text without the file.
pub fn quote_context(quote: &QuotedMessage, customer: &Jid, own: Option<&Jid>) -> wa::ContextInfo {
    let author = match (quote.from_me, own) {
        (true, Some(own)) => own.to_non_ad().to_string(),
        _ => customer.to_string(),
    };
    let text = quote.text.clone();
    let quoted = match quote.kind {
        MessageKind::Text => wa::Message {
            conversation: text,
            ..Default::default()
        },
        MessageKind::Image => wa::Message {
            image_message: MessageField::some(wa::message::ImageMessage {
                caption: text,
                ..Default::default()
            }),
            ..Default::default()
        },
        MessageKind::Video => wa::Message {
            video_message: MessageField::some(wa::message::VideoMessage {
                caption: text,
                ..Default::default()
            }),
            ..Default::default()
        },
        MessageKind::Audio => wa::Message {
            audio_message: MessageField::some(wa::message::AudioMessage::default()),
            ..Default::default()
        },
        MessageKind::Document => wa::Message {
            document_message: MessageField::some(wa::message::DocumentMessage {
                file_name: text,
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    wa::ContextInfo {
        stanza_id: Some(quote.message_id.clone()),
        participant: Some(author),
        quoted_message: MessageField::some(quoted),
        ..Default::default()
    }
}

/// The key of the message a reaction is about, in a one-to-one chat (no participant).
pub fn reaction_key(reaction: &OutgoingReaction, chat: &Jid) -> wa::MessageKey {
    wa::MessageKey {
        remote_jid: Some(chat.to_string()),
        from_me: Some(reaction.from_me),
        id: Some(reaction.message_id.clone()),
        participant: None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(from_me: bool, kind: MessageKind, text: &str) -> QuotedMessage {
        QuotedMessage {
            message_id: "3A1B2C".into(),
            from_me,
            kind,
            text: Some(text.into()),
        }
    }

    #[test]
    fn a_reply_names_the_quoted_message_its_author_and_a_copy() {
        let customer = Jid::pn("966501234567");
        let own = Jid::pn("966500000001");
        let context = quote_context(
            &quote(false, MessageKind::Text, "كم السعر؟"),
            &customer,
            Some(&own),
        );
        assert_eq!(context.stanza_id.as_deref(), Some("3A1B2C"));
        assert_eq!(
            context.participant.as_deref(),
            Some("966501234567@s.whatsapp.net")
        );
        let copy = context.quoted_message.as_option().expect("copy");
        assert_eq!(copy.conversation.as_deref(), Some("كم السعر؟"));

        // Our own message is attributed to our number (no device part), a photo by its caption.
        let context = quote_context(
            &quote(true, MessageKind::Image, "العرض"),
            &customer,
            Some(&own),
        );
        assert_eq!(
            context.participant.as_deref(),
            Some("966500000001@s.whatsapp.net")
        );
        let copy = context.quoted_message.as_option().expect("copy");
        assert_eq!(
            copy.image_message
                .as_option()
                .and_then(|m| m.caption.as_deref()),
            Some("العرض")
        );
    }

    #[test]
    fn a_reaction_points_at_the_message_in_the_chat() {
        let chat = Jid::pn("966501234567");
        let key = reaction_key(
            &OutgoingReaction {
                chat: wasl_domain::PhoneNumber::from_trusted("966501234567"),
                message_id: "3EB0X".into(),
                from_me: false,
                emoji: "👍".into(),
            },
            &chat,
        );
        assert_eq!(key.id.as_deref(), Some("3EB0X"));
        assert_eq!(key.from_me, Some(false));
        assert_eq!(
            key.remote_jid.as_deref(),
            Some("966501234567@s.whatsapp.net")
        );
        assert_eq!(key.participant, None);
    }
}
