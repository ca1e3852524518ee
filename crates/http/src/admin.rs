//! Platform administration with `WASL_ADMIN_TOKEN` (SPEC §2): the operator of a wasl server
//! sets each organization's plan. Without the setting, these routes are closed.

use axum::extract::FromRequestParts;
use axum::extract::{Path, State};
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{OrgId, Plan};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::OrganizationView;
use wasl_app::AppError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations))
        .routes(routes!(set_plan))
}

/// The platform administrator, proven by `Authorization: Bearer <WASL_ADMIN_TOKEN>`.
pub struct PlatformAdmin(wasl_app::accounts::PlatformAdmin);

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(token) => Ok(PlatformAdmin(state.accounts.platform_admin(token)?)),
            // Without a token: closed when administration is off, else "sign in first".
            None => Err(state
                .accounts
                .platform_admin("")
                .err()
                .filter(|e| matches!(e, AppError::AdminDisabled))
                .map_or_else(ApiError::unauthorized, ApiError::from)),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SetPlanRequest {
    /// free, basic, pro or enterprise.
    plan: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationData {
    organization: OrganizationView,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationList {
    organizations: Vec<OrganizationView>,
    pagination: Pagination,
}

/// Every organization on this server.
#[utoipa::path(get, path = "/api/v1/admin/organizations", tag = "admin", security(("admin" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<OrganizationList>), (status = 401), (status = 403)))]
async fn list_organizations(
    State(state): State<AppState>,
    admin: PlatformAdmin,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<OrganizationList>, ApiError> {
    let page = query.parse()?;
    let orgs = state.accounts.organizations(&admin.0, page.clone()).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        OrganizationList {
            organizations: orgs.items.iter().map(OrganizationView::from).collect(),
            pagination: Pagination::new(&page, orgs.total),
        },
    ))
}

/// Changes an organization's plan, and so how many sessions it may link.
#[utoipa::path(put, path = "/api/v1/admin/organizations/{id}/plan", tag = "admin", security(("admin" = [])),
    params(("id" = String, Path)), request_body = SetPlanRequest,
    responses((status = 200, body = Envelope<OrganizationData>), (status = 400), (status = 401), (status = 404)))]
async fn set_plan(
    State(state): State<AppState>,
    admin: PlatformAdmin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetPlanRequest>,
) -> Result<ApiOk<OrganizationData>, ApiError> {
    let plan = Plan::parse(body.plan.trim())?;
    let org = state
        .accounts
        .set_plan(&admin.0, &OrgId::from_trusted(id), plan)
        .await?;
    Ok(ApiOk::ok(
        Msg::PlanUpdated,
        OrganizationData {
            organization: OrganizationView::from(&org),
        },
    ))
}
