//! Live events over a WebSocket at `/api/v1/events` (SPEC §8), for the dashboard: the caller's
//! organization's events only, each frame the same JSON a webhook receives. `?since=<event
//! id>` first replays what was missed from the event log, so a client that reconnects loses
//! nothing.

use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::records::webhook_body;

use super::error::{code, ApiError};
use super::extract::{authenticate, ApiQuery, Auth};
use super::i18n::Msg;
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// A sign-in token or API key, for clients that cannot set the Authorization header.
    token: Option<String>,
    /// Replay the events after this event id first.
    since: Option<String>,
}

/// The upgrade, or a 400 in the envelope when the request is not a WebSocket handshake.
pub struct Upgrade(WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        WebSocketUpgrade::from_request_parts(parts, state).await.map(Upgrade).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, code::VALIDATION_ERROR, Msg::ValidationFailed)
                .with_details(serde_json::json!({ "reason": e.to_string(), "expected": "a WebSocket upgrade" }))
        })
    }
}

/// Opens the live event stream of the caller's organization.
#[utoipa::path(get, path = "/api/v1/events", tag = "webhooks", security(("bearer" = [])), params(EventsQuery),
    responses((status = 101, description = "WebSocket: one JSON event per text frame"), (status = 400), (status = 401)))]
async fn events(
    State(state): State<AppState>,
    parts: HeaderToken,
    origin: RequestOrigin,
    ApiQuery(query): ApiQuery<EventsQuery>,
    upgrade: Upgrade,
) -> Result<Response, ApiError> {
    origin.check(&state)?;
    let token = parts.0.or(query.token).ok_or_else(ApiError::unauthorized)?;
    let auth = authenticate(&state, &token).await?;
    let since = query.since.filter(|s| !s.is_empty() && s.len() <= 64);
    // Subscribed before the upgrade is answered: an event that happens once the client sees
    // the socket open reaches it, however late the socket's own task starts.
    let feeds = Feeds {
        revoked: state.accounts.revocations().subscribe(),
        live: state.messaging.bus().subscribe(),
    };
    Ok(upgrade
        .0
        .on_upgrade(move |socket| stream(state, auth, token, since, feeds, socket)))
}

/// What an open socket listens to: the ends of access, and the organization's events.
struct Feeds {
    revoked: tokio::sync::broadcast::Receiver<wasl_app::auth::revocation::Revoked>,
    live: tokio::sync::broadcast::Receiver<wasl_app::records::StoredEvent>,
}

/// Where a browser says the page opening the socket comes from (`Origin`), and the host the
/// request was sent to. A page of another site must not open a socket with a token it
/// obtained somehow: only wasl's own pages and the origins the operator lists may. Clients
/// that are not browsers send no `Origin` and are let through (their token is what counts).
pub struct RequestOrigin {
    origin: Option<String>,
    host: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_ascii_lowercase())
        };
        Ok(RequestOrigin {
            origin: header(header::ORIGIN),
            host: header(header::HOST),
        })
    }
}

impl RequestOrigin {
    fn check(&self, state: &AppState) -> Result<(), ApiError> {
        let Some(origin) = &self.origin else {
            return Ok(());
        };
        let own = origin
            .split_once("://")
            .is_some_and(|(_, authority)| Some(authority) == self.host.as_deref());
        if own || state.settings.allowed_origins.iter().any(|o| o == origin) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::ORIGIN_NOT_ALLOWED,
            Msg::OriginNotAllowed,
        )
        .with_details(serde_json::json!({ "origin": origin, "allow": "WASL_ALLOWED_ORIGINS" })))
    }
}

/// The close code a socket ends with when its credential no longer holds (removed, disabled,
/// demoted, signed out, password changed, expired): 4401, "unauthorized".
pub const ACCESS_ENDED: u16 = 4401;

/// Checks the socket's credential again: `false` when it no longer gives access to this
/// organization. A database that cannot answer right now does not end the socket.
async fn still_allowed(state: &AppState, auth: &Auth, token: &str) -> bool {
    match authenticate(state, token).await {
        Ok(now) => now.org_id == auth.org_id,
        Err(e) => e.status.is_server_error(),
    }
}

/// The bearer token of the Authorization header, if there is one.
pub struct HeaderToken(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for HeaderToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(HeaderToken(
            parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_owned()),
        ))
    }
}

async fn stream(
    state: AppState,
    auth: Auth,
    token: String,
    since: Option<String>,
    feeds: Feeds,
    mut socket: WebSocket,
) {
    let org = auth.org_id.clone();
    // Subscribed before replaying (in `events`), so nothing falls between the replay and the
    // live feed.
    let Feeds {
        mut revoked,
        mut live,
    } = feeds;
    let mut last = since.clone().unwrap_or_default();
    if let Some(since) = since {
        loop {
            let batch = match state.messaging.events_after(&org, Some(&last), 500).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "cannot replay events");
                    break;
                }
            };
            let done = batch.len() < 500;
            for event in batch {
                last = event.id.clone();
                if socket
                    .send(Frame::Text(webhook_body(&event).to_string().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if done {
                break;
            }
        }
        let _ = since;
    }
    let mut heartbeat = tokio::time::interval(std::time::Duration::from_secs(25));
    loop {
        tokio::select! {
            event = live.recv() => match event {
                Ok(event) if event.organization_id == org && event.id > last => {
                    if socket.send(Frame::Text(webhook_body(&event).to_string().into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    // Too slow to keep up: say so; the client can reconnect with `since`.
                    let notice = serde_json::json!({ "type": "events.lagged", "data": { "missed": missed } });
                    if socket.send(Frame::Text(notice.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            change = revoked.recv() => {
                let recheck = match change {
                    Ok(change) => auth.concerned_by(&change),
                    // Missed some: check, to be sure.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => false,
                };
                if recheck && !still_allowed(&state, &auth, &token).await {
                    end(socket).await;
                    return;
                }
            }
            _ = heartbeat.tick() => {
                // Also a backstop for what no revocation announces: a token that expired.
                if !still_allowed(&state, &auth, &token).await {
                    end(socket).await;
                    return;
                }
                if socket.send(Frame::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Closes a socket whose access ended, saying so, so the client does not reconnect with it.
async fn end(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: ACCESS_ENDED,
        reason: "access ended".into(),
    };
    let _ = socket.send(Frame::Close(Some(frame))).await;
}
