//! Message templates (SPEC §13): a named message with `{{variables}}` (a default may follow a
//! bar, `{{name|عميلنا}}`), an optional header and footer, and buttons, within Meta's limits;
//! and its rendering to plain text for engines that cannot send templates (web, sandbox):
//! header in bold, body, footer in italics, link and call buttons as lines, quick replies as
//! numbered choices.

use std::collections::{BTreeMap, BTreeSet};

use crate::ParseError;

/// Meta's limits for a template's parts.
pub const MOST_BODY_CHARS: usize = 1024;
pub const MOST_HEADER_CHARS: usize = 60;
pub const MOST_FOOTER_CHARS: usize = 60;
pub const MOST_BUTTON_CHARS: usize = 25;
pub const MOST_URL_CHARS: usize = 2000;
pub const MOST_NAME_CHARS: usize = 512;
pub const MOST_QUICK_REPLIES: usize = 3;
pub const MOST_CALLS_TO_ACTION: usize = 2;
pub const MOST_VARIABLE_CHARS: usize = 64;

/// A template's name: lower-case letters, digits and underscores, as Meta requires.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let value = value.trim();
        if value.is_empty() || value.len() > MOST_NAME_CHARS {
            return Err(ParseError::new(
                field,
                format!("must be 1 to {MOST_NAME_CHARS} characters"),
            ));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ParseError::coded(
                field,
                "invalid_template_name",
                "only lower-case letters a-z, digits and underscores (order_ready)",
            ));
        }
        Ok(TemplateName(value.to_owned()))
    }

    pub fn from_trusted(value: impl Into<String>) -> Self {
        TemplateName(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A template's language as Meta names them: `ar`, `en`, `en_US`, `pt_BR`.
pub fn language(field: &'static str, value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    let (code, region) = match value.split_once('_') {
        Some((code, region)) => (code, Some(region)),
        None => (value, None),
    };
    let code_ok = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_uppercase()));
    if code_ok && region_ok {
        Ok(value.to_owned())
    } else {
        Err(ParseError::coded(
            field,
            "invalid_language",
            format!("{value:?} is not a language code (ar, en, en_US)"),
        ))
    }
}

/// One `{{…}}` of a template: its name and the default written after a bar, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub default: Option<String>,
}

/// A piece of template text: literal text, or a variable to fill.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Variable {
        name: &'a str,
        default: Option<&'a str>,
    },
}

fn valid_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.len() <= MOST_VARIABLE_CHARS
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Splits `text` into literal text and variables; a `{{` that is not closed, or holds no
/// valid name, is an error naming it.
fn pieces<'a>(field: &'static str, text: &'a str) -> Result<Vec<Piece<'a>>, ParseError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            ParseError::coded(field, "invalid_variable", "a {{ is never closed with }}")
        })?;
        let inside = &after[..close];
        let (name, default) = match inside.split_once('|') {
            Some((name, default)) => (name.trim(), Some(default.trim())),
            None => (inside.trim(), None),
        };
        if !valid_variable_name(name) {
            return Err(ParseError::coded(
                field,
                "invalid_variable",
                format!(
                    "{{{{{inside}}}}} is not a variable: a name of letters, digits, _ and . (such as {{{{name}}}} or {{{{contact.name}}}})"
                ),
            ));
        }
        out.push(Piece::Variable { name, default });
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// The variables of `texts` in order of first appearance; a default given once holds for
/// every use of that name, and two different defaults for one name are an error.
pub fn variables(field: &'static str, texts: &[&str]) -> Result<Vec<Variable>, ParseError> {
    let mut found: Vec<Variable> = Vec::new();
    for text in texts {
        for piece in pieces(field, text)? {
            let Piece::Variable { name, default } = piece else {
                continue;
            };
            match found.iter_mut().find(|v| v.name == name) {
                Some(known) => match (&known.default, default) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(ParseError::coded(
                            field,
                            "invalid_variable",
                            format!("{{{{{name}}}}} has two different defaults"),
                        ));
                    }
                    (None, Some(b)) => known.default = Some(b.to_owned()),
                    _ => {}
                },
                None => found.push(Variable {
                    name: name.to_owned(),
                    default: default.map(str::to_owned),
                }),
            }
        }
    }
    Ok(found)
}

/// The contact's fields a template may name: they fill themselves for each customer.
pub const CONTACT_FIELDS: &[&str] = &["contact.name", "contact.phone", "contact.customerId"];

/// What a variable's value may come from, besides what the sender gives.
pub fn is_contact_field(name: &str) -> bool {
    CONTACT_FIELDS.contains(&name)
}

/// A `contact.…` variable that names no field of a contact.
fn unknown_contact_field(variables: &[Variable]) -> Option<&str> {
    variables
        .iter()
        .map(|v| v.name.as_str())
        .find(|n| n.starts_with("contact.") && !is_contact_field(n))
}

/// Checks that every `contact.…` variable of `texts` names a field of a contact.
pub fn check_contact_fields(field: &'static str, texts: &[&str]) -> Result<(), ParseError> {
    let found = variables(field, texts)?;
    match unknown_contact_field(&found) {
        None => Ok(()),
        Some(name) => Err(ParseError::coded(
            field,
            "invalid_variable",
            format!(
                "{{{{{name}}}}} is not a field of a contact ({})",
                CONTACT_FIELDS.join(", ")
            ),
        )),
    }
}

/// Fills the variables of `text` from `values` (every name must have one: see [`fill_plan`]).
pub fn fill(text: &str, values: &BTreeMap<String, String>) -> String {
    let Ok(pieces) = pieces("content", text) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Variable { name, default } => match values.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(default.unwrap_or_default()),
            },
        }
    }
    out
}

/// Why the variables given for a send cannot fill a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillError {
    /// These have no value given, no default and no contact field to come from.
    Missing(Vec<String>),
    /// These were given and the template has no such variable.
    Unknown(Vec<String>),
}

/// The value of every variable of a template: what the sender gave, else what the contact
/// has (`contact.name`, `contact.phone`, its custom attributes), else the default.
pub fn fill_plan(
    variables: &[Variable],
    given: &BTreeMap<String, String>,
    contact: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, FillError> {
    let names: BTreeSet<&str> = variables.iter().map(|v| v.name.as_str()).collect();
    let unknown: Vec<String> = given
        .keys()
        .filter(|k| !names.contains(k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(FillError::Unknown(unknown));
    }
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for v in variables {
        let value = given
            .get(&v.name)
            .filter(|s| !s.trim().is_empty())
            .or_else(|| contact.get(&v.name).filter(|s| !s.trim().is_empty()))
            .cloned()
            .or_else(|| v.default.clone());
        match value {
            Some(value) => {
                values.insert(v.name.clone(), value);
            }
            None => missing.push(v.name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(values)
    } else {
        Err(FillError::Missing(missing))
    }
}

/// What a template is for, as Meta classifies it: marketing ones are never sent to a contact
/// who opted out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Marketing,
    Utility,
    Authentication,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Marketing => "marketing",
            Category::Utility => "utility",
            Category::Authentication => "authentication",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "marketing" => Ok(Category::Marketing),
            "utility" => Ok(Category::Utility),
            "authentication" => Ok(Category::Authentication),
            _ => Err(ParseError::new(
                field,
                "must be marketing, utility or authentication",
            )),
        }
    }
}

/// A button under a template's message, written `{type: url | call | quick_reply, text, url?,
/// phone?}` in the API and the store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Button {
    /// Opens a web address.
    Url { text: String, url: String },
    /// Calls a number (E.164 digits, checked by the caller with [`crate::PhoneNumber`]).
    Call { text: String, phone: String },
    /// A choice the customer taps, which comes back as their reply.
    QuickReply { text: String },
}

impl Button {
    pub fn text(&self) -> &str {
        match self {
            Button::Url { text, .. } | Button::Call { text, .. } | Button::QuickReply { text } => {
                text
            }
        }
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Checks a template's parts against Meta's limits: the body, header and footer lengths, and
/// the buttons (at most 3 quick replies, at most 2 calls to action of which one call, texts of
/// at most 25 characters, `https://` or `http://` addresses).
pub fn check_parts(
    content: &str,
    header_text: Option<&str>,
    footer: Option<&str>,
    buttons: &[Button],
) -> Vec<ParseError> {
    let mut errors = Vec::new();
    let control = |c: char| c.is_control() && c != '\n';
    if content.trim().is_empty() {
        errors.push(ParseError::new("content", "must not be empty"));
    } else if content.chars().any(control) {
        errors.push(ParseError::new(
            "content",
            "no control characters but line breaks",
        ));
    } else if chars(content) > MOST_BODY_CHARS {
        errors.push(ParseError::new(
            "content",
            format!("at most {MOST_BODY_CHARS} characters"),
        ));
    }
    if let Some(header) = header_text {
        if header.trim().is_empty()
            || chars(header) > MOST_HEADER_CHARS
            || header.chars().any(char::is_control)
        {
            errors.push(ParseError::new(
                "header.text",
                format!("1 to {MOST_HEADER_CHARS} characters"),
            ));
        }
    }
    if let Some(footer) = footer {
        if chars(footer) > MOST_FOOTER_CHARS {
            errors.push(ParseError::new(
                "footer",
                format!("at most {MOST_FOOTER_CHARS} characters"),
            ));
        }
        if footer.contains("{{") {
            errors.push(ParseError::new("footer", "a footer holds no variables"));
        }
    }
    let quick = buttons
        .iter()
        .filter(|b| matches!(b, Button::QuickReply { .. }))
        .count();
    let calls = buttons
        .iter()
        .filter(|b| matches!(b, Button::Call { .. }))
        .count();
    let actions = buttons.len() - quick;
    if quick > MOST_QUICK_REPLIES {
        errors.push(ParseError::coded(
            "buttons",
            "too_many_buttons",
            format!("at most {MOST_QUICK_REPLIES} quick replies"),
        ));
    }
    if actions > MOST_CALLS_TO_ACTION || calls > 1 {
        errors.push(ParseError::coded(
            "buttons",
            "too_many_buttons",
            format!("at most {MOST_CALLS_TO_ACTION} link or call buttons, one of them a call"),
        ));
    }
    for button in buttons {
        let text = button.text();
        if text.trim().is_empty()
            || chars(text) > MOST_BUTTON_CHARS
            || text.chars().any(char::is_control)
        {
            errors.push(ParseError::new(
                "buttons",
                format!("a button's text is 1 to {MOST_BUTTON_CHARS} characters"),
            ));
        }
        if let Button::Url { url, .. } = button {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || chars(url) > MOST_URL_CHARS || url.chars().any(char::is_whitespace) {
                errors.push(ParseError::new(
                    "buttons",
                    format!("{url:?} is not a web address (https://…, at most {MOST_URL_CHARS} characters)"),
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for button in buttons {
        if let Button::QuickReply { text } = button {
            if !seen.insert(crate::search::fold(text)) {
                errors.push(ParseError::new(
                    "buttons",
                    format!("two quick replies read {text:?}"),
                ));
            }
        }
    }
    errors
}

/// What a template's header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    Text,
    Image,
    Video,
    Document,
}

impl HeaderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderKind::Text => "text",
            HeaderKind::Image => "image",
            HeaderKind::Video => "video",
            HeaderKind::Document => "document",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "text" => Ok(HeaderKind::Text),
            "image" => Ok(HeaderKind::Image),
            "video" => Ok(HeaderKind::Video),
            "document" => Ok(HeaderKind::Document),
            _ => Err(ParseError::new(
                field,
                "must be text, image, video or document",
            )),
        }
    }
}

/// A template's header: a line of text (in bold when rendered as text), or a file of the
/// media library the message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    Text(String),
    Media { kind: HeaderKind, media_id: String },
}

impl Header {
    pub fn parse(
        kind: &str,
        text: Option<&str>,
        media_id: Option<&str>,
    ) -> Result<Self, ParseError> {
        let kind = HeaderKind::parse("header.type", kind)?;
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        let media_id = media_id.map(str::trim).filter(|t| !t.is_empty());
        match (kind, text, media_id) {
            (HeaderKind::Text, Some(text), None) => Ok(Header::Text(text.to_owned())),
            (HeaderKind::Text, _, _) => Err(ParseError::new(
                "header.text",
                "a text header has its text and no mediaId",
            )),
            (kind, None, Some(id)) => Ok(Header::Media {
                kind,
                media_id: crate::automation::token("header.mediaId", id)?,
            }),
            (_, _, _) => Err(ParseError::new(
                "header.mediaId",
                "a media header names a file of the media library (mediaId) and has no text",
            )),
        }
    }

    pub fn kind(&self) -> HeaderKind {
        match self {
            Header::Text(_) => HeaderKind::Text,
            Header::Media { kind, .. } => *kind,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Header::Text(text) => Some(text),
            Header::Media { .. } => None,
        }
    }

    pub fn media_id(&self) -> Option<&str> {
        match self {
            Header::Text(_) => None,
            Header::Media { media_id, .. } => Some(media_id),
        }
    }
}

/// A template of an organization, checked against Meta's limits when it was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub organization_id: crate::OrgId,
    pub name: TemplateName,
    /// `ar`, `en`, `en_US`…: a name may exist once per language.
    pub language: String,
    pub category: Category,
    pub header: Option<Header>,
    pub content: String,
    pub footer: Option<String>,
    pub buttons: Vec<Button>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A template as asked for, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDraft {
    pub name: TemplateName,
    /// The organization's default language when not given.
    pub language: Option<String>,
    pub category: Category,
    pub header: Option<Header>,
    pub content: String,
    pub footer: Option<String>,
    pub buttons: Vec<Button>,
}

impl TemplateDraft {
    /// Checks the parts against Meta's limits and the variables' syntax; every mistake named.
    pub fn check(&self) -> Result<(), Vec<ParseError>> {
        let header_text = self.header.as_ref().and_then(Header::text);
        let mut errors = check_parts(
            &self.content,
            header_text,
            self.footer.as_deref(),
            &self.buttons,
        );
        if let Err(e) = check_contact_fields("content", &[header_text.unwrap_or(""), &self.content])
        {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Template {
    /// Its variables in order of first appearance (header, then body), with their defaults.
    pub fn variables(&self) -> Vec<Variable> {
        let header = self.header.as_ref().and_then(Header::text).unwrap_or("");
        variables("content", &[header, &self.content]).unwrap_or_default()
    }

    /// The texts of its quick replies, in order: the numbered choices of its text rendering.
    pub fn choices(&self) -> Vec<String> {
        self.buttons
            .iter()
            .filter_map(|b| match b {
                Button::QuickReply { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    /// The template as plain text with `values` filled in (see [`fill_plan`]).
    pub fn render(&self, values: &BTreeMap<String, String>) -> String {
        let header = self
            .header
            .as_ref()
            .and_then(Header::text)
            .map(|h| fill(h, values));
        render_text(
            header.as_deref(),
            &fill(&self.content, values),
            self.footer.as_deref(),
            &self.buttons,
        )
    }
}

/// A template as plain text, for engines that cannot send templates (web, sandbox): the
/// header in bold, the body, the footer in italics, link and call buttons as lines, quick
/// replies as numbered choices (which the customer answers with their number or text).
pub fn render_text(
    header_text: Option<&str>,
    body: &str,
    footer: Option<&str>,
    buttons: &[Button],
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(header) = header_text.filter(|h| !h.trim().is_empty()) {
        parts.push(format!("*{}*", header.trim()));
    }
    parts.push(body.trim().to_owned());
    if let Some(footer) = footer.filter(|f| !f.trim().is_empty()) {
        parts.push(format!("_{}_", footer.trim()));
    }
    let links: Vec<String> = buttons
        .iter()
        .filter_map(|b| match b {
            Button::Url { text, url } => Some(format!("🔗 {text}: {url}")),
            Button::Call { text, phone } => Some(format!("📞 {text}: +{phone}")),
            Button::QuickReply { .. } => None,
        })
        .collect();
    if !links.is_empty() {
        parts.push(links.join("\n"));
    }
    let choices: Vec<String> = buttons
        .iter()
        .filter_map(|b| match b {
            Button::QuickReply { text } => Some(text.as_str()),
            _ => None,
        })
        .enumerate()
        .map(|(i, text)| format!("{}. {text}", i + 1))
        .collect();
    if !choices.is_empty() {
        parts.push(choices.join("\n"));
    }
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parts_are_held_to_metas_limits() {
        let ok = [
            Button::QuickReply {
                text: "نعم".into()
            },
            Button::QuickReply {
                text: "لا".into()
            },
            Button::Url {
                text: "تتبع الطلب".into(),
                url: "https://shop.sa/t/1".into(),
            },
            Button::Call {
                text: "اتصل بنا".into(),
                phone: "966551112233".into(),
            },
        ];
        assert!(check_parts("مرحباً {{name}}", Some("طلبك"), Some("متجر الورد"), &ok).is_empty());
        let long = "ا".repeat(MOST_BODY_CHARS + 1);
        assert_eq!(check_parts(&long, None, None, &[])[0].field, "content");
        assert!(!check_parts(&"ا".repeat(MOST_BODY_CHARS), None, None, &[])
            .iter()
            .any(|e| e.field == "content"));
        let four = vec![
            Button::QuickReply { text: "1".into() },
            Button::QuickReply { text: "2".into() },
            Button::QuickReply { text: "3".into() },
            Button::QuickReply { text: "4".into() },
        ];
        assert_eq!(
            check_parts("x", None, None, &four)[0].code,
            "too_many_buttons"
        );
        let two_calls = vec![
            Button::Call {
                text: "a".into(),
                phone: "1".into(),
            },
            Button::Call {
                text: "b".into(),
                phone: "2".into(),
            },
        ];
        assert_eq!(
            check_parts("x", None, None, &two_calls)[0].code,
            "too_many_buttons"
        );
        let bad_url = vec![Button::Url {
            text: "a".into(),
            url: "javascript:alert(1)".into(),
        }];
        assert_eq!(check_parts("x", None, None, &bad_url).len(), 1);
        let same = vec![
            Button::QuickReply {
                text: "نعم".into()
            },
            Button::QuickReply {
                text: "نَعَم".into()
            },
        ];
        assert_eq!(check_parts("x", None, None, &same).len(), 1, "folded alike");
        assert_eq!(check_parts("x", None, Some("{{name}}"), &[]).len(), 1);
        assert_eq!(
            check_parts(
                " ",
                Some(""),
                None,
                &[Button::QuickReply {
                    text: "ا".repeat(26)
                }]
            )
            .len(),
            3
        );
    }

    #[test]
    fn a_template_renders_to_text_for_the_web_engine() {
        let text = render_text(
            Some("طلبك جاهز"),
            "مرحباً أحمد، طلبك رقم 42 جاهز.",
            Some("متجر الورد"),
            &[
                Button::Url {
                    text: "تتبع الطلب".into(),
                    url: "https://shop.sa/t/42".into(),
                },
                Button::QuickReply {
                    text: "سأستلمه اليوم".into(),
                },
                Button::QuickReply {
                    text: "غداً".into()
                },
            ],
        );
        assert_eq!(
            text,
            "*طلبك جاهز*\n\nمرحباً أحمد، طلبك رقم 42 جاهز.\n\n_متجر الورد_\n\n🔗 تتبع الطلب: https://shop.sa/t/42\n\n1. سأستلمه اليوم\n2. غداً"
        );
        assert_eq!(render_text(None, "نص فقط", None, &[]), "نص فقط");
    }

    #[test]
    fn names_are_meta_shaped() {
        assert!(TemplateName::parse("name", "order_ready_2").is_ok());
        for bad in ["", "Order", "order-ready", "طلب", "order ready"] {
            assert!(TemplateName::parse("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn variables_are_found_in_order_with_their_defaults() {
        let found = variables(
            "content",
            &[
                "مرحباً {{name|عميلنا}}! شكراً لتواصلك مع {{ company }}",
                "{{name}} {{contact.phone}}",
            ],
        )
        .expect("variables");
        assert_eq!(
            found,
            vec![
                Variable {
                    name: "name".into(),
                    default: Some("عميلنا".into())
                },
                Variable {
                    name: "company".into(),
                    default: None
                },
                Variable {
                    name: "contact.phone".into(),
                    default: None
                },
            ]
        );
        assert!(variables("content", &["{{name|a}} {{name|b}}"]).is_err());
        assert!(variables("content", &["{{name"]).is_err());
        assert!(variables("content", &["{{}}"]).is_err());
        assert!(variables("content", &["{{1st}}"]).is_err());
        assert!(variables("content", &["{{اسم}}"]).is_err());
        assert_eq!(
            variables("content", &["no variables { here }"]).expect("ok"),
            vec![]
        );
    }

    #[test]
    fn values_come_from_the_sender_then_the_contact_then_the_default() {
        let vars =
            variables("content", &["{{name|عميلنا}} {{company}} {{contact.name}}"]).expect("ok");
        let contact = map(&[("contact.name", "أحمد")]);
        let values =
            fill_plan(&vars, &map(&[("company", "متجر الورد")]), &contact).expect("filled");
        assert_eq!(
            fill(
                "مرحباً {{name|عميلنا}} من {{company}} يا {{contact.name}}",
                &values
            ),
            "مرحباً عميلنا من متجر الورد يا أحمد"
        );
        assert_eq!(
            fill_plan(&vars, &map(&[]), &contact),
            Err(FillError::Missing(vec!["company".into()]))
        );
        assert_eq!(
            fill_plan(&vars, &map(&[("company", "x"), ("color", "red")]), &contact),
            Err(FillError::Unknown(vec!["color".into()]))
        );
        // A blank value is no value.
        assert_eq!(
            fill_plan(&vars, &map(&[("company", "  ")]), &contact),
            Err(FillError::Missing(vec!["company".into()]))
        );
    }
}
