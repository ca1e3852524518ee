//! How the binary serves the dashboard: the page for every client-side route, assets with
//! their types, versioned asset paths cached for good and everything else revalidated by
//! ETag, a Content-Security-Policy, and redirects to the dashboard.

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

    // The page points at this release's versioned folder; what is under it never changes.
    let page = client
        .get(app.url("/dashboard/whatsapp/chats/some-conversation"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let start = page
        .find("/dashboard/whatsapp/assets/")
        .expect("the page links its assets");
    let rest = &page[start + "/dashboard/whatsapp/assets/".len()..];
    let version = &rest[..rest.find('/').expect("a versioned folder")];
    assert!(
        version.len() == 12 && version.bytes().all(|b| b.is_ascii_hexdigit()),
        "the assets' folder is their version: {version}"
    );
    assert!(
        page.contains(&format!("/dashboard/whatsapp/assets/{version}/js/app.js")),
        "the app's script is loaded from the versioned folder"
    );

    let versioned = app.url(&format!(
        "/dashboard/whatsapp/assets/{version}/js/pages/chat.js"
    ));
    let res = client.get(&versioned).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let body = res.bytes().await.expect("body");
    assert!(!body.is_empty());

    // The same file at its bare path has the same ETag and is revalidated.
    let res = client
        .get(app.url("/dashboard/whatsapp/assets/js/pages/chat.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["etag"].to_str().expect("etag"), etag);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.bytes().await.expect("body"), body);

    // A browser that has the file gets 304 with nothing in the body; a stale copy gets it anew.
    for path in [
        versioned.clone(),
        app.url("/dashboard/whatsapp/assets/js/pages/chat.js"),
    ] {
        let res = client
            .get(&path)
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(res.headers()["etag"].to_str().expect("etag"), etag);
        assert!(res.bytes().await.expect("body").is_empty());
        let res = client
            .get(&path)
            .header("if-none-match", "\"an-older-file\"")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }

    // The page itself is revalidated by its ETag too.
    let res = client
        .get(app.url("/dashboard/whatsapp"))
        .send()
        .await
        .expect("request");
    let page_etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    let res = client
        .get(app.url("/dashboard/whatsapp/chats"))
        .header("if-none-match", &page_etag)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // An unknown version is not a way to cache a file for good under a wrong name.
    let res = client
        .get(app.url("/dashboard/whatsapp/assets/0123456789ab/js/app.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["cache-control"], "no-cache");

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
