//! The sandbox's simulated phones, driven through the API (SPEC §4): scan a session's QR,
//! write as a customer, read what the session sent, drop the connection. Only owners and
//! admins drive them, and only on sessions of the sandbox engine.

use std::sync::Arc;

use wasl_domain::{EngineKind, PhoneNumber, Session};
use wasl_engine::sandbox::SandboxEngine;
use wasl_engine::{EngineError, IncomingMessage, IncomingReaction};

use super::SessionManager;
use crate::accounts::Caller;
use crate::error::{AppError, AppResult, Conflict};

impl SessionManager {
    /// The sandbox engine and the caller's sandbox session of that name.
    async fn sandbox(
        &self,
        caller: &Caller,
        name: &str,
    ) -> AppResult<(Arc<SandboxEngine>, Session)> {
        caller.require_manager()?;
        let session = self.find(caller, name).await?;
        let engine = self
            .engines
            .sandbox()
            .cloned()
            .ok_or(AppError::EngineUnavailable(EngineKind::Sandbox))?;
        if session.engine != EngineKind::Sandbox {
            return Err(Conflict::NotSandboxSession.into());
        }
        Ok((engine, session))
    }

    /// The simulated phone scans the session's QR: the session connects as `phone`.
    pub async fn sandbox_scan(
        &self,
        caller: &Caller,
        name: &str,
        phone: PhoneNumber,
    ) -> AppResult<Session> {
        let (engine, session) = self.sandbox(caller, name).await?;
        engine.scan(&session.id, phone)?;
        Ok(session)
    }

    /// A simulated customer writes; returns once wasl has stored the message. One not confirmed
    /// in time is to be sent again with the same id.
    pub async fn sandbox_incoming(
        &self,
        caller: &Caller,
        name: &str,
        message: IncomingMessage,
    ) -> AppResult<Session> {
        let (engine, session) = self.sandbox(caller, name).await?;
        engine
            .incoming(&session.id, message)
            .await
            .map_err(unconfirmed)?;
        Ok(session)
    }

    /// A simulated customer reacts to a message of their chat; returns once wasl has stored
    /// the reaction.
    pub async fn sandbox_reaction(
        &self,
        caller: &Caller,
        name: &str,
        reaction: IncomingReaction,
    ) -> AppResult<Session> {
        let (engine, session) = self.sandbox(caller, name).await?;
        engine
            .reaction(&session.id, reaction)
            .await
            .map_err(unconfirmed)?;
        Ok(session)
    }

    /// The simulated customer reads a message the session sent.
    pub async fn sandbox_read(
        &self,
        caller: &Caller,
        name: &str,
        message_id: &str,
    ) -> AppResult<Session> {
        let (engine, session) = self.sandbox(caller, name).await?;
        engine.read(&session.id, message_id)?;
        Ok(session)
    }

    /// The session's connection breaks, as a network failure would break it.
    pub async fn sandbox_drop(&self, caller: &Caller, name: &str) -> AppResult<Session> {
        let (engine, session) = self.sandbox(caller, name).await?;
        engine.drop_connection(&session.id)?;
        Ok(session)
    }
}

/// A customer's message or reaction not confirmed as stored in time: the phone sends it again,
/// with the same id.
fn unconfirmed(e: EngineError) -> AppError {
    match e {
        EngineError::Transient(detail) => AppError::MessageNotConfirmed(detail),
        other => other.into(),
    }
}
