//! Message templates (SPEC §13): written by owners and admins within Meta's limits, read by
//! everyone, and sent with their variables filled — from what the sender gives, else from the
//! contact, else from the template's defaults. On engines without templates (web, sandbox)
//! a template goes out as text: header in bold, body, footer, link and call lines, numbered
//! quick replies. The message keeps which template it came from (`metadata.template`), the
//! seam through which an engine with templates (Meta's Cloud API) will send the template
//! itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasl_domain::template::{
    fill_plan, Category, FillError, Header, HeaderKind, Template, TemplateDraft,
};
use wasl_domain::{Contact, Lang, MessageMetadata, OrgId, PhoneNumber, TemplateUse};
use wasl_engine::{Media, MessageKind};
use wasl_store::{Page, PageRequest, Store, TemplateFilter};

use super::conflict;
use super::library::Library;
use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, Conflict};
use crate::messaging::{Accepted, Messaging, SendRequest};

/// A send of a template, as checked at the edge.
pub struct TemplateSend {
    pub to: PhoneNumber,
    pub template: wasl_domain::template::TemplateName,
    /// Which of the template's languages; the organization's default language (else the only
    /// one there is) when not given.
    pub language: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub session_name: Option<String>,
    pub idempotency_key: Option<String>,
}

/// A template made ready to send to one contact.
pub(crate) struct Rendered {
    pub kind: MessageKind,
    /// The text, or the caption of the header's file.
    pub text: String,
    pub media: Option<Media>,
    pub metadata: TemplateUse,
    pub marketing: bool,
}

pub struct Templates {
    store: Store,
    library: Arc<Library>,
    messaging: Arc<Messaging>,
    clock: Arc<dyn Clock>,
}

/// The values a contact gives a template's `contact.…` variables.
pub(crate) fn contact_values(contact: Option<&Contact>, phone: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    values.insert("contact.phone".to_owned(), format!("+{phone}"));
    if let Some(c) = contact {
        if let Some(name) = c.name.as_deref().filter(|n| !n.trim().is_empty()) {
            values.insert("contact.name".to_owned(), name.to_owned());
        }
        if let Some(id) = c.related_customer.as_deref() {
            values.insert("contact.customerId".to_owned(), id.to_owned());
        }
    }
    values
}

fn header_kind(kind: HeaderKind) -> MessageKind {
    match kind {
        HeaderKind::Image => MessageKind::Image,
        HeaderKind::Video => MessageKind::Video,
        HeaderKind::Text | HeaderKind::Document => MessageKind::Document,
    }
}

impl Templates {
    pub fn new(
        store: Store,
        library: Arc<Library>,
        messaging: Arc<Messaging>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Templates {
            store,
            library,
            messaging,
            clock,
        }
    }

    /// A header's file must be a file of the library of the header's kind.
    async fn check_header(&self, org: &OrgId, draft: &TemplateDraft) -> AppResult<()> {
        let Some(Header::Media { kind, media_id }) = &draft.header else {
            return Ok(());
        };
        let item = self
            .store
            .media_library()
            .get(org, media_id)
            .await?
            .ok_or_else(|| {
                AppError::from(wasl_domain::ParseError::new(
                    "header.mediaId",
                    "no file of the media library has this id",
                ))
            })?;
        let fits = match kind {
            HeaderKind::Image => item.kind == "image",
            HeaderKind::Video => item.kind == "video",
            HeaderKind::Document | HeaderKind::Text => true,
        };
        if !fits {
            return Err(wasl_domain::ParseError::new(
                "header.mediaId",
                format!("the file is {}, not {}", item.kind, kind.as_str()),
            )
            .into());
        }
        Ok(())
    }

    async fn language_or_default(
        &self,
        caller: &Caller,
        language: Option<String>,
    ) -> AppResult<String> {
        if let Some(language) = language {
            return Ok(language);
        }
        Ok(self
            .store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?
            .default_language
            .as_str()
            .to_owned())
    }

    /// Saves a new template (owners and admins).
    pub async fn create(&self, caller: &Caller, draft: TemplateDraft) -> AppResult<Template> {
        caller.require_manager()?;
        draft.check().map_err(AppError::Invalid)?;
        self.check_header(&caller.org_id, &draft).await?;
        let now = self.clock.now_millis();
        let language = self.language_or_default(caller, draft.language).await?;
        let template = Template {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: caller.org_id.clone(),
            name: draft.name,
            language,
            category: draft.category,
            header: draft.header,
            content: draft.content,
            footer: draft.footer,
            buttons: draft.buttons,
            created_at: now,
            updated_at: now,
        };
        self.store
            .templates()
            .insert(&template)
            .await
            .map_err(conflict)?;
        Ok(template)
    }

    /// Replaces a template's parts (owners and admins).
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        draft: TemplateDraft,
    ) -> AppResult<Template> {
        caller.require_manager()?;
        let before = self.get(caller, id).await?;
        draft.check().map_err(AppError::Invalid)?;
        self.check_header(&caller.org_id, &draft).await?;
        if before.name != draft.name {
            self.refuse_if_used(&caller.org_id, &before).await?;
        }
        let template = Template {
            name: draft.name,
            language: draft.language.unwrap_or_else(|| before.language.clone()),
            category: draft.category,
            header: draft.header,
            content: draft.content,
            footer: draft.footer,
            buttons: draft.buttons,
            updated_at: self.clock.now_millis(),
            ..before
        };
        if !self
            .store
            .templates()
            .update(&template)
            .await
            .map_err(conflict)?
        {
            return Err(AppError::NotFound);
        }
        Ok(template)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<Template> {
        self.store
            .templates()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn list(
        &self,
        caller: &Caller,
        filter: &TemplateFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Template>> {
        Ok(self
            .store
            .templates()
            .list(&caller.org_id, filter, page)
            .await?)
    }

    /// An auto-reply that answers with a template names it, not its language: the last
    /// language of a name it uses cannot go.
    async fn refuse_if_used(&self, org: &OrgId, template: &Template) -> AppResult<()> {
        let languages = self
            .store
            .templates()
            .by_name(org, template.name.as_str())
            .await?
            .len();
        if languages > 1 {
            return Ok(());
        }
        let users: Vec<String> = self
            .store
            .auto_replies()
            .all(org)
            .await?
            .into_iter()
            .filter(|rule| rule.uses_template(template.name.as_str()))
            .map(|rule| format!("auto-reply {}", rule.name))
            .collect();
        if users.is_empty() {
            Ok(())
        } else {
            Err(Conflict::TemplateInUse(users).into())
        }
    }

    /// Deletes a template (owners and admins) no auto-reply answers with.
    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<Template> {
        caller.require_manager()?;
        let template = self.get(caller, id).await?;
        self.refuse_if_used(&caller.org_id, &template).await?;
        if !self.store.templates().delete(&caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        Ok(template)
    }

    /// The template of this name to send: in `language` when asked, else in the
    /// organization's default language, else the only one there is. `None` when the
    /// organization has no such template (in that language).
    pub(crate) async fn find(
        &self,
        org: &OrgId,
        name: &str,
        language: Option<&str>,
        default: Lang,
    ) -> AppResult<Option<Template>> {
        let mut found = self.store.templates().by_name(org, name).await?;
        if let Some(language) = language {
            return Ok(found.into_iter().find(|t| t.language == language));
        }
        let default = default.as_str();
        if let Some(i) = found
            .iter()
            .position(|t| t.language == default || t.language.split('_').next() == Some(default))
        {
            return Ok(Some(found.swap_remove(i)));
        }
        Ok((found.len() == 1).then(|| found.swap_remove(0)))
    }

    /// The template filled for one contact; `TemplateVariables` names what cannot be filled.
    /// `lenient`: a contact field the contact lacks is left empty instead of missing (an
    /// automation has nobody to ask).
    pub(crate) async fn render(
        &self,
        template: &Template,
        given: &BTreeMap<String, String>,
        contact: Option<&Contact>,
        phone: &str,
        lenient: bool,
    ) -> AppResult<Rendered> {
        let mut values = contact_values(contact, phone);
        if lenient {
            for field in wasl_domain::template::CONTACT_FIELDS {
                values.entry((*field).to_owned()).or_default();
            }
        }
        let filled = match fill_plan(&template.variables(), given, &values) {
            Ok(filled) => filled,
            Err(FillError::Missing(missing)) => {
                return Err(AppError::TemplateVariables {
                    missing,
                    unknown: Vec::new(),
                })
            }
            Err(FillError::Unknown(unknown)) => {
                return Err(AppError::TemplateVariables {
                    missing: Vec::new(),
                    unknown,
                })
            }
        };
        let text = template.render(&filled);
        if text.chars().count() > wasl_domain::automation::MOST_TEXT_CHARS {
            return Err(wasl_domain::ParseError::new(
                "variables",
                "the filled template is longer than a message may be (4096 characters)",
            )
            .into());
        }
        let (kind, media) = match &template.header {
            Some(Header::Media { kind, media_id }) => {
                let (_, media) = self
                    .library
                    .media(&template.organization_id, media_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                (header_kind(*kind), Some(media))
            }
            _ => (MessageKind::Text, None),
        };
        Ok(Rendered {
            kind,
            text,
            media,
            metadata: TemplateUse {
                id: template.id.clone(),
                name: template.name.as_str().to_owned(),
                language: template.language.clone(),
                choices: template.choices(),
            },
            marketing: template.category == Category::Marketing,
        })
    }

    /// Sends a template to a customer through the one send: a marketing template never goes
    /// to a contact who opted out (409 `CONTACT_OPTED_OUT`).
    pub async fn send(&self, caller: &Caller, request: TemplateSend) -> AppResult<Accepted> {
        // The session first, as every send answers: which template is asked for matters
        // only once there is a connected session to send it from.
        self.messaging
            .sending_session(caller, request.session_name.as_deref())
            .await?;
        let organization = self
            .store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?;
        let template = self
            .find(
                &caller.org_id,
                request.template.as_str(),
                request.language.as_deref(),
                organization.default_language,
            )
            .await?
            .ok_or(AppError::NotFound)?;
        let contact = self
            .store
            .contacts()
            .by_phone(&caller.org_id, request.to.as_str())
            .await?;
        let rendered = self
            .render(
                &template,
                &request.variables,
                contact.as_ref(),
                request.to.as_str(),
                false,
            )
            .await?;
        let (text, caption) = match rendered.kind {
            MessageKind::Text => (Some(rendered.text), None),
            _ => (None, Some(rendered.text)),
        };
        self.messaging
            .send(
                caller,
                SendRequest {
                    to: request.to,
                    session_name: request.session_name,
                    kind: rendered.kind,
                    text,
                    caption,
                    media: rendered.media,
                    ptt: false,
                    idempotency_key: request.idempotency_key,
                    quoted_message_id: None,
                    metadata: MessageMetadata {
                        automation: None,
                        template: Some(rendered.metadata),
                    },
                    marketing: rendered.marketing,
                },
            )
            .await
    }
}
