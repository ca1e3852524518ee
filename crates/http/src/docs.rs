//! The OpenAPI document and the interactive API docs page, both served by wasl itself so they
//! work offline. The page is wasl's own files only (no inline script or style), under the same
//! kind of content security policy as the dashboard.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use super::dashboard::secured;

/// Scripts, styles and requests from wasl itself only; never framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
    img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = include_str!("../assets/api-docs/index.html");
const SCRIPT: &str = include_str!("../assets/api-docs/api-docs.js");
const STYLE: &str = include_str!("../assets/api-docs/api-docs.css");

pub fn router(openapi: Arc<String>) -> Router {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(|State(doc): State<Arc<String>>| async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    doc.as_str().to_owned(),
                )
                    .into_response()
            }),
        )
        .route(
            "/api/docs",
            get(|| async {
                secured(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    PAGE.as_bytes(),
                    CSP,
                    "no-cache",
                )
            }),
        )
        .route("/api/docs/assets/{file}", get(asset))
        .with_state(openapi)
}

async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "api-docs.js" => secured(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            SCRIPT.as_bytes(),
            CSP,
            "no-cache",
        ),
        "api-docs.css" => secured(
            StatusCode::OK,
            "text/css; charset=utf-8",
            STYLE.as_bytes(),
            CSP,
            "no-cache",
        ),
        _ => secured(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            b"not found",
            CSP,
            "no-cache",
        ),
    }
}
