//! Replies, reactions and message search, through the API and the sandbox's customers: a
//! reply carries what it quotes (from wasl's own copy when it has one), a reaction is one per
//! side and can be changed or taken back, and search finds Arabic however it is spelled.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::messaging::{incoming, linked, upload, wait_for_message};
use crate::on_both_databases;

const CUSTOMER: &str = "966551110001";
const OTHER: &str = "966551110002";

/// The message stored for a customer's `messageId`.
async fn stored(app: &TestApp, token: &str, message_id: &str) -> Value {
    let (status, list) = app.get("/api/v1/whatsapp/messages?limit=100", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["data"]["messages"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["messageId"] == message_id))
        .cloned()
        .unwrap_or_else(|| panic!("no message {message_id}: {list}"))
}

async fn send(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/v1/whatsapp/messages/send", token, body)
        .await
}

fn field_of(body: &Value) -> &str {
    body["error"]["details"]["fields"][0]["field"]
        .as_str()
        .unwrap_or("")
}

async fn react(app: &TestApp, token: &str, id: &str, emoji: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/whatsapp/messages/{id}/reaction"),
        token,
        json!({ "emoji": emoji }),
    )
    .await
}

async fn search(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/whatsapp/messages?{query}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

/// The texts (or file names) a listing found, in its order.
fn found(body: &Value) -> Vec<String> {
    body["data"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            m["content"]["text"]
                .as_str()
                .or(m["content"]["filename"].as_str())
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// An EBML element with a known size.
fn element(id: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.push(0x01);
    out.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
    out.extend_from_slice(data);
    out
}

/// A voice note as Chromium's recorder writes it: Opus in a streamed WebM.
fn recorded_voice_note() -> Vec<u8> {
    let streamed = |id: &[u8]| [id, &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]].concat();
    let entry = [
        element(&[0xD7], &[1]),
        element(&[0x86], b"A_OPUS"),
        element(&[0xE1], &element(&[0x9F], &[1])),
    ]
    .concat();
    let mut webm = element(&[0x1A, 0x45, 0xDF, 0xA3], &element(&[0x42, 0x82], b"webm"));
    webm.extend(streamed(&[0x18, 0x53, 0x80, 0x67]));
    webm.extend(element(
        &[0x16, 0x54, 0xAE, 0x6B],
        &element(&[0xAE], &entry),
    ));
    webm.extend(streamed(&[0x1F, 0x43, 0xB6, 0x75]));
    for i in 0..50u8 {
        webm.extend(element(&[0xA3], &[0x81, 0, i, 0x80, 0xF8, i, 0xAA, 0x55]));
    }
    webm
}

on_both_databases! {
    async fn a_voice_note_recorded_in_a_browser_goes_as_ogg_opus(app: TestApp) {
        let owner = linked(&app, "voice@acme.sa", "966500000934").await;
        let (status, body) = upload(&app, &owner.token, "send-audio", "audio", recorded_voice_note(), "voice-note.webm", &[("to", CUSTOMER), ("ptt", "true")]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let message = &body["data"]["message"];
        assert_eq!(message["content"]["mimeType"], "audio/ogg; codecs=opus", "{body}");
        assert_eq!(message["content"]["filename"], "voice-note.ogg", "{body}");
        let url = message["content"]["mediaUrl"].as_str().expect("media");
        let file = reqwest::Client::new().get(app.url(url)).bearer_auth(&owner.token).send().await.expect("media");
        assert_eq!(file.headers()["content-type"], "audio/ogg");
        let bytes = file.bytes().await.expect("bytes");
        assert!(bytes.starts_with(b"OggS") && bytes.windows(8).any(|w| w == b"OpusHead"), "an Ogg Opus file");

        // WebM that holds no Opus (a video, another codec) is refused as the wrong type.
        let (status, body) = upload(&app, &owner.token, "send-audio", "audio", recorded_voice_note()[..40].to_vec(), "broken.webm", &[("to", CUSTOMER)]).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    }


    async fn replies_quote_the_message_they_answer_both_ways(app: TestApp) {
        let owner = linked(&app, "replies@acme.sa", "966500000931").await;
        incoming(&app, &owner.token, json!({"from": CUSTOMER, "type": "text", "text": "كم سعر الباقة؟", "messageId": "CUST-Q1"})).await;
        incoming(&app, &owner.token, json!({"from": OTHER, "type": "text", "text": "مرحبا", "messageId": "OTHER-1"})).await;
        let question = stored(&app, &owner.token, "CUST-Q1").await;
        let qid = question["id"].as_str().expect("id");

        // The business answers, quoting the question.
        let (status, body) = send(&app, &owner.token, json!({"to": CUSTOMER, "text": "150 ريال شهرياً", "quotedMessageId": qid})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let answer = &body["data"]["message"];
        assert_eq!(answer["quoted"], json!({
            "id": qid, "messageId": "CUST-Q1", "direction": "incoming", "type": "text", "text": "كم سعر الباقة؟"
        }), "{body}");

        // Only a message of the same chat can be quoted.
        let other = stored(&app, &owner.token, "OTHER-1").await;
        for quoted in [other["id"].clone(), json!("no-such-message")] {
            let result = send(&app, &owner.token, json!({"to": CUSTOMER, "text": "?", "quotedMessageId": quoted})).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            assert_eq!(field_of(&result.1), "quotedMessageId", "{}", result.1);
        }

        // A file can be a reply too.
        let (status, body) = upload(&app, &owner.token, "send-image", "image", crate::messaging::png_bytes(), "price.png", &[("to", CUSTOMER), ("quotedMessageId", qid)]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["message"]["quoted"]["id"], qid, "{body}");

        // The customer replies to the answer once it is sent: the quote is wasl's own copy.
        let answer_id = answer["id"].as_str().expect("id");
        let sent = wait_for_message(&app, &owner.token, answer_id, "sent", |m| m["sentAt"].is_string()).await;
        let wa_id = sent["messageId"].as_str().expect("messageId");
        incoming(&app, &owner.token, json!({"from": CUSTOMER, "type": "text", "text": "تمام، أشترك", "messageId": "CUST-Q2", "quotedMessageId": wa_id})).await;
        let reply = stored(&app, &owner.token, "CUST-Q2").await;
        assert_eq!(reply["quoted"], json!({
            "id": answer_id, "messageId": wa_id, "direction": "outgoing", "type": "text", "text": "150 ريال شهرياً"
        }), "{reply}");

        // A message wasl never had (older than the session) is still named.
        incoming(&app, &owner.token, json!({"from": CUSTOMER, "type": "text", "text": "وهذه؟", "messageId": "CUST-Q3", "quotedMessageId": "FROM-BEFORE"})).await;
        let reply = stored(&app, &owner.token, "CUST-Q3").await;
        assert_eq!(reply["quoted"]["id"], Value::Null, "{reply}");
        assert_eq!(reply["quoted"]["messageId"], "FROM-BEFORE", "{reply}");
        assert_eq!(stored(&app, &owner.token, "OTHER-1").await["quoted"], Value::Null);
    }

    async fn each_side_reacts_once_and_can_change_or_take_it_back(app: TestApp) {
        let owner = linked(&app, "reactions@acme.sa", "966500000932").await;
        incoming(&app, &owner.token, json!({"from": CUSTOMER, "type": "text", "text": "وصل الطلب، شكراً", "messageId": "CUST-R1"})).await;
        let thanks = stored(&app, &owner.token, "CUST-R1").await;
        let id = thanks["id"].as_str().expect("id");
        assert_eq!(thanks["reactions"], json!([]));

        let (status, body) = react(&app, &owner.token, id, json!("👍")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["message"]["reactions"], json!([{"emoji": "👍", "by": "business"}]));
        // A second reaction replaces the first, as on WhatsApp; flags and ZWJ families are one emoji.
        for emoji in ["❤️", "🇸🇦", "👨‍👩‍👧‍👦"] {
            let (status, body) = react(&app, &owner.token, id, json!(emoji)).await;
            assert_eq!(status, StatusCode::OK, "{emoji}: {body}");
            assert_eq!(body["data"]["message"]["reactions"], json!([{"emoji": emoji, "by": "business"}]));
        }
        let (status, body) = react(&app, &owner.token, id, json!("")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["message"]["reactions"], json!([]));
        assert_eq!(body["message"], "أُزيل التفاعل", "{body}");
        // Saying nothing is not taking it back: the emoji is required.
        assert_error(&react(&app, &owner.token, id, Value::Null).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        for bad in ["ok", "👍 👍", "<b>", "١"] {
            let result = react(&app, &owner.token, id, json!(bad)).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            assert_eq!(field_of(&result.1), "emoji", "{bad}: {}", result.1);
        }
        assert_error(&react(&app, &owner.token, "no-such-message", json!("👍")).await, StatusCode::NOT_FOUND, "NOT_FOUND");

        // The customer reacts to the business's message; a stranger cannot react in their chat.
        let (_, body) = send(&app, &owner.token, json!({"to": CUSTOMER, "text": "العفو!"})).await;
        let reply_id = body["data"]["message"]["id"].as_str().expect("id").to_owned();
        let sent = wait_for_message(&app, &owner.token, &reply_id, "sent", |m| m["sentAt"].is_string()).await;
        let wa_id = sent["messageId"].as_str().expect("messageId");
        let customer_reacts = |from: &str, emoji: &str| {
            let body = json!({"from": from, "messageId": wa_id, "emoji": emoji});
            let app = &app;
            let token = owner.token.clone();
            async move {
                let (status, res) = app.post("/api/v1/whatsapp/sandbox/default/reaction", &token, body).await;
                assert_eq!(status, StatusCode::OK, "{res}");
            }
        };
        customer_reacts(CUSTOMER, "🙏").await;
        customer_reacts(OTHER, "😡").await;
        let mine = wait_for_message(&app, &owner.token, &reply_id, "reacted", |m| m["reactions"].as_array().is_some_and(|r| !r.is_empty())).await;
        assert_eq!(mine["reactions"], json!([{"emoji": "🙏", "by": "customer"}]), "{mine}");
        // Both sides at once.
        let (_, body) = react(&app, &owner.token, &reply_id, json!("😊")).await;
        assert_eq!(body["data"]["message"]["reactions"], json!([{"emoji": "🙏", "by": "customer"}, {"emoji": "😊", "by": "business"}]));
        customer_reacts(CUSTOMER, "").await;
        let mine = wait_for_message(&app, &owner.token, &reply_id, "unreacted", |m| m["reactions"].as_array().is_some_and(|r| r.len() == 1)).await;
        assert_eq!(mine["reactions"], json!([{"emoji": "😊", "by": "business"}]), "{mine}");

        // With the session logged out nothing can reach WhatsApp: the reaction is refused, not lost.
        let (status, body) = app.delete("/api/v1/whatsapp/sessions/default", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error(&react(&app, &owner.token, id, json!("👍")).await, StatusCode::CONFLICT, "SESSION_NOT_CONNECTED");
    }

    async fn message_search_finds_arabic_however_it_is_spelled(app: TestApp) {
        let owner = linked(&app, "search@acme.sa", "966500000933").await;
        for (from, text, id) in [
            (CUSTOMER, "أريد الاستفسار عن الفاتورة رقم ١٠٤٢", "S1"),
            (CUSTOMER, "مرحباً، هل الطلبُ جاهز؟", "S2"),
            (OTHER, "Invoice 1042 attached — INVOICE", "S3"),
            (OTHER, "إلى متى يستمر العرض؟", "S4"),
        ] {
            incoming(&app, &owner.token, json!({"from": from, "type": "text", "text": text, "messageId": id})).await;
        }
        let (status, body) = upload(&app, &owner.token, "send-document", "document", b"%PDF-1.4\n%%EOF\n".to_vec(), "فاتورة-1042.pdf", &[("to", CUSTOMER)]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // Without hamza, ta marbuta as ha, without diacritics or tanwin, digits either way.
        let cases: &[(&str, &[&str])] = &[
            ("q=اريد", &["أريد الاستفسار عن الفاتورة رقم ١٠٤٢"]),
            ("q=الفاتوره", &["أريد الاستفسار عن الفاتورة رقم ١٠٤٢"]),
            ("q=فاتوره", &["فاتورة-1042.pdf"]),
            ("q=مرحبا", &["مرحباً، هل الطلبُ جاهز؟"]),
            ("q=الطلب%20جاهز", &["مرحباً، هل الطلبُ جاهز؟"]),
            ("q=الى", &["إلى متى يستمر العرض؟"]),
            ("q=invoice", &["Invoice 1042 attached — INVOICE"]),
            // Every word must match, each as the start of a word.
            ("q=1042", &["فاتورة-1042.pdf", "Invoice 1042 attached — INVOICE", "أريد الاستفسار عن الفاتورة رقم ١٠٤٢"]),
            ("q=١٠٤٢%20فات", &["فاتورة-1042.pdf"]),
            ("q=ستفسار", &[]),
            // Within one chat.
            (&format!("q=1042&contact={OTHER}"), &["Invoice 1042 attached — INVOICE"]),
        ];
        for (query, expected) in cases {
            let body = search(&app, &owner.token, query).await;
            let mut got = found(&body);
            let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{query}: {body}");
            assert_eq!(body["data"]["pagination"]["total"], json!(expected.len()), "{query}: {body}");
        }

        // Results come newest first, page by page.
        let first = search(&app, &owner.token, "q=1042&limit=2").await;
        assert_eq!(found(&first), ["فاتورة-1042.pdf", "Invoice 1042 attached — INVOICE"]);
        let cursor = first["data"]["pagination"]["nextCursor"].as_str().expect("cursor");
        let second = search(&app, &owner.token, &format!("q=1042&limit=2&cursor={cursor}")).await;
        assert_eq!(found(&second), ["أريد الاستفسار عن الفاتورة رقم ١٠٤٢"]);
        assert_eq!(second["data"]["pagination"]["nextCursor"], Value::Null);

        // A search with nothing to look for is a mistake, said as one.
        let result = app.get("/api/v1/whatsapp/messages?q=%D8%9F!!", &owner.token).await;
        assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(field_of(&result.1), "q", "{}", result.1);
    }
}
