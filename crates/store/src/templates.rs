//! Message templates (SPEC §13). The header and buttons are JSON written from checked values
//! and read back through the same checks: a row the code cannot read is corrupt, not guessed.

use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::search::fold;
use wasl_domain::template::{Button, Category, Header, Template, TemplateName};
use wasl_domain::OrgId;

use crate::contacts::escape_like;
use crate::sql::Params;
use crate::{Conflict, Page, PageRequest, Store, StoreError};

const COLUMNS: &str = "id, organization_id, name, language, category, header, content, footer, buttons, created_at, updated_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("template {what}"))
}

fn header_json(header: Option<&Header>) -> Option<String> {
    header.map(|h| match h {
        Header::Text(text) => json!({"type": "text", "text": text}).to_string(),
        Header::Media { kind, media_id } => {
            json!({"type": kind.as_str(), "mediaId": media_id}).to_string()
        }
    })
}

fn template(row: &AnyRow) -> Result<Template, StoreError> {
    let header = row
        .try_get::<Option<String>, _>("header")?
        .map(|json| {
            let v: Value = serde_json::from_str(&json).map_err(|_| corrupt("header"))?;
            Header::parse(
                v["type"].as_str().unwrap_or_default(),
                v["text"].as_str(),
                v["mediaId"].as_str(),
            )
            .map_err(|_| corrupt("header"))
        })
        .transpose()?;
    let buttons: Vec<Button> = serde_json::from_str(&row.try_get::<String, _>("buttons")?)
        .map_err(|_| corrupt("buttons"))?;
    let name: String = row.try_get("name")?;
    let category: String = row.try_get("category")?;
    Ok(Template {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        name: TemplateName::parse("name", &name).map_err(|_| corrupt("name"))?,
        language: row.try_get("language")?,
        category: Category::parse("category", &category).map_err(|_| corrupt("category"))?,
        header,
        content: row.try_get("content")?,
        footer: row.try_get("footer")?,
        buttons,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn search_text(t: &Template) -> String {
    fold(&format!(
        "{} {} {}",
        t.name.as_str(),
        t.header.as_ref().and_then(Header::text).unwrap_or(""),
        t.content
    ))
}

/// Which templates to list.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    /// Folded words matched in the name, header and body.
    pub search: Option<String>,
    pub category: Option<Category>,
    pub language: Option<String>,
}

pub struct Templates<'a> {
    store: &'a Store,
}

impl Store {
    pub fn templates(&self) -> Templates<'_> {
        Templates { store: self }
    }
}

impl Templates<'_> {
    /// Saves a new template; `Conflict::Template` when its name exists in that language.
    pub async fn insert(&self, t: &Template) -> Result<(), StoreError> {
        let buttons = serde_json::to_string(&t.buttons).map_err(|_| corrupt("buttons"))?;
        sqlx::query(&format!(
            "INSERT INTO templates ({COLUMNS}, search_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(t.id.as_str())
        .bind(t.organization_id.as_str())
        .bind(t.name.as_str())
        .bind(t.language.as_str())
        .bind(t.category.as_str())
        .bind(header_json(t.header.as_ref()))
        .bind(t.content.as_str())
        .bind(t.footer.clone())
        .bind(buttons)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(search_text(t))
        .execute(&self.store.pool)
        .await
        .map_err(|e| StoreError::unique(e, Conflict::Template))?;
        Ok(())
    }

    /// Replaces a template's parts (its id and creation stay); `false` when there is none.
    pub async fn update(&self, t: &Template) -> Result<bool, StoreError> {
        let buttons = serde_json::to_string(&t.buttons).map_err(|_| corrupt("buttons"))?;
        let done = sqlx::query(
            "UPDATE templates SET name = $1, language = $2, category = $3, header = $4,
                 content = $5, footer = $6, buttons = $7, search_text = $8, updated_at = $9
             WHERE organization_id = $10 AND id = $11",
        )
        .bind(t.name.as_str())
        .bind(t.language.as_str())
        .bind(t.category.as_str())
        .bind(header_json(t.header.as_ref()))
        .bind(t.content.as_str())
        .bind(t.footer.clone())
        .bind(buttons)
        .bind(search_text(t))
        .bind(t.updated_at)
        .bind(t.organization_id.as_str())
        .bind(t.id.as_str())
        .execute(&self.store.pool)
        .await
        .map_err(|e| StoreError::unique(e, Conflict::Template))?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<Template>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM templates WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(template)
        .transpose()
    }

    /// The organization's templates of this name, in every language it has.
    pub async fn by_name(&self, org: &OrgId, name: &str) -> Result<Vec<Template>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM templates WHERE organization_id = $1 AND name = $2 ORDER BY language"
        ))
        .bind(org.as_str())
        .bind(name)
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(template)
        .collect()
    }

    /// Templates by name, then language.
    pub async fn list(
        &self,
        org: &OrgId,
        filter: &TemplateFilter,
        page: &PageRequest,
    ) -> Result<Page<Template>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let mut conditions = vec![format!("organization_id = {}", params.text(org.as_str()))];
        if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = params.text(format!("%{}%", escape_like(search)));
            conditions.push(format!("search_text LIKE {pattern} ESCAPE '\\'"));
        }
        if let Some(category) = filter.category {
            conditions.push(format!("category = {}", params.text(category.as_str())));
        }
        if let Some(language) = &filter.language {
            conditions.push(format!("language = {}", params.text(language.as_str())));
        }
        let wheres = conditions.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM templates WHERE {wheres}");
        let total: i64 = params
            .query(&count_sql)
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let limit = params.int(i64::from(page.limit));
        let offset = params.int(page.offset());
        let sql = format!(
            "SELECT {COLUMNS} FROM templates WHERE {wheres} ORDER BY name, language LIMIT {limit} OFFSET {offset}"
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(template)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// Every template that shows this file in its header (to keep it from being deleted).
    pub async fn using_media(
        &self,
        org: &OrgId,
        media_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        // The header is JSON written by `header_json`: the id appears as its own string.
        let pattern = format!("%\"mediaId\":\"{}\"%", escape_like(media_id));
        Ok(sqlx::query(
            "SELECT name FROM templates WHERE organization_id = $1 AND header LIKE $2 ESCAPE '\\'",
        )
        .bind(org.as_str())
        .bind(pattern)
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?)
    }

    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM templates WHERE organization_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
