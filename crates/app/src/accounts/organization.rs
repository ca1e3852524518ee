//! The organization's own settings: its name, the country its people mean when they write
//! a phone number without its country code, its time zone, its default language and its
//! customers' stop and start words. Everyone
//! in it reads them; owners and admins change them.

use wasl_domain::opt_out::OptOutWords;
use wasl_domain::{Country, Lang, Organization, PersonName, TimeZone};
use wasl_store::OrganizationUpdate;

use super::{Accounts, Caller};
use crate::error::{AppError, AppResult};

/// A change to the organization's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChanges {
    pub name: Option<PersonName>,
    /// `Some(None)` clears the default country: numbers must then carry their country code.
    pub default_country: Option<Option<Country>>,
    pub timezone: Option<TimeZone>,
    pub default_language: Option<Lang>,
    /// The words with which customers stop and restart marketing messages.
    pub opt_out_words: Option<OptOutWords>,
}

impl Accounts {
    pub async fn organization(&self, caller: &Caller) -> AppResult<Organization> {
        self.store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)
    }

    pub async fn change_organization(
        &self,
        caller: &Caller,
        changes: OrganizationChanges,
    ) -> AppResult<Organization> {
        caller.require_manager()?;
        let organization = self
            .store
            .organizations()
            .update(
                &caller.org_id,
                &OrganizationUpdate {
                    name: changes.name,
                    default_country: changes.default_country,
                    timezone: changes.timezone,
                    default_language: changes.default_language,
                    opt_out_words: changes.opt_out_words,
                },
            )
            .await?
            .ok_or(AppError::InvalidToken)?;
        tracing::info!(
            organization = %organization.id,
            default_country = ?organization.default_country.map(|c| c.to_string()),
            timezone = organization.timezone.name(),
            default_language = organization.default_language.as_str(),
            "organization settings changed"
        );
        Ok(organization)
    }
}
