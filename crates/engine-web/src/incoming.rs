//! Reading what a customer sent: which of the five kinds it is, its text, and where its
//! media is. Pure, so it is tested with real protocol messages; the connection then resolves
//! the sender's number and downloads the media.

use wasl_domain::PhoneNumber;
use wasl_engine::{MessageKind, QuotedMessage};
use whatsapp_rust::download::Downloadable;
use whatsapp_rust::types::events::InboundMessage;
use whatsapp_rust::types::message::MessageSource;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Jid, Server};

use whatsapp_rust::wacore::proto_helpers::MessageExt;

/// Who wrote: their phone number, or a LID (WhatsApp's privacy id) still to be mapped to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    Phone(PhoneNumber),
    Lid(String),
}

/// The media part of a message, still on WhatsApp's servers.
#[derive(Debug, Clone, Copy)]
pub enum MediaRef<'a> {
    Image(&'a wa::message::ImageMessage),
    Video(&'a wa::message::VideoMessage),
    Audio(&'a wa::message::AudioMessage),
    Document(&'a wa::message::DocumentMessage),
}

impl<'a> MediaRef<'a> {
    pub fn downloadable(self) -> &'a dyn Downloadable {
        match self {
            MediaRef::Image(m) => m,
            MediaRef::Video(m) => m,
            MediaRef::Audio(m) => m,
            MediaRef::Document(m) => m,
        }
    }

    /// The type the sender's app declared; a generic one when it declared none.
    pub fn mime_type(self) -> String {
        let (declared, fallback) = match self {
            MediaRef::Image(m) => (&m.mimetype, "image/jpeg"),
            MediaRef::Video(m) => (&m.mimetype, "video/mp4"),
            MediaRef::Audio(m) => (&m.mimetype, "audio/ogg"),
            MediaRef::Document(m) => (&m.mimetype, "application/octet-stream"),
        };
        declared
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(fallback)
            .to_owned()
    }

    pub fn filename(self) -> Option<String> {
        match self {
            MediaRef::Document(m) => m
                .file_name
                .clone()
                .or_else(|| m.title.clone())
                .filter(|n| !n.trim().is_empty()),
            _ => None,
        }
    }

    /// The size the sender declared, if any (checked again by the download).
    pub fn declared_size(self) -> Option<u64> {
        self.downloadable().file_length()
    }
}

/// A message wasl takes, before its sender is resolved and its media fetched.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub message_id: String,
    pub sender: Sender,
    pub push_name: Option<String>,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub media: Option<MediaRef<'a>>,
    /// Unix ms.
    pub timestamp: i64,
    /// The message it replies to.
    pub quote: Option<QuotedMessage>,
}

/// A customer's reaction, before its sender is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub reaction_id: String,
    pub sender: Sender,
    /// WhatsApp's id of the message reacted to.
    pub message_id: String,
    /// Empty when the reaction is taken back.
    pub emoji: String,
    /// Unix ms.
    pub timestamp: i64,
}

/// The message as wasl sees it, or `None` when it is not a customer's message of one of the
/// five kinds: our own messages (sent from the phone), groups, status updates, channels,
/// reactions, protocol messages, stickers, locations…
pub fn read_message(inbound: &InboundMessage) -> Option<Incoming<'_>> {
    let info = &*inbound.info;
    let source = &info.source;
    let sender = customer(source)?;
    let message = inbound.message.get_base_message();
    let (kind, text, media) = if let Some(m) = message.image_message.as_option() {
        (MessageKind::Image, None, Some(MediaRef::Image(m)))
    } else if let Some(m) = message.video_message.as_option() {
        (MessageKind::Video, None, Some(MediaRef::Video(m)))
    } else if let Some(m) = message.audio_message.as_option() {
        (MessageKind::Audio, None, Some(MediaRef::Audio(m)))
    } else if let Some(m) = message.document_message.as_option() {
        (MessageKind::Document, None, Some(MediaRef::Document(m)))
    } else {
        let text = message.text_content().filter(|t| !t.is_empty())?;
        (MessageKind::Text, Some(text.to_owned()), None)
    };
    let caption = media
        .and_then(|_| message.get_caption())
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Some(Incoming {
        message_id: info.id.clone(),
        sender,
        push_name: Some(info.push_name.trim())
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        kind,
        text,
        caption,
        media,
        timestamp: info.timestamp.timestamp_millis(),
        quote: context_of(message).and_then(|c| quote(c, source)),
    })
}

/// A customer's reaction to a message of their chat (an empty one takes it back), or `None`
/// for anything else.
pub fn read_reaction(inbound: &InboundMessage) -> Option<Reaction> {
    let info = &*inbound.info;
    let sender = customer(&info.source)?;
    let reaction = inbound
        .message
        .get_base_message()
        .reaction_message
        .as_option()?;
    let message_id = reaction.key.as_option()?.id.clone()?;
    Some(Reaction {
        reaction_id: info.id.clone(),
        sender,
        message_id,
        emoji: reaction.text.clone().unwrap_or_default(),
        timestamp: reaction
            .sender_timestamp_ms
            .unwrap_or_else(|| info.timestamp.timestamp_millis()),
    })
}

/// Who wrote, when it is a customer in a one-to-one chat: a group, status update, broadcast
/// or channel post is not a customer writing to the number, and our own messages (sent from
/// the phone) are not either.
fn customer(source: &MessageSource) -> Option<Sender> {
    if source.is_from_me || source.is_group || !is_person(&source.chat) {
        return None;
    }
    sender(source)
}

/// Where a message keeps its reply context: text with context is an extended text, media
/// carry it themselves.
fn context_of(message: &wa::Message) -> Option<&wa::ContextInfo> {
    [
        message
            .extended_text_message
            .as_option()
            .and_then(|m| m.context_info.as_option()),
        message
            .image_message
            .as_option()
            .and_then(|m| m.context_info.as_option()),
        message
            .video_message
            .as_option()
            .and_then(|m| m.context_info.as_option()),
        message
            .audio_message
            .as_option()
            .and_then(|m| m.context_info.as_option()),
        message
            .document_message
            .as_option()
            .and_then(|m| m.context_info.as_option()),
    ]
    .into_iter()
    .flatten()
    .next()
}

/// The quoted message of a reply: its id, which side wrote it (the participant is its
/// author: the customer, by number or LID, or else this session's number), and its content
/// as the reply carries it.
fn quote(context: &wa::ContextInfo, source: &MessageSource) -> Option<QuotedMessage> {
    let message_id = context.stanza_id.clone().filter(|id| !id.is_empty())?;
    let by_customer = context.participant.as_deref().is_some_and(|p| {
        let user = p.split(['@', ':']).next().unwrap_or(p);
        std::iter::once(&source.sender)
            .chain(source.sender_alt.as_ref())
            .any(|jid| jid.user == user)
    });
    let (kind, text) = match context.quoted_message.as_option() {
        Some(quoted) => {
            let quoted = quoted.get_base_message();
            let kind = if quoted.image_message.is_set() {
                MessageKind::Image
            } else if quoted.video_message.is_set() {
                MessageKind::Video
            } else if quoted.audio_message.is_set() {
                MessageKind::Audio
            } else if quoted.document_message.is_set() {
                MessageKind::Document
            } else {
                MessageKind::Text
            };
            let text = quoted
                .text_content()
                .or_else(|| quoted.get_caption())
                .or_else(|| {
                    quoted
                        .document_message
                        .as_option()
                        .and_then(|d| d.file_name.as_deref())
                })
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            (kind, text)
        }
        None => (MessageKind::Text, None),
    };
    Some(QuotedMessage {
        message_id,
        from_me: !by_customer,
        kind,
        text,
    })
}

/// A one-to-one chat with a person (by number or by LID), not a group or a broadcast.
fn is_person(jid: &Jid) -> bool {
    matches!(jid.server, Server::Pn | Server::Lid)
}

/// The sender's number when the message carries it (as the sender or as its alternate
/// address), else their LID.
fn sender(source: &MessageSource) -> Option<Sender> {
    let candidates = std::iter::once(&source.sender).chain(source.sender_alt.as_ref());
    let mut lid = None;
    for jid in candidates {
        match jid.server {
            Server::Pn => return phone(&jid.user).map(Sender::Phone),
            Server::Lid if lid.is_none() => lid = Some(jid.user.to_string()),
            _ => {}
        }
    }
    lid.map(Sender::Lid)
}

/// A number from WhatsApp, checked like one typed by a person.
pub fn phone(user: &str) -> Option<PhoneNumber> {
    PhoneNumber::parse("from", user).ok()
}
