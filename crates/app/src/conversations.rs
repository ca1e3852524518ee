//! The team's conversations (SPEC §16, without automatic assignment yet): listing them by
//! status, assignee, session and contact; reading one; resolving, reopening or handing one to
//! someone by hand (each change a `conversation.updated` event); marking one read.

use std::sync::Arc;

use wasl_domain::{ConversationOverview, ConversationStatus, ParseError, UserId};
use wasl_store::{
    AssigneeFilter, Conflict as StoreConflict, ConversationChange, ConversationFilter,
    EventRenderer, Page, PageRequest, Store, StoreError,
};

use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::messaging::EventBus;
use crate::sessions::find_session;

/// Whose conversations to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The caller's own.
    Me,
    /// Nobody's yet.
    Unassigned,
    Person(UserId),
}

impl Assignee {
    /// `me`, `unassigned` or a person's id.
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "me" => Ok(Assignee::Me),
            "unassigned" => Ok(Assignee::Unassigned),
            id if !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                Ok(Assignee::Person(UserId::from_trusted(id)))
            }
            _ => Err(ParseError::new(
                field,
                "must be me, unassigned or a person's id",
            )),
        }
    }
}

/// Which conversations to list.
pub struct ConversationListing {
    pub session_name: Option<String>,
    pub status: Option<ConversationStatus>,
    pub assignee: Option<Assignee>,
    /// Matches the contact's name, phone and tags, Arabic spelling variants included.
    pub search: Option<String>,
    /// Only conversations with unread messages.
    pub unread: bool,
    pub page: PageRequest,
}

/// What a person changes by hand; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct ConversationEdit {
    pub status: Option<ConversationStatus>,
    /// `Some(None)` unassigns.
    pub assignee_id: Option<Option<UserId>>,
}

pub struct Conversations {
    store: Store,
    renderer: Arc<dyn EventRenderer>,
    bus: EventBus,
    clock: Arc<dyn Clock>,
}

impl Conversations {
    pub fn new(
        store: Store,
        renderer: Arc<dyn EventRenderer>,
        bus: EventBus,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Conversations {
            store,
            renderer,
            bus,
            clock,
        }
    }

    /// Conversations by last message, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        listing: ConversationListing,
    ) -> AppResult<Page<ConversationOverview>> {
        let session = match listing.session_name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => Some(find_session(&self.store, caller, name).await?.id),
            None => None,
        };
        let filter = ConversationFilter {
            session,
            status: listing.status,
            assignee: listing.assignee.map(|a| match a {
                Assignee::Me => AssigneeFilter::Person(caller.user_id.clone()),
                Assignee::Unassigned => AssigneeFilter::Unassigned,
                Assignee::Person(id) => AssigneeFilter::Person(id),
            }),
            search: listing.search,
            unread: listing.unread,
        };
        Ok(self
            .store
            .conversations()
            .list(&caller.org_id, &filter, listing.page)
            .await?)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<ConversationOverview> {
        self.store
            .conversations()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Resolves, reopens or hands over a conversation. The assignee must be an active person
    /// of the organization.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        edit: ConversationEdit,
    ) -> AppResult<ConversationOverview> {
        let change = ConversationChange {
            status: edit.status,
            assignee: edit.assignee_id,
        };
        let (overview, event) = self
            .store
            .conversations()
            .change(
                &caller.org_id,
                id,
                &change,
                self.clock.now_millis(),
                self.renderer.as_ref(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(StoreConflict::Assignee) => AppError::from(ParseError::new(
                    "assigneeId",
                    "must be an active person of the organization",
                )),
                other => other.into(),
            })?
            .ok_or(AppError::NotFound)?;
        if let Some(event) = event {
            tracing::info!(conversation = %overview.conversation.id, status = overview.conversation.status.as_str(), "conversation updated");
            self.bus.publish([event]);
        }
        Ok(overview)
    }

    /// Someone opened the conversation: its unread count goes to zero. `id` is the
    /// conversation's; the first release named the contact instead (with the session, by
    /// default "default"), which still works.
    pub async fn read(
        &self,
        caller: &Caller,
        id: &str,
        session_name: Option<&str>,
    ) -> AppResult<ConversationOverview> {
        let overview = match self.store.conversations().get(&caller.org_id, id).await? {
            Some(overview) => overview,
            None => {
                let session =
                    find_session(&self.store, caller, session_name.unwrap_or("default")).await?;
                let conversation = self
                    .store
                    .conversations()
                    .of_contact(&caller.org_id, &session.id, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                self.store
                    .conversations()
                    .get(&caller.org_id, &conversation.id)
                    .await?
                    .ok_or(AppError::NotFound)?
            }
        };
        if !self
            .store
            .conversations()
            .read(&caller.org_id, &overview.conversation.id)
            .await?
        {
            return Err(AppError::NotFound);
        }
        // As it was before it was read: its unread count says how many of the customer's
        // messages the read covers.
        Ok(overview)
    }
}

#[cfg(test)]
mod tests {
    use super::Assignee;

    #[test]
    fn an_assignee_is_me_unassigned_or_an_id() {
        assert_eq!(Assignee::parse("assignee", "me"), Ok(Assignee::Me));
        assert_eq!(
            Assignee::parse("assignee", " unassigned "),
            Ok(Assignee::Unassigned)
        );
        assert!(matches!(
            Assignee::parse("assignee", "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"),
            Ok(Assignee::Person(_))
        ));
        for bad in ["", "me,you", "' OR 1=1", &"a".repeat(65)] {
            assert!(Assignee::parse("assignee", bad).is_err(), "{bad:?}");
        }
    }
}
