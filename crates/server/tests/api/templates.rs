//! Templates, quick replies and the media library (SPEC §13): Meta's limits checked with a
//! clear 400, variables filled from the send, the contact and the defaults (and named when
//! missing), the text rendering web and sandbox sessions send, numbered choices an
//! auto-reply understands, files kept once and sent many times, and who may see and change
//! what.

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::auto_replies::{sent_to, settled, texts_to, writes};
use crate::helpers::{assert_error, Reply, TestApp};
use crate::messaging::{incoming, linked, png_bytes};
use crate::on_both_databases;

fn fields(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_owned(),
                        f["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn upload_media(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    name: &str,
    kind: Option<&str>,
) -> Reply {
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    if let Some(kind) = kind {
        form = form.text("type", kind.to_owned());
    }
    app.send_raw(
        app.client
            .post(app.url("/api/v1/whatsapp/media"))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

fn order_ready() -> Value {
    json!({
        "name": "order_ready", "category": "utility", "language": "ar",
        "header": {"type": "text", "text": "طلبك {{order}} جاهز"},
        "content": "مرحباً {{contact.name|عميلنا}}، طلبك رقم {{order}} جاهز للاستلام من {{branch|الفرع الرئيسي}}.",
        "footer": "متجر الورد",
        "buttons": [
            {"type": "url", "text": "تتبع الطلب", "url": "https://shop.example/t"},
            {"type": "call", "text": "اتصل بنا", "phone": "+966 55 111 2233"},
            {"type": "quick_reply", "text": "سأستلمه اليوم"},
            {"type": "quick_reply", "text": "غداً"},
        ],
    })
}

on_both_databases! {
    async fn templates_are_checked_filled_and_sent_as_text(app: TestApp) {
        let owner = linked(&app, "templates@acme.sa", "966500001801").await;
        let token = &owner.token;
        let (status, body) = app.post("/api/v1/whatsapp/templates", token, order_ready()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let template = body["data"]["template"].clone();
        assert_eq!(template["variables"], json!([
            {"name": "order", "default": null, "source": "sender"},
            {"name": "contact.name", "default": "عميلنا", "source": "contact"},
            {"name": "branch", "default": "الفرع الرئيسي", "source": "sender"},
        ]), "{template}");
        assert_eq!(template["buttons"][1], json!({"type": "call", "text": "اتصل بنا", "phone": "+966551112233"}));

        // Meta's limits and the variables' syntax, each named.
        let with = |patch: Value| {
            let mut t = order_ready();
            t["name"] = json!("another_one");
            for (k, v) in patch.as_object().expect("object") {
                t[k] = v.clone();
            }
            t
        };
        for (body, field, code) in [
            (with(json!({"name": "Order-Ready"})), "name", "invalid_template_name"),
            (with(json!({"category": "promo"})), "category", "invalid"),
            (with(json!({"language": "arabic"})), "language", "invalid_language"),
            (with(json!({"content": "ا".repeat(1025)})), "content", "invalid"),
            (with(json!({"content": "طلبك {{order"})), "content", "invalid_variable"),
            (with(json!({"content": "{{contact.age}}"})), "content", "invalid_variable"),
            (with(json!({"footer": "{{order}}"})), "footer", "invalid"),
            (with(json!({"footer": "ا".repeat(61)})), "footer", "invalid"),
            (with(json!({"header": {"type": "text", "text": "ا".repeat(61)}})), "header.text", "invalid"),
            (with(json!({"header": {"type": "image"}})), "header.mediaId", "invalid"),
            (with(json!({"buttons": [{"type": "quick_reply", "text": "1"}, {"type": "quick_reply", "text": "2"}, {"type": "quick_reply", "text": "3"}, {"type": "quick_reply", "text": "4"}]})), "buttons", "too_many_buttons"),
            (with(json!({"buttons": [{"type": "call", "text": "a", "phone": "+966551112233"}, {"type": "call", "text": "b", "phone": "+966551112234"}]})), "buttons", "too_many_buttons"),
            (with(json!({"buttons": [{"type": "url", "text": "x", "url": "javascript:alert(1)"}]})), "buttons", "invalid"),
            (with(json!({"buttons": [{"type": "quick_reply", "text": "ا".repeat(26)}]})), "buttons", "invalid"),
            (with(json!({"buttons": [{"type": "quick_reply", "text": "نعم"}, {"type": "quick_reply", "text": "نَعَم"}]})), "buttons", "invalid"),
            (with(json!({"buttons": [{"type": "call", "text": "x", "phone": "12"}]})), "buttons", "invalid_phone_number"),
        ] {
            let result = app.post("/api/v1/whatsapp/templates", token, body.clone()).await;
            assert_eq!(result.0, StatusCode::BAD_REQUEST, "{body}: {}", result.1);
            assert!(fields(&result.1).contains(&(field.to_owned(), code.to_owned())), "{body}: {}", result.1);
        }
        // A name is unique per language.
        assert_error(&app.post("/api/v1/whatsapp/templates", token, order_ready()).await, StatusCode::CONFLICT, "TEMPLATE_EXISTS");
        let mut english = order_ready();
        english["language"] = json!("en");
        english["content"] = json!("Hi {{contact.name|there}}, order {{order}} is ready at {{branch|our main branch}}.");
        english["header"] = json!({"type": "text", "text": "Order {{order}} is ready"});
        english["footer"] = json!("Rose Shop");
        english["buttons"] = json!([{"type": "quick_reply", "text": "Today"}, {"type": "quick_reply", "text": "Tomorrow"}]);
        let (status, body) = app.post("/api/v1/whatsapp/templates", token, english).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // Sending: a variable without a value is named; an unknown one too.
        let customer = "966551180001";
        incoming(&app, token, json!({"from": customer, "pushName": "أحمد", "type": "text", "text": "السلام عليكم"})).await;
        let missing = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "order_ready"})).await;
        assert_error(&missing, StatusCode::BAD_REQUEST, "TEMPLATE_VARIABLE_MISSING");
        assert_eq!(missing.1["error"]["details"]["missing"], json!(["order"]));
        let unknown = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "order_ready", "variables": {"order": "42", "colour": "red"}})).await;
        assert_error(&unknown, StatusCode::BAD_REQUEST, "TEMPLATE_VARIABLE_UNKNOWN");
        assert_eq!(unknown.1["error"]["details"]["unknown"], json!(["colour"]));
        assert_error(&app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "no_such"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");

        // The organization's default language (ar), the contact's name, the defaults.
        let (status, body) = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "order_ready", "variables": {"order": "٤٢"}})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let message = &body["data"]["message"];
        assert_eq!(message["content"]["text"], json!("*طلبك ٤٢ جاهز*\n\nمرحباً أحمد، طلبك رقم ٤٢ جاهز للاستلام من الفرع الرئيسي.\n\n_متجر الورد_\n\n🔗 تتبع الطلب: https://shop.example/t\n📞 اتصل بنا: +966551112233\n\n1. سأستلمه اليوم\n2. غداً"));
        assert_eq!(message["metadata"]["template"], json!({"id": template["id"], "name": "order_ready", "language": "ar", "choices": ["سأستلمه اليوم", "غداً"]}));
        assert_eq!(message["metadata"].get("automation"), None, "a person sent it");
        // English, asked for by name.
        let (status, body) = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": "966551180002", "template": "order_ready", "language": "en", "variables": {"order": "7", "branch": "Olaya"}})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["message"]["content"]["text"], json!("*Order 7 is ready*\n\nHi there, order 7 is ready at Olaya.\n\n_Rose Shop_\n\n1. Today\n2. Tomorrow"));

        // The customer answers "2": an auto-reply listening for the choice's text answers.
        let (status, body) = app.post("/api/v1/whatsapp/auto-replies", token, json!({"name": "tomorrow", "matchType": "exact", "trigger": "غدا", "response": {"type": "text", "text": "تم، نجهزه لك غداً"}})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        writes(&app, token, customer, "٢").await;
        let texts = texts_to(&app, token, customer).await;
        assert_eq!(texts.last().map(String::as_str), Some("تم، نجهزه لك غداً"), "{texts:?}");

        // A template with an image header goes as an image with the text as its caption.
        let uploaded = upload_media(&app, token, png_bytes(), "menu.png", None).await;
        assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.text());
        let media = uploaded.json.expect("json")["data"].clone();
        assert_eq!(media["media"]["type"], json!("image"));
        let media_id = media["mediaId"].as_str().expect("id").to_owned();
        let (status, body) = app.post("/api/v1/whatsapp/templates", token, json!({"name": "menu", "category": "marketing", "header": {"type": "image", "mediaId": media_id}, "content": "قائمة اليوم"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let menu_id = body["data"]["template"]["id"].as_str().expect("id").to_owned();
        let (status, body) = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "menu"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!((body["data"]["message"]["type"].clone(), body["data"]["message"]["content"]["caption"].clone()), (json!("image"), json!("قائمة اليوم")));
        let url = body["data"]["message"]["content"]["mediaUrl"].as_str().expect("url");
        let file = app.send_raw(app.client.get(app.url(url)).bearer_auth(token)).await;
        assert_eq!(file.bytes, png_bytes());
        // A video header needs a video.
        let wrong = app.post("/api/v1/whatsapp/templates", token, json!({"name": "clip", "category": "marketing", "header": {"type": "video", "mediaId": media_id}, "content": "x"})).await;
        assert_error(&wrong, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

        // Changing: what is left out stays; a name an auto-reply answers with cannot go.
        let (status, body) = app.put(&format!("/api/v1/whatsapp/templates/{menu_id}"), token, json!({"content": "قائمة الغد", "footer": "عرض محدود"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["data"]["template"]["content"].clone(), body["data"]["template"]["header"]["mediaId"].clone()), (json!("قائمة الغد"), json!(media_id)));
        let (status, body) = app.post("/api/v1/whatsapp/auto-replies", token, json!({"name": "menu", "matchType": "contains", "trigger": "القائمة", "response": {"type": "template", "template": "menu"}})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let rule_id = body["data"]["autoReply"]["id"].as_str().expect("id").to_owned();
        let in_use = app.delete(&format!("/api/v1/whatsapp/templates/{menu_id}"), token).await;
        assert_error(&in_use, StatusCode::CONFLICT, "TEMPLATE_IN_USE");
        assert_eq!(in_use.1["error"]["details"]["usedBy"], json!(["auto-reply menu"]));
        assert_error(&app.delete(&format!("/api/v1/whatsapp/media/{media_id}"), token).await, StatusCode::CONFLICT, "MEDIA_IN_USE");
        // The rule answers with the template, as an automated message.
        writes(&app, token, "966551180003", "أرسل القائمة").await;
        let answer = sent_to(&app, token, "966551180003").await;
        assert_eq!(answer.len(), 1, "{answer:?}");
        assert_eq!((answer[0]["type"].clone(), answer[0]["content"]["caption"].clone()), (json!("image"), json!("قائمة الغد\n\n_عرض محدود_")));
        assert_eq!(answer[0]["metadata"]["automation"]["id"], json!(rule_id));
        assert_eq!(answer[0]["metadata"]["template"]["name"], json!("menu"));
        let (status, _) = app.delete(&format!("/api/v1/whatsapp/auto-replies/{rule_id}"), token).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.delete(&format!("/api/v1/whatsapp/templates/{menu_id}"), token).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.delete(&format!("/api/v1/whatsapp/media/{media_id}"), token).await;
        assert_eq!(status, StatusCode::OK, "nothing sends it any more");

        // Agents read and send templates; they do not write them.
        let agent = app.add_user(&owner, "templates-agent@acme.sa", "agent").await;
        let (_, list) = app.get("/api/v1/whatsapp/templates?search=طلبك", &agent.token).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(1), "{list}");
        let (_, list) = app.get("/api/v1/whatsapp/templates?language=en", &agent.token).await;
        assert_eq!(list["data"]["templates"][0]["language"], json!("en"));
        assert_error(&app.post("/api/v1/whatsapp/templates", &agent.token, json!({"name": "x", "category": "utility", "content": "x"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let (status, body) = app.post("/api/v1/whatsapp/messages/send-template", &agent.token, json!({"to": customer, "template": "order_ready", "variables": {"order": "9"}})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    async fn quick_replies_and_the_media_library(app: TestApp) {
        let owner = linked(&app, "quick@acme.sa", "966500001802").await;
        let token = &owner.token;
        let agent = app.add_user(&owner, "quick-agent@acme.sa", "agent").await;

        // The media library: a file is typed from its bytes, read back as it was.
        let png = upload_media(&app, token, png_bytes(), "logo.png", None).await;
        assert_eq!(png.status, StatusCode::CREATED, "{}", png.text());
        let png = png.json.expect("json")["data"]["media"].clone();
        assert_eq!((png["type"].clone(), png["mimeType"].clone(), png["filename"].clone()), (json!("image"), json!("image/png"), json!("logo.png")));
        let file = app.send_raw(app.client.get(app.url(png["url"].as_str().expect("url"))).bearer_auth(token)).await;
        assert_eq!((file.status, file.content_type.as_str(), file.bytes.clone()), (StatusCode::OK, "image/png", png_bytes()));
        let doc = upload_media(&app, &agent.token, b"name,phone\n".to_vec(), "list.csv", None).await;
        assert_eq!(doc.status, StatusCode::CREATED, "{}", doc.text());
        let doc = doc.json.expect("json")["data"]["media"].clone();
        assert_eq!((doc["type"].clone(), doc["mimeType"].clone()), (json!("document"), json!("text/csv")));
        let wrong = upload_media(&app, token, b"just text".to_vec(), "x.txt", Some("image")).await;
        assert_eq!(wrong.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", wrong.text());
        let empty = upload_media(&app, token, Vec::new(), "x.png", None).await;
        assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text());
        let (_, list) = app.get("/api/v1/whatsapp/media", token).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(2), "{list}");

        // Quick replies: the organization's (owners and admins) and each person's own.
        let create = |token: String, body: Value| {
            let app = &app;
            async move { app.post("/api/v1/whatsapp/quick-replies", &token, body).await }
        };
        let (status, hours) = create(token.clone(), json!({"shortCode": "hours", "content": "نعمل من ٩ صباحاً حتى ٥ مساءً", "visibility": "organization"})).await;
        assert_eq!(status, StatusCode::CREATED, "{hours}");
        let (status, thanks) = create(token.clone(), json!({"shortCode": "/شكرا", "content": "شكراً لتواصلك معنا", "visibility": "organization", "mediaId": png["id"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{thanks}");
        assert_eq!(thanks["data"]["quickReply"]["shortCode"], json!("شكرا"), "the composer's slash is not part of it");
        let (status, mine) = create(agent.token.clone(), json!({"shortCode": "sig", "content": "مع تحيات عمر — خدمة العملاء"})).await;
        assert_eq!(status, StatusCode::CREATED, "{mine}");
        assert_eq!(mine["data"]["quickReply"]["visibility"], json!("personal"));
        let (status, ship) = create(agent.token.clone(), json!({"shortCode": "shipping", "content": "الشحن خلال ساعات العمل hours"})).await;
        assert_eq!(status, StatusCode::CREATED, "{ship}");
        assert_error(&create(agent.token.clone(), json!({"shortCode": "x", "content": "x", "visibility": "organization"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&create(token.clone(), json!({"shortCode": "hours", "content": "again", "visibility": "organization"})).await, StatusCode::CONFLICT, "SHORT_CODE_TAKEN");
        let (status, _) = create(agent.token.clone(), json!({"shortCode": "hours", "content": "my own hours"})).await;
        assert_eq!(status, StatusCode::CREATED, "a personal short code may repeat the organization's");
        for (body, field) in [
            (json!({"shortCode": "two words", "content": "x"}), "shortCode"),
            (json!({"shortCode": "x", "content": ""}), "content"),
            (json!({"shortCode": "x", "content": "x", "visibility": "team"}), "visibility"),
            (json!({"shortCode": "x", "content": "x", "mediaId": "0190aaaa-0000-7000-8000-000000000000"}), "mediaId"),
        ] {
            let result = create(token.clone(), body.clone()).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            assert_eq!(fields(&result.1)[0].0, field, "{body}: {}", result.1);
        }

        // Searching: short codes starting with it first, then content containing it.
        let codes = |body: &Value| -> Vec<String> {
            body["data"]["quickReplies"].as_array().expect("list").iter().map(|q| q["shortCode"].as_str().unwrap_or_default().to_owned()).collect()
        };
        let (_, found) = app.get("/api/v1/whatsapp/quick-replies?search=/h", &agent.token).await;
        assert_eq!(codes(&found), ["hours", "hours", "shipping"], "{found}");
        let (_, found) = app.get(&format!("/api/v1/whatsapp/quick-replies?search={}", "شكرأ"), &agent.token).await;
        assert_eq!(codes(&found), ["شكرا"], "hamza folded: {found}");
        let (_, found) = app.get("/api/v1/whatsapp/quick-replies?search=تحيات", &agent.token).await;
        assert_eq!(codes(&found), ["sig"]);
        // The owner sees the organization's and their own, never the agent's.
        let (_, all) = app.get("/api/v1/whatsapp/quick-replies", token).await;
        assert_eq!(codes(&all), ["hours", "شكرا"], "{all}");
        let mine_id = mine["data"]["quickReply"]["id"].as_str().expect("id");
        assert_error(&app.get(&format!("/api/v1/whatsapp/quick-replies/{mine_id}"), token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.delete(&format!("/api/v1/whatsapp/quick-replies/{mine_id}"), token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let hours_id = hours["data"]["quickReply"]["id"].as_str().expect("id");
        assert_error(&app.put(&format!("/api/v1/whatsapp/quick-replies/{hours_id}"), &agent.token, json!({"content": "changed"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let (status, body) = app.put(&format!("/api/v1/whatsapp/quick-replies/{mine_id}"), &agent.token, json!({"content": "مع التحية"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["data"]["quickReply"]["content"].clone(), body["data"]["quickReply"]["shortCode"].clone()), (json!("مع التحية"), json!("sig")));

        // A file a quick reply sends stays until the quick reply lets it go; only its uploader
        // or a manager deletes a file.
        let png_id = png["id"].as_str().expect("id");
        let in_use = app.delete(&format!("/api/v1/whatsapp/media/{png_id}"), token).await;
        assert_error(&in_use, StatusCode::CONFLICT, "MEDIA_IN_USE");
        assert_error(&app.delete(&format!("/api/v1/whatsapp/media/{png_id}"), &agent.token).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let thanks_id = thanks["data"]["quickReply"]["id"].as_str().expect("id");
        let (status, body) = app.put(&format!("/api/v1/whatsapp/quick-replies/{thanks_id}"), token, json!({"mediaId": null})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["quickReply"]["mediaId"], Value::Null);
        let (status, _) = app.delete(&format!("/api/v1/whatsapp/media/{png_id}"), token).await;
        assert_eq!(status, StatusCode::OK);
        let gone = app.send_raw(app.client.get(app.url(png["url"].as_str().expect("url"))).bearer_auth(token)).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        let doc_id = doc["id"].as_str().expect("id");
        let (status, _) = app.delete(&format!("/api/v1/whatsapp/media/{doc_id}"), &agent.token).await;
        assert_eq!(status, StatusCode::OK, "its uploader deletes it");
        settled(&app).await;
    }
}
