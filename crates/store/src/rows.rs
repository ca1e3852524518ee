//! Turning rows into domain models. Stored enums are checked on the way out: a value the
//! code does not know is reported as corrupt data, never guessed.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::opt_out::OptOutWords;
use wasl_domain::{
    ApiKey, ApiKeyId, Country, Email, Lang, OrgId, Organization, PersonName, Plan, Role, TimeZone,
    User, UserId,
};

use crate::StoreError;

pub(crate) use wasl_domain::time::now_millis;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn organization(row: &AnyRow) -> Result<Organization, StoreError> {
    let plan: String = row.try_get("plan")?;
    Ok(Organization {
        id: OrgId::from_trusted(row.try_get::<String, _>("id")?),
        name: PersonName::from_trusted(row.try_get::<String, _>("name")?),
        plan: Plan::parse(&plan).map_err(|_| corrupt("plan", &plan))?,
        default_country: country(row.try_get("default_country")?)?,
        timezone: TimeZone::from_stored(&row.try_get::<String, _>("timezone")?),
        default_language: Lang::parse(&row.try_get::<String, _>("default_language")?)
            .unwrap_or_default(),
        opt_out_words: opt_out_words(row.try_get("opt_out_words")?)?,
        created_at: row.try_get("created_at")?,
    })
}

/// An organization's stored stop and start words (`{"stop": […], "start": […]}`); NULL keeps
/// the defaults.
pub(crate) fn opt_out_words(json: Option<String>) -> Result<OptOutWords, StoreError> {
    let Some(json) = json else {
        return Ok(OptOutWords::default());
    };
    let stored: serde_json::Value =
        serde_json::from_str(&json).map_err(|_| corrupt("opt_out_words", &json))?;
    let list = |key: &str| -> Vec<String> {
        stored[key]
            .as_array()
            .map(|words| {
                words
                    .iter()
                    .filter_map(|w| w.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    OptOutWords::parse(&list("stop"), &list("start")).map_err(|_| corrupt("opt_out_words", &json))
}

/// The column's value for an organization's words: NULL for the defaults.
pub(crate) fn opt_out_words_json(words: &OptOutWords) -> Option<String> {
    (!words.is_default()).then(|| {
        serde_json::json!({"stop": words.stop_words(), "start": words.start_words()}).to_string()
    })
}

/// A stored default country; only ever written from a parsed `Country`.
pub(crate) fn country(code: Option<String>) -> Result<Option<Country>, StoreError> {
    code.map(|c| Country::parse("default_country", &c).map_err(|_| corrupt("default_country", &c)))
        .transpose()
}

pub(crate) const USER_COLUMNS: &str =
    "id, organization_id, name, email, role, skills, max_chats, is_active, created_at, last_login_at";

pub(crate) fn user(row: &AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    let skills: String = row.try_get("skills")?;
    let max_chats: Option<i64> = row.try_get("max_chats")?;
    Ok(User {
        id: UserId::from_trusted(row.try_get::<String, _>("id")?),
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        name: PersonName::from_trusted(row.try_get::<String, _>("name")?),
        email: Email::from_trusted(row.try_get::<String, _>("email")?),
        role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
        skills: serde_json::from_str(&skills).map_err(|_| corrupt("skills", &skills))?,
        max_chats: max_chats.and_then(|n| u32::try_from(n).ok()),
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        last_login_at: row.try_get("last_login_at")?,
    })
}

pub(crate) const API_KEY_COLUMNS: &str =
    "id, organization_id, created_by, name, prefix, role, created_at, last_used_at";

pub(crate) fn api_key(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: ApiKeyId::from_trusted(row.try_get::<String, _>("id")?),
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        created_by: UserId::from_trusted(row.try_get::<String, _>("created_by")?),
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}
