use wasl_domain::PhoneNumber;

/// The five kinds of message wasl handles (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Text,
    Image,
    Video,
    Audio,
    Document,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::Video => "video",
            MessageKind::Audio => "audio",
            MessageKind::Document => "document",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            MessageKind::Text,
            MessageKind::Image,
            MessageKind::Video,
            MessageKind::Audio,
            MessageKind::Document,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// A media file, already downloaded and decrypted.
#[derive(Clone, PartialEq, Eq)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime_type: String,
    pub filename: Option<String>,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("bytes", &self.bytes.len())
            .field("mime_type", &self.mime_type)
            .field("filename", &self.filename)
            .finish()
    }
}

/// A message a customer sent to the session's number.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    /// WhatsApp's id: the same message arriving twice has the same id.
    pub message_id: String,
    pub from: PhoneNumber,
    pub push_name: Option<String>,
    pub kind: MessageKind,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub media: Option<Media>,
    /// When the customer sent it (Unix ms).
    pub timestamp: i64,
    /// The message this one replies to.
    pub quote: Option<QuotedMessage>,
}

/// The message a reply quotes, as WhatsApp carries it inside the reply: its id, which side
/// wrote it, and a copy of its content (WhatsApp shows the quote from that copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedMessage {
    /// WhatsApp's id of the quoted message.
    pub message_id: String,
    /// The business (this session's number) wrote it; else the customer did.
    pub from_me: bool,
    pub kind: MessageKind,
    /// Its text, or its caption or file name for media.
    pub text: Option<String>,
}

/// A customer reacted to a message of their chat (or, with an empty emoji, took their
/// reaction back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingReaction {
    /// WhatsApp's id of the reaction itself: what is acknowledged once it is stored.
    pub reaction_id: String,
    pub from: PhoneNumber,
    /// WhatsApp's id of the message reacted to.
    pub message_id: String,
    /// Empty when the reaction is removed.
    pub emoji: String,
    /// Unix ms.
    pub timestamp: i64,
}

/// The business reacts to a message of a chat (an empty emoji removes its reaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingReaction {
    /// The customer whose chat it is.
    pub chat: PhoneNumber,
    /// WhatsApp's id of the message reacted to.
    pub message_id: String,
    /// The message was the business's own.
    pub from_me: bool,
    pub emoji: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutgoingContent {
    Text(String),
    Media {
        kind: MessageKind,
        media: Media,
        caption: Option<String>,
        /// An audio sent as a voice note.
        ptt: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    /// WhatsApp's id for the message, chosen by wasl before the first attempt. Sending the
    /// same id again (a retry after a crash) must not deliver a second copy.
    pub message_id: String,
    pub to: PhoneNumber,
    pub content: OutgoingContent,
    /// The message this one replies to.
    pub quote: Option<QuotedMessage>,
}

/// WhatsApp accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    pub at: i64,
}
