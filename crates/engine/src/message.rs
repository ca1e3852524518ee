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
}

/// WhatsApp accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    pub at: i64,
}
