//! What the organization does with its sessions (SPEC §4): find them, create and link them
//! (within the plan's limit), see their QR or ask for a pairing code, and log them out.

use wasl_domain::{EngineKind, PhoneNumber, Session, SessionId, SessionName, SessionStatus};
use wasl_store::{Page, PageRequest};

use super::SessionManager;
use crate::accounts::Caller;
use crate::error::{AppError, AppResult, Conflict};

/// What creating a session did.
pub enum Linking {
    /// A new session (or one linked again), now waiting to be linked.
    Started(Session),
    /// The session was already being linked: the request changed nothing.
    AlreadyLinking(Session),
}

/// The caller's session of that name (see [`SessionManager::find`]).
pub(crate) async fn find_session(
    store: &wasl_store::Store,
    caller: &Caller,
    name: &str,
) -> AppResult<Session> {
    let name = SessionName::parse(name).map_err(|_| AppError::NotFound)?;
    store
        .sessions()
        .get(&caller.org_id, &name)
        .await?
        .ok_or(AppError::NotFound)
}

impl SessionManager {
    /// The caller's session of that name; another organization's session is not found.
    pub async fn find(&self, caller: &Caller, name: &str) -> AppResult<Session> {
        find_session(&self.inner.store, caller, name).await
    }

    /// Creates a session and starts linking it; a disconnected or logged-out one starts linking
    /// again. A connected one is a conflict; one already linking is handed back as it is, so a
    /// retried request is harmless. The plan's limit counts active sessions.
    pub async fn create(
        &self,
        caller: &Caller,
        name: SessionName,
        engine: EngineKind,
    ) -> AppResult<Linking> {
        caller.require_manager()?;
        if self.engines.get(engine).is_none() {
            return Err(AppError::EngineUnavailable(engine));
        }
        let store = &self.inner.store;
        let session = match store.sessions().get(&caller.org_id, &name).await? {
            Some(s) if s.is_active && s.status == SessionStatus::Connected => {
                return Err(Conflict::SessionAlreadyConnected.into());
            }
            Some(s)
                if s.is_active
                    && matches!(s.status, SessionStatus::Qr | SessionStatus::Connecting)
                    && s.engine == engine =>
            {
                if self.connection(&s.id).is_none() && self.qr(&s.id).is_none() {
                    self.start(&s).map_err(AppError::internal)?;
                }
                return Ok(Linking::AlreadyLinking(s));
            }
            Some(s) => {
                if !s.is_active {
                    self.check_plan(caller).await?;
                }
                self.logout(&s).await?;
                store
                    .sessions()
                    .reset(&s.id, engine)
                    .await?
                    .ok_or(AppError::NotFound)?
            }
            None => {
                let org = store
                    .organizations()
                    .get(&caller.org_id)
                    .await?
                    .ok_or(AppError::InvalidToken)?;
                let now = self.inner.clock.now_millis();
                let session = Session {
                    id: SessionId::new(&caller.org_id, &name),
                    organization_id: caller.org_id.clone(),
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
                if let Err(active) = store.sessions().insert_within(&session, limit).await? {
                    return Err(Conflict::PlanLimitReached {
                        plan: org.plan,
                        limit: limit.unwrap_or(0),
                        active,
                    }
                    .into());
                }
                session
            }
        };
        self.start(&session).map_err(AppError::internal)?;
        tracing::info!(session = %session.id, engine = engine.as_str(), "session created");
        Ok(Linking::Started(session))
    }

    async fn check_plan(&self, caller: &Caller) -> AppResult<()> {
        let store = &self.inner.store;
        let org = store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?;
        if let Some(limit) = org.plan.session_limit() {
            let active = store.sessions().count_active(&caller.org_id).await?;
            if active >= i64::from(limit) {
                return Err(Conflict::PlanLimitReached {
                    plan: org.plan,
                    limit,
                    active,
                }
                .into());
            }
        }
        Ok(())
    }

    /// The organization's sessions.
    pub async fn list(&self, caller: &Caller, page: PageRequest) -> AppResult<Page<Session>> {
        Ok(self
            .inner
            .store
            .sessions()
            .list(&caller.org_id, page)
            .await?)
    }

    /// The current pairing QR, as a PNG data URL.
    pub async fn qr_code(&self, caller: &Caller, name: &str) -> AppResult<String> {
        let session = self.find(caller, name).await?;
        if !self.capabilities(session.engine)?.linking.qr {
            return Err(Conflict::NotSupportedByEngine {
                engine: session.engine,
                what: "qr",
            }
            .into());
        }
        if session.status == SessionStatus::Connected {
            return Err(Conflict::SessionAlreadyConnected.into());
        }
        self.qr(&session.id)
            .ok_or(AppError::Conflict(Conflict::QrNotReady(Some(
                session.status,
            ))))
    }

    /// A code to link the session by phone number instead of the QR.
    pub async fn pairing_code(
        &self,
        caller: &Caller,
        session: &Session,
        phone: &PhoneNumber,
    ) -> AppResult<String> {
        caller.require_manager()?;
        if !self.capabilities(session.engine)?.linking.pairing_code {
            return Err(Conflict::NotSupportedByEngine {
                engine: session.engine,
                what: "pairing-code",
            }
            .into());
        }
        if session.status == SessionStatus::Connected {
            return Err(Conflict::SessionAlreadyConnected.into());
        }
        let connection = self
            .connection(&session.id)
            .ok_or(AppError::Conflict(Conflict::QrNotReady(None)))?;
        Ok(connection.pairing_code(phone).await?)
    }

    /// Deletes a logged-out session for good, with its messages and conversations; returns
    /// the media files they kept, which the caller removes. A linked session must be logged
    /// out first: deleting is never what ends a live link by accident.
    pub async fn delete_for_good(
        &self,
        caller: &Caller,
        name: &str,
    ) -> AppResult<(Session, Vec<String>)> {
        caller.require_manager()?;
        let session = self.find(caller, name).await?;
        if session.is_active && session.status != SessionStatus::LoggedOut {
            return Err(Conflict::SessionStillLinked.into());
        }
        self.stop(&session.id).await;
        if let Some(engine) = self.engines.get(session.engine) {
            engine.forget(&session.id).await?;
        }
        let paths = self.inner.store.sessions().delete(&session.id).await?;
        tracing::info!(session = %session.id, media = paths.len(), "session deleted for good");
        Ok((session, paths))
    }

    /// Logs the session out of WhatsApp and disconnects it; the record and its messages stay.
    pub async fn log_out(&self, caller: &Caller, name: &str) -> AppResult<Session> {
        caller.require_manager()?;
        let session = self.find(caller, name).await?;
        let session = self.logout(&session).await?.ok_or(AppError::NotFound)?;
        tracing::info!(session = %session.id, "session logged out");
        Ok(session)
    }
}
