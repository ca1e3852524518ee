//! Contacts (SPEC §6) and the organization's stats (§7).

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::contacts::Listing;
use wasl_app::records::ContactUpdate;
use wasl_domain::{Country, ParseError};

use super::error::{ApiError, Validate};
use super::extract::{search_terms, ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;
use super::views::ContactView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts))
        .routes(routes!(update_contact))
        .routes(routes!(stats))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    session_name: Option<String>,
    /// Matches name, phone and tags; Arabic spelling variants match each other.
    search: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    /// The `nextCursor` of the page before, for the page after it.
    /// With a cursor, `page` is ignored.
    #[param(pattern = r"^([0-9]{1,15}\.[A-Za-z0-9_-]{1,100})?$")]
    cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateContactRequest {
    /// Empty or null clears the name.
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
    /// The customer's id in the organization's CRM, as contacts show it. `linkedCustomer`,
    /// the name the first release took, is accepted too.
    #[serde(
        default,
        deserialize_with = "super::extract::absent_or_null",
        alias = "linkedCustomer"
    )]
    #[schema(value_type = Option<String>)]
    related_customer: Option<Option<String>>,
    is_blocked: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    contacts: Vec<ContactView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
pub struct ContactData {
    contact: ContactView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    /// YYYY-MM-DD (UTC).
    date: String,
    incoming: i64,
    outgoing: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsData {
    total_sessions: i64,
    /// Sessions connected right now.
    active_sessions: i64,
    total_messages: i64,
    total_contacts: i64,
    messages_last24h: i64,
    /// The last 14 days, oldest first.
    messages_per_day: Vec<DayCount>,
}

fn optional_text(
    field: &'static str,
    value: Option<Option<String>>,
    max: usize,
) -> Result<Option<Option<String>>, ParseError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            if v.as_ref().is_some_and(|s| {
                s.chars().count() > max || s.chars().any(|c| c.is_control() && c != '\n')
            }) {
                return Err(ParseError::new(
                    field,
                    format!("must be at most {max} characters of text"),
                ));
            }
            Ok(Some(v))
        }
    }
}

fn parse_tags(tags: Option<Vec<String>>) -> Result<Option<Vec<String>>, ParseError> {
    let Some(tags) = tags else { return Ok(None) };
    if tags.len() > 30 {
        return Err(ParseError::new("tags", "at most 30 tags"));
    }
    // Tags are kept as typed ("VIP" stays "VIP"); two that differ only in case are one tag,
    // the first spelling kept. Search matches them case-insensitively (folded).
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || tag.chars().count() > 50 || tag.chars().any(char::is_control) {
            return Err(ParseError::new(
                "tags",
                "each tag must be 1 to 50 characters, without control characters",
            ));
        }
        if !clean.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            clean.push(tag);
        }
    }
    Ok(Some(clean))
}

impl ListQuery {
    fn parse(self, country: Option<Country>) -> Result<Listing, ApiError> {
        let page = PageQuery {
            page: self.page,
            limit: self.limit,
        }
        .parse_after(self.cursor.as_deref())?;
        let search = search_terms(self.search, country);
        Ok(Listing {
            session_name: self.session_name,
            search,
            page,
        })
    }
}

/// Contacts, most recently active first.
#[utoipa::path(get, path = "/api/v1/whatsapp/contacts", tag = "contacts", security(("bearer" = [])),
    params(ListQuery), responses((status = 200, body = Envelope<ContactList>), (status = 400), (status = 404)))]
async fn list_contacts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<ApiOk<ContactList>, ApiError> {
    let listing = q.parse(auth.default_country)?;
    let page = listing.page.clone();
    let contacts = state.contacts.list(&auth, listing).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        ContactList {
            contacts: contacts.items.iter().map(ContactView::from).collect(),
            pagination: Pagination::keyset(&page, &contacts),
        },
    ))
}

/// Edits a contact: name, tags, notes, linked CRM customer, blocked.
#[utoipa::path(put, path = "/api/v1/whatsapp/contacts/{id}", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateContactRequest,
    responses((status = 200, body = Envelope<ContactData>), (status = 400), (status = 404)))]
async fn update_contact(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateContactRequest>,
) -> Result<ApiOk<ContactData>, ApiError> {
    let (name, tags, notes, related_customer) = (
        optional_text("name", body.name, 100),
        parse_tags(body.tags),
        optional_text("notes", body.notes, 2000),
        optional_text("relatedCustomer", body.related_customer, 128),
    )
        .validate()?;
    let update = ContactUpdate {
        name,
        tags,
        notes,
        related_customer,
        is_blocked: body.is_blocked,
    };
    let contact = state.contacts.update(&auth, &id, &update).await?;
    Ok(ApiOk::ok(
        Msg::ContactUpdated,
        ContactData {
            contact: ContactView::from(&contact),
        },
    ))
}

/// The organization's numbers and messages per day.
#[utoipa::path(get, path = "/api/v1/whatsapp/stats", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = Envelope<StatsData>)))]
async fn stats(State(state): State<AppState>, auth: Auth) -> Result<ApiOk<StatsData>, ApiError> {
    const DAYS: i64 = 14;
    const DAY_MS: i64 = 86_400_000;
    let (stats, now) = state.contacts.stats(&auth, DAYS).await?;
    let today = now / DAY_MS;
    let messages_per_day = (today - DAYS + 1..=today)
        .map(|day| {
            let (incoming, outgoing) = stats
                .per_day
                .iter()
                .find(|(d, _, _)| *d == day)
                .map_or((0, 0), |(_, i, o)| (*i, *o));
            let date = chrono::DateTime::from_timestamp_millis(day * DAY_MS)
                .unwrap_or_default()
                .format("%Y-%m-%d")
                .to_string();
            DayCount {
                date,
                incoming,
                outgoing,
            }
        })
        .collect();
    Ok(ApiOk::ok(
        Msg::Ok,
        StatsData {
            total_sessions: stats.total_sessions,
            active_sessions: stats.active_sessions,
            total_messages: stats.total_messages,
            total_contacts: stats.total_contacts,
            messages_last24h: stats.messages_last_24h,
            messages_per_day,
        },
    ))
}
