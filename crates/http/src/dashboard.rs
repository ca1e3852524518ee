//! The dashboard (SPEC §9): plain HTML, CSS and JavaScript modules embedded in the binary, so
//! the product works offline with no front-end server and no build step. Every path under
//! `/dashboard/whatsapp` that is not an asset answers the app's page, which routes itself.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const BASE: &str = "/dashboard/whatsapp";

/// Scripts and styles only from wasl itself; images and media also from `data:` (QR codes)
/// and `blob:` (media fetched with the Authorization header); the live events over `ws:`.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' data: blob:; connect-src 'self' ws: wss:; \
    font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

struct Asset {
    path: &'static str,
    body: &'static [u8],
    content_type: &'static str,
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            body: include_bytes!(concat!("../assets/dashboard/", $path)),
            content_type: $type,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Everything under `/dashboard/whatsapp/assets/`, by path.
const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("logo.svg", "image/svg+xml"),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/i18n.js", JS),
    asset!("js/ui.js", JS),
    asset!("js/icons.js", JS),
    asset!("js/pages/auth.js", JS),
    asset!("js/pages/sessions.js", JS),
    asset!("js/pages/pairing.js", JS),
    asset!("js/pages/chat.js", JS),
    asset!("js/pages/thread.js", JS),
    asset!("js/pages/contacts.js", JS),
    asset!("js/pages/stats.js", JS),
];

const INDEX: &str = include_str!("../assets/dashboard/index.html");

pub fn router() -> Router {
    Router::new()
        .route("/", get(to_dashboard))
        .route("/dashboard", get(to_dashboard))
        .route("/dashboard/", get(to_dashboard))
        .route(BASE, get(index))
        .route("/dashboard/whatsapp/", get(index))
        .route("/dashboard/whatsapp/assets/{*path}", get(asset))
        .route("/dashboard/whatsapp/{*route}", get(index))
}

async fn to_dashboard() -> Redirect {
    Redirect::temporary(BASE)
}

async fn index() -> Response {
    with_headers(StatusCode::OK, "text/html; charset=utf-8", INDEX.as_bytes())
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => with_headers(StatusCode::OK, a.content_type, a.body),
        None => with_headers(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            b"not found",
        ),
    }
}

fn with_headers(status: StatusCode, content_type: &'static str, body: &'static [u8]) -> Response {
    secured(status, content_type, body, CSP)
}

/// A page or asset of wasl's own, with the headers that keep it from being framed, sniffed or
/// made to run anything but wasl's own files (`csp`). The app changes with every release and
/// is small: browsers revalidate instead of caching.
pub(super) fn secured(
    status: StatusCode,
    content_type: &'static str,
    body: &'static [u8],
    csp: &'static str,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every asset the page or a module refers to is served, so a renamed file cannot ship
    /// as a broken dashboard.
    #[test]
    fn every_referenced_asset_is_served() {
        let mut sources = vec![("index.html", INDEX.to_owned())];
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            sources.push((a.path, String::from_utf8_lossy(a.body).into_owned()));
        }
        for (file, text) in &sources {
            for part in text.split("/dashboard/whatsapp/assets/").skip(1) {
                let path: String = part
                    .chars()
                    .take_while(|c| !matches!(c, '"' | '\'' | '`' | ')' | '?'))
                    .collect();
                assert!(
                    ASSETS.iter().any(|a| a.path == path),
                    "{file} refers to {path}, which is not served"
                );
            }
            for part in text.split(" from '").skip(1) {
                let spec: String = part.chars().take_while(|c| *c != '\'').collect();
                let path = resolve(file, &spec);
                assert!(
                    ASSETS.iter().any(|a| a.path == path),
                    "{file} imports {spec}, which is not served"
                );
            }
        }
    }

    /// Resolves a module's relative import against the importing file's folder.
    fn resolve(file: &str, spec: &str) -> String {
        let mut parts: Vec<&str> = file.split('/').collect();
        parts.pop();
        for segment in spec.split('/') {
            match segment {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/")
    }
}
