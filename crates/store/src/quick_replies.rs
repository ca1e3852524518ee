//! Quick replies (SPEC §13): canned answers, the organization's or one person's, found by
//! short code first and then by their words.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::search::fold;
use wasl_domain::{OrgId, QuickReply, ShortCode, UserId, Visibility};

use crate::contacts::escape_like;
use crate::sql::Params;
use crate::{Conflict, Page, PageRequest, Store, StoreError};

const COLUMNS: &str =
    "id, organization_id, owner_id, short_code, content, media_id, created_at, updated_at";

fn quick_reply(row: &AnyRow) -> Result<QuickReply, StoreError> {
    let owner_id = row
        .try_get::<Option<String>, _>("owner_id")?
        .map(UserId::from_trusted);
    Ok(QuickReply {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        short_code: ShortCode::from_trusted(row.try_get::<String, _>("short_code")?),
        content: row.try_get("content")?,
        media_id: row.try_get("media_id")?,
        visibility: if owner_id.is_some() {
            Visibility::Personal
        } else {
            Visibility::Organization
        },
        owner_id,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The short code folded, a line feed, the content folded: a search that matches the start
/// of the text matches the start of the short code.
fn search_text(q: &QuickReply) -> String {
    format!("{}\n{}", fold(q.short_code.as_str()), fold(&q.content))
}

/// Whose quick reply it is, as the table keeps it: NULL for the organization's.
fn owner(q: &QuickReply) -> Option<String> {
    match q.visibility {
        Visibility::Organization => None,
        Visibility::Personal => q.owner_id.as_ref().map(|u| u.as_str().to_owned()),
    }
}

pub struct QuickReplies<'a> {
    store: &'a Store,
}

impl Store {
    pub fn quick_replies(&self) -> QuickReplies<'_> {
        QuickReplies { store: self }
    }
}

/// A media id that names no file of the library is the caller's mistake, not a fault.
fn media_missing(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Corrupt("the quick reply's media file is gone".into())
        }
        _ => StoreError::unique(e, Conflict::ShortCode),
    }
}

impl QuickReplies<'_> {
    /// Saves a new quick reply; `Conflict::ShortCode` when its short code is taken among the
    /// organization's (or, for a personal one, its owner's).
    pub async fn insert(&self, q: &QuickReply) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO quick_replies ({COLUMNS}, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(q.id.as_str())
        .bind(q.organization_id.as_str())
        .bind(owner(q))
        .bind(q.short_code.as_str())
        .bind(q.content.as_str())
        .bind(q.media_id.clone())
        .bind(q.created_at)
        .bind(q.updated_at)
        .bind(search_text(q))
        .execute(&self.store.pool)
        .await
        .map_err(media_missing)?;
        Ok(())
    }

    pub async fn update(&self, q: &QuickReply) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE quick_replies SET owner_id = $1, short_code = $2, content = $3, media_id = $4,
                 search_text = $5, updated_at = $6
             WHERE organization_id = $7 AND id = $8",
        )
        .bind(owner(q))
        .bind(q.short_code.as_str())
        .bind(q.content.as_str())
        .bind(q.media_id.clone())
        .bind(search_text(q))
        .bind(q.updated_at)
        .bind(q.organization_id.as_str())
        .bind(q.id.as_str())
        .execute(&self.store.pool)
        .await
        .map_err(media_missing)?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<QuickReply>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM quick_replies WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(quick_reply)
        .transpose()
    }

    /// What `viewer` sees: the organization's quick replies and their own. With a search
    /// (folded), those whose short code starts with it come first, then those whose short
    /// code or content contains it; each group by short code.
    pub async fn list(
        &self,
        org: &OrgId,
        viewer: &UserId,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<QuickReply>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let org = params.text(org.as_str());
        let me = params.text(viewer.as_str());
        let mut wheres =
            format!("organization_id = {org} AND (owner_id IS NULL OR owner_id = {me})");
        let mut order = "short_code, id".to_owned();
        if let Some(search) = search.filter(|s| !s.is_empty()) {
            let escaped = escape_like(search);
            let anywhere = params.text(format!("%{escaped}%"));
            wheres.push_str(&format!(" AND search_text LIKE {anywhere} ESCAPE '\\'"));
            let mut ordering = params.clone();
            let prefix = ordering.text(format!("{escaped}%"));
            order = format!(
                "CASE WHEN search_text LIKE {prefix} ESCAPE '\\' THEN 0 ELSE 1 END, short_code, id"
            );
            let count_sql = format!("SELECT COUNT(*) FROM quick_replies WHERE {wheres}");
            let total: i64 = params
                .query(&count_sql)
                .fetch_one(&self.store.pool)
                .await?
                .try_get(0)?;
            return self.page(ordering, &wheres, &order, page, total).await;
        }
        let count_sql = format!("SELECT COUNT(*) FROM quick_replies WHERE {wheres}");
        let total: i64 = params
            .query(&count_sql)
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        self.page(params, &wheres, &order, page, total).await
    }

    async fn page(
        &self,
        mut params: Params,
        wheres: &str,
        order: &str,
        page: &PageRequest,
        total: i64,
    ) -> Result<Page<QuickReply>, StoreError> {
        let limit = params.int(i64::from(page.limit));
        let offset = params.int(page.offset());
        let sql = format!(
            "SELECT {COLUMNS} FROM quick_replies WHERE {wheres} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(quick_reply)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM quick_replies WHERE organization_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
