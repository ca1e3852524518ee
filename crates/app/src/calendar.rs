//! The organization's calendar (SPEC §11, §14): its business hours, and whether it is open
//! now by the injected clock, in its own time zone.

use std::sync::Arc;

use wasl_domain::{BusinessHours, TimeZone};
use wasl_store::Store;

use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};

pub struct Calendar {
    store: Store,
    clock: Arc<dyn Clock>,
}

/// The business hours, and the zone they are read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    pub hours: BusinessHours,
    pub timezone: TimeZone,
}

/// Open or closed at one instant, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenNow {
    pub open: bool,
    /// When it next opens or closes; `None` when it never does (no hours set).
    pub next_change: Option<i64>,
    pub timezone: TimeZone,
    pub at: i64,
}

impl Calendar {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Calendar { store, clock }
    }

    /// The organization's time zone.
    async fn zone(&self, caller: &Caller) -> AppResult<TimeZone> {
        Ok(self
            .store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?
            .timezone)
    }

    pub async fn business_hours(&self, caller: &Caller) -> AppResult<Hours> {
        Ok(Hours {
            hours: self
                .store
                .calendars()
                .business_hours(&caller.org_id)
                .await?,
            timezone: self.zone(caller).await?,
        })
    }

    /// Replaces the business hours (owners and admins); `hours` is checked (no overlapping
    /// periods, bounded lists) before anything is written.
    pub async fn set_business_hours(
        &self,
        caller: &Caller,
        hours: BusinessHours,
    ) -> AppResult<Hours> {
        caller.require_manager()?;
        hours.check()?;
        self.store
            .calendars()
            .set_business_hours(&caller.org_id, &hours, self.clock.now_millis())
            .await?;
        tracing::info!(organization = %caller.org_id, holidays = hours.holidays.len(), "business hours changed");
        Ok(Hours {
            hours,
            timezone: self.zone(caller).await?,
        })
    }

    /// Whether the organization is open now, in its time zone.
    pub async fn now(&self, caller: &Caller) -> AppResult<OpenNow> {
        let Hours {
            hours,
            timezone: zone,
        } = self.business_hours(caller).await?;
        let at = self.clock.now_millis();
        Ok(OpenNow {
            open: hours.is_open(zone, at),
            next_change: hours.next_change(zone, at),
            timezone: zone,
            at,
        })
    }
}
