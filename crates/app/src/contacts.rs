//! The organization's contacts (SPEC §6, §7): listing and searching them, editing a contact,
//! and the numbers of the stats page.

use std::sync::Arc;

use wasl_domain::Contact;
use wasl_store::{ContactUpdate, EventRenderer, Page, PageRequest, Stats, Store};

use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::messaging::EventBus;
use crate::sessions::find_session;

/// Which contacts to list.
pub struct Listing {
    /// Only those of this session (by name).
    pub session_name: Option<String>,
    /// Matches name, phone and tags, Arabic spelling variants included.
    pub search: Option<String>,
    pub page: PageRequest,
}

pub struct Contacts {
    store: Store,
    renderer: Arc<dyn EventRenderer>,
    bus: EventBus,
    clock: Arc<dyn Clock>,
}

impl Contacts {
    pub fn new(
        store: Store,
        renderer: Arc<dyn EventRenderer>,
        bus: EventBus,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Contacts {
            store,
            renderer,
            bus,
            clock,
        }
    }

    async fn session_of(
        &self,
        caller: &Caller,
        listing: &Listing,
    ) -> AppResult<Option<wasl_domain::SessionId>> {
        match listing.session_name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => Ok(Some(find_session(&self.store, caller, name).await?.id)),
            None => Ok(None),
        }
    }

    /// Contacts, most recently active first.
    pub async fn list(&self, caller: &Caller, listing: Listing) -> AppResult<Page<Contact>> {
        let session = self.session_of(caller, &listing).await?;
        Ok(self
            .store
            .contacts()
            .list(
                &caller.org_id,
                session.as_ref(),
                listing.search.as_deref(),
                listing.page,
            )
            .await?)
    }

    /// Edits a contact; `contact.updated` tells the organization's listeners.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        update: &ContactUpdate,
    ) -> AppResult<Contact> {
        let (contact, event) = self
            .store
            .contacts()
            .update(&caller.org_id, id, update, self.renderer.as_ref())
            .await?
            .ok_or(AppError::NotFound)?;
        self.bus.publish([event]);
        Ok(contact)
    }

    /// The organization's numbers, and messages per day over the last `days` days; with the
    /// time they were counted at.
    pub async fn stats(&self, caller: &Caller, days: i64) -> AppResult<(Stats, i64)> {
        let now = self.clock.now_millis();
        Ok((
            self.store
                .analytics()
                .overview(&caller.org_id, now, days)
                .await?,
            now,
        ))
    }
}
