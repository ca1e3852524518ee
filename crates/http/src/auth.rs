//! Registration, sign-in and "who am I" (SPEC §2).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::accounts::{Registration, SignedIn};
use wasl_domain::{Email, ParseError, Password, PersonName};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, Auth, ClientIp, Credential};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;
use super::views::{OrganizationView, UserView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    #[schema(example = "شركة الأمل")]
    organization_name: String,
    #[schema(example = "سارة")]
    name: String,
    #[schema(example = "sara@example.com")]
    email: String,
    /// 8 to 128 characters.
    password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuthData {
    /// Send it as `Authorization: Bearer <token>`.
    token: String,
    user: UserView,
    organization: OrganizationView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeData {
    /// The signed-in person, or the person who created the API key in use.
    user: Option<UserView>,
    organization: OrganizationView,
    /// The id of the API key in use, when the caller is a server.
    api_key_id: Option<String>,
}

impl From<SignedIn> for AuthData {
    fn from(signed: SignedIn) -> Self {
        AuthData {
            token: signed.token,
            user: UserView::from(&signed.user),
            organization: OrganizationView::from(&signed.organization),
        }
    }
}

/// Creates an organization and its owner, and signs the owner in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses((status = 201, body = Envelope<AuthData>), (status = 400), (status = 409, description = "EMAIL_TAKEN"),
              (status = 429, description = "RATE_LIMITED: this address registered its hourly share")))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<ApiOk<AuthData>, ApiError> {
    let (organization_name, name, email, password) = (
        PersonName::parse("organizationName", &body.organization_name),
        PersonName::parse("name", &body.name),
        Email::parse(&body.email),
        Password::parse(&body.password),
    )
        .validate()?;
    let registration = Registration {
        organization_name,
        name,
        email,
        password,
    };
    let signed = state.accounts.register(registration, ip).await?;
    Ok(ApiOk::created(Msg::Registered, signed.into()))
}

/// Signs in with e-mail and password. Repeated failures answer 429 for a while.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = Envelope<AuthData>), (status = 401, description = "INVALID_CREDENTIALS"),
              (status = 429, description = "RATE_LIMITED")))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<ApiOk<AuthData>, ApiError> {
    let signed = state.accounts.login(&body.email, body.password, ip).await?;
    Ok(ApiOk::ok(Msg::LoggedIn, signed.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    current_password: String,
    /// 8 to 128 characters.
    new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedOut {
    /// Always true: this token no longer works.
    #[serde(rename = "signedOut")]
    signed_out: bool,
}

/// Signs out: the sign-in token of this request stops working at once, on every socket too.
/// (An API key is revoked by deleting it.)
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<SignedOut>), (status = 401), (status = 403, description = "FORBIDDEN: an API key (delete the key instead)")))]
async fn logout(State(state): State<AppState>, auth: Auth) -> Result<ApiOk<SignedOut>, ApiError> {
    state.accounts.logout(&auth).await?;
    Ok(ApiOk::ok(Msg::LoggedOut, SignedOut { signed_out: true }))
}

/// Changes the caller's own password. Every sign-in token issued before stops working (on
/// other devices too); the answer carries a new one for this device.
#[utoipa::path(put, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = Envelope<AuthData>), (status = 400), (status = 401, description = "INVALID_CREDENTIALS: the current password is wrong"),
              (status = 403, description = "FORBIDDEN: an API key has no password")))]
async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<ApiOk<AuthData>, ApiError> {
    if !auth.is_person() {
        return Err(ApiError::forbidden());
    }
    let new_password = Password::parse(&body.new_password)
        .map_err(|e| ApiError::from(ParseError::new("newPassword", e.reason)))?;
    let signed = state
        .accounts
        .change_password(&auth, body.current_password, new_password)
        .await?;
    Ok(ApiOk::ok(Msg::PasswordChanged, signed.into()))
}

/// The caller: their user (for a token) and organization.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<MeData>), (status = 401)))]
async fn me(State(state): State<AppState>, auth: Auth) -> Result<ApiOk<MeData>, ApiError> {
    let (user, organization) = state.accounts.me(&auth).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        MeData {
            user: user.as_ref().map(UserView::from),
            organization: OrganizationView::from(&organization),
            api_key_id: match &auth.credential {
                Credential::ApiKey(id) => Some(id.to_string()),
                Credential::User { .. } => None,
            },
        },
    ))
}
