//! Registration, sign-in and "who am I" (SPEC §2).

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{Email, NewUser, OrgId, Organization, Password, PersonName, Plan, Role, UserId};

use super::error::{code, ApiError, Validate};
use super::extract::{ApiJson, Auth, ClientIp, Credential};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;
use super::views::{OrganizationView, UserView};
use crate::auth::{jwt, password};
use crate::clock::now_millis;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
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
    responses((status = 201, body = Envelope<AuthData>), (status = 400), (status = 409, description = "EMAIL_TAKEN")))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<ApiOk<AuthData>, ApiError> {
    let (org_name, name, email, pass) = (
        PersonName::parse("organizationName", &body.organization_name),
        PersonName::parse("name", &body.name),
        Email::parse(&body.email),
        Password::parse(&body.password),
    )
        .validate()?;
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
            token: issue_token(&state, &user.id, &organization.id),
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
    let account = body.email.trim().to_lowercase();
    let ip = ip.to_string();
    if let Some(wait) = state.login_limiter.blocked(&account, &ip, Instant::now()) {
        return Err(ApiError::rate_limited(wait.as_secs().max(1)));
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
    state.login_limiter.record_success(&account);
    state.store.record_login(&user.id, now_millis()).await?;
    let organization = state
        .store
        .organization(&user.organization_id)
        .await?
        .ok_or_else(|| ApiError::internal("a user without an organization"))?;
    Ok(ApiOk::ok(
        Msg::LoggedIn,
        AuthData {
            token: issue_token(&state, &user.id, &organization.id),
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
                Credential::User => None,
            },
        },
    ))
}

fn issue_token(state: &AppState, user: &UserId, org: &OrgId) -> String {
    let now = now_millis() / 1000;
    let ttl = i64::try_from(state.settings.jwt_ttl_secs).unwrap_or(86_400);
    jwt::issue(
        &jwt::Claims {
            sub: user.to_string(),
            org: org.to_string(),
            iat: now,
            exp: now + ttl,
        },
        state.settings.jwt_secret.expose(),
    )
}
