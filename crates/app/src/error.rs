//! The one error of the use cases. Each variant is something a caller can act on (the HTTP
//! layer turns it into a status and a code); a fault of the store or an engine keeps its cause
//! for the log.

use std::time::Duration;

use wasl_domain::{EngineKind, ParseError, Plan, SessionStatus};
use wasl_engine::EngineError;
use wasl_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What was asked is not valid; each field says why.
    #[error("not valid: {0:?}")]
    Invalid(Vec<ParseError>),
    /// Nothing of that id in the caller's organization (or it is not theirs to see).
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The token or key is unknown, expired, ended or its holder disabled.
    #[error("the token is not valid")]
    InvalidToken,
    #[error("the e-mail or password is wrong")]
    InvalidCredentials,
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("the account is disabled")]
    AccountDisabled,
    /// Platform administration is not enabled on this server.
    #[error("platform administration is not enabled")]
    AdminDisabled,
    /// Too many attempts: wait this long.
    #[error("too many attempts; retry in {0:?}")]
    RateLimited(Duration),
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// A webhook may not point there (a private address, another service's port).
    #[error("the webhook URL is not allowed: {0}")]
    WebhookUrlNotAllowed(String),
    /// The engine is not enabled on this server.
    #[error("the {0:?} engine is not available")]
    EngineUnavailable(EngineKind),
    /// The media file is larger than the session's engine sends.
    #[error("the file is larger than {max_bytes} bytes")]
    MediaTooLarge { max_bytes: usize },
    /// What the engine said.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A template's variables cannot be filled: these have no value, or are not the
    /// template's.
    #[error("template variables: missing {missing:?}, unknown {unknown:?}")]
    TemplateVariables {
        missing: Vec<String>,
        unknown: Vec<String>,
    },
    /// A customer's message was not confirmed as stored in time: send it again, same id.
    #[error("not confirmed in time: {0}")]
    MessageNotConfirmed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault that is no one's input.
    #[error("{0}")]
    Internal(String),
}

/// The state of something does not allow what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("the e-mail is taken")]
    EmailTaken,
    #[error("the organization must keep an active owner")]
    LastOwner,
    #[error("a person cannot delete themselves")]
    CannotDeleteSelf,
    #[error("the session is already connected")]
    SessionAlreadyConnected,
    #[error("the session is {0:?}, not connected")]
    SessionNotConnected(SessionStatus),
    #[error("the contact is blocked")]
    ContactBlocked,
    #[error("the plan's session limit is reached")]
    PlanLimitReached { plan: Plan, limit: u32, active: i64 },
    /// No QR code yet; the session's status, when it is known.
    #[error("no QR code yet")]
    QrNotReady(Option<SessionStatus>),
    #[error("the session does not run on the sandbox engine")]
    NotSandboxSession,
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    #[error("the delivery is still pending")]
    DeliveryPending,
    /// WhatsApp has not accepted the message (it is pending or failed): nobody can react to it.
    #[error("the message was not sent")]
    MessageNotSent,
    /// A session is deleted for good only once it is logged out.
    #[error("the session is still linked")]
    SessionStillLinked,
    /// The contact asked for no more marketing (a stop word).
    #[error("the contact opted out of marketing")]
    ContactOptedOut,
    /// A template of this name exists in that language.
    #[error("a template of this name and language exists")]
    TemplateExists,
    /// An auto-reply answers with this template; it cannot be deleted.
    #[error("the template is in use by {0:?}")]
    TemplateInUse(Vec<String>),
    /// A quick reply with this short code exists among those the same people see.
    #[error("the short code is taken")]
    ShortCodeTaken,
    /// A template, quick reply or auto-reply sends this file; it cannot be deleted.
    #[error("the media file is in use by {0:?}")]
    MediaInUse(Vec<String>),
    /// A broadcast that has started: its audience and message are fixed.
    #[error("the broadcast has started")]
    BroadcastStarted,
    /// A draft broadcast has nothing to pause or resume.
    #[error("the broadcast has not started")]
    BroadcastNotStarted,
    /// A cancelled or completed schedule (or broadcast) cannot be paused, resumed or changed.
    #[error("it has ended")]
    ScheduleEnded,
    /// The session's engine has no such thing (a QR on an engine linked by credentials).
    #[error("the {engine:?} engine does not support {what}")]
    NotSupportedByEngine {
        engine: EngineKind,
        what: &'static str,
    },
}

impl From<ParseError> for AppError {
    fn from(e: ParseError) -> Self {
        AppError::Invalid(vec![e])
    }
}

impl AppError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
