//! The HTTP API: one router per area, merged here with the OpenAPI document they describe,
//! plus the middleware every request passes (language, metrics and logs) and the envelope for
//! unknown routes.

mod admin;
mod api_keys;
mod auth;
mod auto_replies;
mod broadcasts;
mod contacts;
mod conversations;
mod dashboard;
mod docs;
pub mod error;
mod events;
pub mod extract;
mod health;
pub mod i18n;
mod media_library;
mod messages;
pub mod metrics;
mod openapi;
mod organization;
mod quick_replies;
mod response;
mod sandbox;
mod scheduled_messages;
mod sessions;
pub mod state;
mod templates;
mod upload;
mod users;
pub mod views;
mod webhooks;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use wasl_domain::Lang;

use error::{code, ApiError};
use i18n::Msg;
use state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "wasl API", description = "وصل — a self-hosted, multi-tenant WhatsApp platform. \
        Every response is the envelope {success, message, data}; errors add {error: {code, details}}. \
        Messages are Arabic by default; send `Accept-Language: en` for English. \
        No string anywhere may hold the NUL character (U+0000): it is refused with 400."),
    modifiers(&Security),
    tags((name = "auth"), (name = "users"), (name = "api-keys"), (name = "sessions"), (name = "sandbox"), (name = "messages"), (name = "contacts"), (name = "conversations"), (name = "templates"), (name = "quick-replies"), (name = "media"), (name = "auto-replies"), (name = "scheduled-messages"), (name = "broadcasts"), (name = "webhooks"), (name = "admin"), (name = "health"))
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |desc: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(desc.to_owned()))
                    .build(),
            )
        };
        components.add_security_scheme(
            "bearer",
            bearer("A sign-in token (JWT) or an API key (wasl_…)"),
        );
        components.add_security_scheme("admin", bearer("WASL_ADMIN_TOKEN"));
    }
}

/// The API's routes and the OpenAPI document generated from the very same registrations, so
/// a route cannot exist without being documented.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(users::router())
        .merge(organization::router())
        .merge(api_keys::router())
        .merge(sessions::router())
        .merge(sandbox::router())
        .merge(messages::router())
        .merge(contacts::router())
        .merge(conversations::router())
        .merge(templates::router())
        .merge(quick_replies::router())
        .merge(media_library::router())
        .merge(auto_replies::router())
        .merge(scheduled_messages::router())
        .merge(broadcasts::router())
        .merge(webhooks::router())
        .merge(events::router())
        .merge(admin::router())
        .merge(health::router())
        .split_for_parts()
}

/// The whole application: API, docs, fallbacks and middleware.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api();
    let openapi = serde_json::to_value(&openapi)
        .map(openapi::complete)
        .map(|doc| doc.to_string())
        .unwrap_or_else(|_| "{}".to_owned());
    let openapi = Arc::new(openapi);
    let default_lang = state.settings.default_lang;
    let api = api.route_layer(middleware::from_fn(extract::nameable_path));
    api.fallback(|| async {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code::ROUTE_NOT_FOUND,
            Msg::RouteNotFound,
        )
    })
    .method_not_allowed_fallback(|| async {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            Msg::MethodNotAllowed,
        )
    })
    .layer(middleware::from_fn_with_state(state.clone(), observe))
    .with_state(state)
    .merge(docs::router(openapi))
    .merge(dashboard::router())
    .layer(middleware::from_fn_with_state(default_lang, language))
    .layer(middleware::map_response(no_sniffing))
}

/// Every answer is what its content type says: browsers must not guess another type (a JSON
/// error that quotes a client's HTML must never render as a page).
async fn no_sniffing(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}

/// Chooses the language of the response from `Accept-Language`, else the server default.
async fn language(State(default): State<Lang>, req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(default);
    i18n::with_lang(lang, next.run(req)).await
}

/// Counts and times every request by route (never by raw path, which would let anyone grow
/// the metrics without bound), and logs it.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let client = extract::client_address(
        req.headers(),
        req.extensions(),
        state.settings.trust_forwarded_for,
    );
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .record_request(method.as_str(), &route, status, elapsed);
    tracing::info!(
        method = %method,
        route = %route,
        client = %client,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[cfg(test)]
mod layering {
    /// The HTTP layer parses, calls a use case and renders: it never reaches the store, and
    /// does not even depend on it, so that no rule can slip back into a handler.
    #[test]
    fn the_http_layer_does_not_depend_on_the_store() {
        let manifest = include_str!("../Cargo.toml");
        let dependencies = manifest.split("[dev-dependencies]").next().unwrap_or("");
        assert!(
            !dependencies.contains("wasl-store"),
            "crates/http must not depend on wasl-store; call crates/app instead"
        );
    }
}
