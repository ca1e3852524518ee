//! The web engine's reading of whatsapp-rust events, driven with real crate event values:
//! the pairing QR becomes a PNG of exactly that code, receipts and disconnect reasons map to
//! wasl's (terminal or not), and customers' messages of the five kinds are read correctly.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use wasl_domain::PhoneNumber;
use wasl_engine::{DisconnectReason, EngineEvent, MessageKind, QuotedMessage, ReceiptStatus};
use wasl_engine_web::events::{map_event, Mapped};
use wasl_engine_web::incoming::{read_message, read_reaction, Reaction, Sender};
use whatsapp_rust::prelude::{wa, Event, InboundMessage, Jid, MessageField, MessageInfo};
use whatsapp_rust::types::events::{
    ClientOutdated, ConnectFailure, ConnectFailureReason, Disconnected, LoggedOut, PairingQrCode,
    PairingQrCodesExhausted, Receipt, StreamReplaced, TempBanReason, TemporaryBan,
};
use whatsapp_rust::types::message::MessageSource;
use whatsapp_rust::types::presence::ReceiptType;
use whatsapp_rust::wacore::store::InMemoryBackend;

fn emitted(mapped: Mapped) -> Vec<EngineEvent> {
    match mapped {
        Mapped::Emit(events) => events,
        other => panic!("expected events to report, got {other:?}"),
    }
}

fn ending(event: Event) -> DisconnectReason {
    match map_event(&event) {
        Mapped::Ends(reason) => reason,
        other => panic!("expected the connection to end, got {other:?}"),
    }
}

// --- The pairing QR -------------------------------------------------------------------------

/// A QR payload exactly as the crate builds it for its rotation: a server ref and the
/// device's noise, identity and ADV keys.
fn real_qr_payload() -> String {
    let device = whatsapp_rust::store::Device::new(Arc::new(InMemoryBackend::new()));
    whatsapp_rust::pair::make_qr_data(
        &device,
        "2@Xk9WvB3m7lQ8s0a1d2f3g4h5j6k7l8z9x0c1v2b3n4m5QwErTyUiOp==",
    )
}

/// Reads the PNG's pixels: (side, grayscale bytes).
fn decode_png(bytes: &[u8]) -> (usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a decodable PNG");
    assert_eq!(info.width, info.height, "a QR is square");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    buf.truncate(info.buffer_size());
    (info.width as usize, buf)
}

#[test]
fn the_crates_qr_event_becomes_a_png_of_that_very_code() {
    let payload = real_qr_payload();
    assert_eq!(
        payload.split(',').count(),
        5,
        "ref, three keys, platform: {payload}"
    );
    let event = Event::PairingQrCode(
        PairingQrCode::builder()
            .code(payload.clone())
            .timeout(Duration::from_secs(60))
            .build(),
    );
    let events = emitted(map_event(&event));
    assert_eq!(
        events,
        vec![EngineEvent::Qr {
            code: payload.clone()
        }]
    );

    // What the supervisor stores and the API returns.
    let EngineEvent::Qr { code } = &events[0] else {
        unreachable!()
    };
    let url = wasl_engine::qr::data_url(code).expect("renders");
    let b64 = url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let png_bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n", "the PNG signature");
    let (side, pixels) = decode_png(&png_bytes);

    // No QR decoder is in the tree, so read the image the other way round: encode the
    // payload independently and check every module of the picture against it. A wrong,
    // truncated or differently-encoded payload cannot match module for module.
    let expected =
        qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::L)
            .expect("the payload fits a QR");
    let modules = expected.width();
    let colors = expected.to_colors();
    let quiet = 4;
    assert_eq!(side % (modules + 2 * quiet), 0, "whole pixels per module");
    let scale = side / (modules + 2 * quiet);
    let mut mismatches = 0;
    for y in 0..modules {
        for x in 0..modules {
            let px = (x + quiet) * scale + scale / 2;
            let py = (y + quiet) * scale + scale / 2;
            let dark = pixels[py * side + px] < 128;
            if dark != (colors[y * modules + x] == qrcode::Color::Dark) {
                mismatches += 1;
            }
        }
    }
    assert_eq!(
        mismatches, 0,
        "the picture is the QR of the crate's payload"
    );
    assert!(
        pixels[..side].iter().all(|p| *p == 255),
        "a white quiet zone"
    );
}

// --- Receipts -------------------------------------------------------------------------------

fn receipt(kind: ReceiptType, ids: &[&str]) -> Event {
    Event::Receipt(
        Receipt::builder()
            .source(MessageSource {
                chat: Jid::pn("966501234567"),
                sender: Jid::pn("966501234567"),
                ..Default::default()
            })
            .message_ids(ids.iter().map(|s| (*s).to_owned()).collect())
            .timestamp(
                whatsapp_rust::chrono::DateTime::from_timestamp_millis(1_750_000_000_000)
                    .expect("a time"),
            )
            .r#type(kind)
            .offline(false)
            .build(),
    )
}

#[test]
fn delivery_and_read_receipts_map_per_message() {
    let delivered = emitted(map_event(&receipt(
        ReceiptType::Delivered,
        &["3EB0AAAA", "3EB0BBBB"],
    )));
    assert_eq!(
        delivered,
        vec![
            EngineEvent::Receipt {
                message_id: "3EB0AAAA".into(),
                status: ReceiptStatus::Delivered,
                at: 1_750_000_000_000
            },
            EngineEvent::Receipt {
                message_id: "3EB0BBBB".into(),
                status: ReceiptStatus::Delivered,
                at: 1_750_000_000_000
            },
        ]
    );
    // Delivered to a device in the background: delivered.
    assert_eq!(
        emitted(map_event(&receipt(ReceiptType::Inactive, &["3EB0EEEE"]))),
        vec![EngineEvent::Receipt {
            message_id: "3EB0EEEE".into(),
            status: ReceiptStatus::Delivered,
            at: 1_750_000_000_000
        }]
    );
    for read in [ReceiptType::Read, ReceiptType::Played] {
        let events = emitted(map_event(&receipt(read.clone(), &["3EB0CCCC"])));
        assert_eq!(
            events,
            vec![EngineEvent::Receipt {
                message_id: "3EB0CCCC".into(),
                status: ReceiptStatus::Read,
                at: 1_750_000_000_000
            }],
            "{read:?}"
        );
    }
    // Our own devices reading, retries and server errors are not the recipient's receipts.
    for other in [
        ReceiptType::ReadSelf,
        ReceiptType::PlayedSelf,
        ReceiptType::Retry,
        ReceiptType::Sender,
        ReceiptType::ServerError,
    ] {
        assert!(
            emitted(map_event(&receipt(other.clone(), &["3EB0DDDD"]))).is_empty(),
            "{other:?}"
        );
    }
}

// --- How connections end --------------------------------------------------------------------

fn failure(reason: ConnectFailureReason) -> Event {
    Event::ConnectFailure(ConnectFailure::builder().reason(reason).build())
}

#[test]
fn network_drops_are_retried_and_everything_else_stops() {
    use whatsapp_rust::transport::DisconnectReason as Net;
    for net in [
        Net::StreamEnded,
        Net::ReadError("connection reset by peer".into()),
        Net::ServerClose {
            code: Some(1011),
            reason: "restart".into(),
        },
    ] {
        let reason = ending(Event::Disconnected(
            Disconnected::builder().reason(net.clone()).build(),
        ));
        assert!(
            matches!(&reason, DisconnectReason::Network(detail) if *detail == net.to_string()),
            "{reason:?}"
        );
        assert!(!reason.is_terminal());
    }
    for unavailable in [
        ConnectFailureReason::ServiceUnavailable,
        ConnectFailureReason::InternalServerError,
    ] {
        let reason = ending(failure(unavailable));
        assert!(matches!(reason, DisconnectReason::Network(_)), "{reason:?}");
        assert!(!reason.is_terminal());
    }

    let logged_out = ending(Event::LoggedOut(
        LoggedOut::builder()
            .on_connect(true)
            .reason(ConnectFailureReason::LoggedOut)
            .build(),
    ));
    assert_eq!(logged_out, DisconnectReason::LoggedOut);
    for locked in [
        ConnectFailureReason::LoggedOut,
        ConnectFailureReason::AccountLocked,
        ConnectFailureReason::UnknownLogout,
    ] {
        assert_eq!(ending(failure(locked)), DisconnectReason::LoggedOut);
    }

    let replaced = ending(Event::StreamReplaced(StreamReplaced::builder().build()));
    assert_eq!(replaced, DisconnectReason::Replaced);

    let ban = ending(Event::TemporaryBan(
        TemporaryBan::builder()
            .code(TempBanReason::SentToTooManyPeople)
            .expire(whatsapp_rust::chrono::Duration::hours(2))
            .build(),
    ));
    assert!(
        matches!(&ban, DisconnectReason::Banned(detail) if detail.contains("120 minutes") && detail.contains("101")),
        "{ban:?}"
    );
    assert!(matches!(
        ending(failure(ConnectFailureReason::TempBanned)),
        DisconnectReason::Banned(_)
    ));

    let exhausted = ending(Event::PairingQrCodesExhausted(
        PairingQrCodesExhausted::builder()
            .disconnected(true)
            .build(),
    ));
    assert_eq!(exhausted, DisconnectReason::QrTimeout);

    let outdated = ending(Event::ClientOutdated(ClientOutdated::builder().build()));
    assert!(matches!(outdated, DisconnectReason::Rejected(_)));
    let refused = ending(failure(ConnectFailureReason::BadUserAgent));
    assert!(
        matches!(&refused, DisconnectReason::Rejected(d) if d.contains("409")),
        "{refused:?}"
    );

    for terminal in [logged_out, replaced, ban, exhausted, outdated, refused] {
        assert!(terminal.is_terminal(), "{terminal:?}");
        assert!(!terminal.describe().is_empty());
    }
}

#[test]
fn pairing_and_login_are_not_ends() {
    use whatsapp_rust::types::events::{Connected, PairSuccess};
    assert!(matches!(
        map_event(&Event::Connected(Connected::builder().build())),
        Mapped::Online
    ));
    let paired = Event::PairSuccess(
        PairSuccess::builder()
            .id(Jid::pn("966501234567"))
            .lid(Jid::lid("100000012345678"))
            .business_name(String::new())
            .platform("android".into())
            .build(),
    );
    assert!(matches!(map_event(&paired), Mapped::Paired));
}

// --- Customers' messages --------------------------------------------------------------------

const CUSTOMER: &str = "966501234567";

fn info(source: MessageSource) -> MessageInfo {
    MessageInfo {
        source,
        id: "3A1B2C3D4E5F".into(),
        push_name: "  سارة  ".into(),
        timestamp: whatsapp_rust::chrono::DateTime::from_timestamp_millis(1_750_000_123_000)
            .expect("a time"),
        ..Default::default()
    }
}

fn from_customer() -> MessageSource {
    MessageSource {
        chat: Jid::pn(CUSTOMER),
        sender: Jid::pn(CUSTOMER),
        ..Default::default()
    }
}

fn inbound(message: wa::Message, source: MessageSource) -> InboundMessage {
    InboundMessage::builder()
        .message(Arc::new(message))
        .info(Arc::new(info(source)))
        .build()
}

fn customer() -> Sender {
    Sender::Phone(PhoneNumber::from_trusted(CUSTOMER))
}

#[test]
fn text_messages_carry_sender_name_time_and_text() {
    let batch_event = Event::Messages(
        whatsapp_rust::types::events::MessageBatch::builder()
            .messages(Arc::from(vec![inbound(
                wa::Message {
                    conversation: Some("مرحبا".into()),
                    ..Default::default()
                },
                from_customer(),
            )]))
            .origin(whatsapp_rust::types::events::BatchOrigin::Live)
            .build(),
    );
    assert!(matches!(map_event(&batch_event), Mapped::Messages));
    let Event::Messages(batch) = &batch_event else {
        unreachable!()
    };
    let first = batch.first().expect("one message");
    let read = read_message(first).expect("a customer's text");
    assert_eq!(read.message_id, "3A1B2C3D4E5F");
    assert_eq!(read.sender, customer());
    assert_eq!(read.push_name.as_deref(), Some("سارة"));
    assert_eq!(read.kind, MessageKind::Text);
    assert_eq!(read.text.as_deref(), Some("مرحبا"));
    assert_eq!(read.caption, None);
    assert!(read.media.is_none());
    assert_eq!(read.timestamp, 1_750_000_123_000);

    // A reply arrives as an extended text, maybe wrapped as disappearing.
    let extended = wa::Message {
        ephemeral_message: MessageField::some(wa::message::FutureProofMessage {
            message: MessageField::some(wa::Message {
                extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
                    text: Some("نعم".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }),
        ..Default::default()
    };
    let read = inbound(extended, from_customer());
    let read = read_message(&read).expect("a text");
    assert_eq!(
        (read.kind, read.text.as_deref()),
        (MessageKind::Text, Some("نعم"))
    );
}

#[test]
fn media_messages_of_the_four_kinds() {
    let image = inbound(
        wa::Message {
            image_message: MessageField::some(wa::message::ImageMessage {
                mimetype: Some("image/png".into()),
                caption: Some("الفاتورة".into()),
                file_length: Some(2048),
                ..Default::default()
            }),
            ..Default::default()
        },
        from_customer(),
    );
    let read = read_message(&image).expect("an image");
    assert_eq!(read.kind, MessageKind::Image);
    assert_eq!(read.caption.as_deref(), Some("الفاتورة"));
    assert_eq!(read.text, None);
    let media = read.media.expect("media to fetch");
    assert_eq!(media.mime_type(), "image/png");
    assert_eq!(media.declared_size(), Some(2048));
    assert_eq!(media.filename(), None);

    let video = inbound(
        wa::Message {
            video_message: MessageField::some(wa::message::VideoMessage {
                caption: Some("clip".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        from_customer(),
    );
    let read = read_message(&video).expect("a video");
    assert_eq!(read.kind, MessageKind::Video);
    assert_eq!(read.caption.as_deref(), Some("clip"));
    assert_eq!(
        read.media.expect("media").mime_type(),
        "video/mp4",
        "a default when none is declared"
    );

    let voice_note = inbound(
        wa::Message {
            audio_message: MessageField::some(wa::message::AudioMessage {
                mimetype: Some("audio/ogg; codecs=opus".into()),
                ptt: Some(true),
                seconds: Some(7),
                ..Default::default()
            }),
            ..Default::default()
        },
        from_customer(),
    );
    let read = read_message(&voice_note).expect("a voice note");
    assert_eq!(read.kind, MessageKind::Audio);
    assert_eq!(read.caption, None);
    assert_eq!(
        read.media.expect("media").mime_type(),
        "audio/ogg; codecs=opus"
    );

    let document = inbound(
        wa::Message {
            document_with_caption_message: MessageField::some(wa::message::FutureProofMessage {
                message: MessageField::some(wa::Message {
                    document_message: MessageField::some(wa::message::DocumentMessage {
                        mimetype: Some("application/pdf".into()),
                        file_name: Some("عقد.pdf".into()),
                        caption: Some("للتوقيع".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        },
        from_customer(),
    );
    let read = read_message(&document).expect("a document");
    assert_eq!(read.kind, MessageKind::Document);
    assert_eq!(read.caption.as_deref(), Some("للتوقيع"));
    let media = read.media.expect("media");
    assert_eq!(media.filename().as_deref(), Some("عقد.pdf"));
    assert_eq!(media.mime_type(), "application/pdf");
}

#[test]
fn senders_by_lid_are_resolved_through_their_alternate_number() {
    let text = || wa::Message {
        conversation: Some("hi".into()),
        ..Default::default()
    };
    let with_alt = MessageSource {
        chat: Jid::lid("100000012345678"),
        sender: Jid::lid("100000012345678"),
        sender_alt: Some(Jid::pn(CUSTOMER)),
        ..Default::default()
    };
    let message = inbound(text(), with_alt);
    assert_eq!(read_message(&message).expect("read").sender, customer());

    let lid_only = MessageSource {
        chat: Jid::lid("100000012345678"),
        sender: Jid::lid("100000012345678"),
        ..Default::default()
    };
    let message = inbound(text(), lid_only);
    assert_eq!(
        read_message(&message).expect("read").sender,
        Sender::Lid("100000012345678".into())
    );
}

#[test]
fn what_is_not_a_customer_writing_is_left_out() {
    let text = || wa::Message {
        conversation: Some("hi".into()),
        ..Default::default()
    };
    let group = MessageSource {
        chat: Jid::group("120363000000000001"),
        sender: Jid::pn(CUSTOMER),
        is_group: true,
        ..Default::default()
    };
    let mine = MessageSource {
        is_from_me: true,
        ..from_customer()
    };
    let status = MessageSource {
        chat: Jid::new("status", whatsapp_rust::Server::Broadcast),
        ..from_customer()
    };
    for source in [group, mine, status] {
        assert!(read_message(&inbound(text(), source)).is_none());
    }
    let reaction = wa::Message {
        reaction_message: MessageField::some(wa::message::ReactionMessage {
            text: Some("👍".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(read_message(&inbound(reaction, from_customer())).is_none());
    let empty = wa::Message::default();
    assert!(read_message(&inbound(empty, from_customer())).is_none());
}

/// A reply as WhatsApp carries it: the quoted message's id, its author and a copy of it.
fn reply_to(participant: &str, quoted: wa::Message) -> wa::Message {
    wa::Message {
        extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
            text: Some("نعم، هذا".into()),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some("3EB0QUOTED".into()),
                participant: Some(participant.into()),
                quoted_message: MessageField::some(quoted),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn replies_carry_the_quoted_message_and_who_wrote_it() {
    let ours = wa::Message {
        conversation: Some("السعر 150 ريال".into()),
        ..Default::default()
    };
    let message = inbound(
        reply_to("966500000001@s.whatsapp.net", ours),
        from_customer(),
    );
    let read = read_message(&message).expect("a reply");
    assert_eq!(read.text.as_deref(), Some("نعم، هذا"));
    assert_eq!(
        read.quote,
        Some(QuotedMessage {
            message_id: "3EB0QUOTED".into(),
            from_me: true,
            kind: MessageKind::Text,
            text: Some("السعر 150 ريال".into()),
        })
    );

    // The customer quoting their own photo (their device's JID says who they are).
    let photo = wa::Message {
        image_message: MessageField::some(wa::message::ImageMessage {
            caption: Some("هذا المنتج".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let message = inbound(
        reply_to(&format!("{CUSTOMER}:3@s.whatsapp.net"), photo),
        from_customer(),
    );
    let quote = read_message(&message)
        .expect("a reply")
        .quote
        .expect("quote");
    assert!(!quote.from_me);
    assert_eq!(quote.kind, MessageKind::Image);
    assert_eq!(quote.text.as_deref(), Some("هذا المنتج"));

    // A message that replies to nothing has no quote.
    let plain = wa::Message {
        conversation: Some("مرحبا".into()),
        ..Default::default()
    };
    assert_eq!(
        read_message(&inbound(plain, from_customer()))
            .expect("text")
            .quote,
        None
    );
}

fn reaction(emoji: &str, target: Option<&str>) -> wa::Message {
    wa::Message {
        reaction_message: MessageField::some(wa::message::ReactionMessage {
            key: MessageField::some(wa::MessageKey {
                id: target.map(str::to_owned),
                from_me: Some(true),
                remote_jid: Some(format!("{CUSTOMER}@s.whatsapp.net")),
                participant: None,
            }),
            text: Some(emoji.into()),
            sender_timestamp_ms: Some(1_750_000_200_000),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_customers_reaction_names_the_message_and_its_emoji() {
    let read = read_reaction(&inbound(reaction("👍", Some("3EB0MINE")), from_customer()));
    assert_eq!(
        read,
        Some(Reaction {
            reaction_id: "3A1B2C3D4E5F".into(),
            sender: customer(),
            message_id: "3EB0MINE".into(),
            emoji: "👍".into(),
            timestamp: 1_750_000_200_000,
        })
    );
    // Taking it back is a reaction with no emoji.
    let removed = read_reaction(&inbound(reaction("", Some("3EB0MINE")), from_customer()));
    assert_eq!(removed.expect("removal").emoji, "");
    // Without a target, in a group, or from our own phone, it is not a customer's reaction.
    assert_eq!(
        read_reaction(&inbound(reaction("👍", None), from_customer())),
        None
    );
    let group = MessageSource {
        chat: Jid::group("120363000000000001"),
        sender: Jid::pn(CUSTOMER),
        is_group: true,
        ..Default::default()
    };
    assert_eq!(
        read_reaction(&inbound(reaction("👍", Some("X")), group)),
        None
    );
    let mine = MessageSource {
        is_from_me: true,
        ..from_customer()
    };
    assert_eq!(
        read_reaction(&inbound(reaction("👍", Some("X")), mine)),
        None
    );
    // A text is not a reaction.
    let text = wa::Message {
        conversation: Some("hi".into()),
        ..Default::default()
    };
    assert_eq!(read_reaction(&inbound(text, from_customer())), None);
}
