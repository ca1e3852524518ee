//! Registration, sign-in and "who am I" (SPEC §2).

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{
    Email, NewUser, OrgId, Organization, ParseError, Password, PersonName, Plan, Role, UserId,
};
use wasl_store::UserUpdate;

use super::error::{code, ApiError, Validate};
use super::extract::{ApiJson, Auth, ClientIp, Credential};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;
use super::views::{OrganizationView, UserView};
use wasl_app::auth::revocation::Revoked;
use wasl_app::auth::{jwt, password};
use wasl_app::clock::now_millis;

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
    let (org_name, name, email, pass) = (
        PersonName::parse("organizationName", &body.organization_name),
        PersonName::parse("name", &body.name),
        Email::parse(&body.email),
        Password::parse(&body.password),
    )
        .validate()?;
    // Counted once the request is valid, so a typo does not use up an address's sign-ups.
    if let Some(wait) = state
        .login_limiter
        .register(&ip.to_string(), Instant::now())
    {
        return Err(ApiError::rate_limited(wait.as_secs().max(1)));
    }
    let now = now_millis();
    let organization = Organization {
        id: OrgId::from_trusted(uuid::Uuid::now_v7().to_string()),
        name: org_name,
        plan: Plan::Free,
        created_at: now,
    };
    let owner = NewUser {
        id: UserId::from_trusted(uuid::Uuid::now_v7().to_string()),
        organization_id: organization.id.clone(),
        name,
        email,
        password_hash: password::hash(pass.expose().to_owned())
            .await
            .map_err(ApiError::internal)?,
        role: Role::Owner,
        skills: Vec::new(),
        max_chats: None,
        created_at: now,
    };
    state
        .store
        .create_organization(&organization, &owner)
        .await?;
    let user = state
        .store
        .user(&organization.id, &owner.id)
        .await?
        .ok_or_else(|| ApiError::internal("the new owner was not found"))?;
    tracing::info!(organization = %organization.id, user = %user.id, "organization registered");
    Ok(ApiOk::created(
        Msg::Registered,
        AuthData {
            token: issue_token(&state, &user.id, &organization.id, 0),
            user: UserView::from(&user),
            organization: OrganizationView::from(&organization),
        },
    ))
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
    let account = Email::account_key(&body.email);
    let ip = ip.to_string();
    if let Some(wait) = state.login_limiter.blocked(&account, &ip, Instant::now()) {
        return Err(ApiError::rate_limited(wait.as_secs().max(1)));
    }
    // An account failing from many addresses is slowed, never locked (see the limiter).
    let delay = state.login_limiter.delay(&account, Instant::now());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let found = match Email::parse(&body.email) {
        Ok(email) => state.store.user_by_email(&email).await?,
        Err(_) => None,
    };
    // Always verify a hash, so an unknown e-mail costs as much time as a wrong password.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, password::dummy_hash().await.to_owned()),
    };
    let valid = password::verify(body.password, hash).await;
    let Some(user) = user.filter(|_| valid) else {
        state
            .login_limiter
            .record_failure(&account, &ip, Instant::now());
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_CREDENTIALS,
            Msg::InvalidCredentials,
        ));
    };
    if !user.is_active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::ACCOUNT_DISABLED,
            Msg::AccountDisabled,
        ));
    }
    state.login_limiter.record_success(&account, &ip);
    state.store.record_login(&user.id, now_millis()).await?;
    let organization = state
        .store
        .organization(&user.organization_id)
        .await?
        .ok_or_else(|| ApiError::internal("a user without an organization"))?;
    let generation = state.store.token_generation(&user.id).await?;
    Ok(ApiOk::ok(
        Msg::LoggedIn,
        AuthData {
            token: issue_token(&state, &user.id, &organization.id, generation),
            user: UserView::from(&user),
            organization: OrganizationView::from(&organization),
        },
    ))
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
    let Credential::User { jti, expires_at } = &auth.credential else {
        return Err(ApiError::forbidden());
    };
    state
        .store
        .revoke_token(jti, &auth.user_id, *expires_at, now_millis())
        .await?;
    state.revocations.publish(Revoked::Token(jti.clone()));
    tracing::info!(user = %auth.user_id, "signed out");
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
    if !matches!(auth.credential, Credential::User { .. }) {
        return Err(ApiError::forbidden());
    }
    let new_password = Password::parse(&body.new_password)
        .map_err(|e| ApiError::from(ParseError::new("newPassword", e.reason)))?;
    let user = state
        .store
        .user(&auth.org_id, &auth.user_id)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let (_, hash) = state
        .store
        .user_by_email(&user.email)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    if !password::verify(body.current_password, hash).await {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_CREDENTIALS,
            Msg::WrongCurrentPassword,
        ));
    }
    let update = UserUpdate {
        password_hash: Some(
            password::hash(new_password.expose().to_owned())
                .await
                .map_err(ApiError::internal)?,
        ),
        ..UserUpdate::default()
    };
    let user = state
        .store
        .update_user(&auth.org_id, &auth.user_id, &update)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    state.revocations.publish(Revoked::User(user.id.clone()));
    let organization = state
        .store
        .organization(&auth.org_id)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let generation = state.store.token_generation(&user.id).await?;
    tracing::info!(user = %user.id, "password changed; earlier sign-ins ended");
    Ok(ApiOk::ok(
        Msg::PasswordChanged,
        AuthData {
            token: issue_token(&state, &user.id, &organization.id, generation),
            user: UserView::from(&user),
            organization: OrganizationView::from(&organization),
        },
    ))
}

/// The caller: their user (for a token) and organization.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<MeData>), (status = 401)))]
async fn me(State(state): State<AppState>, auth: Auth) -> Result<ApiOk<MeData>, ApiError> {
    let user = state.store.user(&auth.org_id, &auth.user_id).await?;
    let organization = state
        .store
        .organization(&auth.org_id)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    Ok(ApiOk::ok(
        Msg::Ok,
        MeData {
            user: user.as_ref().map(UserView::from),
            organization: OrganizationView::from(&organization),
            api_key_id: match auth.credential {
                Credential::ApiKey(id) => Some(id.to_string()),
                Credential::User { .. } => None,
            },
        },
    ))
}

fn issue_token(state: &AppState, user: &UserId, org: &OrgId, generation: i64) -> String {
    let now = now_millis() / 1000;
    let ttl = i64::try_from(state.settings.jwt_ttl_secs).unwrap_or(86_400);
    jwt::issue(
        &jwt::Claims {
            sub: user.to_string(),
            org: org.to_string(),
            iat: now,
            exp: now + ttl,
            jti: uuid::Uuid::now_v7().simple().to_string(),
            generation,
        },
        state.settings.jwt_secret.expose(),
    )
}
