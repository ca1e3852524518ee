//! Message templates over HTTP (SPEC §13): create, list, read, change and delete them, and
//! send one with its variables filled (`POST /messages/send-template`).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use wasl_app::automation::templates::TemplateSend;
use wasl_app::clock::rfc3339;
use wasl_app::records::TemplateFilter;
use wasl_domain::search::fold;
use wasl_domain::template::{
    self, is_contact_field, Button, Category, Header, Template, TemplateDraft, TemplateName,
};
use wasl_domain::{Country, ParseError, PhoneNumber};

use super::error::{ApiError, Validate};
use super::extract::{ApiJson, ApiQuery, Auth, PageQuery};
use super::i18n::Msg;
use super::messages::{accepted, idempotency_key, MessageData};
use super::response::{ApiOk, Envelope, Pagination};
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_template, list_templates))
        .routes(routes!(get_template, update_template, delete_template))
        .routes(routes!(send_template))
}

/// A template's header: a line of `text`, or a file of the media library (`mediaId`) shown
/// as an `image`, `video` or `document`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeaderFields {
    /// text, image, video or document.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_id: Option<String>,
}

/// A button: `url` (opens `url`), `call` (calls `phone`) or `quick_reply` (a choice the
/// customer taps). At most 3 quick replies and 2 link or call buttons (one call); texts of
/// at most 25 characters.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ButtonFields {
    /// url, call or quick_reply.
    #[serde(rename = "type")]
    kind: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTemplateRequest {
    /// a-z, 0-9 and _ (`order_ready`); unique per language.
    name: String,
    /// marketing, utility or authentication. Marketing templates never go to contacts who
    /// opted out.
    category: String,
    /// `ar`, `en`, `en_US`…; the organization's default language when absent.
    language: Option<String>,
    header: Option<HeaderFields>,
    /// The body, at most 1024 characters: `مرحباً {{name}}! شكراً لتواصلك مع {{company}}`.
    /// `{{name|default}}` gives a default; `{{contact.name}}`, `{{contact.phone}}` and
    /// `{{contact.customerId}}` fill themselves.
    content: String,
    /// At most 60 characters, no variables.
    footer: Option<String>,
    #[serde(default)]
    buttons: Vec<ButtonFields>,
}

/// What to change; a field left out stays. `null` removes the header or footer.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTemplateRequest {
    name: Option<String>,
    category: Option<String>,
    language: Option<String>,
    #[serde(default, deserialize_with = "absent_or_null_header")]
    #[schema(value_type = Option<HeaderFields>)]
    header: Option<Option<HeaderFields>>,
    content: Option<String>,
    #[serde(default, deserialize_with = "super::extract::absent_or_null")]
    #[schema(value_type = Option<String>)]
    footer: Option<Option<String>>,
    buttons: Option<Vec<ButtonFields>>,
}

fn absent_or_null_header<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<HeaderFields>>, D::Error> {
    Option::<HeaderFields>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariableView {
    name: String,
    /// Used when the send gives no value.
    default: Option<String>,
    /// `contact` when the contact fills it (`contact.name`), else `sender`.
    source: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    id: String,
    name: String,
    category: String,
    language: String,
    header: Option<HeaderFields>,
    content: String,
    footer: Option<String>,
    buttons: Vec<ButtonFields>,
    /// The `{{…}}` of the header and body, in order.
    variables: Vec<VariableView>,
    created_at: String,
    updated_at: String,
}

fn header_fields(header: &Header) -> HeaderFields {
    HeaderFields {
        kind: header.kind().as_str().to_owned(),
        text: header.text().map(str::to_owned),
        media_id: header.media_id().map(str::to_owned),
    }
}

fn button_fields(button: &Button) -> ButtonFields {
    let (kind, url, phone) = match button {
        Button::Url { url, .. } => ("url", Some(url.clone()), None),
        Button::Call { phone, .. } => ("call", None, Some(format!("+{phone}"))),
        Button::QuickReply { .. } => ("quick_reply", None, None),
    };
    ButtonFields {
        kind: kind.to_owned(),
        text: button.text().to_owned(),
        url,
        phone,
    }
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        TemplateView {
            id: t.id.clone(),
            name: t.name.as_str().to_owned(),
            category: t.category.as_str().to_owned(),
            language: t.language.clone(),
            header: t.header.as_ref().map(header_fields),
            content: t.content.clone(),
            footer: t.footer.clone(),
            buttons: t.buttons.iter().map(button_fields).collect(),
            variables: t
                .variables()
                .into_iter()
                .map(|v| VariableView {
                    source: if is_contact_field(&v.name) {
                        "contact"
                    } else {
                        "sender"
                    }
                    .to_owned(),
                    name: v.name,
                    default: v.default,
                })
                .collect(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TemplateData {
    template: TemplateView,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    templates: Vec<TemplateView>,
    pagination: Pagination,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// Words of the name, header or body (Arabic spellings folded).
    search: Option<String>,
    /// marketing, utility or authentication.
    category: Option<String>,
    language: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendTemplateRequest {
    /// The recipient's number.
    to: String,
    /// The template's name.
    template: String,
    /// Which of its languages; the organization's default language (else its only one).
    language: Option<String>,
    /// Values by variable name; a variable without a value takes its default or the
    /// contact's field, else the answer is 400 `TEMPLATE_VARIABLE_MISSING` naming it.
    #[serde(default)]
    variables: BTreeMap<String, String>,
    /// Default "default".
    session_name: Option<String>,
}

fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ParseError> {
    // Counted as given: the limit is the API's, before any trimming.
    if value.is_some_and(|v| v.chars().count() > max) {
        return Err(ParseError::new(
            field,
            format!("at most {max} characters of text"),
        ));
    }
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() <= max && !v.chars().any(|c| c.is_control() && c != '\n') => {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(ParseError::new(
            field,
            format!("at most {max} characters of text"),
        )),
    }
}

fn parse_buttons(
    buttons: &[ButtonFields],
    country: Option<Country>,
) -> Result<Vec<Button>, ParseError> {
    if buttons.len() > 10 {
        return Err(ParseError::coded(
            "buttons",
            "too_many_buttons",
            "at most 10 buttons",
        ));
    }
    buttons
        .iter()
        .map(|b| {
            let text = b.text.trim().to_owned();
            match b.kind.trim() {
                "url" => Ok(Button::Url {
                    text,
                    url: b
                        .url
                        .as_deref()
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .ok_or_else(|| ParseError::new("buttons", "a url button needs its url"))?
                        .to_owned(),
                }),
                "call" => Ok(Button::Call {
                    text,
                    phone: PhoneNumber::parse_written(
                        "buttons",
                        b.phone.as_deref().unwrap_or_default(),
                        country,
                    )?
                    .as_str()
                    .to_owned(),
                }),
                "quick_reply" => Ok(Button::QuickReply { text }),
                _ => Err(ParseError::new(
                    "buttons",
                    "a button's type is url, call or quick_reply",
                )),
            }
        })
        .collect()
}

fn parse_header(header: Option<&HeaderFields>) -> Result<Option<Header>, ParseError> {
    if header
        .and_then(|h| h.text.as_deref())
        .is_some_and(|t| t.chars().count() > template::MOST_HEADER_CHARS)
    {
        return Err(ParseError::new(
            "header.text",
            format!("1 to {} characters", template::MOST_HEADER_CHARS),
        ));
    }
    header
        .map(|h| Header::parse(&h.kind, h.text.as_deref(), h.media_id.as_deref()))
        .transpose()
}

/// A template's body as given: its limit counts what was sent, before trimming.
fn parse_content(content: &str) -> Result<String, ParseError> {
    if content.chars().count() > template::MOST_BODY_CHARS {
        return Err(ParseError::new(
            "content",
            format!("at most {} characters", template::MOST_BODY_CHARS),
        ));
    }
    Ok(content.trim().to_owned())
}

/// The parts as given, checked field by field; the template as a whole is checked by the
/// use case (Meta's limits, variables).
struct Parts<'a> {
    name: &'a str,
    category: &'a str,
    language: Option<&'a str>,
    header: Option<&'a HeaderFields>,
    content: &'a str,
    footer: Option<&'a str>,
    buttons: &'a [ButtonFields],
}

impl Parts<'_> {
    fn draft(&self, country: Option<Country>) -> Result<TemplateDraft, ApiError> {
        let (name, category, language, header, footer, buttons, content) = (
            TemplateName::parse("name", self.name),
            Category::parse("category", self.category),
            self.language
                .map(|l| template::language("language", l))
                .transpose(),
            parse_header(self.header),
            optional_text("footer", self.footer, template::MOST_FOOTER_CHARS),
            parse_buttons(self.buttons, country),
            parse_content(self.content),
        )
            .validate()?;
        Ok(TemplateDraft {
            name,
            language,
            category,
            header,
            content,
            footer,
            buttons,
        })
    }
}

/// Saves a template (owners and admins), checked against Meta's limits.
#[utoipa::path(post, path = "/api/v1/whatsapp/templates", tag = "templates", security(("bearer" = [])),
    request_body = CreateTemplateRequest,
    responses((status = 201, body = Envelope<TemplateData>), (status = 400), (status = 403), (status = 409, description = "TEMPLATE_EXISTS")))]
async fn create_template(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateTemplateRequest>,
) -> Result<ApiOk<TemplateData>, ApiError> {
    auth.require_manager()?;
    let draft = Parts {
        name: &body.name,
        category: &body.category,
        language: body.language.as_deref(),
        header: body.header.as_ref(),
        content: &body.content,
        footer: body.footer.as_deref(),
        buttons: &body.buttons,
    }
    .draft(auth.default_country)?;
    let template = state.templates.create(&auth, draft).await?;
    Ok(ApiOk::created(
        Msg::TemplateCreated,
        TemplateData {
            template: TemplateView::from(&template),
        },
    ))
}

/// The organization's templates, by name then language.
#[utoipa::path(get, path = "/api/v1/whatsapp/templates", tag = "templates", security(("bearer" = [])),
    params(TemplateQuery), responses((status = 200, body = Envelope<TemplateList>), (status = 400)))]
async fn list_templates(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<TemplateQuery>,
) -> Result<ApiOk<TemplateList>, ApiError> {
    let page = PageQuery {
        page: q.page,
        limit: q.limit,
    }
    .parse()?;
    let (category, language) = (
        q.category
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| Category::parse("category", c))
            .transpose(),
        q.language
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(|l| template::language("language", l))
            .transpose(),
    )
        .validate()?;
    let filter = TemplateFilter {
        search: q.search.as_deref().map(fold).filter(|s| !s.is_empty()),
        category,
        language,
    };
    let found = state.templates.list(&auth, &filter, &page).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        TemplateList {
            templates: found.items.iter().map(TemplateView::from).collect(),
            pagination: Pagination::new(&page, found.total),
        },
    ))
}

#[utoipa::path(get, path = "/api/v1/whatsapp/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Envelope<TemplateData>), (status = 404)))]
async fn get_template(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<TemplateData>, ApiError> {
    let template = state.templates.get(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::Ok,
        TemplateData {
            template: TemplateView::from(&template),
        },
    ))
}

/// Changes a template (owners and admins); what is left out stays.
#[utoipa::path(put, path = "/api/v1/whatsapp/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateTemplateRequest,
    responses((status = 200, body = Envelope<TemplateData>), (status = 400), (status = 403), (status = 404), (status = 409, description = "TEMPLATE_EXISTS, TEMPLATE_IN_USE")))]
async fn update_template(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTemplateRequest>,
) -> Result<ApiOk<TemplateData>, ApiError> {
    // Someone else's template (or none) answers 404 before their input is judged.
    let before = TemplateView::from(&state.templates.get(&auth, &id).await?);
    auth.require_manager()?;
    let header = match &body.header {
        None => before.header.as_ref(),
        Some(header) => header.as_ref(),
    };
    let footer = match &body.footer {
        None => before.footer.as_deref(),
        Some(footer) => footer.as_deref(),
    };
    let draft = Parts {
        name: body.name.as_deref().unwrap_or(&before.name),
        category: body.category.as_deref().unwrap_or(&before.category),
        language: Some(body.language.as_deref().unwrap_or(&before.language)),
        header,
        content: body.content.as_deref().unwrap_or(&before.content),
        footer,
        buttons: body.buttons.as_deref().unwrap_or(&before.buttons),
    }
    .draft(auth.default_country)?;
    let template = state.templates.update(&auth, &id, draft).await?;
    Ok(ApiOk::ok(
        Msg::TemplateUpdated,
        TemplateData {
            template: TemplateView::from(&template),
        },
    ))
}

/// Deletes a template (owners and admins) no auto-reply answers with.
#[utoipa::path(delete, path = "/api/v1/whatsapp/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Envelope<TemplateData>), (status = 403), (status = 404), (status = 409, description = "TEMPLATE_IN_USE")))]
async fn delete_template(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<ApiOk<TemplateData>, ApiError> {
    let template = state.templates.delete(&auth, &id).await?;
    Ok(ApiOk::ok(
        Msg::TemplateDeleted,
        TemplateData {
            template: TemplateView::from(&template),
        },
    ))
}

/// Sends a template with its variables filled. On web and sandbox sessions it goes out as
/// text: header in bold, body, footer, link and call lines, quick replies as numbered choices.
#[utoipa::path(post, path = "/api/v1/whatsapp/messages/send-template", tag = "messages", security(("bearer" = [])),
    request_body = SendTemplateRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first result")),
    responses((status = 201, body = Envelope<MessageData>), (status = 400, description = "VALIDATION_ERROR, TEMPLATE_VARIABLE_MISSING, TEMPLATE_VARIABLE_UNKNOWN"), (status = 404), (status = 409, description = "SESSION_NOT_CONNECTED, CONTACT_BLOCKED, CONTACT_OPTED_OUT")))]
async fn send_template(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendTemplateRequest>,
) -> Result<Response, ApiError> {
    let (to, template, language, variables) = (
        PhoneNumber::parse_written("to", &body.to, auth.default_country),
        TemplateName::parse("template", &body.template),
        body.language
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .map(|l| template::language("language", l))
            .transpose(),
        parse_variables(body.variables),
    )
        .validate()?;
    let request = TemplateSend {
        to,
        template,
        language,
        variables,
        session_name: body.session_name.filter(|s| !s.is_empty()),
        idempotency_key: idempotency_key(&headers)?,
    };
    accepted(state.templates.send(&auth, request).await?)
}

/// Variables' values: at most 50, each at most 1024 characters of text.
fn parse_variables(
    given: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ParseError> {
    if given.len() > 50 {
        return Err(ParseError::new("variables", "at most 50 variables"));
    }
    let mut values = BTreeMap::new();
    for (name, value) in given {
        if value.chars().count() > 1024 || value.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ParseError::new(
                "variables",
                format!("the value of {name} is at most 1024 characters of text"),
            ));
        }
        values.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    Ok(values)
}
