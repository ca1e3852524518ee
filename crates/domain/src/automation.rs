//! Auto-replies (SPEC §14): a rule answers a customer's message when its trigger matches,
//! within its conditions of time, day and business hours (else with its away response), with
//! the highest priority first, never twice to one contact within its cooldown and never more
//! than [`MOST_ANSWERS_AN_HOUR`] automated answers to a contact in an hour. Everything here is
//! pure: the use case gathers the facts (rules, local time, history) and acts on the decision.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::calendar::{Period, TimeCondition, Weekday};
use crate::search::{fold, fold_char};
use crate::template::{self, TemplateName};
use crate::{OrgId, ParseError, SessionName};

pub const MOST_NAME_CHARS: usize = 100;
pub const MOST_TRIGGER_CHARS: usize = 500;
/// A compiled trigger pattern may take this much memory at most: enough for any sensible
/// pattern, and no pattern can make the matcher slow (the engine runs in linear time).
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
pub const MOST_TEXT_CHARS: usize = 4096;
pub const MOST_CAPTION_CHARS: usize = 1024;
pub const DEFAULT_COOLDOWN_MINUTES: u32 = 60;
/// Thirty days.
pub const MOST_COOLDOWN_MINUTES: u32 = 43_200;
pub const MOST_PRIORITY: i64 = 1000;
/// Automated answers one contact may receive in an hour, whatever sent them.
pub const MOST_ANSWERS_AN_HOUR: usize = 5;
pub const HOUR_MS: i64 = 3_600_000;

/// Text as triggers compare it: folded like search (case, Arabic letter forms, diacritics,
/// tatweel, Arabic-Indic digits) and without the punctuation around it, so "مرحبا!" is
/// "مرحبا". Text that is only punctuation or emoji keeps it ("👍" stays "👍").
pub fn normalize(text: &str) -> String {
    let folded = fold(text);
    let bare = folded.trim_matches(|c: char| !c.is_alphanumeric());
    if bare.is_empty() {
        folded.trim().to_owned()
    } else {
        bare.to_owned()
    }
}

/// How a rule's trigger is compared with a customer's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    Exact,
    Contains,
    StartsWith,
    Regex,
    /// Every message, text or not.
    Any,
}

impl MatchType {
    pub const ALL: [MatchType; 5] = [
        MatchType::Exact,
        MatchType::Contains,
        MatchType::StartsWith,
        MatchType::Regex,
        MatchType::Any,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Exact => "exact",
            MatchType::Contains => "contains",
            MatchType::StartsWith => "startsWith",
            MatchType::Regex => "regex",
            MatchType::Any => "any",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        MatchType::ALL
            .into_iter()
            .find(|m| m.as_str() == value.trim())
            .ok_or_else(|| {
                ParseError::new(field, "must be exact, contains, startsWith, regex or any")
            })
    }
}

/// What a rule listens for: its match type and text, checked (a pattern compiled) when saved.
#[derive(Debug, Clone)]
pub struct Trigger {
    match_type: MatchType,
    text: String,
    normalized: String,
    regex: Option<Regex>,
}

impl PartialEq for Trigger {
    fn eq(&self, other: &Self) -> bool {
        self.match_type == other.match_type && self.text == other.text
    }
}

impl Eq for Trigger {}

/// A pattern folded like the text it is matched against, except what follows a backslash
/// (`\D` must not become `\d`).
fn fold_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(c);
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else if c.is_whitespace() {
            out.push(c);
        } else {
            fold_char(c, &mut out);
        }
    }
    out
}

impl Trigger {
    pub fn parse(
        field: &'static str,
        match_type: MatchType,
        text: &str,
    ) -> Result<Self, ParseError> {
        // Counted as given: the limit is the API's, before any trimming.
        if text.chars().count() > MOST_TRIGGER_CHARS || text.chars().any(char::is_control) {
            return Err(ParseError::new(
                field,
                format!("at most {MOST_TRIGGER_CHARS} characters of text"),
            ));
        }
        let text = text.trim();
        if match_type == MatchType::Any {
            return Ok(Trigger {
                match_type,
                text: text.to_owned(),
                normalized: String::new(),
                regex: None,
            });
        }
        if text.is_empty() {
            return Err(ParseError::new(
                field,
                "must be some text (only `any` matches without one)",
            ));
        }
        let regex = match match_type {
            MatchType::Regex => Some(
                RegexBuilder::new(&fold_pattern(text))
                    .case_insensitive(true)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| {
                        let reason = e.to_string();
                        let last = reason.lines().last().unwrap_or("").trim().to_owned();
                        ParseError::coded(
                            field,
                            "invalid_regex",
                            format!("not a valid pattern: {last}"),
                        )
                    })?,
            ),
            _ => None,
        };
        Ok(Trigger {
            match_type,
            text: text.to_owned(),
            normalized: normalize(text),
            regex,
        })
    }

    pub fn match_type(&self) -> MatchType {
        self.match_type
    }

    /// The trigger as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a message with this text (`None`: no text, a photo without caption) matches.
    pub fn matches(&self, text: Option<&str>) -> bool {
        if self.match_type == MatchType::Any {
            return true;
        }
        let Some(text) = text else {
            return false;
        };
        match (&self.match_type, &self.regex) {
            (MatchType::Regex, Some(regex)) => regex.is_match(&fold(text)),
            (MatchType::Exact, _) => normalize(text) == self.normalized,
            (MatchType::Contains, _) => normalize(text).contains(&self.normalized),
            (MatchType::StartsWith, _) => normalize(text).starts_with(&self.normalized),
            _ => false,
        }
    }
}

/// When a rule's own response applies: a daily time range and days, and being within (or
/// outside) the organization's business hours. All of them must hold; none set holds always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub time: TimeCondition,
    pub within_business_hours: Option<bool>,
}

impl Conditions {
    pub fn holds(&self, local: NaiveDateTime, open: bool) -> bool {
        self.time.holds(local) && self.within_business_hours.is_none_or(|want| want == open)
    }

    pub fn is_empty(&self) -> bool {
        self.time.range.is_none()
            && self.time.days.is_empty()
            && self.within_business_hours.is_none()
    }
}

/// A daily time range as written: `HH:MM` to `HH:MM` (an end at or before the start runs past
/// midnight).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeFields {
    pub start: String,
    pub end: String,
}

/// Conditions as written (the API's and the store's shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<RangeFields>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_business_hours: Option<bool>,
}

impl Conditions {
    pub fn parse(fields: &ConditionFields) -> Result<Self, ParseError> {
        let range = fields
            .time_range
            .as_ref()
            .map(|r| Period::parse("conditions.timeRange", &r.start, &r.end))
            .transpose()?;
        let mut days = Vec::new();
        for day in &fields.days {
            let day = Weekday::parse("conditions.days", day)?;
            if !days.contains(&day) {
                days.push(day);
            }
        }
        days.sort();
        Ok(Conditions {
            time: TimeCondition { range, days },
            within_business_hours: fields.within_business_hours,
        })
    }

    pub fn fields(&self) -> ConditionFields {
        ConditionFields {
            time_range: self.time.range.map(|p| RangeFields {
                start: p.start.to_string(),
                end: p.end.to_string(),
            }),
            days: self
                .time
                .days
                .iter()
                .map(|d| d.as_str().to_owned())
                .collect(),
            within_business_hours: self.within_business_hours,
        }
    }
}

/// What an automation answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Text, in which `{{contact.name}}` and other contact fields (or variables with a
    /// default) are filled for each customer.
    Text { text: String },
    /// A template of the organization, by name (and language: the organization's default
    /// when not given), with values for its variables.
    Template {
        name: TemplateName,
        language: Option<String>,
        variables: BTreeMap<String, String>,
    },
    /// A file of the organization's media library, with an optional caption.
    Media {
        media_id: String,
        caption: Option<String>,
    },
}

/// A reply as asked for, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyFields {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

/// Checks that text to fill for every customer names only contact fields or variables with a
/// default: an automation has nobody to ask for the rest.
fn fillable(field: &'static str, text: &str) -> Result<(), ParseError> {
    template::check_contact_fields(field, &[text])?;
    let variables = template::variables(field, &[text])?;
    let open: Vec<&str> = variables
        .iter()
        .filter(|v| v.default.is_none() && !template::is_contact_field(&v.name))
        .map(|v| v.name.as_str())
        .collect();
    if open.is_empty() {
        Ok(())
    } else {
        Err(ParseError::coded(
            field,
            "template_variable_missing",
            format!(
                "{} has no value: use contact fields ({{{{contact.name}}}}) or give a default ({{{{name|…}}}})",
                open.join(", ")
            ),
        ))
    }
}

fn optional_text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|t| !t.is_empty())
}

/// A media id, a template's language: short plain tokens.
pub fn token(field: &'static str, value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ParseError::new(field, "is not an id"))
    }
}

impl Reply {
    /// The reply `fields` describe; `field` names it in errors (`response`, `awayResponse`).
    pub fn parse(field: &'static str, fields: &ReplyFields) -> Result<Self, ParseError> {
        match fields.kind.trim() {
            "text" => {
                let text = optional_text(fields.text.as_deref())
                    .ok_or_else(|| ParseError::new(field, "a text reply needs its text"))?;
                if text.chars().count() > MOST_TEXT_CHARS || text.contains('\0') {
                    return Err(ParseError::new(
                        field,
                        format!("the text is at most {MOST_TEXT_CHARS} characters"),
                    ));
                }
                fillable(field, text)?;
                Ok(Reply::Text {
                    text: text.to_owned(),
                })
            }
            "template" => {
                let name = fields
                    .template
                    .as_deref()
                    .ok_or_else(|| ParseError::new(field, "a template reply names its template"))
                    .and_then(|n| TemplateName::parse(field, n))?;
                let language = optional_text(fields.language.as_deref())
                    .map(|l| template::language(field, l))
                    .transpose()?;
                if fields.variables.len() > 50 {
                    return Err(ParseError::new(field, "at most 50 variables"));
                }
                let mut variables = BTreeMap::new();
                for (k, v) in &fields.variables {
                    if v.chars().count() > 1024 || v.chars().any(char::is_control) {
                        return Err(ParseError::new(
                            field,
                            format!("the value of {k} is at most 1024 characters of text"),
                        ));
                    }
                    variables.insert(k.trim().to_owned(), v.trim().to_owned());
                }
                Ok(Reply::Template {
                    name,
                    language,
                    variables,
                })
            }
            "media" => {
                let media_id = fields
                    .media_id
                    .as_deref()
                    .ok_or_else(|| ParseError::new(field, "a media reply needs its mediaId"))
                    .and_then(|id| token(field, id))?;
                let caption = optional_text(fields.text.as_deref());
                if let Some(caption) = caption {
                    if caption.chars().count() > MOST_CAPTION_CHARS || caption.contains('\0') {
                        return Err(ParseError::new(
                            field,
                            format!("the caption is at most {MOST_CAPTION_CHARS} characters"),
                        ));
                    }
                    fillable(field, caption)?;
                }
                Ok(Reply::Media {
                    media_id,
                    caption: caption.map(str::to_owned),
                })
            }
            _ => Err(ParseError::new(
                field,
                "type must be text, template or media",
            )),
        }
    }

    /// The fields this reply is written with (the API's and the store's shape).
    pub fn fields(&self) -> ReplyFields {
        match self {
            Reply::Text { text } => ReplyFields {
                kind: "text".into(),
                text: Some(text.clone()),
                ..ReplyFields::default()
            },
            Reply::Template {
                name,
                language,
                variables,
            } => ReplyFields {
                kind: "template".into(),
                template: Some(name.as_str().to_owned()),
                language: language.clone(),
                variables: variables.clone(),
                ..ReplyFields::default()
            },
            Reply::Media { media_id, caption } => ReplyFields {
                kind: "media".into(),
                text: caption.clone(),
                media_id: Some(media_id.clone()),
                ..ReplyFields::default()
            },
        }
    }

    /// The media file this reply sends, if any.
    pub fn media_id(&self) -> Option<&str> {
        match self {
            Reply::Media { media_id, .. } => Some(media_id),
            _ => None,
        }
    }

    /// The template this reply sends, if any.
    pub fn template(&self) -> Option<&TemplateName> {
        match self {
            Reply::Template { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// An auto-reply rule of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoReply {
    pub id: String,
    pub organization_id: OrgId,
    pub name: String,
    pub trigger: Trigger,
    pub response: Reply,
    pub conditions: Conditions,
    /// What it answers when its trigger matches outside its conditions.
    pub away_response: Option<Reply>,
    /// Only messages to this session; all sessions when `None`.
    pub session_name: Option<SessionName>,
    /// Higher answers first.
    pub priority: i64,
    pub cooldown_minutes: u32,
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AutoReply {
    pub fn cooldown_ms(&self) -> i64 {
        i64::from(self.cooldown_minutes) * 60_000
    }

    /// Whether the rule answers with this media file or template (to keep them from being
    /// deleted while a rule uses them).
    pub fn uses_media(&self, media_id: &str) -> bool {
        self.replies().any(|r| r.media_id() == Some(media_id))
    }

    pub fn uses_template(&self, name: &str) -> bool {
        self.replies()
            .any(|r| r.template().is_some_and(|t| t.as_str() == name))
    }

    fn replies(&self) -> impl Iterator<Item = &Reply> {
        std::iter::once(&self.response).chain(self.away_response.as_ref())
    }
}

/// Puts rules in the order they are tried: highest priority first, then the oldest.
pub fn by_priority(rules: &mut [AutoReply]) {
    rules.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
}

/// A customer's message as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Its text or caption; `None` for media without a caption.
    pub text: Option<&'a str>,
    /// The choice it picked by number, when it answers a template's numbered quick replies.
    pub choice: Option<&'a str>,
    pub session_name: &'a str,
    /// The local time in the organization's zone, and whether it is within business hours.
    pub local: NaiveDateTime,
    pub open: bool,
    pub at: i64,
}

/// The automated answers the contact received lately.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// In the hour before the message, whatever sent them.
    pub answers_last_hour: usize,
    /// When each auto-reply rule last answered this contact.
    pub last_by_rule: HashMap<String, i64>,
}

/// What became of one rule for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Inactive,
    /// The rule answers another session's messages.
    OtherSession,
    NoMatch,
    /// The trigger matched, outside the conditions, and the rule has no away response.
    ConditionsNotMet,
    /// The rule answers: with its response, or its away response.
    Answers {
        away: bool,
    },
    /// The rule would answer, but answered this contact less than its cooldown ago.
    Cooldown {
        until: i64,
    },
    /// The contact had their hourly share of automated answers.
    HourlyLimit,
    /// A rule before it decided.
    NotReached,
}

impl Verdict {
    /// A code for clients and the dashboard.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Inactive => "inactive",
            Verdict::OtherSession => "other_session",
            Verdict::NoMatch => "no_match",
            Verdict::ConditionsNotMet => "conditions_not_met",
            Verdict::Answers { away: false } => "answers",
            Verdict::Answers { away: true } => "answers_away",
            Verdict::Cooldown { .. } => "cooldown",
            Verdict::HourlyLimit => "hourly_limit",
            Verdict::NotReached => "not_reached",
        }
    }
}

/// The rules' decision on a message: a verdict for each rule (in the order given) and the
/// rule that answers, if one does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdicts: Vec<Verdict>,
    /// The index of the answering rule, and whether with its away response.
    pub answer: Option<(usize, bool)>,
}

impl Decision {
    /// Why no rule answers, as a code (`None` when one does).
    pub fn reason(&self) -> Option<&'static str> {
        if self.answer.is_some() {
            return None;
        }
        Some(
            self.verdicts
                .iter()
                .find(|v| matches!(v, Verdict::Cooldown { .. } | Verdict::HourlyLimit))
                .or_else(|| {
                    self.verdicts
                        .iter()
                        .find(|v| **v == Verdict::ConditionsNotMet)
                })
                .map_or("no_rule_matched", Verdict::code),
        )
    }
}

/// Decides which of `rules` (in [`by_priority`] order) answers `incoming`. The first rule
/// whose trigger matches and that has something to say (its response within its conditions,
/// else its away response) is the one: when it is in its cooldown or the contact had
/// [`MOST_ANSWERS_AN_HOUR`] answers in the last hour, nobody answers — a lower rule standing
/// in for it would be the very flood the limits are there to stop.
pub fn decide(rules: &[AutoReply], incoming: &Incoming<'_>, history: &History) -> Decision {
    let mut verdicts = Vec::with_capacity(rules.len());
    let mut answer = None;
    for rule in rules {
        if answer.is_some() || verdicts.iter().any(is_final) {
            verdicts.push(Verdict::NotReached);
            continue;
        }
        let verdict = judge(rule, incoming, history);
        if let Verdict::Answers { away } = verdict {
            answer = Some((verdicts.len(), away));
        }
        verdicts.push(verdict);
    }
    Decision { verdicts, answer }
}

/// A verdict after which no later rule is tried.
fn is_final(verdict: &Verdict) -> bool {
    matches!(
        verdict,
        Verdict::Answers { .. } | Verdict::Cooldown { .. } | Verdict::HourlyLimit
    )
}

fn judge(rule: &AutoReply, incoming: &Incoming<'_>, history: &History) -> Verdict {
    if !rule.is_active {
        return Verdict::Inactive;
    }
    if rule
        .session_name
        .as_ref()
        .is_some_and(|s| s.as_str() != incoming.session_name)
    {
        return Verdict::OtherSession;
    }
    let matched = rule.trigger.matches(incoming.text)
        || incoming
            .choice
            .is_some_and(|choice| rule.trigger.matches(Some(choice)));
    if !matched {
        return Verdict::NoMatch;
    }
    let away = !rule.conditions.holds(incoming.local, incoming.open);
    if away && rule.away_response.is_none() {
        return Verdict::ConditionsNotMet;
    }
    if let Some(last) = history.last_by_rule.get(&rule.id) {
        let until = last + rule.cooldown_ms();
        if incoming.at < until {
            return Verdict::Cooldown { until };
        }
    }
    if history.answers_last_hour >= MOST_ANSWERS_AN_HOUR {
        return Verdict::HourlyLimit;
    }
    Verdict::Answers { away }
}

/// The quick reply a customer picked by its number (`2`, `٢`, `2.`) among the numbered
/// choices of the template they were sent.
pub fn choice<'c>(text: &str, choices: &'c [String]) -> Option<&'c str> {
    let n: usize = normalize(text).parse().ok()?;
    choices.get(n.checked_sub(1)?).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn rule(id: &str, match_type: MatchType, trigger: &str, priority: i64) -> AutoReply {
        AutoReply {
            id: id.into(),
            organization_id: OrgId::from_trusted("org"),
            name: id.into(),
            trigger: Trigger::parse("trigger", match_type, trigger).expect("trigger"),
            response: Reply::Text {
                text: format!("{id} answers"),
            },
            conditions: Conditions::default(),
            away_response: None,
            session_name: None,
            priority,
            cooldown_minutes: 60,
            is_active: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn local(h: u32, m: u32) -> NaiveDateTime {
        // 2027-01-03 is a Sunday.
        NaiveDate::from_ymd_opt(2027, 1, 3)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .expect("time")
    }

    fn incoming(text: &str) -> Incoming<'_> {
        Incoming {
            text: Some(text),
            choice: None,
            session_name: "default",
            local: local(10, 0),
            open: true,
            at: 1_000_000,
        }
    }

    #[test]
    fn triggers_match_the_way_people_write_arabic() {
        let t = |m, s| Trigger::parse("trigger", m, s).expect("trigger");
        let exact = t(MatchType::Exact, "مرحبا");
        assert!(exact.matches(Some("مرحباً!")), "tanwin and punctuation");
        assert!(exact.matches(Some("  مَرْحَبا  ")), "diacritics");
        assert!(!exact.matches(Some("مرحبا بك")));
        let contains = t(MatchType::Contains, "أسعار");
        assert!(contains.matches(Some("كم الاسعار عندكم؟")), "hamza");
        assert!(!contains.matches(None));
        let order = t(MatchType::StartsWith, "طلب رقم ١٢");
        assert!(
            order.matches(Some("طلب رقم 12 وين وصل")),
            "Arabic-Indic digits"
        );
        assert!(order.matches(Some("طلب  رقم ۱۲")), "Persian digits, spaces");
        let maqsura = t(MatchType::Exact, "مستشفى");
        assert!(maqsura.matches(Some("مستشفي")));
        let latin = t(MatchType::Exact, "Hello");
        assert!(latin.matches(Some("HELLO.")));
        let emoji = t(MatchType::Exact, "👍");
        assert!(emoji.matches(Some("👍")));
        assert!(!emoji.matches(Some("👎")));
        assert!(t(MatchType::Any, "").matches(None));
    }

    #[test]
    fn patterns_are_checked_and_folded_like_the_text() {
        let t = |s| Trigger::parse("trigger", MatchType::Regex, s);
        let order = t(r"^(طلب|order)\s*#?\d+$").expect("pattern");
        assert!(order.matches(Some("طلب ٤٢")));
        assert!(order.matches(Some("ORDER #42")));
        assert!(!order.matches(Some("طلبي 42 تأخر")));
        let not_digit = t(r"^\D+$").expect("pattern");
        assert!(not_digit.matches(Some("شكرا")), "escapes are not folded");
        assert!(t(r"إلغاء").expect("pattern").matches(Some("الغاء")));
        let bad = t("(unclosed").expect_err("refused");
        assert_eq!(bad.code, "invalid_regex");
        // A pattern whose automaton would be huge is refused, not compiled.
        assert_eq!(
            t(r"\w{1000}\w{1000}").expect_err("too big").code,
            "invalid_regex"
        );
        assert!(Trigger::parse("trigger", MatchType::Exact, " ").is_err());
        assert!(Trigger::parse("trigger", MatchType::Contains, &"ا".repeat(501)).is_err());
    }

    #[test]
    fn the_highest_priority_rule_that_can_answer_answers() {
        let mut rules = vec![
            rule("greeting", MatchType::Any, "", 0),
            rule("prices", MatchType::Contains, "سعر", 10),
            rule("off", MatchType::Contains, "سعر", 20),
        ];
        rules[2].is_active = false;
        by_priority(&mut rules);
        let d = decide(&rules, &incoming("كم السعر؟"), &History::default());
        assert_eq!(d.answer, Some((1, false)));
        assert_eq!(
            d.verdicts,
            vec![
                Verdict::Inactive,
                Verdict::Answers { away: false },
                Verdict::NotReached
            ]
        );
        let d = decide(&rules, &incoming("مرحبا"), &History::default());
        assert_eq!(rules[d.answer.expect("answer").0].id, "greeting");
    }

    #[test]
    fn conditions_choose_between_the_response_and_the_away_response() {
        let mut hours = rule("hours", MatchType::Any, "", 0);
        hours.conditions = Conditions {
            time: TimeCondition {
                range: Some(Period::parse("p", "09:00", "17:00").expect("period")),
                days: vec![Weekday::Sunday, Weekday::Monday],
            },
            within_business_hours: None,
        };
        let rules = vec![hours.clone()];
        let mut msg = incoming("hi");
        assert_eq!(
            decide(&rules, &msg, &History::default()).answer,
            Some((0, false))
        );
        msg.local = local(18, 0);
        let d = decide(&rules, &msg, &History::default());
        assert_eq!(d.answer, None);
        assert_eq!(d.reason(), Some("conditions_not_met"));
        hours.away_response = Some(Reply::Text {
            text: "closed".into(),
        });
        assert_eq!(
            decide(&[hours.clone()], &msg, &History::default()).answer,
            Some((0, true))
        );
        hours.conditions.within_business_hours = Some(true);
        msg.local = local(10, 0);
        msg.open = false;
        assert_eq!(
            decide(&[hours], &msg, &History::default()).answer,
            Some((0, true)),
            "outside business hours"
        );
    }

    #[test]
    fn cooldown_and_the_hourly_limit_stop_the_answer_without_a_stand_in() {
        let mut rules = vec![
            rule("prices", MatchType::Contains, "سعر", 10),
            rule("greeting", MatchType::Any, "", 0),
        ];
        by_priority(&mut rules);
        let msg = incoming("السعر");
        let mut history = History::default();
        history
            .last_by_rule
            .insert("prices".into(), msg.at - 59 * 60_000);
        let d = decide(&rules, &msg, &history);
        assert_eq!(d.answer, None);
        assert_eq!(
            d.verdicts,
            vec![
                Verdict::Cooldown {
                    until: msg.at + 60_000
                },
                Verdict::NotReached
            ]
        );
        assert_eq!(d.reason(), Some("cooldown"));
        history
            .last_by_rule
            .insert("prices".into(), msg.at - 60 * 60_000);
        assert_eq!(decide(&rules, &msg, &history).answer, Some((0, false)));
        history.answers_last_hour = MOST_ANSWERS_AN_HOUR;
        let d = decide(&rules, &msg, &history);
        assert_eq!(d.reason(), Some("hourly_limit"));
    }

    #[test]
    fn a_rule_of_another_session_and_choices_by_number() {
        let mut yes = rule("yes", MatchType::Exact, "نعم", 0);
        yes.session_name = Some(SessionName::parse("sales").expect("name"));
        let choices = vec!["نعم".to_owned(), "لا".to_owned()];
        let picked = choice("١", &choices);
        assert_eq!(picked, Some("نعم"));
        assert_eq!(choice("3", &choices), None);
        assert_eq!(choice("0", &choices), None);
        assert_eq!(choice("(2)", &choices), Some("لا"));
        let mut msg = incoming("1");
        msg.choice = picked;
        assert_eq!(
            decide(&[yes.clone()], &msg, &History::default()).verdicts,
            vec![Verdict::OtherSession]
        );
        msg.session_name = "sales";
        assert_eq!(
            decide(&[yes], &msg, &History::default()).answer,
            Some((0, false))
        );
    }

    #[test]
    fn replies_are_checked_for_what_an_automation_can_fill() {
        let fields = |kind: &str, text: Option<&str>| ReplyFields {
            kind: kind.into(),
            text: text.map(str::to_owned),
            ..ReplyFields::default()
        };
        assert!(Reply::parse(
            "response",
            &fields("text", Some("أهلاً {{contact.name|عميلنا}}"))
        )
        .is_ok());
        assert_eq!(
            Reply::parse("response", &fields("text", Some("طلبك {{order}}")))
                .expect_err("no value")
                .code,
            "template_variable_missing"
        );
        assert!(Reply::parse("response", &fields("text", None)).is_err());
        assert!(Reply::parse("response", &fields("video", Some("x"))).is_err());
        let media = ReplyFields {
            kind: "media".into(),
            media_id: Some("0190-abc".into()),
            ..ReplyFields::default()
        };
        let reply = Reply::parse("response", &media).expect("media");
        assert_eq!(reply.media_id(), Some("0190-abc"));
        assert_eq!(Reply::parse("response", &reply.fields()), Ok(reply));
        let template = ReplyFields {
            kind: "template".into(),
            template: Some("order_ready".into()),
            language: Some("ar".into()),
            ..ReplyFields::default()
        };
        let reply = Reply::parse("response", &template).expect("template");
        assert_eq!(Reply::parse("response", &reply.fields()), Ok(reply));
    }
}
