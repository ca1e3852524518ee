use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, Account, Db, TestApp, ADMIN_TOKEN};
use crate::on_both_databases;

async fn create_sandbox(app: &TestApp, owner: &Account, name: &str) -> (StatusCode, Value) {
    app.post(
        "/api/v1/whatsapp/sessions",
        &owner.token,
        json!({"sessionName": name, "engine": "sandbox"}),
    )
    .await
}

/// Decodes a `data:image/png;base64,…` URL and checks it is a real, square PNG.
fn assert_png_data_url(url: &str) {
    let b64 = url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a decodable PNG");
    assert_eq!(info.width, info.height, "a QR is square");
    assert!(info.width >= 21 * 4, "big enough to scan");
}

async fn link(app: &TestApp, owner: &Account, name: &str, phone: &str) -> Value {
    let (status, body) = create_sandbox(app, owner, name).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.wait_for_session(&owner.token, name, "qr", |s| s["status"] == "qr")
        .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/whatsapp/sandbox/{name}/scan"),
            &owner.token,
            json!({"phoneNumber": phone}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_for_session(&owner.token, name, "connected", |s| {
        s["status"] == "connected"
    })
    .await
}

/// Every file under a directory, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

on_both_databases! {
    async fn a_logged_out_session_is_deleted_for_good(app: TestApp) {
        let owner = crate::messaging::linked(&app, "purge@acme.sa", "966500000951").await;
        let photo = base64::engine::general_purpose::STANDARD.encode(crate::messaging::png_bytes());
        crate::messaging::incoming(&app, &owner.token, json!({"from": "966551110009", "type": "image",
            "mediaBase64": photo, "mimeType": "image/png"})).await;
        crate::messaging::incoming(&app, &owner.token, json!({"from": "966551110009", "type": "text", "text": "مرحبا"})).await;
        let media = app.data_dir().join("media");
        assert!(!files_under(&media).is_empty(), "the photo is kept");

        // While linked it cannot be deleted; a word other than true or false is a mistake.
        let purge = "/api/v1/whatsapp/sessions/default?purge=true";
        assert_error(&app.delete(purge, &owner.token).await, StatusCode::CONFLICT, "SESSION_STILL_LINKED");
        assert_error(&app.delete("/api/v1/whatsapp/sessions/default?purge=yes", &owner.token).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let (status, _) = app.delete("/api/v1/whatsapp/sessions/default", &owner.token).await;
        assert_eq!(status, StatusCode::OK);
        // An agent may not delete it.
        let agent = app.add_user(&owner, "purge-agent@acme.sa", "agent").await;
        assert_error(&app.delete(purge, &agent.token).await, StatusCode::FORBIDDEN, "FORBIDDEN");

        let (status, body) = app.delete(purge, &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["session"]["status"], "logged_out", "the session as it was: {body}");
        let (_, list) = app.get("/api/v1/whatsapp/sessions", &owner.token).await;
        assert_eq!(list["data"]["sessions"], json!([]), "{list}");
        let (_, messages) = app.get("/api/v1/whatsapp/messages", &owner.token).await;
        assert_eq!(messages["data"]["pagination"]["total"], 0, "{messages}");
        assert_eq!(messages["data"]["messages"], json!([]), "{messages}");
        let (_, conversations) = app.get("/api/v1/whatsapp/conversations?status=", &owner.token).await;
        assert_eq!(conversations["data"]["conversations"], json!([]), "{conversations}");
        assert!(files_under(&media).is_empty(), "the photo went with it: {:?}", files_under(&media));
        // The contact stays (it is the organization's), and the name can be linked anew.
        let (_, contacts) = app.get("/api/v1/whatsapp/contacts", &owner.token).await;
        assert_eq!(contacts["data"]["contacts"].as_array().map(Vec::len), Some(1), "{contacts}");
        assert_error(&app.delete(purge, &owner.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let (status, body) = app.post("/api/v1/whatsapp/sessions", &owner.token, json!({"engine": "sandbox"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    async fn a_sandbox_sessions_whole_life(app: TestApp) {
        let owner = app.register("life@acme.sa").await;
        let (status, body) = create_sandbox(&app, &owner, "default").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["message"], json!("تم إنشاء الجلسة بنجاح. يرجى مسح QR Code"));
        assert_eq!(body["data"]["sessionId"], json!(format!("{}_default", owner.org_id)));

        let session = app.wait_for_session(&owner.token, "default", "qr", |s| s["status"] == "qr").await;
        assert_png_data_url(session["qrCode"].as_str().expect("the status carries the QR"));
        let (status, qr) = app.get("/api/v1/whatsapp/sessions/default/qr", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{qr}");
        assert_eq!(qr["message"], json!("تم الحصول على QR Code بنجاح"));
        assert_png_data_url(qr["data"]["qrCode"].as_str().expect("qrCode"));

        let (status, body) = app.post("/api/v1/whatsapp/sandbox/default/scan", &owner.token, json!({"phoneNumber": "+966 50 123 4567"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = app.wait_for_session(&owner.token, "default", "connected", |s| s["status"] == "connected").await;
        assert_eq!(session["phoneNumber"], json!("966501234567"));
        assert!(session["lastConnected"].is_string());
        assert_eq!(session["qrCode"], json!(null));
        assert_eq!(session["connectionAttempts"], json!(0));
        assert_error(&app.get("/api/v1/whatsapp/sessions/default/qr", &owner.token).await, StatusCode::CONFLICT, "SESSION_ALREADY_CONNECTED");
        assert_error(&create_sandbox(&app, &owner, "default").await, StatusCode::CONFLICT, "SESSION_ALREADY_CONNECTED");

        let (status, _) = app.post("/api/v1/whatsapp/sandbox/default/drop", &owner.token, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let session = app.wait_for_session(&owner.token, "default", "connecting", |s| s["status"] == "connecting").await;
        assert!(session["lastDisconnected"].is_string());
        assert!(session["lastDisconnectReason"].as_str().is_some_and(|r| r.contains("dropped")), "{session}");
        let session = app.wait_for_session(&owner.token, "default", "reconnected", |s| s["status"] == "connected").await;
        assert_eq!(session["connectionAttempts"], json!(1), "{session}");
        assert_eq!(session["phoneNumber"], json!("966501234567"), "no new QR was needed");

        let (status, body) = app.delete("/api/v1/whatsapp/sessions/default", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["session"]["status"], json!("logged_out"));
        let session = app.wait_for_session(&owner.token, "default", "logged out", |s| s["status"] == "logged_out").await;
        assert_eq!(session["isActive"], json!(false));
        let (_, list) = app.get("/api/v1/whatsapp/sessions", &owner.token).await;
        assert_eq!(list["data"]["sessions"].as_array().map(Vec::len), Some(1), "the record stays");
        assert_error(&app.post("/api/v1/whatsapp/sandbox/default/drop", &owner.token, json!({})).await, StatusCode::CONFLICT, "SESSION_NOT_CONNECTED");

        // Creating it again links anew.
        let (status, body) = create_sandbox(&app, &owner, "default").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let session = app.wait_for_session(&owner.token, "default", "qr again", |s| s["status"] == "qr").await;
        assert_eq!(session["phoneNumber"], json!(null));
    }

    async fn a_restart_brings_linked_sessions_back_without_a_qr(app: TestApp) {
        let mut app = app;
        let owner = app.register("restart@acme.sa").await;
        app.put(&format!("/api/v1/admin/organizations/{}/plan", owner.org_id), ADMIN_TOKEN, json!({"plan": "basic"})).await;
        link(&app, &owner, "sales", "966500000001").await;
        let (status, _) = create_sandbox(&app, &owner, "pending").await;
        assert_eq!(status, StatusCode::CREATED);
        app.wait_for_session(&owner.token, "pending", "qr", |s| s["status"] == "qr").await;

        app.restart().await;
        let session = app.wait_for_session(&owner.token, "sales", "connected after restart", |s| s["status"] == "connected").await;
        assert_eq!(session["phoneNumber"], json!("966500000001"));
        assert_eq!(session["qrCode"], json!(null));
        let pending = app.wait_for_session(&owner.token, "pending", "disconnected", |s| s["status"] == "disconnected").await;
        assert!(pending["lastDisconnectReason"].as_str().is_some_and(|r| r.contains("restart")), "{pending}");
        // The resumed session is really live: the sandbox accepts a customer's message.
        let (status, body) = app.post("/api/v1/whatsapp/sandbox/sales/incoming", &owner.token, json!({"from": "966511111111", "type": "text", "text": "مرحبا"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn plans_limit_sessions(app: TestApp) {
        let owner = app.register("plans@acme.sa").await;
        let (status, _) = create_sandbox(&app, &owner, "default").await;
        assert_eq!(status, StatusCode::CREATED);
        let over = create_sandbox(&app, &owner, "sales").await;
        assert_error(&over, StatusCode::FORBIDDEN, "PLAN_LIMIT_REACHED");
        assert_eq!(over.1["error"]["details"]["limit"], json!(1));

        app.put(&format!("/api/v1/admin/organizations/{}/plan", owner.org_id), ADMIN_TOKEN, json!({"plan": "basic"})).await;
        assert_eq!(create_sandbox(&app, &owner, "sales").await.0, StatusCode::CREATED);
        assert_eq!(create_sandbox(&app, &owner, "support").await.0, StatusCode::CREATED);
        assert_error(&create_sandbox(&app, &owner, "fourth").await, StatusCode::FORBIDDEN, "PLAN_LIMIT_REACHED");
        // A logged-out session frees its place.
        assert_eq!(app.delete("/api/v1/whatsapp/sessions/support", &owner.token).await.0, StatusCode::OK);
        assert_eq!(create_sandbox(&app, &owner, "fourth").await.0, StatusCode::CREATED);
        assert_error(&create_sandbox(&app, &owner, "support").await, StatusCode::FORBIDDEN, "PLAN_LIMIT_REACHED");

        // Many different sessions created at once by a free organization: exactly one fits.
        let racer = app.register("race@acme.sa").await;
        let names: Vec<String> = (0..8).map(|i| format!("line{i}")).collect();
        let racing: Vec<_> = names.iter().map(|name| create_sandbox(&app, &racer, name)).collect();
        let statuses: Vec<StatusCode> = futures_util::future::join_all(racing).await.into_iter().map(|(s, _)| s).collect();
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::FORBIDDEN), "{statuses:?}");
    }

    async fn sessions_are_checked_and_tenant_scoped(app: TestApp) {
        let owner = app.register("scoped@acme.sa").await;
        let other = app.register("intruder@other.sa").await;
        let agent = app.add_user(&owner, "agent@acme.sa", "agent").await;
        link(&app, &owner, "default", "966500000002").await;

        for bad in [json!({"sessionName": "Bad Name", "engine": "sandbox"}), json!({"sessionName": "x".repeat(33)}), json!({"engine": "cloud"})] {
            assert_error(&app.post("/api/v1/whatsapp/sessions", &owner.token, bad).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
        assert_error(&create_sandbox(&app, &agent, "mine").await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let (status, _) = app.get("/api/v1/whatsapp/sessions/default/status", &agent.token).await;
        assert_eq!(status, StatusCode::OK, "agents see their organization's sessions");

        for path in ["/api/v1/whatsapp/sessions/default/status", "/api/v1/whatsapp/sessions/default/qr", "/api/v1/whatsapp/sessions/nope/status"] {
            assert_error(&app.get(path, &other.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        }
        assert_error(&app.delete("/api/v1/whatsapp/sessions/default", &other.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.post("/api/v1/whatsapp/sandbox/default/drop", &other.token, json!({})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.post("/api/v1/whatsapp/sessions/default/pairing-code", &other.token, json!({"phoneNumber": "966500000003"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let (_, list) = app.get("/api/v1/whatsapp/sessions", &other.token).await;
        assert_eq!(list["data"]["sessions"], json!([]));
        let session = app.wait_for_session(&owner.token, "default", "still connected", |s| s["status"] == "connected").await;
        assert_eq!(session["connectionAttempts"], json!(0), "untouched by the intruder");

        assert_error(&app.post("/api/v1/whatsapp/sandbox/default/scan", &owner.token, json!({"phoneNumber": "966500000009"})).await, StatusCode::CONFLICT, "SESSION_ALREADY_CONNECTED");
        assert_error(&app.post("/api/v1/whatsapp/sandbox/default/scan", &owner.token, json!({"phoneNumber": "12"})).await, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        assert_error(&app.post("/api/v1/whatsapp/sandbox/default/read", &owner.token, json!({"messageId": "3EB0UNKNOWN"})).await, StatusCode::NOT_FOUND, "MESSAGE_NOT_FOUND");
        let bad_incoming = [
            json!({"from": "966511111111", "type": "sticker"}),
            json!({"from": "966511111111", "type": "text"}),
            json!({"from": "966511111111", "type": "image", "mediaBase64": "aGVsbG8="}),
            json!({"from": "966511111111", "type": "image", "mediaBase64": "***", "mimeType": "image/png"}),
        ];
        for body in bad_incoming {
            assert_error(&app.post("/api/v1/whatsapp/sandbox/default/incoming", &owner.token, body).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
        let nope = json!({"from": "nope", "type": "text", "text": "x"});
        assert_error(&app.post("/api/v1/whatsapp/sandbox/default/incoming", &owner.token, nope).await, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
    }

    async fn linking_by_pairing_code(app: TestApp) {
        let owner = app.register("pair@acme.sa").await;
        assert_eq!(create_sandbox(&app, &owner, "default").await.0, StatusCode::CREATED);
        app.wait_for_session(&owner.token, "default", "qr", |s| s["status"] == "qr").await;
        let (status, body) = app.post("/api/v1/whatsapp/sessions/default/pairing-code", &owner.token, json!({"phoneNumber": "+20 100 123 4567"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let code = body["data"]["code"].as_str().expect("code");
        assert!(code.len() == 9 && code.chars().nth(4) == Some('-'), "{code}");
        assert_error(&app.post("/api/v1/whatsapp/sessions/default/pairing-code", &owner.token, json!({"phoneNumber": "abc"})).await, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        assert_error(&app.post("/api/v1/whatsapp/sessions/ghost/pairing-code", &owner.token, json!({"phoneNumber": "201001234567"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
}

#[tokio::test]
async fn the_sandbox_can_be_switched_off() {
    let app = spawn_app_with(Db::Sqlite, &[("WASL_SANDBOX", "false")]).await;
    let owner = app.register("nosandbox@acme.sa").await;
    assert_error(
        &create_sandbox(&app, &owner, "default").await,
        StatusCode::BAD_REQUEST,
        "ENGINE_UNAVAILABLE",
    );
}
