use wasl_domain::PhoneNumber;

use crate::{IncomingMessage, IncomingReaction};

/// What a connection reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// A pairing QR to show; it replaces any earlier one. `code` is the text inside the QR.
    Qr { code: String },
    /// Paired and online as this number.
    Connected { phone_number: PhoneNumber },
    /// A customer wrote.
    Message(IncomingMessage),
    /// A customer reacted to a message, or took a reaction back.
    Reaction(IncomingReaction),
    /// A message we sent was delivered to or read by the recipient.
    Receipt {
        message_id: String,
        status: ReceiptStatus,
        at: i64,
    },
    /// The connection ended. Sent exactly once, last.
    Disconnected { reason: DisconnectReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStatus {
    Delivered,
    Read,
}

/// Why a connection ended. Terminal reasons stop automatic reconnection: reconnecting would
/// not help, and the person has to act.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The network or the server dropped the connection; reconnecting should work.
    Network(String),
    /// The device was logged out (from the phone, or by us).
    LoggedOut,
    /// Another client took over this session.
    Replaced,
    /// WhatsApp banned the number, temporarily or for good.
    Banned(String),
    /// Nobody scanned the QR in time.
    QrTimeout,
    /// WhatsApp refused the connection or the pairing for good (outdated client, a failed
    /// pairing, a login failure other than a logout or a ban).
    Rejected(String),
    /// We closed the connection (shutdown).
    Closed,
}

impl DisconnectReason {
    pub fn is_terminal(&self) -> bool {
        !matches!(self, DisconnectReason::Network(_))
    }

    /// A short English description for logs and the session's `lastDisconnectReason`.
    pub fn describe(&self) -> String {
        match self {
            DisconnectReason::Network(detail) => format!("connection lost: {detail}"),
            DisconnectReason::LoggedOut => "logged out".to_owned(),
            DisconnectReason::Replaced => {
                "replaced by another connection to the same number".to_owned()
            }
            DisconnectReason::Banned(detail) => format!("number banned by WhatsApp: {detail}"),
            DisconnectReason::QrTimeout => "the QR code was not scanned in time".to_owned(),
            DisconnectReason::Rejected(detail) => format!("refused by WhatsApp: {detail}"),
            DisconnectReason::Closed => "closed".to_owned(),
        }
    }
}
