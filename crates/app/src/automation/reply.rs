//! An automation's reply made ready for one customer: text with their fields filled, a
//! template rendered, a file of the media library with its caption.

use std::collections::BTreeMap;

use wasl_domain::automation::Reply;
use wasl_domain::template::{self, fill, fill_plan};
use wasl_domain::{Contact, Organization, TemplateUse};
use wasl_engine::{Media, MessageKind};

use super::library::Library;
use super::templates::{contact_values, Templates};
use crate::error::{AppError, AppResult};

/// What an automation sends.
pub(crate) struct Answer {
    pub kind: MessageKind,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub media: Option<Media>,
    pub template: Option<TemplateUse>,
    /// A marketing template: never sent to a contact who opted out.
    pub marketing: bool,
}

/// `text` with the contact's fields and the defaults filled; a field the contact lacks is
/// left empty (the reply was checked to need nothing else when it was saved).
fn personal(text: &str, contact: Option<&Contact>, phone: &str) -> String {
    let mut values = contact_values(contact, phone);
    for field in template::CONTACT_FIELDS {
        values.entry((*field).to_owned()).or_default();
    }
    let variables = template::variables("text", &[text]).unwrap_or_default();
    match fill_plan(&variables, &BTreeMap::new(), &values) {
        Ok(filled) => fill(text, &filled),
        Err(_) => fill(text, &values),
    }
}

pub(crate) async fn render(
    templates: &Templates,
    library: &Library,
    organization: &Organization,
    reply: &Reply,
    contact: Option<&Contact>,
    phone: &str,
) -> AppResult<Answer> {
    match reply {
        Reply::Text { text } => Ok(Answer {
            kind: MessageKind::Text,
            text: Some(personal(text, contact, phone)),
            caption: None,
            media: None,
            template: None,
            marketing: false,
        }),
        Reply::Template {
            name,
            language,
            variables,
        } => {
            let template = templates
                .find(
                    &organization.id,
                    name.as_str(),
                    language.as_deref(),
                    organization.default_language,
                )
                .await?
                .ok_or(AppError::NotFound)?;
            let rendered = templates
                .render(&template, variables, contact, phone, true)
                .await?;
            let (text, caption) = match rendered.kind {
                MessageKind::Text => (Some(rendered.text), None),
                _ => (None, Some(rendered.text)),
            };
            Ok(Answer {
                kind: rendered.kind,
                text,
                caption,
                media: rendered.media,
                template: Some(rendered.metadata),
                marketing: rendered.marketing,
            })
        }
        Reply::Media { media_id, caption } => {
            let (kind, media) = library
                .media(&organization.id, media_id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Answer {
                kind,
                text: None,
                caption: if kind == MessageKind::Audio {
                    None
                } else {
                    caption.as_deref().map(|c| personal(c, contact, phone))
                },
                media: Some(media),
                template: None,
                marketing: false,
            })
        }
    }
}

/// What a reply names must exist: its template (in some language), its file.
pub(crate) async fn check_reply(
    store: &wasl_store::Store,
    org: &wasl_domain::OrgId,
    field: &'static str,
    reply: &Reply,
) -> Result<(), wasl_domain::ParseError> {
    use wasl_domain::ParseError;
    let missing = match reply {
        Reply::Template { name, language, .. } => {
            let found = store
                .templates()
                .by_name(org, name.as_str())
                .await
                .map_err(|_| ParseError::new(field, "cannot be checked now"))?;
            let fits = found
                .iter()
                .any(|t| language.as_ref().is_none_or(|l| &t.language == l));
            (!fits).then(|| format!("no template {} in that language", name.as_str()))
        }
        Reply::Media { media_id, .. } => store
            .media_library()
            .get(org, media_id)
            .await
            .map_err(|_| ParseError::new(field, "cannot be checked now"))?
            .is_none()
            .then(|| "no file of the media library has this id".to_owned()),
        Reply::Text { .. } => None,
    };
    match missing {
        Some(reason) => Err(ParseError::new(field, reason)),
        None => Ok(()),
    }
}

/// An automated answer made into the outgoing message it is, ready to store (its file saved
/// under the message's id): `Ok(None)` when the session's engine cannot send it (a file larger
/// than it sends), which is logged and not sent.
pub(crate) async fn automated_message(
    messaging: &crate::messaging::Messaging,
    session: &wasl_domain::Session,
    to: &str,
    answer: Answer,
    automation: wasl_domain::Automation,
    idempotency_key: String,
) -> AppResult<Option<wasl_store::NewMessage>> {
    if let (Some(media), Some(limit)) = (
        &answer.media,
        messaging
            .engines()
            .capabilities(session.engine)
            .and_then(|c| c.media_limits.of(answer.kind)),
    ) {
        if media.bytes.len() > limit {
            tracing::warn!(session = %session.id, "an automated message's file is larger than the engine sends; nothing is sent");
            return Ok(None);
        }
    }
    let metadata = wasl_domain::MessageMetadata {
        automation: Some(automation),
        template: answer.template,
    };
    let item = messaging
        .prepare(
            crate::messaging::OutgoingDraft {
                session,
                quoted: None,
                to: wasl_domain::PhoneNumber::from_trusted(to),
                kind: answer.kind,
                text: answer.text,
                caption: answer.caption,
                media: answer.media,
                ptt: false,
                idempotency_key: Some(idempotency_key),
                related_user: None,
                metadata,
            },
            None,
        )
        .await?;
    Ok(Some(item))
}
