//! Platform administration with `WASL_ADMIN_TOKEN` (SPEC §2): the operator of a wasl server
//! sets each organization's plan. Without the setting, these routes are closed.

use axum::extract::FromRequestParts;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_domain::{OrgId, Plan};

use super::error::{code, ApiError};
use super::extract::{ApiJson, ApiQuery, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::OrganizationView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations))
        .routes(routes!(set_plan))
}

/// The platform administrator, proven by `Authorization: Bearer <WASL_ADMIN_TOKEN>`.
pub struct PlatformAdmin;

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = &state.settings.admin_token else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                code::ADMIN_DISABLED,
                Msg::AdminDisabled,
            ));
        };
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        if bool::from(given.trim().as_bytes().ct_eq(expected.expose().as_bytes())) {
            Ok(PlatformAdmin)
        } else {
            Err(ApiError::invalid_token())
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
    _admin: PlatformAdmin,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiOk<OrganizationList>, ApiError> {
    let page = query.parse()?;
    let orgs = state.store.list_organizations(page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        OrganizationList {
            organizations: orgs.items.iter().map(OrganizationView::from).collect(),
            pagination: Pagination::new(page, orgs.total),
        },
    ))
}

/// Changes an organization's plan, and so how many sessions it may link.
#[utoipa::path(put, path = "/api/v1/admin/organizations/{id}/plan", tag = "admin", security(("admin" = [])),
    params(("id" = String, Path)), request_body = SetPlanRequest,
    responses((status = 200, body = Envelope<OrganizationData>), (status = 400), (status = 401), (status = 404)))]
async fn set_plan(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetPlanRequest>,
) -> Result<ApiOk<OrganizationData>, ApiError> {
    let plan = Plan::parse(body.plan.trim())?;
    let org = state
        .store
        .set_plan(&OrgId::from_trusted(id), plan)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tracing::info!(organization = %org.id, plan = plan.as_str(), "plan changed");
    Ok(ApiOk::ok(
        Msg::PlanUpdated,
        OrganizationData {
            organization: OrganizationView::from(&org),
        },
    ))
}
