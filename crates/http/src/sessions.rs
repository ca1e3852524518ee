//! WhatsApp sessions over HTTP (SPEC §4): create and link, list, status, QR, pairing code,
//! log out. The session manager does the work; this module checks who may do what.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{
    EngineKind, Organization, PhoneNumber, Session, SessionId, SessionName, SessionStatus,
};

use super::error::{code, ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::SessionView;
use wasl_app::clock::now_millis;

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
    let name = SessionName::parse(name).map_err(|_| ApiError::not_found())?;
    state
        .store
        .session(&auth.org_id, &name)
        .await?
        .ok_or_else(ApiError::not_found)
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
    if state.sessions.engines().get(engine).is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            code::ENGINE_UNAVAILABLE,
            Msg::EngineUnavailable,
        )
        .with_details(serde_json::json!({ "engine": engine.as_str() })));
    }
    let existing = state.store.session(&auth.org_id, &name).await?;
    let session = match existing {
        Some(s) if s.is_active && s.status == SessionStatus::Connected => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                code::SESSION_ALREADY_CONNECTED,
                Msg::SessionAlreadyConnected,
            ));
        }
        Some(s)
            if s.is_active
                && matches!(s.status, SessionStatus::Qr | SessionStatus::Connecting)
                && s.engine == engine =>
        {
            // Already linking: answer with the session as it is, so a retried request is harmless.
            if state.sessions.connection(&s.id).is_none() && state.sessions.qr(&s.id).is_none() {
                state.sessions.start(&s).map_err(ApiError::internal)?;
            }
            return Ok(ApiOk::ok(
                Msg::SessionPairing,
                SessionCreated {
                    session_id: s.id.to_string(),
                    session: view(&state, &s),
                },
            ));
        }
        Some(s) => {
            if !s.is_active {
                check_plan(&state, &auth).await?;
            }
            state.sessions.logout(&s).await?;
            state
                .store
                .reset_session(&s.id, engine)
                .await?
                .ok_or_else(ApiError::not_found)?
        }
        None => {
            let org = organization(&state, &auth).await?;
            let now = now_millis();
            let session = Session {
                id: SessionId::new(&auth.org_id, &name),
                organization_id: auth.org_id.clone(),
                name,
                engine,
                phone_number: None,
                status: SessionStatus::Connecting,
                last_disconnect_reason: None,
                last_connected: None,
                last_disconnected: None,
                connection_attempts: 0,
                is_active: true,
                created_at: now,
                updated_at: now,
            };
            let limit = org.plan.session_limit();
            if let Err(active) = state.store.insert_session_within(&session, limit).await? {
                return Err(plan_limit_reached(&org, limit.unwrap_or(0), active));
            }
            session
        }
    };
    state.sessions.start(&session).map_err(ApiError::internal)?;
    tracing::info!(session = %session.id, engine = engine.as_str(), "session created");
    Ok(ApiOk::created(
        Msg::SessionCreated,
        SessionCreated {
            session_id: session.id.to_string(),
            session: view(&state, &session),
        },
    ))
}

async fn organization(state: &AppState, auth: &Auth) -> Result<Organization, ApiError> {
    state
        .store
        .organization(&auth.org_id)
        .await?
        .ok_or_else(ApiError::invalid_token)
}

async fn check_plan(state: &AppState, auth: &Auth) -> Result<(), ApiError> {
    let org = organization(state, auth).await?;
    if let Some(limit) = org.plan.session_limit() {
        let active = state.store.count_active_sessions(&auth.org_id).await?;
        if active >= i64::from(limit) {
            return Err(plan_limit_reached(&org, limit, active));
        }
    }
    Ok(())
}

fn plan_limit_reached(org: &Organization, limit: u32, active: i64) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        code::PLAN_LIMIT_REACHED,
        Msg::PlanLimitReached,
    )
    .with_details(
        serde_json::json!({ "plan": org.plan.as_str(), "limit": limit, "active": active }),
    )
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
    let sessions = state.store.list_sessions(&auth.org_id, page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        SessionList {
            sessions: sessions.items.iter().map(|s| view(&state, s)).collect(),
            pagination: Pagination::new(page, sessions.total),
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
    let session = find_session(&state, &auth, &name).await?;
    if session.status == SessionStatus::Connected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            code::SESSION_ALREADY_CONNECTED,
            Msg::SessionAlreadyConnected,
        ));
    }
    let qr_code = state.sessions.qr(&session.id).ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, code::QR_NOT_READY, Msg::QrNotReady)
            .with_details(serde_json::json!({ "status": session.status.as_str() }))
    })?;
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
    let phone = PhoneNumber::parse("phoneNumber", &body.phone_number)?;
    if session.status == SessionStatus::Connected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            code::SESSION_ALREADY_CONNECTED,
            Msg::SessionAlreadyConnected,
        ));
    }
    let connection = state
        .sessions
        .connection(&session.id)
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, code::QR_NOT_READY, Msg::QrNotReady))?;
    let code = connection
        .pairing_code(&phone)
        .await
        .map_err(super::sandbox::engine_error)?;
    Ok(ApiOk::ok(Msg::PairingCodeCreated, PairingCodeData { code }))
}

/// Logs the session out of WhatsApp and disconnects it. The record and its messages stay,
/// with status `logged_out`; creating it again links a number anew.
#[utoipa::path(delete, path = "/api/v1/whatsapp/sessions/{sessionName}", tag = "sessions", security(("bearer" = [])),
    params(("sessionName" = String, Path)), responses((status = 200, body = Envelope<SessionData>), (status = 404)))]
async fn logout_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<ApiOk<SessionData>, ApiError> {
    auth.require_manager()?;
    let session = find_session(&state, &auth, &name).await?;
    let session = state
        .sessions
        .logout(&session)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tracing::info!(session = %session.id, "session logged out");
    Ok(ApiOk::ok(
        Msg::SessionLoggedOut,
        SessionData {
            session: view(&state, &session),
        },
    ))
}
