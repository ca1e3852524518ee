//! API keys for servers such as a CRM (SPEC §2): created by the organization's owners and
//! admins, shown once, stored hashed, never holding more than their creator, revoked by
//! deleting them.

use wasl_domain::{ApiKey, ApiKeyId, Role};
use wasl_store::{Page, PageRequest};

use super::{Accounts, Caller};
use crate::auth::api_keys;
use crate::auth::revocation::Revoked;
use crate::clock::now_millis;
use crate::error::{AppError, AppResult};

/// A key just made: the record, and the key itself, which is never shown again.
pub struct CreatedKey {
    pub api_key: ApiKey,
    pub key: String,
}

impl Accounts {
    /// Creates a key. Only people create keys (a key cannot mint another), with at most
    /// their own role.
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        name: String,
        role: Role,
    ) -> AppResult<CreatedKey> {
        caller.require_manager()?;
        if !caller.is_person() || role > caller.role {
            return Err(AppError::Forbidden);
        }
        let generated = api_keys::generate();
        let key = ApiKey {
            id: ApiKeyId::from_trusted(uuid::Uuid::now_v7().to_string()),
            organization_id: caller.org_id.clone(),
            created_by: caller.user_id.clone(),
            name,
            prefix: generated.display_prefix,
            role,
            created_at: now_millis(),
            last_used_at: None,
        };
        self.store.api_keys().create(&key, &generated.hash).await?;
        tracing::info!(organization = %key.organization_id, api_key = %key.id, "api key created");
        Ok(CreatedKey {
            api_key: key,
            key: generated.key,
        })
    }

    /// The organization's keys, newest first (never the keys themselves).
    pub async fn api_keys(&self, caller: &Caller, page: PageRequest) -> AppResult<Page<ApiKey>> {
        caller.require_manager()?;
        Ok(self.store.api_keys().list(&caller.org_id, page).await?)
    }

    /// Revokes a key: it stops working at once, on open sockets too.
    pub async fn delete_api_key(&self, caller: &Caller, id: &ApiKeyId) -> AppResult<()> {
        caller.require_manager()?;
        if !self.store.api_keys().delete(&caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        self.revocations.publish(Revoked::ApiKey(id.clone()));
        tracing::info!(organization = %caller.org_id, api_key = %id, "api key revoked");
        Ok(())
    }
}
