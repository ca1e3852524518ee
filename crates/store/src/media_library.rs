//! The media library (SPEC §13): files uploaded once, referred to by templates, quick replies
//! and auto-replies. The bytes live in the media directory; the rows say what they are.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::{MediaItem, OrgId, UserId};

use crate::{Page, PageRequest, Store, StoreError};

const COLUMNS: &str =
    "id, organization_id, type, mime_type, filename, size, path, created_by, created_at";

fn item(row: &AnyRow) -> Result<MediaItem, StoreError> {
    Ok(MediaItem {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        kind: row.try_get("type")?,
        mime_type: row.try_get("mime_type")?,
        filename: row.try_get("filename")?,
        size: row.try_get("size")?,
        path: row.try_get("path")?,
        created_by: row
            .try_get::<Option<String>, _>("created_by")?
            .map(UserId::from_trusted),
        created_at: row.try_get("created_at")?,
    })
}

pub struct MediaLibrary<'a> {
    store: &'a Store,
}

impl Store {
    pub fn media_library(&self) -> MediaLibrary<'_> {
        MediaLibrary { store: self }
    }
}

impl MediaLibrary<'_> {
    pub async fn insert(&self, media: &MediaItem) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO media_library ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(media.id.as_str())
        .bind(media.organization_id.as_str())
        .bind(media.kind.as_str())
        .bind(media.mime_type.as_str())
        .bind(media.filename.clone())
        .bind(media.size)
        .bind(media.path.as_str())
        .bind(media.created_by.as_ref().map(|u| u.as_str().to_owned()))
        .bind(media.created_at)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<MediaItem>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM media_library WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(item)
        .transpose()
    }

    /// The organization's files, newest first.
    pub async fn list(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<MediaItem>, StoreError> {
        let total: i64 =
            sqlx::query("SELECT COUNT(*) FROM media_library WHERE organization_id = $1")
                .bind(org.as_str())
                .fetch_one(&self.store.pool)
                .await?
                .try_get(0)?;
        let items = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM media_library WHERE organization_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(org.as_str())
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(item)
        .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// Removes a file's row; `None` when there is no such file. A quick reply that sends it
    /// keeps it (the database refuses, and this answers `Conflict::MediaInUse`).
    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<Option<MediaItem>, StoreError> {
        let Some(media) = self.get(org, id).await? else {
            return Ok(None);
        };
        let in_use: i64 = sqlx::query("SELECT COUNT(*) FROM quick_replies WHERE media_id = $1")
            .bind(id)
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        if in_use > 0 {
            return Err(StoreError::Conflict(crate::Conflict::MediaInUse));
        }
        sqlx::query("DELETE FROM media_library WHERE organization_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&self.store.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StoreError::Conflict(crate::Conflict::MediaInUse)
                }
                _ => StoreError::from(e),
            })?;
        Ok(Some(media))
    }
}
