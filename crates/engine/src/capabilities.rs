//! What an engine can do, so the product asks instead of knowing which engine it talks to:
//! the session routes offer only the linking methods an engine has, the send checks media
//! against the engine's own limits, and the outbox knows who chooses a message's id.

use serde::Serialize;

use crate::MessageKind;

/// What one engine can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub linking: Linking,
    pub media_limits: MediaLimits,
    pub message_ids: MessageIds,
    /// Free-form messages are allowed only within a window after the customer's last message
    /// (Meta's 24-hour customer service window); outside it only templates go out.
    pub service_window: bool,
    /// Pre-approved message templates can be sent (and are required outside the window).
    pub templates: bool,
}

/// The ways a session of the engine is linked to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Linking {
    /// A phone scans a QR code.
    pub qr: bool,
    /// The phone's owner types a code shown by wasl.
    pub pairing_code: bool,
    /// The session is given credentials (a token) when it is created.
    pub credentials: bool,
}

/// The largest media file the engine sends, per kind, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaLimits {
    pub image: usize,
    pub video: usize,
    pub audio: usize,
    pub document: usize,
}

impl MediaLimits {
    /// The same limit for every kind.
    pub const fn all(bytes: usize) -> Self {
        MediaLimits {
            image: bytes,
            video: bytes,
            audio: bytes,
            document: bytes,
        }
    }

    /// The limit for a kind; `None` for text, which carries no file.
    pub fn of(&self, kind: MessageKind) -> Option<usize> {
        match kind {
            MessageKind::Text => None,
            MessageKind::Image => Some(self.image),
            MessageKind::Video => Some(self.video),
            MessageKind::Audio => Some(self.audio),
            MessageKind::Document => Some(self.document),
        }
    }

    /// The largest of the limits: what a request body may carry at most.
    pub fn largest(&self) -> usize {
        self.image
            .max(self.video)
            .max(self.audio)
            .max(self.document)
    }
}

/// Who chooses the id WhatsApp knows a sent message by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageIds {
    /// wasl chooses the id before the first attempt and the engine sends under it, so a
    /// retry after a crash is recognised by WhatsApp and delivered once (WhatsApp Web).
    ChosenByWasl,
    /// The engine's server assigns the id when it accepts the message (Meta's `wamid`): the
    /// outbox stores the id it is given, and receipts are matched by it from then on.
    AssignedByEngine,
}

/// The media limit of WhatsApp itself for what the first release sends: 16 MiB.
pub const WHATSAPP_MEDIA_BYTES: usize = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_no_media_limit_and_the_largest_bounds_every_kind() {
        let limits = MediaLimits {
            image: 5,
            video: 16,
            audio: 16,
            document: 100,
        };
        assert_eq!(limits.of(MessageKind::Text), None);
        assert_eq!(limits.of(MessageKind::Image), Some(5));
        assert_eq!(limits.of(MessageKind::Document), Some(100));
        assert_eq!(limits.largest(), 100);
        assert_eq!(MediaLimits::all(7).largest(), 7);
    }
}
