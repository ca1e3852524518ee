//! Owners and admins manage their organization's people (SPEC §2). Admins manage admins and
//! agents; only owners touch owners. The organization always keeps an active owner.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::accounts::{NewPerson, PersonChanges};
use wasl_domain::{Email, ParseError, Password, PersonName, Role, UserId};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::UserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user, delete_user))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    name: String,
    email: String,
    password: String,
    /// owner, admin or agent (default agent).
    role: Option<String>,
    /// What the agent handles, e.g. ["sales", "arabic"].
    skills: Option<Vec<String>>,
    /// The most open chats the agent takes at once.
    #[serde(default, deserialize_with = "whole_number")]
    max_chats: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    name: Option<String>,
    role: Option<String>,
    skills: Option<Vec<String>>,
    /// A number, or null to remove the limit.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>)]
    max_chats: Option<Option<u32>>,
    is_active: Option<bool>,
    password: Option<String>,
}

/// Tells "field absent" (leave it) from "field is null" (clear it).
fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    whole_number(d).map(Some)
}

/// A count, also when a client's JSON library writes it as `5.0`.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(n) = Option::<f64>::deserialize(d)? else {
        return Ok(None);
    };
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        Ok(Some(n as u32))
    } else {
        Err(serde::de::Error::custom(format!(
            "expected a whole number from 0 to {}, not {n}",
            u32::MAX
        )))
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserData {
    user: UserView,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<UserView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedData {
    id: String,
}

fn parse_skills(skills: Option<Vec<String>>) -> Result<Option<Vec<String>>, ParseError> {
    let Some(skills) = skills else {
        return Ok(None);
    };
    if skills.len() > 20 {
        return Err(ParseError::new("skills", "at most 20 skills"));
    }
    let mut clean: Vec<String> = Vec::with_capacity(skills.len());
    for skill in skills {
        let skill = skill.trim().to_lowercase();
        if skill.is_empty() || skill.chars().count() > 50 || skill.chars().any(char::is_control) {
            return Err(ParseError::new(
                "skills",
                "each skill must be 1 to 50 characters, without control characters",
            ));
        }
        if !clean.contains(&skill) {
            clean.push(skill);
        }
    }
    Ok(Some(clean))
}

fn parse_max_chats(value: Option<u32>) -> Result<Option<u32>, ParseError> {
    match value {
        Some(n) if !(1..=1000).contains(&n) => {
            Err(ParseError::new("maxChats", "must be from 1 to 1000"))
        }
        other => Ok(other),
    }
}

/// Adds a person to the caller's organization.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = Envelope<UserData>), (status = 403), (status = 409, description = "EMAIL_TAKEN")))]
async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<ApiOk<UserData>, ApiError> {
    auth.require_manager()?;
    let (name, email, password, role, skills, max_chats) = (
        PersonName::parse("name", &body.name),
        Email::parse(&body.email),
        Password::parse(&body.password),
        body.role.as_deref().map_or(Ok(Role::Agent), Role::parse),
        parse_skills(body.skills),
        parse_max_chats(body.max_chats),
    )
        .validate()?;
    let new = NewPerson {
        name,
        email,
        password,
        role,
        skills: skills.unwrap_or_default(),
        max_chats,
    };
    let user = state.accounts.add_person(&auth, new).await?;
    Ok(ApiOk::created(
        Msg::UserCreated,
        UserData {
            user: UserView::from(&user),
        },
    ))
}

/// The organization's people, oldest first.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<UserList>), (status = 403)))]
async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<UserList>, ApiError> {
    auth.require_manager()?;
    let page = query.parse()?;
    let users = state.accounts.people(&auth, page.clone()).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        UserList {
            users: users.items.iter().map(UserView::from).collect(),
            pagination: Pagination::new(&page, users.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<UserData>), (status = 403), (status = 404)))]
async fn get_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<UserData>, ApiError> {
    let user = state
        .accounts
        .person(&auth, &UserId::from_trusted(id))
        .await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        UserData {
            user: UserView::from(&user),
        },
    ))
}

/// Changes a person's name, role, skills, chat limit, state or password.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = Envelope<UserData>), (status = 403), (status = 404), (status = 409, description = "LAST_OWNER")))]
async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<ApiOk<UserData>, ApiError> {
    let id = UserId::from_trusted(id);
    // Someone else's person (or none) answers 404 before their input is judged.
    state.accounts.person(&auth, &id).await?;
    let (name, role, skills, max_chats, password) = (
        body.name
            .as_deref()
            .map(|n| PersonName::parse("name", n))
            .transpose(),
        body.role.as_deref().map(Role::parse).transpose(),
        parse_skills(body.skills),
        body.max_chats.map(parse_max_chats).transpose(),
        body.password.as_deref().map(Password::parse).transpose(),
    )
        .validate()?;
    let changes = PersonChanges {
        name,
        role,
        skills,
        max_chats,
        is_active: body.is_active,
        password,
    };
    let user = state.accounts.change_person(&auth, &id, changes).await?;
    Ok(ApiOk::ok(
        Msg::UserUpdated,
        UserData {
            user: UserView::from(&user),
        },
    ))
}

/// Removes a person from the organization.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<DeletedData>), (status = 403), (status = 404), (status = 409)))]
async fn delete_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<DeletedData>, ApiError> {
    let id = UserId::from_trusted(id);
    state.accounts.remove_person(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::UserDeleted,
        DeletedData { id: id.to_string() },
    ))
}
