//! The platform administrator (`WASL_ADMIN_TOKEN`): the operator of a wasl server, who sets
//! each organization's plan. Without the setting, administration is closed.

use wasl_domain::{OrgId, Organization, Plan};
use wasl_store::{Page, PageRequest};

use super::Accounts;
use crate::error::{AppError, AppResult};

/// Proof that the caller holds the platform administrator's token.
pub struct PlatformAdmin(());

impl Accounts {
    /// Checks the administrator's token in constant time.
    pub fn platform_admin(&self, token: &str) -> AppResult<PlatformAdmin> {
        use subtle::ConstantTimeEq;
        let Some(expected) = &self.admin_token else {
            return Err(AppError::AdminDisabled);
        };
        if bool::from(token.trim().as_bytes().ct_eq(expected.as_bytes())) {
            Ok(PlatformAdmin(()))
        } else {
            Err(AppError::InvalidToken)
        }
    }

    /// Every organization on this server.
    pub async fn organizations(
        &self,
        _admin: &PlatformAdmin,
        page: PageRequest,
    ) -> AppResult<Page<Organization>> {
        Ok(self.store.organizations().list(page).await?)
    }

    /// Changes an organization's plan, and so how many sessions it may link.
    pub async fn set_plan(
        &self,
        _admin: &PlatformAdmin,
        id: &OrgId,
        plan: Plan,
    ) -> AppResult<Organization> {
        let org = self
            .store
            .organizations()
            .set_plan(id, plan)
            .await?
            .ok_or(AppError::NotFound)?;
        tracing::info!(organization = %org.id, plan = plan.as_str(), "plan changed");
        Ok(org)
    }
}
