//! The media library (SPEC §13): a file uploaded once (the same 16 MB and type checks as a
//! send) and sent many times by templates, quick replies and auto-replies. A file something
//! still sends cannot be deleted.

use std::sync::Arc;

use wasl_domain::{MediaItem, OrgId};
use wasl_engine::{Media, MessageKind};
use wasl_store::{Page, PageRequest, Store, StoreError};

use super::conflict;
use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, Conflict};
use crate::messaging::media::MediaStore;

/// A file as uploaded, its kind and type read from its bytes by the caller.
pub struct Upload {
    pub kind: MessageKind,
    pub media: Media,
}

pub struct Library {
    store: Store,
    files: MediaStore,
    clock: Arc<dyn Clock>,
}

impl Library {
    pub fn new(store: Store, files: MediaStore, clock: Arc<dyn Clock>) -> Self {
        Library {
            store,
            files,
            clock,
        }
    }

    /// Keeps an uploaded file; everyone in the organization may upload.
    pub async fn upload(&self, caller: &Caller, upload: Upload) -> AppResult<MediaItem> {
        let id = uuid::Uuid::now_v7().to_string();
        let path = self
            .files
            .save(
                &caller.org_id,
                &format!("library-{id}"),
                &upload.media.bytes,
            )
            .await
            .map_err(|e| StoreError::file("media", &e))?;
        let item = MediaItem {
            id,
            organization_id: caller.org_id.clone(),
            kind: upload.kind.as_str().to_owned(),
            mime_type: upload.media.mime_type,
            filename: upload.media.filename,
            size: i64::try_from(upload.media.bytes.len()).unwrap_or(i64::MAX),
            path,
            created_by: Some(caller.user_id.clone()),
            created_at: self.clock.now_millis(),
        };
        if let Err(e) = self.store.media_library().insert(&item).await {
            self.files.remove(&item.path).await;
            return Err(e.into());
        }
        Ok(item)
    }

    pub async fn list(&self, caller: &Caller, page: &PageRequest) -> AppResult<Page<MediaItem>> {
        Ok(self
            .store
            .media_library()
            .list(&caller.org_id, page)
            .await?)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<MediaItem> {
        self.store
            .media_library()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// A file and its bytes.
    pub async fn content(&self, caller: &Caller, id: &str) -> AppResult<(MediaItem, Vec<u8>)> {
        let item = self.get(caller, id).await?;
        let bytes = self
            .files
            .read(&item.path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => AppError::NotFound,
                _ => AppError::Store(StoreError::file("media", &e)),
            })?;
        Ok((item, bytes))
    }

    /// A file of the organization, ready to send; `None` when there is no such file.
    pub(crate) async fn media(
        &self,
        org: &OrgId,
        id: &str,
    ) -> AppResult<Option<(MessageKind, Media)>> {
        let Some(item) = self.store.media_library().get(org, id).await? else {
            return Ok(None);
        };
        let bytes = match self.files.read(&item.path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::file("media", &e).into()),
        };
        let kind = MessageKind::parse(&item.kind).unwrap_or(MessageKind::Document);
        Ok(Some((
            kind,
            Media {
                bytes,
                mime_type: item.mime_type,
                filename: item.filename,
            },
        )))
    }

    /// Deletes a file nothing sends any more: its uploader, owners and admins may. A file a
    /// template, quick reply or auto-reply still sends is kept (409, naming them).
    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<MediaItem> {
        let item = self.get(caller, id).await?;
        if !caller.role.can_manage() && item.created_by.as_ref() != Some(&caller.user_id) {
            return Err(AppError::Forbidden);
        }
        let mut users: Vec<String> = self
            .store
            .templates()
            .using_media(&caller.org_id, id)
            .await?
            .into_iter()
            .map(|name| format!("template {name}"))
            .collect();
        users.extend(
            self.store
                .auto_replies()
                .all(&caller.org_id)
                .await?
                .into_iter()
                .filter(|rule| rule.uses_media(id))
                .map(|rule| format!("auto-reply {}", rule.name)),
        );
        if !users.is_empty() {
            return Err(Conflict::MediaInUse(users).into());
        }
        let deleted = self
            .store
            .media_library()
            .delete(&caller.org_id, id)
            .await
            .map_err(conflict)?
            .ok_or(AppError::NotFound)?;
        self.files.remove(&deleted.path).await;
        Ok(deleted)
    }
}
