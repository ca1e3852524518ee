//! The one error type of the HTTP layer. Every failure becomes the envelope
//! `{success: false, message, data: null, error: {code, details}}` with the right status; a
//! server fault is logged with its cause and answered without it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use wasl_app::records::{StoreConflict, StoreError};
use wasl_app::{AppError, Conflict};
use wasl_domain::{ParseError, INVALID_PHONE_NUMBER};

use super::i18n::{current_lang, Msg};

/// Machine-readable error codes; clients switch on these, never on the message.
pub mod code {
    pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";
    pub const INVALID_PHONE_NUMBER: &str = "INVALID_PHONE_NUMBER";
    pub const INVALID_JSON: &str = "INVALID_JSON";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const ADMIN_DISABLED: &str = "ADMIN_DISABLED";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const EMAIL_TAKEN: &str = "EMAIL_TAKEN";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const LAST_OWNER: &str = "LAST_OWNER";
    pub const CANNOT_DELETE_SELF: &str = "CANNOT_DELETE_SELF";
    pub const NOT_READY: &str = "NOT_READY";
    pub const STORAGE_UNAVAILABLE: &str = "STORAGE_UNAVAILABLE";
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
    pub const SESSION_NOT_CONNECTED: &str = "SESSION_NOT_CONNECTED";
    pub const SESSION_ALREADY_CONNECTED: &str = "SESSION_ALREADY_CONNECTED";
    pub const QR_NOT_READY: &str = "QR_NOT_READY";
    pub const PLAN_LIMIT_REACHED: &str = "PLAN_LIMIT_REACHED";
    pub const ENGINE_UNAVAILABLE: &str = "ENGINE_UNAVAILABLE";
    pub const NOT_SANDBOX_SESSION: &str = "NOT_SANDBOX_SESSION";
    pub const NOT_SUPPORTED_BY_ENGINE: &str = "NOT_SUPPORTED_BY_ENGINE";
    pub const MESSAGE_NOT_FOUND: &str = "MESSAGE_NOT_FOUND";
    pub const MESSAGE_NOT_CONFIRMED: &str = "MESSAGE_NOT_CONFIRMED";
    pub const FILE_TOO_LARGE: &str = "FILE_TOO_LARGE";
    pub const CONTACT_BLOCKED: &str = "CONTACT_BLOCKED";
    pub const MESSAGE_NOT_SENT: &str = "MESSAGE_NOT_SENT";
    pub const SESSION_STILL_LINKED: &str = "SESSION_STILL_LINKED";
    pub const WEBHOOK_URL_NOT_ALLOWED: &str = "WEBHOOK_URL_NOT_ALLOWED";
    pub const DELIVERY_PENDING: &str = "DELIVERY_PENDING";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    pub const ORIGIN_NOT_ALLOWED: &str = "ORIGIN_NOT_ALLOWED";
    pub const CONTACT_OPTED_OUT: &str = "CONTACT_OPTED_OUT";
    pub const TEMPLATE_EXISTS: &str = "TEMPLATE_EXISTS";
    pub const TEMPLATE_IN_USE: &str = "TEMPLATE_IN_USE";
    pub const TEMPLATE_VARIABLE_MISSING: &str = "TEMPLATE_VARIABLE_MISSING";
    pub const TEMPLATE_VARIABLE_UNKNOWN: &str = "TEMPLATE_VARIABLE_UNKNOWN";
    pub const SHORT_CODE_TAKEN: &str = "SHORT_CODE_TAKEN";
    pub const MEDIA_IN_USE: &str = "MEDIA_IN_USE";
    pub const SCHEDULE_ENDED: &str = "SCHEDULE_ENDED";
    pub const BROADCAST_STARTED: &str = "BROADCAST_STARTED";
    pub const BROADCAST_NOT_STARTED: &str = "BROADCAST_NOT_STARTED";
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub msg: Msg,
    pub details: Option<Value>,
    pub retry_after_secs: Option<u64>,
    /// The cause of a server fault, for the log only.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, msg: Msg) -> Self {
        ApiError {
            status,
            code,
            msg,
            details: None,
            retry_after_secs: None,
            cause: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 400 with each field's code (for a client to translate) and reason (in English, for
    /// the developer). Only phone numbers wrong: `INVALID_PHONE_NUMBER`, which a CRM can act
    /// on without reading the fields.
    pub fn validation(errors: &[ParseError]) -> Self {
        let fields: Vec<Value> = errors
            .iter()
            .map(|e| json!({"field": e.field, "code": e.code, "reason": e.reason}))
            .collect();
        let phones_only =
            !errors.is_empty() && errors.iter().all(|e| e.code == INVALID_PHONE_NUMBER);
        let (code, msg) = if phones_only {
            (code::INVALID_PHONE_NUMBER, Msg::InvalidPhoneNumber)
        } else {
            (code::VALIDATION_ERROR, Msg::ValidationFailed)
        };
        Self::new(StatusCode::BAD_REQUEST, code, msg).with_details(json!({ "fields": fields }))
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, Msg::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, code::FORBIDDEN, Msg::Forbidden)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code::UNAUTHORIZED,
            Msg::Unauthorized,
        )
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_TOKEN,
            Msg::InvalidToken,
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            Msg::TooManyAttempts,
        )
        .with_details(json!({ "retryAfterSeconds": retry_after_secs }));
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// The storage cannot take writes right now (a full disk, a read-only directory, a
    /// database that does not answer): nothing was saved and the same request may be retried.
    pub fn storage_unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::STORAGE_UNAVAILABLE,
            Msg::StorageUnavailable,
        );
        e.retry_after_secs = Some(5);
        e
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_ERROR,
            Msg::Internal,
        );
        e.cause = Some(cause.to_string());
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(StoreConflict::Email) => {
                ApiError::new(StatusCode::CONFLICT, code::EMAIL_TAKEN, Msg::EmailTaken)
            }
            StoreError::Conflict(StoreConflict::Session) => ApiError::new(
                StatusCode::CONFLICT,
                code::SESSION_ALREADY_CONNECTED,
                Msg::SessionAlreadyConnected,
            ),
            e @ (StoreError::Unavailable(_) | StoreError::Connect(_)) => {
                // Logged with its cause: an operator has to free space or fix access.
                tracing::warn!(error = %e, "storage unavailable");
                ApiError::storage_unavailable()
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => ApiError::validation(&errors),
            AppError::NotFound => ApiError::not_found(),
            AppError::Forbidden => ApiError::forbidden(),
            AppError::InvalidToken => ApiError::invalid_token(),
            AppError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                code::INVALID_CREDENTIALS,
                Msg::InvalidCredentials,
            ),
            AppError::WrongCurrentPassword => ApiError::new(
                StatusCode::UNAUTHORIZED,
                code::INVALID_CREDENTIALS,
                Msg::WrongCurrentPassword,
            ),
            AppError::AccountDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                code::ACCOUNT_DISABLED,
                Msg::AccountDisabled,
            ),
            AppError::AdminDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                code::ADMIN_DISABLED,
                Msg::AdminDisabled,
            ),
            AppError::RateLimited(wait) => ApiError::rate_limited(wait.as_secs().max(1)),
            AppError::Conflict(conflict) => conflict_error(conflict),
            AppError::WebhookUrlNotAllowed(reason) => ApiError::new(
                StatusCode::BAD_REQUEST,
                code::WEBHOOK_URL_NOT_ALLOWED,
                Msg::WebhookUrlNotAllowed,
            )
            .with_details(json!({ "reason": reason })),
            AppError::EngineUnavailable(engine) => ApiError::new(
                StatusCode::BAD_REQUEST,
                code::ENGINE_UNAVAILABLE,
                Msg::EngineUnavailable,
            )
            .with_details(json!({ "engine": engine.as_str() })),
            AppError::MediaTooLarge { max_bytes } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::FILE_TOO_LARGE,
                Msg::FileTooLarge,
            )
            .with_details(json!({ "maxBytes": max_bytes })),
            AppError::Engine(e) => engine_error(e),
            AppError::TemplateVariables { missing, unknown } => {
                let (code, msg) = if missing.is_empty() {
                    (
                        code::TEMPLATE_VARIABLE_UNKNOWN,
                        Msg::TemplateVariableUnknown,
                    )
                } else {
                    (
                        code::TEMPLATE_VARIABLE_MISSING,
                        Msg::TemplateVariableMissing,
                    )
                };
                ApiError::new(StatusCode::BAD_REQUEST, code, msg)
                    .with_details(json!({ "missing": missing, "unknown": unknown }))
            }
            AppError::MessageNotConfirmed(reason) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::MESSAGE_NOT_CONFIRMED,
                Msg::MessageNotConfirmed,
            )
            .with_details(json!({ "reason": reason })),
            AppError::Store(e) => ApiError::from(e),
            AppError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// What an engine said, for the caller: not connected (or failing for now), already linked,
/// refused (a message it does not know), or a fault.
fn engine_error(e: wasl_engine::EngineError) -> ApiError {
    use wasl_engine::EngineError;
    match e {
        EngineError::NotConnected => ApiError::new(
            StatusCode::CONFLICT,
            code::SESSION_NOT_CONNECTED,
            Msg::SessionNotConnected,
        ),
        EngineError::InvalidState(_) => ApiError::new(
            StatusCode::CONFLICT,
            code::SESSION_ALREADY_CONNECTED,
            Msg::SessionAlreadyConnected,
        ),
        EngineError::Rejected(detail) => ApiError::new(
            StatusCode::NOT_FOUND,
            code::MESSAGE_NOT_FOUND,
            Msg::MessageNotFound,
        )
        .with_details(json!({ "reason": detail })),
        EngineError::Transient(detail) => ApiError::new(
            StatusCode::CONFLICT,
            code::SESSION_NOT_CONNECTED,
            Msg::SessionNotConnected,
        )
        .with_details(json!({ "reason": detail })),
        EngineError::Internal(detail) => ApiError::internal(detail),
    }
}

fn conflict_error(conflict: Conflict) -> ApiError {
    let conflict_with = |code, msg| ApiError::new(StatusCode::CONFLICT, code, msg);
    match conflict {
        Conflict::EmailTaken => conflict_with(code::EMAIL_TAKEN, Msg::EmailTaken),
        Conflict::LastOwner => conflict_with(code::LAST_OWNER, Msg::LastOwner),
        Conflict::CannotDeleteSelf => {
            conflict_with(code::CANNOT_DELETE_SELF, Msg::CannotDeleteSelf)
        }
        Conflict::SessionAlreadyConnected => conflict_with(
            code::SESSION_ALREADY_CONNECTED,
            Msg::SessionAlreadyConnected,
        ),
        Conflict::SessionNotConnected(status) => {
            conflict_with(code::SESSION_NOT_CONNECTED, Msg::SessionNotConnected)
                .with_details(json!({ "status": status.as_str() }))
        }
        Conflict::ContactBlocked => conflict_with(code::CONTACT_BLOCKED, Msg::ContactBlocked),
        Conflict::MessageNotSent => conflict_with(code::MESSAGE_NOT_SENT, Msg::MessageNotSent),
        Conflict::SessionStillLinked => {
            conflict_with(code::SESSION_STILL_LINKED, Msg::SessionStillLinked)
        }
        Conflict::PlanLimitReached {
            plan,
            limit,
            active,
        } => ApiError::new(
            StatusCode::FORBIDDEN,
            code::PLAN_LIMIT_REACHED,
            Msg::PlanLimitReached,
        )
        .with_details(json!({ "plan": plan.as_str(), "limit": limit, "active": active })),
        Conflict::QrNotReady(status) => {
            let e = conflict_with(code::QR_NOT_READY, Msg::QrNotReady);
            match status {
                Some(status) => e.with_details(json!({ "status": status.as_str() })),
                None => e,
            }
        }
        Conflict::NotSandboxSession => {
            conflict_with(code::NOT_SANDBOX_SESSION, Msg::NotSandboxSession)
        }
        Conflict::IdempotencyKeyReused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::IDEMPOTENCY_KEY_REUSED,
            Msg::IdempotencyKeyReused,
        ),
        Conflict::DeliveryPending => conflict_with(code::DELIVERY_PENDING, Msg::DeliveryPending),
        Conflict::ContactOptedOut => conflict_with(code::CONTACT_OPTED_OUT, Msg::ContactOptedOut),
        Conflict::TemplateExists => conflict_with(code::TEMPLATE_EXISTS, Msg::TemplateExists),
        Conflict::TemplateInUse(users) => conflict_with(code::TEMPLATE_IN_USE, Msg::TemplateInUse)
            .with_details(json!({ "usedBy": users })),
        Conflict::ShortCodeTaken => conflict_with(code::SHORT_CODE_TAKEN, Msg::ShortCodeTaken),
        Conflict::MediaInUse(users) => conflict_with(code::MEDIA_IN_USE, Msg::MediaInUse)
            .with_details(json!({ "usedBy": users })),
        Conflict::ScheduleEnded => conflict_with(code::SCHEDULE_ENDED, Msg::ScheduleEnded),
        Conflict::BroadcastStarted => conflict_with(code::BROADCAST_STARTED, Msg::BroadcastStarted),
        Conflict::BroadcastNotStarted => {
            conflict_with(code::BROADCAST_NOT_STARTED, Msg::BroadcastNotStarted)
        }
        Conflict::NotSupportedByEngine { engine, what } => {
            conflict_with(code::NOT_SUPPORTED_BY_ENGINE, Msg::NotSupportedByEngine)
                .with_details(json!({ "engine": engine.as_str(), "feature": what }))
        }
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        ApiError::validation(&[e])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, cause = ?self.cause, "request failed");
        }
        let body = ErrorEnvelope {
            success: false,
            message: self.msg.text(current_lang()),
            data: None,
            error: ErrorBody {
                code: self.code,
                details: self.details,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// The shape of every failed response.
#[derive(serde::Serialize)]
struct ErrorEnvelope {
    success: bool,
    message: &'static str,
    data: Option<()>,
    error: ErrorBody,
}

#[derive(serde::Serialize)]
struct ErrorBody {
    code: &'static str,
    details: Option<Value>,
}

/// Checks several parsed fields at once and reports every invalid one, not just the first.
pub trait Validate {
    type Output;
    fn validate(self) -> Result<Self::Output, ApiError>;
}

macro_rules! impl_validate {
    ($($t:ident),+) => {
        impl<$($t),+> Validate for ($(Result<$t, ParseError>,)+) {
            type Output = ($($t,)+);
            #[allow(non_snake_case)]
            fn validate(self) -> Result<Self::Output, ApiError> {
                let ($($t,)+) = self;
                let errors: Vec<ParseError> = [$($t.as_ref().err().cloned()),+].into_iter().flatten().collect();
                if !errors.is_empty() {
                    return Err(ApiError::validation(&errors));
                }
                Ok(($($t.map_err(|_| ApiError::internal("validated"))?,)+))
            }
        }
    };
}
impl_validate!(A);
impl_validate!(A, B);
impl_validate!(A, B, C);
impl_validate!(A, B, C, D);
impl_validate!(A, B, C, D, E);
impl_validate!(A, B, C, D, E, F);
impl_validate!(A, B, C, D, E, F, G);
