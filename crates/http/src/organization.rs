//! The caller's organization and its settings (`GET/PUT /api/v1/organization`).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::accounts::OrganizationChanges;
use wasl_domain::{Country, PersonName};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, Auth};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;
use super::views::OrganizationView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization, update_organization))
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationData {
    organization: OrganizationView,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrganizationRequest {
    name: Option<String>,
    /// The country (ISO 3166-1 alpha-2, `SA`) whose local form is read when a phone number
    /// has no country code: `0551112233` is then `+966551112233`. Null clears it.
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    default_country: Option<Option<String>>,
}

/// The caller's organization.
#[utoipa::path(get, path = "/api/v1/organization", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<OrganizationData>), (status = 401)))]
async fn get_organization(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiOk<OrganizationData>, ApiError> {
    let organization = state.accounts.organization(&auth).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        OrganizationData {
            organization: OrganizationView::from(&organization),
        },
    ))
}

/// Changes the organization's name or default country (owners and admins).
#[utoipa::path(put, path = "/api/v1/organization", tag = "auth", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = Envelope<OrganizationData>), (status = 400), (status = 401), (status = 403)))]
async fn update_organization(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<UpdateOrganizationRequest>,
) -> Result<ApiOk<OrganizationData>, ApiError> {
    let (name, default_country) = (
        body.name
            .as_deref()
            .map(|n| PersonName::parse("name", n))
            .transpose(),
        body.default_country
            .map(|c| {
                c.as_deref()
                    .map(|c| Country::parse("defaultCountry", c))
                    .transpose()
            })
            .transpose(),
    )
        .validate()?;
    let organization = state
        .accounts
        .change_organization(
            &auth,
            OrganizationChanges {
                name,
                default_country,
            },
        )
        .await?;
    Ok(ApiOk::ok(
        Msg::OrganizationUpdated,
        OrganizationData {
            organization: OrganizationView::from(&organization),
        },
    ))
}
