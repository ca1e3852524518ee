//! How the binary serves the dashboard: the page for every client-side route, assets with
//! their types, no caching, a Content-Security-Policy, and redirects to the dashboard.

use reqwest::StatusCode;

use crate::server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_with_its_headers() {
    let app = server::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    for path in ["/", "/dashboard", "/dashboard/"] {
        let res = client.get(app.url(path)).send().await.expect("request");
        assert!(res.status().is_redirection(), "{path}: {}", res.status());
        assert_eq!(
            res.headers()["location"],
            "/dashboard/whatsapp",
            "{path} redirects to the dashboard"
        );
    }

    for path in [
        "/dashboard/whatsapp",
        "/dashboard/whatsapp/",
        "/dashboard/whatsapp/chat",
        "/dashboard/whatsapp/contacts/some/deep/route",
    ] {
        let res = client.get(app.url(path)).send().await.expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let headers = res.headers().clone();
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(headers["cache-control"], "no-cache", "{path}");
        let csp = headers["content-security-policy"]
            .to_str()
            .expect("ASCII policy");
        for part in [
            "default-src 'self'",
            "script-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "connect-src 'self' ws: wss:",
        ] {
            assert!(csp.contains(part), "{path}: CSP lacks {part}: {csp}");
        }
        let body = res.text().await.expect("body");
        assert!(body.contains(r#"<html lang="ar" dir="rtl">"#), "{path}");
    }

    for (path, content_type) in [
        ("app.css", "text/css; charset=utf-8"),
        ("js/app.js", "text/javascript; charset=utf-8"),
        ("js/pages/chat.js", "text/javascript; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
    ] {
        let res = client
            .get(app.url(&format!("/dashboard/whatsapp/assets/{path}")))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], content_type, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
    }

    let res = client
        .get(app.url("/dashboard/whatsapp/assets/js/missing.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "an unknown asset is a 404, not the page"
    );
}
