//! The smaller edges a hostile client probes: the API docs page and every JSON answer under
//! the same browser protections as the dashboard, the events socket only for pages of wasl's
//! own origin (or listed ones), media types without control characters, and e-mails and
//! names that cannot pass for someone else's.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with, Db};
use crate::messaging::linked;
use crate::on_both_databases;

#[tokio::test]
async fn the_api_docs_page_runs_only_wasls_own_files_and_every_answer_says_nosniff() {
    let app = spawn_app_with(Db::Sqlite, &[]).await;
    let page = app
        .client
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    for directive in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "style-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = page.text().await.expect("html");
    assert!(
        !html.contains("<script>") && !html.contains("<style>"),
        "no inline script or style"
    );
    for asset in [
        "/api/docs/assets/api-docs.js",
        "/api/docs/assets/api-docs.css",
    ] {
        assert!(html.contains(asset), "{asset} is referenced");
        let res = app.client.get(app.url(asset)).send().await.expect("asset");
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
    }
    for (path, status) in [
        ("/api/v1/auth/me", StatusCode::UNAUTHORIZED),
        ("/health", StatusCode::OK),
        ("/api/v1/nope", StatusCode::NOT_FOUND),
    ] {
        let res = app.client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
}

#[tokio::test]
async fn the_events_socket_opens_only_for_wasls_own_pages_and_listed_origins() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app_with(
        Db::Sqlite,
        &[("WASL_ALLOWED_ORIGINS", "https://crm.example.com")],
    )
    .await;
    let owner = app.register("origins@acme.sa").await;
    let open = |origin: Option<String>| {
        let mut request = format!("ws://{}/api/v1/events?token={}", app.addr, owner.token)
            .into_client_request()
            .expect("request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("header"));
        }
        tokio_tungstenite::connect_async(request)
    };
    assert!(
        open(None).await.is_ok(),
        "a server without a browser sends no Origin"
    );
    assert!(
        open(Some(format!("http://{}", app.addr))).await.is_ok(),
        "wasl's own page"
    );
    assert!(
        open(Some("https://crm.example.com".into())).await.is_ok(),
        "a listed origin"
    );
    match open(Some("https://evil.example".into())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!(
            "another site's page must not open the socket: {:?}",
            other.map(|_| ())
        ),
    }
}

on_both_databases! {
    async fn media_types_with_control_characters_are_refused(app: TestApp) {
        let owner = linked(&app, "mime@acme.sa", "966500000960").await;
        for mime in ["image/png\r\nX-Injected: yes", "image/png\u{7}", "text/html\t"] {
            let body = json!({"from": "966551000960", "type": "image", "mediaBase64": "iVBORw0KGgo=", "mimeType": mime});
            let result = app.post("/api/v1/whatsapp/sandbox/default/incoming", &owner.token, body).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            assert_eq!(result.1["error"]["details"]["fields"][0]["field"], "mimeType", "{}", result.1);
        }
    }

    async fn emails_and_names_cannot_pass_for_someone_elses(app: TestApp) {
        let register = |email: &str, name: &str| app.call(reqwest::Method::POST, "/api/v1/auth/register", None,
            Some(json!({"organizationName": "متجر", "name": name, "email": email, "password": "correct horse battery"})));
        let (status, body) = register("Ｓara@ａcme.sa", "\u{202E}ةراس\u{202C}").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["user"]["email"], "sara@acme.sa", "the same address typed in full-width letters");
        assert_eq!(body["data"]["user"]["name"], "ةراس", "direction overrides are dropped");
        assert_error(&register("sara@acme.sa", "سارة").await, StatusCode::CONFLICT, "EMAIL_TAKEN");
        assert_eq!(app.login("SARA@acme.sa", "correct horse battery").await.0, StatusCode::OK);
        let hidden = register("sa\u{200B}ra@acme.sa", "سارة").await;
        assert_error(&hidden, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}
