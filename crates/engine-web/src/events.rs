//! What each whatsapp-rust event means for wasl. Kept free of I/O so that every mapping can
//! be tested with real crate event values, without a connection.

use wasl_engine::{DisconnectReason, EngineEvent, ReceiptStatus};
use whatsapp_rust::types::events::{ConnectFailure, Event, EventInterest, EventKind, Receipt};
use whatsapp_rust::types::presence::ReceiptType;

/// What one crate event asks the connection to do.
#[derive(Debug)]
pub enum Mapped {
    /// Report these events as they are.
    Emit(Vec<EngineEvent>),
    /// Logged in and ready: report `Connected` with the linked number.
    Online,
    /// Messages arrived; each is read (and its media fetched) before it is reported.
    Messages,
    /// The phone accepted the pairing. WhatsApp restarts the stream right after (code 515),
    /// so the attempt continues on a fresh socket instead of ending.
    Paired,
    /// The connection ends, or will end, for this reason.
    Ends(DisconnectReason),
    /// Nothing wasl needs.
    Ignore,
}

/// The event kinds [`map_event`] does something with; the crate's bus does not even build
/// the others for us.
pub fn interest() -> EventInterest {
    EventInterest::of(&[
        EventKind::Connected,
        EventKind::Disconnected,
        EventKind::PairSuccess,
        EventKind::PairError,
        EventKind::LoggedOut,
        EventKind::PairingQrCode,
        EventKind::PairingQrCodesExhausted,
        EventKind::ClientOutdated,
        EventKind::Messages,
        EventKind::Receipt,
        EventKind::StreamReplaced,
        EventKind::TemporaryBan,
        EventKind::ConnectFailure,
    ])
}

pub fn map_event(event: &Event) -> Mapped {
    match event {
        Event::PairingQrCode(qr) => Mapped::Emit(vec![EngineEvent::Qr {
            code: qr.code.clone(),
        }]),
        Event::Connected(_) => Mapped::Online,
        Event::PairSuccess(_) => Mapped::Paired,
        Event::Messages(_) => Mapped::Messages,
        Event::Receipt(receipt) => Mapped::Emit(receipts(receipt)),
        Event::Disconnected(d) => Mapped::Ends(DisconnectReason::Network(d.reason.to_string())),
        Event::LoggedOut(_) => Mapped::Ends(DisconnectReason::LoggedOut),
        Event::StreamReplaced(_) => Mapped::Ends(DisconnectReason::Replaced),
        Event::TemporaryBan(ban) => Mapped::Ends(DisconnectReason::Banned(format!(
            "temporarily, for {} minutes ({})",
            ban.expire.num_minutes().max(1),
            ban.code
        ))),
        Event::ConnectFailure(failure) => Mapped::Ends(connect_failure(failure)),
        Event::ClientOutdated(_) => Mapped::Ends(DisconnectReason::Rejected(
            "WhatsApp says this client version is outdated; update wasl".into(),
        )),
        // The crate only reports exhaustion this way once no phone-number pairing is in
        // flight; either way nobody scanned any of the codes in time.
        Event::PairingQrCodesExhausted(_) => Mapped::Ends(DisconnectReason::QrTimeout),
        Event::PairError(e) => Mapped::Ends(DisconnectReason::Rejected(format!(
            "pairing failed: {}",
            e.error
        ))),
        _ => Mapped::Ignore,
    }
}

/// Delivery and read receipts of messages the session sent, one event per message id.
/// Receipts about our own devices (`read-self`), retries and server errors are not
/// receipts in wasl's sense.
fn receipts(receipt: &Receipt) -> Vec<EngineEvent> {
    let status = match receipt.r#type {
        // A device that is not in the foreground answers `inactive`: delivered all the same
        // (the e2e suite's peer showed messages kept at "sent" without this).
        ReceiptType::Delivered | ReceiptType::Inactive => ReceiptStatus::Delivered,
        // A voice note listened to has been read.
        ReceiptType::Read | ReceiptType::Played => ReceiptStatus::Read,
        _ => return Vec::new(),
    };
    let at = receipt.timestamp.timestamp_millis();
    receipt
        .message_ids
        .iter()
        .map(|id| EngineEvent::Receipt {
            message_id: id.clone(),
            status,
            at,
        })
        .collect()
}

/// A `<failure>` at login. Only 500 and 503 are worth retrying (the crate agrees: it stops
/// its own reconnects for every other code).
fn connect_failure(failure: &ConnectFailure) -> DisconnectReason {
    use whatsapp_rust::types::events::ConnectFailureReason as R;
    let reason = &failure.reason;
    let detail = match &failure.message {
        Some(message) if !message.is_empty() => format!("code {}: {message}", reason.code()),
        _ => format!("code {}", reason.code()),
    };
    if reason.is_logged_out() {
        DisconnectReason::LoggedOut
    } else if matches!(reason, R::TempBanned) {
        DisconnectReason::Banned(detail)
    } else if reason.should_reconnect() {
        DisconnectReason::Network(format!("WhatsApp is unavailable ({detail})"))
    } else {
        DisconnectReason::Rejected(format!("WhatsApp refused the login ({detail})"))
    }
}
