//! WhatsApp sessions over HTTP (SPEC §4): create and link, list, status, QR, pairing code,
//! log out. The session manager decides; this module parses and renders.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::sessions::Linking;
use wasl_domain::{EngineKind, ParseError, PhoneNumber, Session, SessionName};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::SessionView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(session_status))
        .routes(routes!(session_qr))
        .routes(routes!(pairing_code))
        .routes(routes!(logout_session))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// 1–32 of a-z, 0-9, _ and - (default "default").
    session_name: Option<String>,
    /// web (default) or sandbox.
    engine: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairingCodeRequest {
    /// The number to link, in international form.
    phone_number: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    session_id: String,
    session: SessionView,
}

#[derive(Serialize, ToSchema)]
pub struct SessionData {
    session: SessionView,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    sessions: Vec<SessionView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QrData {
    /// `data:image/png;base64,…`
    qr_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct PairingCodeData {
    /// Enter it in WhatsApp: Linked devices → Link with phone number.
    code: String,
}

/// Finds the caller's session by name; another organization's session is 404.
pub(super) async fn find_session(
    state: &AppState,
    auth: &Auth,
    name: &str,
) -> Result<Session, ApiError> {
    Ok(state.sessions.find(auth, name).await?)
}

pub(super) fn view(state: &AppState, session: &Session) -> SessionView {
    SessionView::new(session, state.sessions.qr(&session.id))
}

/// Creates a session and starts linking it; a disconnected or logged-out session starts
/// linking again. The QR then comes from `GET …/qr`.
#[utoipa::path(post, path = "/api/v1/whatsapp/sessions", tag = "sessions", security(("bearer" = [])),
    request_body = CreateSessionRequest,
    responses((status = 201, body = Envelope<SessionCreated>), (status = 200, description = "already linking", body = Envelope<SessionCreated>),
              (status = 400), (status = 403, description = "PLAN_LIMIT_REACHED"), (status = 409, description = "SESSION_ALREADY_CONNECTED")))]
async fn create_session(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateSessionRequest>,
) -> Result<ApiOk<SessionCreated>, ApiError> {
    auth.require_manager()?;
    let (name, engine) = (
        SessionName::parse(body.session_name.as_deref().unwrap_or("default")),
        EngineKind::parse(body.engine.as_deref().unwrap_or("web")),
    )
        .validate()?;
    let (msg, session, created) = match state.sessions.create(&auth, name, engine).await? {
        Linking::Started(s) => (Msg::SessionCreated, s, true),
        Linking::AlreadyLinking(s) => (Msg::SessionPairing, s, false),
    };
    let data = SessionCreated {
        session_id: session.id.to_string(),
        session: view(&state, &session),
    };
    Ok(if created {
        ApiOk::created(msg, data)
    } else {
        ApiOk::ok(msg, data)
    })
}

/// The organization's sessions with their live status.
#[utoipa::path(get, path = "/api/v1/whatsapp/sessions", tag = "sessions", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<SessionList>)))]
async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<SessionList>, ApiError> {
    let page = query.parse()?;
    let sessions = state.sessions.list(&auth, page.clone()).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        SessionList {
            sessions: sessions.items.iter().map(|s| view(&state, s)).collect(),
            pagination: Pagination::new(&page, sessions.total),
        },
    ))
}

/// A session's status, with the last disconnect reason when there is one.
#[utoipa::path(get, path = "/api/v1/whatsapp/sessions/{sessionName}/status", tag = "sessions", security(("bearer" = [])),
    params(("sessionName" = String, Path)), responses((status = 200, body = Envelope<SessionData>), (status = 404)))]
async fn session_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<ApiOk<SessionData>, ApiError> {
    let session = find_session(&state, &auth, &name).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        SessionData {
            session: view(&state, &session),
        },
    ))
}

/// The current pairing QR as a PNG data URL. It changes every 20 seconds or so: fetch again.
#[utoipa::path(get, path = "/api/v1/whatsapp/sessions/{sessionName}/qr", tag = "sessions", security(("bearer" = [])),
    params(("sessionName" = String, Path)),
    responses((status = 200, body = Envelope<QrData>), (status = 404), (status = 409, description = "SESSION_ALREADY_CONNECTED or QR_NOT_READY")))]
async fn session_qr(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<ApiOk<QrData>, ApiError> {
    let qr_code = state.sessions.qr_code(&auth, &name).await?;
    Ok(ApiOk::ok(Msg::QrFetched, QrData { qr_code }))
}

/// A code to link the session by phone number instead of scanning the QR.
#[utoipa::path(post, path = "/api/v1/whatsapp/sessions/{sessionName}/pairing-code", tag = "sessions", security(("bearer" = [])),
    params(("sessionName" = String, Path)), request_body = PairingCodeRequest,
    responses((status = 200, body = Envelope<PairingCodeData>), (status = 400), (status = 404), (status = 409)))]
async fn pairing_code(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PairingCodeRequest>,
) -> Result<ApiOk<PairingCodeData>, ApiError> {
    auth.require_manager()?;
    let session = find_session(&state, &auth, &name).await?;
    let phone =
        PhoneNumber::parse_written("phoneNumber", &body.phone_number, auth.default_country)?;
    let code = state.sessions.pairing_code(&auth, &session, &phone).await?;
    Ok(ApiOk::ok(Msg::PairingCodeCreated, PairingCodeData { code }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `true` deletes a logged-out session for good, with its messages, conversations and
    /// media files (409 `SESSION_STILL_LINKED` while it is linked).
    #[param(pattern = "^(true|false)?$")]
    purge: Option<String>,
}

/// Logs the session out of WhatsApp and disconnects it. The record and its messages stay,
/// with status `logged_out`; creating it again links a number anew. With `purge=true`, a
/// logged-out session is deleted for good instead (answered with the session as it was).
#[utoipa::path(delete, path = "/api/v1/whatsapp/sessions/{sessionName}", tag = "sessions", security(("bearer" = [])),
    params(("sessionName" = String, Path), DeleteQuery), responses((status = 200, body = Envelope<SessionData>), (status = 400), (status = 404), (status = 409, description = "SESSION_STILL_LINKED")))]
async fn logout_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Response, ApiError> {
    let purge = match query.purge.as_deref() {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(_) => return Err(ParseError::new("purge", "must be true or false").into()),
    };
    if purge {
        let (session, paths) = state.sessions.delete_for_good(&auth, &name).await?;
        state.messaging.forget_media(&paths).await;
        return Ok(ApiOk::ok(
            Msg::SessionDeleted,
            SessionData {
                session: view(&state, &session),
            },
        )
        .into_response());
    }
    let session = state.sessions.log_out(&auth, &name).await?;
    Ok(ApiOk::ok(
        Msg::SessionLoggedOut,
        SessionData {
            session: view(&state, &session),
        },
    )
    .into_response())
}
