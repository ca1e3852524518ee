//! The OpenAPI document and the interactive API docs page, both served by wasl itself so they
//! work offline.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

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
            get(|| async { Html(include_str!("../../assets/api-docs.html")) }),
        )
        .with_state(openapi)
}
