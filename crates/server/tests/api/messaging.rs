//! Sending and receiving through the sandbox engine, receipts, idempotency, validation,
//! listings, contacts, conversations and stats (SPEC §5–§7, §10).

use base64::Engine as _;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Account, TestApp, ADMIN_TOKEN};
use crate::on_both_databases;

/// Small but real files: the server sniffs their bytes.
pub fn png_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 2, 2);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(&[0, 255, 255, 0]).expect("data");
    writer.finish().expect("finish");
    out
}
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
pub fn mp4_bytes() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
    v.extend_from_slice(&[0; 64]);
    v
}
pub fn ogg_bytes() -> Vec<u8> {
    let mut v = b"OggS\0\x02".to_vec();
    v.extend_from_slice(&[0; 64]);
    v
}

pub async fn linked(app: &TestApp, email: &str, phone: &str) -> Account {
    let owner = app.register(email).await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sessions",
            &owner.token,
            json!({"engine": "sandbox"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.wait_for_session(&owner.token, "default", "qr", |s| s["status"] == "qr")
        .await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sandbox/default/scan",
            &owner.token,
            json!({"phoneNumber": phone}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_for_session(&owner.token, "default", "connected", |s| {
        s["status"] == "connected"
    })
    .await;
    owner
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    endpoint: &str,
    part: &str,
    bytes: Vec<u8>,
    filename: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = Form::new().part(
        part.to_owned(),
        Part::bytes(bytes).file_name(filename.to_owned()),
    );
    for (k, v) in extra {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    let res = app
        .client
        .post(app.url(&format!("/api/v1/whatsapp/messages/{endpoint}")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let status = res.status();
    (status, res.json().await.expect("envelope"))
}

/// Polls the message listing until the message with `id` satisfies `done`.
pub async fn wait_for_message(
    app: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, list) = app.get("/api/v1/whatsapp/messages?limit=100", token).await;
        let found = list["data"]["messages"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["id"] == id))
            .cloned();
        if let Some(m) = found.filter(|m| done(m)) {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message {id} never became {what}: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
}

pub async fn incoming(app: &TestApp, token: &str, body: Value) -> String {
    let (status, res) = app
        .post("/api/v1/whatsapp/sandbox/default/incoming", token, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    res["data"]["messageId"].as_str().expect("id").to_owned()
}

async fn wait_for_count(app: &TestApp, token: &str, query: &str, count: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, list) = app
            .get(&format!("/api/v1/whatsapp/messages?{query}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        if list["data"]["messages"].as_array().map(Vec::len) == Some(count) {
            return list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {count} messages for {query}: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
}

on_both_databases! {
    async fn all_five_types_go_out_and_their_receipts_come_back(app: TestApp) {
        let owner = linked(&app, "send@acme.sa", "966500000100").await;
        let (status, body) = app.post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": "+966 55 000 0001", "text": "مرحباً بك في متجرنا"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["message"], json!("تم إرسال الرسالة بنجاح"));
        let text = body["data"]["message"].clone();
        assert_eq!(text["status"], json!("pending"));
        assert_eq!(text["to"], json!("966550000001"));
        assert_eq!(text["direction"], json!("outgoing"));
        assert!(text["messageId"].as_str().is_some_and(|id| id.starts_with("3EB0")));

        let mut ids = vec![text["id"].as_str().expect("id").to_owned()];
        for (endpoint, part, bytes, name, extra) in [
            ("send-image", "image", png_bytes(), "photo.png", vec![("caption", "صورة المنتج")]),
            ("send-document", "document", PDF.to_vec(), "فاتورة.pdf", vec![("caption", "الفاتورة")]),
            ("send-video", "video", mp4_bytes(), "clip.mp4", vec![]),
            ("send-audio", "audio", ogg_bytes(), "note.ogg", vec![("ptt", "true")]),
        ] {
            let mut fields = vec![("to", "966550000001")];
            fields.extend(extra);
            let (status, body) = upload(&app, &owner.token, endpoint, part, bytes, name, &fields).await;
            assert_eq!(status, StatusCode::CREATED, "{endpoint}: {body}");
            assert_eq!(body["data"]["message"]["type"], json!(part));
            ids.push(body["data"]["message"]["id"].as_str().expect("id").to_owned());
        }
        for id in &ids {
            let m = wait_for_message(&app, &owner.token, id, "delivered", |m| m["status"] == "delivered").await;
            assert!(m["sentAt"].is_string() && m["deliveredAt"].is_string(), "{m}");
        }
        // The customer reads the text: the status moves to read, and never back.
        let text = wait_for_message(&app, &owner.token, &ids[0], "delivered", |m| m["status"] == "delivered").await;
        let (status, _) = app.post("/api/v1/whatsapp/sandbox/default/read", &owner.token, json!({"messageId": text["messageId"]})).await;
        assert_eq!(status, StatusCode::OK);
        let read = wait_for_message(&app, &owner.token, &ids[0], "read", |m| m["status"] == "read").await;
        assert!(read["readAt"].is_string());

        // The outgoing media can be downloaded back, byte for byte.
        let image = wait_for_message(&app, &owner.token, &ids[1], "delivered", |_| true).await;
        assert_eq!(image["content"]["caption"], json!("صورة المنتج"));
        assert_eq!(image["content"]["mimeType"], json!("image/png"));
        let media = app.client.get(app.url(image["content"]["mediaUrl"].as_str().expect("url"))).bearer_auth(&owner.token).send().await.expect("sent");
        assert_eq!(media.status(), StatusCode::OK);
        assert_eq!(media.headers()["content-type"], "image/png");
        assert_eq!(media.bytes().await.expect("bytes").to_vec(), png_bytes());
        let doc = wait_for_message(&app, &owner.token, &ids[2], "delivered", |_| true).await;
        assert_eq!(doc["content"]["filename"], json!("فاتورة.pdf"));
    }

    async fn incoming_messages_of_every_type_are_stored_once(app: TestApp) {
        let owner = linked(&app, "receive@acme.sa", "966500000200").await;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        // An id with what a list of ids must quote (quotes, a backslash, braces, a comma).
        let id = r#"WA"MSG\{1},"#;
        incoming(&app, &owner.token, json!({"from": "966551111111", "pushName": "أحمد", "type": "text", "text": "السلام عليكم", "messageId": id})).await;
        incoming(&app, &owner.token, json!({"from": "966551111111", "type": "text", "text": "السلام عليكم", "messageId": id})).await;
        incoming(&app, &owner.token, json!({"from": "966551111111", "type": "image", "mediaBase64": b64(&png_bytes()), "mimeType": "image/png", "caption": "شوف"})).await;
        incoming(&app, &owner.token, json!({"from": "966551111111", "type": "video", "mediaBase64": b64(&mp4_bytes()), "mimeType": "video/mp4"})).await;
        incoming(&app, &owner.token, json!({"from": "966551111111", "type": "audio", "mediaBase64": b64(&ogg_bytes()), "mimeType": "audio/ogg"})).await;
        incoming(&app, &owner.token, json!({"from": "966551111111", "type": "document", "mediaBase64": b64(PDF), "mimeType": "application/pdf", "filename": "عرض سعر.pdf"})).await;

        let list = wait_for_count(&app, &owner.token, "direction=incoming", 5).await;
        let messages = list["data"]["messages"].as_array().expect("messages");
        let kinds: Vec<&str> = messages.iter().filter_map(|m| m["type"].as_str()).collect();
        assert_eq!(kinds, ["document", "audio", "video", "image", "text"], "newest first, the duplicate stored once");
        let doc = &messages[0];
        assert_eq!(doc["content"]["filename"], json!("عرض سعر.pdf"));
        let res = app.client.get(app.url(doc["content"]["mediaUrl"].as_str().expect("url"))).bearer_auth(&owner.token).send().await.expect("sent");
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(res.bytes().await.expect("bytes").as_ref(), PDF);
        assert_eq!(messages[4]["content"]["text"], json!("السلام عليكم"));
        assert_eq!(messages[4]["from"], json!("966551111111"));

        let (_, contacts) = app.get("/api/v1/whatsapp/contacts", &owner.token).await;
        assert_eq!(contacts["data"]["contacts"][0]["name"], json!("أحمد"), "push name becomes the contact's name");
        let (_, convs) = app.get("/api/v1/whatsapp/conversations", &owner.token).await;
        let conv = &convs["data"]["conversations"][0];
        assert_eq!(conv["unreadCount"], json!(5));
        assert_eq!(conv["lastMessage"]["type"], json!("document"));
        let contact_id = conv["contact"]["id"].as_str().expect("id");
        let (status, body) = app.post(&format!("/api/v1/whatsapp/conversations/{contact_id}/read"), &owner.token, json!({"sessionName": "default"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, convs) = app.get("/api/v1/whatsapp/conversations", &owner.token).await;
        assert_eq!(convs["data"]["conversations"][0]["unreadCount"], json!(0));
    }

    async fn an_idempotency_key_returns_the_first_result(app: TestApp) {
        let owner = linked(&app, "idem@acme.sa", "966500000300").await;
        let send = || async {
            let res = app.client.post(app.url("/api/v1/whatsapp/messages/send")).bearer_auth(&owner.token)
                .header("Idempotency-Key", "order-1234-confirmation")
                .json(&json!({"to": "966552222222", "text": "تم تأكيد طلبك"})).send().await.expect("sent");
            let replayed = res.headers().get("idempotent-replayed").is_some();
            (res.status(), replayed, res.json::<Value>().await.expect("json"))
        };
        let (s1, r1, first) = send().await;
        let (s2, r2, second) = send().await;
        assert_eq!((s1, r1), (StatusCode::CREATED, false), "{first}");
        assert_eq!((s2, r2), (StatusCode::CREATED, true), "{second}");
        assert_eq!(first["data"]["message"]["id"], second["data"]["message"]["id"]);
        assert_eq!(first["data"]["message"]["messageId"], second["data"]["message"]["messageId"]);
        let list = wait_for_count(&app, &owner.token, "direction=outgoing", 1).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(1), "sent once");

        // The same key with another request is a mistake, not a retry: refused, nothing sent.
        for other in [json!({"to": "966552222222", "text": "نص آخر"}), json!({"to": "966552222299", "text": "تم تأكيد طلبك"})] {
            let res = app.client.post(app.url("/api/v1/whatsapp/messages/send")).bearer_auth(&owner.token)
                .header("Idempotency-Key", "order-1234-confirmation").json(&other).send().await.expect("sent");
            let result = (res.status(), res.json::<Value>().await.expect("json"));
            assert_error(&result, StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED");
        }
        let image_send = |bytes: Vec<u8>| {
            let form = Form::new().text("to", "966552222222").part("image", Part::bytes(bytes).file_name("a.png"));
            app.client.post(app.url("/api/v1/whatsapp/messages/send-image")).bearer_auth(&owner.token)
                .header("Idempotency-Key", "image-key").multipart(form).send()
        };
        assert_eq!(image_send(png_bytes()).await.expect("sent").status(), StatusCode::CREATED);
        assert_eq!(image_send(png_bytes()).await.expect("sent").status(), StatusCode::CREATED, "the same file again is a retry");
        let mut other_png = png_bytes();
        other_png.extend_from_slice(b"trailing bytes make another file");
        assert_eq!(image_send(other_png).await.expect("sent").status(), StatusCode::UNPROCESSABLE_ENTITY, "another file is not");
        let list = wait_for_count(&app, &owner.token, "direction=outgoing", 2).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(2), "nothing sent for the refused requests");

        // The same new key from many clients at once (they share a storing batch): one
        // message, and every answer is that message. Sends with other keys beside them are
        // not disturbed.
        let race = |key: String, text: &'static str| {
            let req = app.client.post(app.url("/api/v1/whatsapp/messages/send")).bearer_auth(&owner.token)
                .header("Idempotency-Key", key).json(&json!({"to": "966552222223", "text": text}));
            async move {
                let res = req.send().await.expect("sent");
                (res.status(), res.json::<Value>().await.expect("json"))
            }
        };
        let mut racing = Vec::new();
        for i in 0..24 {
            let key = if i % 2 == 0 { "race-key".to_owned() } else { format!("own-key-{i}") };
            racing.push(tokio::spawn(race(key, "سباق")));
        }
        let mut raced_ids = std::collections::HashSet::new();
        for (i, task) in racing.into_iter().enumerate() {
            let (status, body) = task.await.expect("task");
            assert_eq!(status, StatusCode::CREATED, "{body}");
            if i % 2 == 0 {
                raced_ids.insert(body["data"]["message"]["id"].as_str().expect("id").to_owned());
            }
        }
        assert_eq!(raced_ids.len(), 1, "one message for one key: {raced_ids:?}");
        wait_for_count(&app, &owner.token, "direction=outgoing&contact=966552222223", 13).await;
    }

    async fn every_bad_send_gets_its_status_and_code(app: TestApp) {
        let owner = linked(&app, "bad@acme.sa", "966500000400").await;
        let send = |body: Value| app.post("/api/v1/whatsapp/messages/send", &owner.token, body);
        assert_error(&send(json!({"to": "12345", "text": "x"})).await, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        assert_error(&send(json!({"to": "9665x0000000", "text": "x"})).await, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        assert_error(&send(json!({"to": "966550000001", "text": ""})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&send(json!({"to": "966550000001", "text": "ب".repeat(4097)})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(send(json!({"to": "966550000001", "text": "ب".repeat(4096)})).await.0, StatusCode::CREATED);
        assert_error(&send(json!({"to": "966550000001", "text": "x", "sessionName": "ghost"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&send(json!({"to": 966550000001u64, "text": "x"})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

        app.put(&format!("/api/v1/admin/organizations/{}/plan", owner.org_id), ADMIN_TOKEN, json!({"plan": "basic"})).await;
        app.post("/api/v1/whatsapp/sessions", &owner.token, json!({"sessionName": "unlinked", "engine": "sandbox"})).await;
        let not_connected = send(json!({"to": "966550000001", "text": "x", "sessionName": "unlinked"})).await;
        assert_error(&not_connected, StatusCode::CONFLICT, "SESSION_NOT_CONNECTED");
        assert_eq!(not_connected.1["message"], json!("الجلسة غير متصلة"));

        let too_big = vec![0x25u8; 16 * 1024 * 1024 + 1];
        let big = upload(&app, &owner.token, "send-document", "document", too_big, "big.bin", &[("to", "966550000001")]).await;
        assert_error(&big, StatusCode::PAYLOAD_TOO_LARGE, "FILE_TOO_LARGE");
        assert_eq!(big.1["message"], json!("حجم الملف كبير جداً"));
        assert_error(&upload(&app, &owner.token, "send-image", "image", PDF.to_vec(), "photo.jpg", &[("to", "966550000001")]).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
        assert_error(&upload(&app, &owner.token, "send-video", "video", png_bytes(), "clip.mp4", &[("to", "966550000001")]).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
        assert_error(&upload(&app, &owner.token, "send-image", "document", png_bytes(), "x.png", &[("to", "966550000001")]).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&upload(&app, &owner.token, "send-image", "image", png_bytes(), "x.png", &[]).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&upload(&app, &owner.token, "send-image", "image", png_bytes(), "x.png", &[("to", "966550000001"), ("to", "966550000002")]).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&upload(&app, &owner.token, "send-image", "image", Vec::new(), "x.png", &[("to", "966550000001")]).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&upload(&app, &owner.token, "send-image", "image", png_bytes(), "x.png", &[("to", "966550000001"), ("ptt", "true")]).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&app.post("/api/v1/whatsapp/messages/send-image", &owner.token, json!({"to": "966550000001"})).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");

        // A blocked contact is refused.
        incoming(&app, &owner.token, json!({"from": "966553333333", "type": "text", "text": "لا تراسلوني"})).await;
        let contact = wait_for_contact(&app, &owner.token, "966553333333").await;
        let (status, _) = app.put(&format!("/api/v1/whatsapp/contacts/{}", contact["id"].as_str().expect("id")), &owner.token, json!({"isBlocked": true})).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&send(json!({"to": "966553333333", "text": "x"})).await, StatusCode::CONFLICT, "CONTACT_BLOCKED");
        let (_, list) = app.get("/api/v1/whatsapp/messages?direction=outgoing", &owner.token).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(1), "nothing refused was stored");
    }

    async fn many_receipts_at_once_all_apply(app: TestApp) {
        let owner = linked(&app, "receipts@acme.sa", "966500000560").await;
        // Sent together, delivered together, read together: the moves share batches.
        let sends: Vec<_> = (0..24).map(|i| app.post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": format!("96655880{i:04}"), "text": "تم الشحن"}))).collect();
        let mut sent = Vec::new();
        for (status, body) in futures_util::future::join_all(sends).await {
            assert_eq!(status, StatusCode::CREATED, "{body}");
            sent.push(body["data"]["message"].clone());
        }
        let all = |list: &Value, what: &str| list["data"]["messages"].as_array().is_some_and(|ms| ms.len() == 24 && ms.iter().all(|m| m["status"] == what));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (_, list) = app.get("/api/v1/whatsapp/messages?direction=outgoing&limit=100", &owner.token).await;
            if all(&list, "delivered") { break; }
            assert!(std::time::Instant::now() < deadline, "not all delivered: {list}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let reads: Vec<_> = sent.iter().map(|m| app.post("/api/v1/whatsapp/sandbox/default/read", &owner.token, json!({"messageId": m["messageId"]}))).collect();
        for (status, body) in futures_util::future::join_all(reads).await {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        loop {
            let (_, list) = app.get("/api/v1/whatsapp/messages?direction=outgoing&limit=100", &owner.token).await;
            if all(&list, "read") {
                for m in list["data"]["messages"].as_array().expect("list") {
                    assert!(m["sentAt"].is_string() && m["deliveredAt"].is_string() && m["readAt"].is_string(), "{m}");
                }
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not all read: {list}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn contact_events_say_what_changed(app: TestApp) {
        let owner = linked(&app, "contact-events@acme.sa", "966500000550").await;
        // The deliveries list shows which events were written; nobody needs to answer.
        let (status, body) = app.post("/api/v1/webhooks", &owner.token, json!({"url": "http://127.0.0.1:9/hook", "events": ["contact.created", "contact.updated"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let webhook = body["data"]["webhook"]["id"].as_str().expect("id").to_owned();
        // A new customer without a profile name, then the name, then another name (which must
        // not replace the first), then a plain message.
        for push_name in [None, Some("فاطمة"), Some("اسم آخر"), None] {
            let mut message = json!({"from": "966557700001", "type": "text", "text": "مرحبا"});
            if let Some(name) = push_name {
                message["pushName"] = json!(name);
            }
            incoming(&app, &owner.token, message).await;
        }
        wait_for_count(&app, &owner.token, "contact=966557700001", 4).await;
        let (_, deliveries) = app.get(&format!("/api/v1/webhooks/{webhook}/deliveries"), &owner.token).await;
        let mut kinds: Vec<&str> = deliveries["data"]["deliveries"].as_array().expect("list").iter().filter_map(|d| d["eventType"].as_str()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["contact.created", "contact.updated"], "created once, updated once when named: {deliveries}");
        let contact = wait_for_contact(&app, &owner.token, "966557700001").await;
        assert_eq!(contact["name"], json!("فاطمة"), "{contact}");
    }

    async fn listings_page_and_filter(app: TestApp) {
        let owner = linked(&app, "lists@acme.sa", "966500000500").await;
        for i in 0..3 {
            app.post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": "966554444444", "text": format!("رسالة {i}")})).await;
        }
        incoming(&app, &owner.token, json!({"from": "966554444444", "type": "text", "text": "رد"})).await;
        incoming(&app, &owner.token, json!({"from": "966555555555", "type": "text", "text": "آخر"})).await;
        wait_for_count(&app, &owner.token, "limit=100", 5).await;
        let (_, page) = app.get("/api/v1/whatsapp/messages?contact=%2B966%2055%20444%204444&page=2&limit=2", &owner.token).await;
        assert_eq!(page["data"]["pagination"], json!({"page": 2, "limit": 2, "total": 4, "pages": 2}));
        let texts: Vec<&str> = page["data"]["messages"].as_array().expect("list").iter().filter_map(|m| m["content"]["text"].as_str()).collect();
        assert_eq!(texts, ["رسالة 1", "رسالة 0"], "newest first");
        let (_, outgoing) = app.get("/api/v1/whatsapp/messages?direction=outgoing&sessionName=default", &owner.token).await;
        assert_eq!(outgoing["data"]["pagination"]["total"], json!(3));
        // Totals come from counters kept beside the messages: every combination of filters
        // must count exactly what it lists.
        for query in ["", "direction=incoming", "direction=outgoing", "contact=966554444444",
                      "contact=966554444444&direction=incoming", "contact=966554444444&direction=outgoing",
                      "sessionName=default", "sessionName=default&contact=966555555555&direction=incoming",
                      "contact=966556666666"] {
            let (_, list) = app.get(&format!("/api/v1/whatsapp/messages?limit=100&{query}"), &owner.token).await;
            let listed = list["data"]["messages"].as_array().map_or(0, Vec::len);
            assert_eq!(list["data"]["pagination"]["total"], json!(listed), "{query}: {list}");
        }
        for bad in ["direction=sideways", "limit=500"] {
            assert_error(&app.get(&format!("/api/v1/whatsapp/messages?{bad}"), &owner.token).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
        assert_error(&app.get("/api/v1/whatsapp/messages?contact=abc", &owner.token).await, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        assert_error(&app.get("/api/v1/whatsapp/messages?sessionName=ghost", &owner.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    async fn contacts_are_found_by_arabic_typed_differently(app: TestApp) {
        let owner = linked(&app, "search@acme.sa", "966500000600").await;
        for (from, name) in [("966556000001", "أحمد الهاشمي"), ("966556000002", "فاطمة"), ("966556000003", "مصطفى"), ("966556000004", "John Smith")] {
            incoming(&app, &owner.token, json!({"from": from, "pushName": name, "type": "text", "text": "مرحبا"})).await;
        }
        wait_for_count(&app, &owner.token, "direction=incoming", 4).await;
        let search = |q: &'static str| search_names(&app, &owner.token, q);
        assert_eq!(search("احمد").await, ["أحمد الهاشمي"]);
        assert_eq!(search("أَحْمَد").await, ["أحمد الهاشمي"]);
        assert_eq!(search("فاطمه").await, ["فاطمة"]);
        assert_eq!(search("مصطفي").await, ["مصطفى"]);
        assert_eq!(search("JOHN").await, ["John Smith"]);
        assert_eq!(search("6000002").await, ["فاطمة"]);
        assert!(search("100%").await.is_empty());

        let fatima = wait_for_contact(&app, &owner.token, "966556000002").await;
        let path = format!("/api/v1/whatsapp/contacts/{}", fatima["id"].as_str().expect("id"));
        // Tags are kept as typed; one differing only in case is the same tag.
        let (status, body) = app.put(&path, &owner.token, json!({"tags": ["VIP", "عميلة", "vip"], "notes": "تفضل التواصل مساءً", "linkedCustomer": "crm-7781"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["contact"]["tags"], json!(["VIP", "عميلة"]));
        assert_eq!(body["data"]["contact"]["relatedCustomer"], json!("crm-7781"));
        assert_eq!(body["data"]["contact"]["name"], json!("فاطمة"), "untouched");
        assert_eq!(search("vip").await, ["فاطمة"]);
        assert_eq!(search("عميله").await, ["فاطمة"]);
        assert_error(&app.put(&path, &owner.token, json!({"tags": [""]})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&app.put(&path, &owner.token, json!({"notes": "x".repeat(2001)})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&app.put("/api/v1/whatsapp/contacts/nope", &owner.token, json!({"name": "x"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let (_, body) = app.put(&path, &owner.token, json!({"name": null})).await;
        assert_eq!(body["data"]["contact"]["name"], json!(null), "null clears");
    }

    async fn stats_count_the_organization(app: TestApp) {
        let owner = linked(&app, "stats@acme.sa", "966500000700").await;
        app.post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": "966557000001", "text": "1"})).await;
        app.post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": "966557000002", "text": "2"})).await;
        incoming(&app, &owner.token, json!({"from": "966557000001", "type": "text", "text": "3"})).await;
        wait_for_count(&app, &owner.token, "limit=100", 3).await;
        let other = linked(&app, "stats-other@acme.sa", "966500000701").await;
        app.post("/api/v1/whatsapp/messages/send", &other.token, json!({"to": "966557000009", "text": "x"})).await;

        let (status, body) = app.get("/api/v1/whatsapp/stats", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let s = &body["data"];
        assert_eq!((s["totalSessions"].clone(), s["activeSessions"].clone()), (json!(1), json!(1)));
        assert_eq!((s["totalMessages"].clone(), s["messagesLast24h"].clone(), s["totalContacts"].clone()), (json!(3), json!(3), json!(2)));
        let days = s["messagesPerDay"].as_array().expect("days");
        assert_eq!(days.len(), 14);
        assert_eq!(days[13]["incoming"], json!(1));
        assert_eq!(days[13]["outgoing"], json!(2));
        assert_eq!(days[0]["incoming"], json!(0));
    }

    async fn another_organizations_messages_media_and_contacts_are_404(app: TestApp) {
        let owner = linked(&app, "mine@acme.sa", "966500000800").await;
        let other = app.register("theirs@other.sa").await;
        let b64 = base64::engine::general_purpose::STANDARD.encode(png_bytes());
        incoming(&app, &owner.token, json!({"from": "966558000001", "type": "image", "mediaBase64": b64, "mimeType": "image/png"})).await;
        let list = wait_for_count(&app, &owner.token, "direction=incoming", 1).await;
        let message = &list["data"]["messages"][0];
        let media_url = message["content"]["mediaUrl"].as_str().expect("url");
        let res = app.client.get(app.url(media_url)).bearer_auth(&other.token).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let (_, theirs) = app.get("/api/v1/whatsapp/messages", &other.token).await;
        assert_eq!(theirs["data"]["messages"], json!([]));
        let (_, contacts) = app.get("/api/v1/whatsapp/contacts", &other.token).await;
        assert_eq!(contacts["data"]["contacts"], json!([]));
        let contact_id = message["contactId"].as_str().expect("contact");
        assert_error(&app.put(&format!("/api/v1/whatsapp/contacts/{contact_id}"), &other.token, json!({"isBlocked": true})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.post(&format!("/api/v1/whatsapp/conversations/{contact_id}/read"), &other.token, json!({})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.post("/api/v1/whatsapp/messages/send", &other.token, json!({"to": "966558000001", "text": "x"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let res = app.client.get(app.url(media_url)).bearer_auth(&owner.token).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::OK, "the owner still can");
    }
}

async fn search_names(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let (status, body) = app
        .get(
            &format!("/api/v1/whatsapp/contacts?search={}", urlencode(q)),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

async fn wait_for_contact(app: &TestApp, token: &str, phone: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, list) = app
            .get(&format!("/api/v1/whatsapp/contacts?search={phone}"), token)
            .await;
        if let Some(c) = list["data"]["contacts"]
            .as_array()
            .and_then(|cs| cs.first())
            .cloned()
        {
            return c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "contact {phone} never appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
