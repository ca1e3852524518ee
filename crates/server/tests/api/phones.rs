//! Phone numbers as people write them: an organization's default country reads local forms,
//! every form of a number reaches the same contact and conversation, search finds it by any of
//! them, and a number that is not one answers 400 `INVALID_PHONE_NUMBER` with the reason.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::messaging::linked;
use crate::on_both_databases;

async fn set_country(app: &TestApp, token: &str, country: Value) -> (StatusCode, Value) {
    app.put(
        "/api/v1/organization",
        token,
        json!({ "defaultCountry": country }),
    )
    .await
}

/// Sends a text to `to` as written; the canonical number it went to.
async fn send_to(app: &TestApp, token: &str, to: &str) -> String {
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/messages/send",
            token,
            json!({"to": to, "text": "مرحباً"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{to}: {body}");
    body["data"]["message"]["to"]
        .as_str()
        .expect("to")
        .to_owned()
}

fn field_error(body: &Value) -> (&str, &str, &str) {
    let field = &body["error"]["details"]["fields"][0];
    (
        field["field"].as_str().unwrap_or(""),
        field["code"].as_str().unwrap_or(""),
        field["reason"].as_str().unwrap_or(""),
    )
}

on_both_databases! {
    async fn an_organization_chooses_the_country_its_people_write_numbers_in(app: TestApp) {
        let owner = linked(&app, "country@acme.sa", "966500000901").await;
        let (status, body) = app.get("/api/v1/organization", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["defaultCountry"], Value::Null, "{body}");
        assert!(body["data"]["organization"]["name"].is_string(), "{body}");

        // Without a country a local number cannot be read, and the reason says what to do.
        let (status, body) = app
            .post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": "0551112233", "text": "hi"}))
            .await;
        assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        let (field, code, reason) = field_error(&body);
        assert_eq!((field, code), ("to", "invalid_phone_number"), "{body}");
        assert!(reason.contains("country code"), "{reason}");

        let (status, body) = set_country(&app, &owner.token, json!("sa")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["defaultCountry"], json!("SA"));
        let (_, body) = app.get("/api/v1/organization", &owner.token).await;
        assert_eq!(body["data"]["organization"]["defaultCountry"], json!("SA"));

        // A country that has no numbering plan, or is not a country, is refused by field.
        for bad in [json!("XX"), json!("Saudi"), json!(966)] {
            let result = set_country(&app, &owner.token, bad.clone()).await;
            assert_eq!(result.0, StatusCode::BAD_REQUEST, "{bad}: {}", result.1);
        }
        let (status, body) = set_country(&app, &owner.token, json!("XX")).await;
        assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(field_error(&body).0, "defaultCountry", "{body}");
        assert_eq!(field_error(&body).1, "invalid_country", "{body}");

        // Only the organization's managers change it.
        let agent = app.add_user(&owner, "agent@acme.sa", "agent").await;
        let (status, body) = app.get("/api/v1/organization", &agent.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error(&set_country(&app, &agent.token, json!("EG")).await, StatusCode::FORBIDDEN, "FORBIDDEN");

        // Another organization keeps its own setting.
        let other = app.register("other@acme.eg").await;
        let (_, body) = app.get("/api/v1/organization", &other.token).await;
        assert_eq!(body["data"]["organization"]["defaultCountry"], Value::Null);

        let (status, body) = set_country(&app, &owner.token, Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["defaultCountry"], Value::Null);
    }

    async fn every_way_of_writing_a_number_reaches_the_same_contact(app: TestApp) {
        let owner = linked(&app, "forms@acme.sa", "966500000902").await;
        assert_eq!(set_country(&app, &owner.token, json!("SA")).await.0, StatusCode::OK);
        for written in ["0551112233", "055 111 2233", "+966 55 111 2233", "00966551112233", "966551112233", "٠٥٥١١١٢٢٣٣", "(055) 111-2233"] {
            assert_eq!(send_to(&app, &owner.token, written).await, "966551112233", "{written}");
        }
        // A number of another country, written with its code, stays that country's.
        assert_eq!(send_to(&app, &owner.token, "+20 100 123 4567").await, "201001234567");

        let (status, body) = app.get("/api/v1/whatsapp/conversations?search=966551112233", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["conversations"].as_array().map(Vec::len), Some(1), "one conversation: {body}");

        for search in ["0551112233", "+966 55 111 2233", "00966551112233", "055 111 2233", "551112233", "٠٥٥١١١٢٢٣٣", "1112233"] {
            let query = urlencode(search);
            let (status, body) = app.get(&format!("/api/v1/whatsapp/contacts?search={query}"), &owner.token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let phones: Vec<&str> = body["data"]["contacts"].as_array().expect("contacts").iter()
                .filter_map(|c| c["phoneNumber"].as_str()).collect();
            assert_eq!(phones, ["966551112233"], "contacts search {search:?}: {body}");
            let (_, body) = app.get(&format!("/api/v1/whatsapp/conversations?search={query}"), &owner.token).await;
            assert_eq!(body["data"]["conversations"].as_array().map(Vec::len), Some(1), "conversations search {search:?}: {body}");
        }
        let (status, body) = app.get("/api/v1/whatsapp/messages?contact=0551112233", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["messages"].as_array().map(Vec::len), Some(7), "{body}");
    }

    async fn local_forms_follow_the_organization_country(app: TestApp) {
        let owner = linked(&app, "plans@acme.sa", "966500000903").await;
        for (country, written, expected) in [
            ("SA", "0501234567", "966501234567"),
            ("EG", "010 0123 4567", "201001234567"),
            ("EG", "01001234567", "201001234567"),
            ("AE", "050 123 4567", "971501234567"),
            ("GB", "07911 123456", "447911123456"),
        ] {
            assert_eq!(set_country(&app, &owner.token, json!(country)).await.0, StatusCode::OK);
            assert_eq!(send_to(&app, &owner.token, written).await, expected, "{country} {written}");
        }
        // Numbers that are not numbers of the plans say why, field by field.
        assert_eq!(set_country(&app, &owner.token, json!("SA")).await.0, StatusCode::OK);
        for (written, why) in [("12", "too short"), ("0123", "not a valid number in SA"), ("+966 12", "not a valid number"), ("055-abc", "only digits")] {
            let (status, body) = app
                .post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": written, "text": "hi"}))
                .await;
            assert_error(&(status, body.clone()), StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
            let (field, code, reason) = field_error(&body);
            assert_eq!((field, code), ("to", "invalid_phone_number"), "{written}: {body}");
            assert!(reason.contains(why), "{written}: {reason}");
        }
        // The message is localized; the field's reason stays for the developer.
        let (status, body) = app
            .call_lang(reqwest::Method::POST, "/api/v1/whatsapp/messages/send", Some(&owner.token), Some(json!({"to": "12", "text": "hi"})), Some("en"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], json!("The phone number is not valid"), "{body}");
        let (_, body) = app
            .call_lang(reqwest::Method::POST, "/api/v1/whatsapp/messages/send", Some(&owner.token), Some(json!({"to": "12", "text": "hi"})), Some("ar"))
            .await;
        assert_eq!(body["message"], json!("رقم الهاتف غير صالح"), "{body}");
        // Nothing was stored for the refused sends.
        let (_, body) = app.get("/api/v1/whatsapp/messages?direction=outgoing&limit=100", &owner.token).await;
        assert_eq!(body["data"]["messages"].as_array().map(Vec::len), Some(5), "{body}");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
