//! The dashboard (SPEC §9): plain HTML, CSS and JavaScript modules embedded in the binary, so
//! the product works offline with no front-end server and no build step. Every path under
//! `/dashboard/whatsapp` that is not an asset answers the app's page, which routes itself.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
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
    asset!("js/router.js", JS),
    asset!("js/state.js", JS),
    asset!("js/pages/auth.js", JS),
    asset!("js/pages/sessions.js", JS),
    asset!("js/pages/pairing.js", JS),
    asset!("js/pages/chat.js", JS),
    asset!("js/pages/thread.js", JS),
    asset!("js/pages/contacts.js", JS),
    asset!("js/pages/stats.js", JS),
    asset!("js/pages/settings.js", JS),
    asset!("js/pages/hours.js", JS),
    asset!("js/countries.js", JS),
    asset!("js/attention.js", JS),
    asset!("js/theme.js", JS),
    asset!("js/emoji.js", JS),
    asset!("js/automation_kit.js", JS),
    asset!("js/quick_pick.js", JS),
    asset!("js/pages/automation.js", JS),
    asset!("js/pages/auto_replies.js", JS),
    asset!("js/pages/templates.js", JS),
    asset!("js/pages/quick_replies.js", JS),
    asset!("js/pages/scheduled.js", JS),
    asset!("js/pages/broadcasts.js", JS),
    asset!("js/pages/media_library.js", JS),
];

const INDEX: &str = include_str!("../assets/dashboard/index.html");

/// Versioned assets never change: a new release has a new version in their path.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page and unversioned asset paths are checked with the server on every use (cheaply,
/// by their ETag), so a new release is picked up at once.
const REVALIDATE: &str = "no-cache";

/// What the dashboard serves, worked out once: the version of this release's assets (a digest
/// of all of them), the page pointing at the versioned paths, and each file's ETag.
struct Served {
    version: String,
    index: String,
    index_etag: String,
    etags: Vec<String>,
}

fn digest(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

static SERVED: std::sync::LazyLock<Served> = std::sync::LazyLock::new(|| {
    let mut all: Vec<&[u8]> = Vec::new();
    for a in ASSETS {
        all.push(a.path.as_bytes());
        all.push(a.body);
    }
    let version = digest(&all)[..12].to_owned();
    // Every module imports the others by relative path, so pointing the page at the
    // versioned folder versions them all.
    let index = INDEX.replace(
        "/dashboard/whatsapp/assets/",
        &format!("/dashboard/whatsapp/assets/{version}/"),
    );
    Served {
        index_etag: format!("\"{}\"", digest(&[index.as_bytes()])),
        index,
        etags: ASSETS
            .iter()
            .map(|a| format!("\"{}\"", digest(&[a.body])))
            .collect(),
        version,
    }
});

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

async fn index(headers: HeaderMap) -> Response {
    let served = &*SERVED;
    cached(
        &headers,
        "text/html; charset=utf-8",
        served.index.as_bytes(),
        &served.index_etag,
        REVALIDATE,
    )
}

/// `<version>/<path>` is this release's file, cached for good; a bare `<path>` (or another
/// release's version) is the same file, revalidated each time.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let served = &*SERVED;
    let (path, cache) = match path.split_once('/') {
        Some((version, rest)) if version == served.version => (rest, IMMUTABLE),
        Some((version, rest)) if is_version(version) => (rest, REVALIDATE),
        _ => (path.as_str(), REVALIDATE),
    };
    match ASSETS.iter().position(|a| a.path == path) {
        Some(i) => cached(
            &headers,
            ASSETS[i].content_type,
            ASSETS[i].body,
            &served.etags[i],
            cache,
        ),
        None => with_headers(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            b"not found",
        ),
    }
}

fn is_version(segment: &str) -> bool {
    segment.len() == 12 && segment.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The file with its ETag, or 304 when the browser already has this very file.
fn cached(
    request: &HeaderMap,
    content_type: &'static str,
    body: &'static [u8],
    etag: &str,
    cache: &'static str,
) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let (status, body): (StatusCode, &'static [u8]) = if fresh {
        (StatusCode::NOT_MODIFIED, b"")
    } else {
        (StatusCode::OK, body)
    };
    let mut response = secured(status, content_type, body, CSP, cache);
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn with_headers(status: StatusCode, content_type: &'static str, body: &'static [u8]) -> Response {
    secured(status, content_type, body, CSP, REVALIDATE)
}

/// A page or asset of wasl's own, with the headers that keep it from being framed, sniffed or
/// made to run anything but wasl's own files (`csp`), cached as `cache` says.
pub(super) fn secured(
    status: StatusCode,
    content_type: &'static str,
    body: &'static [u8],
    csp: &'static str,
    cache: &'static str,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
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

    /// The dashboard offers exactly the countries the server accepts, with their codes.
    #[test]
    fn the_dashboards_countries_are_the_numbering_plans() {
        let expected: String = wasl_domain::Country::all()
            .iter()
            .map(|(country, code)| format!("  ['{country}', {code}],\n"))
            .collect();
        let file = include_str!("../assets/dashboard/js/countries.js");
        let listed = file
            .split_once("export const COUNTRIES = [\n")
            .and_then(|(_, rest)| rest.split_once("];"))
            .map(|(list, _)| list);
        assert_eq!(
            listed,
            Some(expected.as_str()),
            "countries.js should list, between its brackets:\n{expected}"
        );
    }

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
