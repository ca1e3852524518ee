//! The caller's organization and its settings (`GET/PUT /api/v1/organization`).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::accounts::OrganizationChanges;
use wasl_app::calendar::Hours;

use wasl_domain::calendar::{BusinessHours, Period, Weekday, MOST_HOLIDAYS, MOST_PERIODS_A_DAY};
use wasl_domain::opt_out::OptOutWords;
use wasl_domain::{Country, Lang, ParseError, PersonName, TimeZone};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, Auth};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;
use super::views::{OptOutView, OrganizationView};
use wasl_app::clock::rfc3339;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_organization, update_organization))
        .routes(routes!(get_business_hours, set_business_hours))
        .routes(routes!(business_hours_now))
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
    /// An IANA time zone (`Asia/Riyadh`, `Europe/Berlin`): where business hours, schedules
    /// and hours of analytics are read.
    timezone: Option<String>,
    /// `ar` or `en`: the language of the organization's automated messages.
    default_language: Option<String>,
    /// The stop and start words of opting out (1–20 each, at most 50 characters).
    opt_out: Option<OptOutView>,
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

/// Changes the organization's name, default country, time zone or default language (owners
/// and admins).
#[utoipa::path(put, path = "/api/v1/organization", tag = "auth", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = Envelope<OrganizationData>), (status = 400), (status = 401), (status = 403)))]
async fn update_organization(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<UpdateOrganizationRequest>,
) -> Result<ApiOk<OrganizationData>, ApiError> {
    let (name, default_country, timezone, default_language, opt_out_words) = (
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
        body.timezone
            .as_deref()
            .map(|z| TimeZone::parse("timezone", z))
            .transpose(),
        body.default_language
            .as_deref()
            .map(|l| {
                Lang::parse(l).ok_or_else(|| ParseError::new("defaultLanguage", "must be ar or en"))
            })
            .transpose(),
        body.opt_out
            .as_ref()
            .map(|o| OptOutWords::parse(&o.stop_words, &o.start_words))
            .transpose()
            .map_err(|errors| {
                errors
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| ParseError::new("optOut", "invalid"))
            }),
    )
        .validate()?;
    let organization = state
        .accounts
        .change_organization(
            &auth,
            OrganizationChanges {
                name,
                default_country,
                timezone,
                default_language,
                opt_out_words,
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

/// A stretch of a day, `HH:MM` to `HH:MM`; an end at or before the start runs past midnight.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PeriodView {
    #[schema(example = "09:00")]
    start: String,
    #[schema(example = "17:00")]
    end: String,
}

/// When the organization is open: periods for each day (several a day; one may cross
/// midnight) and holidays (whole local days, `YYYY-MM-DD`, closed).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessHoursView {
    /// By day name, `sunday` … `saturday`; a day left out has no hours.
    #[serde(default)]
    weekly: BTreeMap<String, Vec<PeriodView>>,
    #[serde(default)]
    holidays: Vec<String>,
}

impl From<&BusinessHours> for BusinessHoursView {
    fn from(hours: &BusinessHours) -> Self {
        BusinessHoursView {
            weekly: Weekday::ALL
                .into_iter()
                .map(|day| {
                    let periods = hours
                        .periods(day)
                        .iter()
                        .map(|p| PeriodView {
                            start: p.start.to_string(),
                            end: p.end.to_string(),
                        })
                        .collect();
                    (day.as_str().to_owned(), periods)
                })
                .collect(),
            holidays: hours
                .holidays
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
        }
    }
}

impl BusinessHoursView {
    /// The business hours this asks for; every mistake is named.
    fn parse(&self) -> Result<BusinessHours, Vec<ParseError>> {
        let mut errors = Vec::new();
        let mut hours = BusinessHours::default();
        for (name, periods) in &self.weekly {
            let day = match Weekday::parse("weekly", name) {
                Ok(day) => day,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if periods.len() > MOST_PERIODS_A_DAY {
                errors.push(ParseError::new(
                    "weekly",
                    format!("{name}: at most {MOST_PERIODS_A_DAY} periods a day"),
                ));
                continue;
            }
            let mut parsed = Vec::with_capacity(periods.len());
            for p in periods {
                match Period::parse("weekly", &p.start, &p.end) {
                    Ok(period) => parsed.push(period),
                    Err(e) => errors.push(ParseError::coded(
                        "weekly",
                        e.code,
                        format!("{name}: {}", e.reason),
                    )),
                }
            }
            hours.set_periods(day, parsed);
        }
        if self.holidays.len() > MOST_HOLIDAYS {
            errors.push(ParseError::new(
                "holidays",
                format!("at most {MOST_HOLIDAYS} holidays"),
            ));
        } else {
            for day in &self.holidays {
                match chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d") {
                    Ok(date) => {
                        hours.holidays.insert(date);
                    }
                    Err(_) => errors.push(ParseError::new(
                        "holidays",
                        format!("{day:?} is not a date (YYYY-MM-DD)"),
                    )),
                }
            }
        }
        if errors.is_empty() {
            if let Err(e) = hours.check() {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(hours)
        } else {
            Err(errors)
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessHoursData {
    business_hours: BusinessHoursView,
    /// The time zone they are read in (the organization's).
    timezone: String,
}

impl From<&Hours> for BusinessHoursData {
    fn from(h: &Hours) -> Self {
        BusinessHoursData {
            business_hours: BusinessHoursView::from(&h.hours),
            timezone: h.timezone.name().to_owned(),
        }
    }
}

/// The organization's business hours.
#[utoipa::path(get, path = "/api/v1/organization/business-hours", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<BusinessHoursData>), (status = 401)))]
async fn get_business_hours(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiOk<BusinessHoursData>, ApiError> {
    let hours = state.calendar.business_hours(&auth).await?;
    Ok(ApiOk::ok(Msg::Ok, BusinessHoursData::from(&hours)))
}

/// Replaces the organization's business hours (owners and admins): several periods a day, a
/// period may cross midnight (`22:00`–`02:00`), holidays are closed local days. Periods of a
/// day must not overlap.
#[utoipa::path(put, path = "/api/v1/organization/business-hours", tag = "auth", security(("bearer" = [])),
    request_body = BusinessHoursView,
    responses((status = 200, body = Envelope<BusinessHoursData>), (status = 400), (status = 401), (status = 403)))]
async fn set_business_hours(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<BusinessHoursView>,
) -> Result<ApiOk<BusinessHoursData>, ApiError> {
    let hours = body.parse().map_err(|e| ApiError::validation(&e))?;
    let hours = state.calendar.set_business_hours(&auth, hours).await?;
    Ok(ApiOk::ok(
        Msg::BusinessHoursUpdated,
        BusinessHoursData::from(&hours),
    ))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenNowData {
    /// Whether the organization is within its business hours now.
    open: bool,
    /// When it next opens or closes (RFC 3339, UTC); null when it never does (no hours).
    next_change: Option<String>,
    /// The organization's time zone, and the local time now in it.
    timezone: String,
    #[schema(example = "2027-01-03T10:00")]
    local_time: String,
}

/// Whether the organization is open now, by its business hours in its time zone.
#[utoipa::path(get, path = "/api/v1/organization/business-hours/now", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<OpenNowData>), (status = 401)))]
async fn business_hours_now(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiOk<OpenNowData>, ApiError> {
    let now = state.calendar.now(&auth).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        OpenNowData {
            open: now.open,
            next_change: now.next_change.map(rfc3339),
            timezone: now.timezone.name().to_owned(),
            local_time: now
                .timezone
                .local(now.at)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
        },
    ))
}
