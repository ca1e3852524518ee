//! Why a session's last connection ended, as a code a client translates: the stored reason is
//! the English sentence the engines and the supervisor write (for logs and developers), and a
//! dashboard must explain it in the user's language, with what to do next.

/// The code of a stored disconnect reason: `network`, `logged_out`, `replaced`, `banned`,
/// `qr_timeout`, `rejected`, `closed`, `cannot_connect`, `pairing_interrupted`, or `other`
/// for a sentence this release does not write (one stored by an older one).
pub fn disconnect_code(reason: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 9] = [
        ("connection lost", "network"),
        ("logged out", "logged_out"),
        ("replaced by another connection", "replaced"),
        ("number banned", "banned"),
        ("the QR code was not scanned", "qr_timeout"),
        ("refused by WhatsApp", "rejected"),
        ("closed", "closed"),
        (CANNOT_CONNECT, "cannot_connect"),
        (PAIRING_INTERRUPTED, "pairing_interrupted"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| reason.starts_with(prefix))
        .map_or("other", |(_, code)| code)
}

/// The start of the reason stored when a session's engine cannot even start.
pub(super) const CANNOT_CONNECT: &str = "cannot connect";
/// The reason stored when a restart interrupted pairing.
pub(super) const PAIRING_INTERRUPTED: &str =
    "pairing was interrupted by a restart; ask for a new QR";

#[cfg(test)]
mod tests {
    use super::*;
    use wasl_engine::DisconnectReason;

    #[test]
    fn every_reason_written_reads_back_as_its_code() {
        let cases = [
            (
                DisconnectReason::Network("WebSocket connect failed".into()),
                "network",
            ),
            (DisconnectReason::LoggedOut, "logged_out"),
            (DisconnectReason::Replaced, "replaced"),
            (DisconnectReason::Banned("temporary".into()), "banned"),
            (DisconnectReason::QrTimeout, "qr_timeout"),
            (
                DisconnectReason::Rejected("client outdated".into()),
                "rejected",
            ),
            (DisconnectReason::Closed, "closed"),
        ];
        for (reason, code) in cases {
            // What the supervisor stores is the engine's own description.
            assert_eq!(
                disconnect_code(&reason.describe()),
                code,
                "{}",
                reason.describe()
            );
        }
        assert_eq!(
            disconnect_code(&format!("{CANNOT_CONNECT}: no such engine")),
            "cannot_connect"
        );
        assert_eq!(disconnect_code(PAIRING_INTERRUPTED), "pairing_interrupted");
        assert_eq!(disconnect_code("something from an older release"), "other");
    }
}
