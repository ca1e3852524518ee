//! The organization's own settings: its name and the country its people mean when they write
//! a phone number without its country code. Everyone in it reads them; owners and admins
//! change them.

use wasl_domain::{Country, Organization, PersonName};

use super::{Accounts, Caller};
use crate::error::{AppError, AppResult};

/// A change to the organization's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChanges {
    pub name: Option<PersonName>,
    /// `Some(None)` clears the default country: numbers must then carry their country code.
    pub default_country: Option<Option<Country>>,
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
                changes.name.as_ref(),
                changes.default_country,
            )
            .await?
            .ok_or(AppError::InvalidToken)?;
        tracing::info!(
            organization = %organization.id,
            default_country = ?organization.default_country.map(|c| c.to_string()),
            "organization settings changed"
        );
        Ok(organization)
    }
}
