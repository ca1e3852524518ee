//! A customer's media can never run as script in wasl's origin, whatever type the sender's app
//! claimed for it: it is typed from its bytes, only passive media is served inline, and every
//! media response forbids scripts.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::messaging::{linked, png_bytes};
use crate::on_both_databases;

const SVG: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('/x?'+localStorage.token)"><script>alert(document.domain)</script></svg>"#;
const HTML: &[u8] =
    b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>";

/// A customer sends `bytes` claiming `kind` and `mime`; returns the stored message.
async fn received(
    app: &TestApp,
    token: &str,
    id: &str,
    kind: &str,
    mime: &str,
    bytes: &[u8],
) -> Value {
    let body = json!({
        "from": "966551000950", "type": kind, "messageId": id, "mimeType": mime,
        "mediaBase64": base64::engine::general_purpose::STANDARD.encode(bytes),
    });
    let (status, res) = app
        .post("/api/v1/whatsapp/sandbox/default/incoming", token, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let (_, list) = app
        .get(
            "/api/v1/whatsapp/messages?direction=incoming&limit=100",
            token,
        )
        .await;
    list["data"]["messages"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["messageId"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("{id} stored: {list}"))
}

/// The media response's content type, disposition and CSP.
async fn served(app: &TestApp, token: &str, message: &Value) -> (String, String, String) {
    let url = message["content"]["mediaUrl"].as_str().expect("media url");
    let res = app
        .client
        .get(app.url(url))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let got = (
        header("content-type"),
        header("content-disposition"),
        header("content-security-policy"),
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    got
}

on_both_databases! {
    async fn customer_media_is_typed_by_its_bytes_and_never_served_as_script(app: TestApp) {
        let owner = linked(&app, "media-safety@acme.sa", "966500000950").await;

        // An "image" that is an SVG with a script: kept as a file, served as opaque bytes.
        let svg = received(&app, &owner.token, "SVG-1", "image", "image/svg+xml", SVG).await;
        assert_eq!(svg["type"], "document", "{svg}");
        assert_eq!(svg["content"]["mimeType"], "application/octet-stream", "{svg}");
        let (content_type, disposition, csp) = served(&app, &owner.token, &svg).await;
        assert_eq!(content_type, "application/octet-stream");
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(csp.split(';').any(|d| d.trim() == "sandbox"), "{csp}");

        // A document that is HTML: never text/html, never inline.
        let html = received(&app, &owner.token, "HTML-1", "document", "text/html", HTML).await;
        let (content_type, disposition, _) = served(&app, &owner.token, &html).await;
        assert!(!content_type.contains("html") && !content_type.contains("xml"), "{content_type}");
        assert!(disposition.starts_with("attachment"), "{disposition}");

        // A real picture whose sender claimed SVG is the picture it is, shown inline.
        let png = received(&app, &owner.token, "PNG-1", "image", "image/svg+xml", &png_bytes()).await;
        assert_eq!(png["type"], "image");
        assert_eq!(png["content"]["mimeType"], "image/png");
        let (content_type, disposition, csp) = served(&app, &owner.token, &png).await;
        assert_eq!((content_type.as_str(), disposition.as_str()), ("image/png", "inline"));
        assert!(csp.contains("sandbox"), "{csp}");
    }
}
