//! Quick replies (SPEC §13): canned answers agents insert in the composer with `/`. The
//! organization's are written by owners and admins and seen by all; a personal one is its
//! writer's alone (another person does not even learn that it exists).

use std::sync::Arc;

use wasl_domain::search::fold;
use wasl_domain::{ParseError, QuickReply, ShortCode, Visibility};
use wasl_store::{Page, PageRequest, Store};

use super::conflict;
use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};

/// A quick reply as asked for.
pub struct QuickReplyDraft {
    pub short_code: ShortCode,
    pub content: String,
    pub media_id: Option<String>,
    pub visibility: Visibility,
}

/// Who a quick reply of this visibility written by the caller belongs to.
fn owner(caller: &Caller, visibility: Visibility) -> Option<wasl_domain::UserId> {
    match visibility {
        Visibility::Organization => None,
        Visibility::Personal => Some(caller.user_id.clone()),
    }
}

pub struct QuickReplies {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl QuickReplies {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        QuickReplies { store, clock }
    }

    /// Whether the caller may see it (the organization's, or their own).
    fn visible(caller: &Caller, q: &QuickReply) -> bool {
        q.visibility == Visibility::Organization || q.owner_id.as_ref() == Some(&caller.user_id)
    }

    /// Whether the caller may change it: the organization's by owners and admins, a personal
    /// one by its writer.
    fn writable(caller: &Caller, visibility: Visibility) -> AppResult<()> {
        match visibility {
            Visibility::Organization => caller.require_manager(),
            Visibility::Personal => Ok(()),
        }
    }

    async fn check(&self, caller: &Caller, draft: &QuickReplyDraft) -> AppResult<()> {
        Self::writable(caller, draft.visibility)?;
        if draft.content.trim().is_empty() && draft.media_id.is_none() {
            return Err(ParseError::new("content", "a quick reply needs text or a file").into());
        }
        if let Some(id) = &draft.media_id {
            if self
                .store
                .media_library()
                .get(&caller.org_id, id)
                .await?
                .is_none()
            {
                return Err(
                    ParseError::new("mediaId", "no file of the media library has this id").into(),
                );
            }
        }
        Ok(())
    }

    pub async fn create(&self, caller: &Caller, draft: QuickReplyDraft) -> AppResult<QuickReply> {
        self.check(caller, &draft).await?;
        let now = self.clock.now_millis();
        let q = QuickReply {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: caller.org_id.clone(),
            short_code: draft.short_code,
            content: draft.content,
            media_id: draft.media_id,
            owner_id: owner(caller, draft.visibility),
            visibility: draft.visibility,
            created_at: now,
            updated_at: now,
        };
        self.store
            .quick_replies()
            .insert(&q)
            .await
            .map_err(conflict)?;
        Ok(q)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<QuickReply> {
        self.store
            .quick_replies()
            .get(&caller.org_id, id)
            .await?
            .filter(|q| Self::visible(caller, q))
            .ok_or(AppError::NotFound)
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        draft: QuickReplyDraft,
    ) -> AppResult<QuickReply> {
        let before = self.get(caller, id).await?;
        Self::writable(caller, before.visibility)?;
        self.check(caller, &draft).await?;
        let q = QuickReply {
            short_code: draft.short_code,
            content: draft.content,
            media_id: draft.media_id,
            // Only its owner sees a personal one, so whoever changes it owns it afterwards.
            owner_id: owner(caller, draft.visibility),
            visibility: draft.visibility,
            updated_at: self.clock.now_millis(),
            ..before
        };
        if !self
            .store
            .quick_replies()
            .update(&q)
            .await
            .map_err(conflict)?
        {
            return Err(AppError::NotFound);
        }
        Ok(q)
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<QuickReply> {
        let q = self.get(caller, id).await?;
        Self::writable(caller, q.visibility)?;
        if !self
            .store
            .quick_replies()
            .delete(&caller.org_id, id)
            .await?
        {
            return Err(AppError::NotFound);
        }
        Ok(q)
    }

    /// What the caller sees; with a search, short codes starting with it first, then the
    /// rest that contain it (Arabic spellings folded). A leading `/` is the composer's.
    pub async fn list(
        &self,
        caller: &Caller,
        search: Option<&str>,
        page: &PageRequest,
    ) -> AppResult<Page<QuickReply>> {
        let search = search
            .map(|s| fold(s.trim().trim_start_matches('/')))
            .filter(|s| !s.is_empty());
        Ok(self
            .store
            .quick_replies()
            .list(&caller.org_id, &caller.user_id, search.as_deref(), page)
            .await?)
    }
}
