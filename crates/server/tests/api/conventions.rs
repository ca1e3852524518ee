//! The API conventions of SPEC §3 hold everywhere: the envelope, codes, languages, bad input,
//! the OpenAPI document, health and metrics.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::on_both_databases;

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &'static str,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status();
    (status, res.json().await.expect("an envelope"))
}

on_both_databases! {
    async fn bad_input_gets_the_envelope_and_a_code(app: TestApp) {
        let owner = app.register("input@acme.sa").await;
        let json_ct = Some("application/json");
        let cases: Vec<(&'static str, Option<&str>, StatusCode, &str)> = vec![
            ("{\"email\": ", json_ct, StatusCode::BAD_REQUEST, "INVALID_JSON"),
            ("not json at all", json_ct, StatusCode::BAD_REQUEST, "INVALID_JSON"),
            ("{\"name\": \"x\"}", json_ct, StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ("{\"name\": 5, \"email\": \"a@b.co\", \"password\": \"password12\"}", json_ct, StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ("{\"name\": \"x\", \"email\": \"a@b.co\", \"password\": \"password12\", \"maxChats\": \"five\"}", json_ct, StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ("{\"name\": \"x\", \"email\": \"a@b.co\", \"password\": \"password12\", \"maxChats\": -3}", json_ct, StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ("[]", json_ct, StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ("{\"name\": \"x\"}", None, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
            ("{\"name\": \"x\"}", Some("text/plain"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
        ];
        for (body, ct, status, code) in cases {
            let result = raw(&app, Method::POST, "/api/v1/users", Some(&owner.token), ct, body).await;
            assert_error(&result, status, code);
        }
        // Just over the 2 MiB JSON limit: small enough that the client has written it all
        // before the server answers, so the 413 is read rather than a reset connection.
        let huge = raw(&app, Method::POST, "/api/v1/auth/login", None, json_ct, Box::leak(format!("{{\"email\":\"{}\"}}", "a".repeat((2 << 20) + (64 << 10))).into_boxed_str())).await;
        assert_error(&huge, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

        assert_error(&app.call(Method::GET, "/api/v1/nothing-here", None, None).await, StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND");
        assert_error(&app.call(Method::PATCH, "/api/v1/auth/login", None, None).await, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
        let (_, me) = app.get("/api/v1/auth/me", &owner.token).await;
        assert_eq!(me["data"]["organization"]["id"], json!(owner.org_id), "nothing was corrupted");
    }

    async fn messages_follow_accept_language(app: TestApp) {
        let ar = app.call(Method::GET, "/api/v1/auth/me", None, None).await;
        assert_eq!(ar.1["message"], json!("يجب تسجيل الدخول أولاً"));
        let en = app.call_lang(Method::GET, "/api/v1/auth/me", None, None, Some("en")).await;
        assert_eq!(en.1["message"], json!("Authentication is required"));
        assert_eq!(en.1["error"]["code"], ar.1["error"]["code"]);
        let fr = app.call_lang(Method::GET, "/api/v1/auth/me", None, None, Some("fr-FR")).await;
        assert_eq!(fr.1["message"], ar.1["message"], "unsupported languages fall back to Arabic");
        let missing = app.call_lang(Method::GET, "/api/v1/nope", None, None, Some("en")).await;
        assert_eq!(missing.1["message"], json!("This route does not exist"));
    }

    async fn health_ready_and_metrics(app: TestApp) {
        let (status, body) = app.call(Method::GET, "/health", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["status"], json!("ok"));
        let (status, body) = app.call(Method::GET, "/ready", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["status"], json!("ready"));
        let metrics = app.client.get(app.url("/metrics")).send().await.expect("sent").text().await.expect("text");
        assert!(metrics.contains(r#"wasl_http_requests_total{method="GET",route="/ready",status="200"}"#), "{metrics}");
        assert!(metrics.contains("process_resident_memory_bytes"));
        let docs = app.client.get(app.url("/api/docs")).send().await.expect("sent");
        assert_eq!(docs.status(), StatusCode::OK);
        assert!(docs.text().await.expect("html").contains("/api/v1/openapi.json"));
    }

    async fn the_openapi_document_lists_every_route(app: TestApp) {
        let doc: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.expect("sent").json().await.expect("json");
        assert_eq!(doc["openapi"], json!("3.1.0"));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_some() {
                    documented.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        let expected: BTreeSet<String> = [
            "POST /api/v1/auth/register", "POST /api/v1/auth/login", "GET /api/v1/auth/me",
            "POST /api/v1/auth/logout", "PUT /api/v1/auth/password",
            "GET /api/v1/organization", "PUT /api/v1/organization",
            "GET /api/v1/organization/business-hours", "PUT /api/v1/organization/business-hours",
            "GET /api/v1/organization/business-hours/now",
            "POST /api/v1/users", "GET /api/v1/users", "GET /api/v1/users/{id}", "PUT /api/v1/users/{id}", "DELETE /api/v1/users/{id}",
            "POST /api/v1/api-keys", "GET /api/v1/api-keys", "DELETE /api/v1/api-keys/{id}",
            "GET /api/v1/admin/organizations", "PUT /api/v1/admin/organizations/{id}/plan",
            "GET /health", "GET /ready", "GET /metrics",
            "POST /api/v1/whatsapp/sessions", "GET /api/v1/whatsapp/sessions",
            "GET /api/v1/whatsapp/sessions/{sessionName}/status", "GET /api/v1/whatsapp/sessions/{sessionName}/qr",
            "POST /api/v1/whatsapp/sessions/{sessionName}/pairing-code", "DELETE /api/v1/whatsapp/sessions/{sessionName}",
            "POST /api/v1/whatsapp/sandbox/{sessionName}/scan", "POST /api/v1/whatsapp/sandbox/{sessionName}/incoming",
            "POST /api/v1/whatsapp/sandbox/{sessionName}/read", "POST /api/v1/whatsapp/sandbox/{sessionName}/drop",
            "POST /api/v1/whatsapp/sandbox/{sessionName}/reaction", "POST /api/v1/whatsapp/messages/{id}/reaction",
            "POST /api/v1/whatsapp/messages/send", "POST /api/v1/whatsapp/messages/send-image",
            "POST /api/v1/whatsapp/messages/send-document", "POST /api/v1/whatsapp/messages/send-video",
            "POST /api/v1/whatsapp/messages/send-audio", "GET /api/v1/whatsapp/messages", "GET /api/v1/whatsapp/messages/{id}/media",
            "GET /api/v1/whatsapp/contacts", "PUT /api/v1/whatsapp/contacts/{id}", "GET /api/v1/whatsapp/conversations",
            "GET /api/v1/whatsapp/conversations/{conversationId}", "PUT /api/v1/whatsapp/conversations/{conversationId}",
            "POST /api/v1/whatsapp/conversations/{conversationId}/read", "GET /api/v1/whatsapp/stats",
            "POST /api/v1/webhooks", "GET /api/v1/webhooks", "GET /api/v1/webhooks/{id}", "PUT /api/v1/webhooks/{id}",
            "DELETE /api/v1/webhooks/{id}", "GET /api/v1/webhooks/{id}/deliveries",
            "POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/replay", "GET /api/v1/events",
            "POST /api/v1/whatsapp/templates", "GET /api/v1/whatsapp/templates", "GET /api/v1/whatsapp/templates/{id}",
            "PUT /api/v1/whatsapp/templates/{id}", "DELETE /api/v1/whatsapp/templates/{id}",
            "POST /api/v1/whatsapp/messages/send-template",
            "POST /api/v1/whatsapp/quick-replies", "GET /api/v1/whatsapp/quick-replies", "GET /api/v1/whatsapp/quick-replies/{id}",
            "PUT /api/v1/whatsapp/quick-replies/{id}", "DELETE /api/v1/whatsapp/quick-replies/{id}",
            "POST /api/v1/whatsapp/media", "GET /api/v1/whatsapp/media", "GET /api/v1/whatsapp/media/{id}",
            "GET /api/v1/whatsapp/media/{id}/content", "DELETE /api/v1/whatsapp/media/{id}",
            "POST /api/v1/whatsapp/auto-replies", "GET /api/v1/whatsapp/auto-replies", "GET /api/v1/whatsapp/auto-replies/{id}",
            "PUT /api/v1/whatsapp/auto-replies/{id}", "DELETE /api/v1/whatsapp/auto-replies/{id}",
            "POST /api/v1/whatsapp/auto-replies/test",
            "POST /api/v1/whatsapp/scheduled-messages", "GET /api/v1/whatsapp/scheduled-messages",
            "GET /api/v1/whatsapp/scheduled-messages/calendar", "GET /api/v1/whatsapp/scheduled-messages/{id}",
            "PUT /api/v1/whatsapp/scheduled-messages/{id}", "DELETE /api/v1/whatsapp/scheduled-messages/{id}",
            "GET /api/v1/whatsapp/scheduled-messages/{id}/occurrences",
            "POST /api/v1/whatsapp/scheduled-messages/{id}/pause", "POST /api/v1/whatsapp/scheduled-messages/{id}/resume",
            "POST /api/v1/whatsapp/scheduled-messages/{id}/cancel",
            "POST /api/v1/whatsapp/broadcasts", "GET /api/v1/whatsapp/broadcasts", "GET /api/v1/whatsapp/broadcasts/{id}",
            "PUT /api/v1/whatsapp/broadcasts/{id}", "DELETE /api/v1/whatsapp/broadcasts/{id}",
            "GET /api/v1/whatsapp/broadcasts/{id}/preview", "GET /api/v1/whatsapp/broadcasts/{id}/recipients",
            "POST /api/v1/whatsapp/broadcasts/{id}/start", "POST /api/v1/whatsapp/broadcasts/{id}/pause",
            "POST /api/v1/whatsapp/broadcasts/{id}/resume", "POST /api/v1/whatsapp/broadcasts/{id}/cancel",
            "POST /api/v1/whatsapp/broadcasts/audience",
        ].into_iter().map(String::from).collect();
        assert_eq!(documented, expected);

        // And every documented route is really served: none answers "no such route".
        for entry in &documented {
            let (method, path) = entry.split_once(' ').expect("method and path");
            let path = path.replace("{id}", "some-id").replace("{sessionName}", "default").replace("{contactId}", "some-id").replace("{conversationId}", "some-id").replace("{deliveryId}", "some-id");
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let res = app.client.request(method, app.url(&path)).send().await.expect("sent");
            assert_ne!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{entry}");
            let body: Value = match res.json().await { Ok(v) => v, Err(_) => continue };
            assert_ne!(body["error"]["code"], json!("ROUTE_NOT_FOUND"), "{entry} is documented but not served");
        }
    }
}
