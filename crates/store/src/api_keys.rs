use sqlx::Row;
use wasl_domain::{ApiKey, ApiKeyId, Country, OrgId, Role};

use crate::rows::{self, API_KEY_COLUMNS};
use crate::Conflict;
use crate::{Page, PageRequest, Store, StoreError};

/// An API key with its creator as they are now. The key works only while its creator is
/// active, and with no more than the creator's role; deleting the creator deletes the key.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    pub key: ApiKey,
    pub creator_role: Role,
    pub creator_active: bool,
    /// The organization's default country, which every request of the key reads numbers in.
    pub default_country: Option<Country>,
}

/// API keys, stored as hashes.
pub struct ApiKeys<'a> {
    store: &'a Store,
}

impl Store {
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys { store: self }
    }
}

impl ApiKeys<'_> {
    /// Stores a new key by its hash; the key itself is never stored.
    pub async fn create(&self, key: &ApiKey, key_hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, organization_id, created_by, name, prefix, key_hash, role, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id.as_str())
        .bind(key.organization_id.as_str())
        .bind(key.created_by.as_str())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(key_hash)
        .bind(key.role.as_str())
        .bind(key.created_at)
        .execute(&self.store.pool)
        .await
        .map_err(|e| StoreError::unique(e, Conflict::ApiKey))?;
        Ok(())
    }

    /// The key with this hash and its creator as they are now (a key never holds more than
    /// its creator: see [`KeyHolder`]).
    pub async fn by_hash(&self, key_hash: &str) -> Result<Option<KeyHolder>, StoreError> {
        let columns = API_KEY_COLUMNS
            .split(", ")
            .map(|c| format!("k.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, u.role AS creator_role, u.is_active AS creator_active,
                    o.default_country
             FROM api_keys k JOIN users u ON u.id = k.created_by
                  JOIN organizations o ON o.id = k.organization_id
             WHERE k.key_hash = $1"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(key_hash)
            .fetch_optional(&self.store.pool)
            .await?
        else {
            return Ok(None);
        };
        let creator_role: String = row.try_get("creator_role")?;
        Ok(Some(KeyHolder {
            key: rows::api_key(&row)?,
            creator_role: Role::parse(&creator_role)
                .map_err(|_| StoreError::Corrupt(format!("role {creator_role:?}")))?,
            creator_active: row.try_get::<i64, _>("creator_active")? != 0,
            default_country: rows::country(row.try_get("default_country")?)?,
        }))
    }

    pub async fn list(&self, org: &OrgId, page: PageRequest) -> Result<Page<ApiKey>, StoreError> {
        let total: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) FROM api_keys WHERE organization_id = $1")
                .bind(org.as_str())
                .fetch_one(&self.store.pool)
                .await?,
            0,
        )?;
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE organization_id = $1
             ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        );
        let items = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(i64::from(page.limit))
            .bind(page.offset())
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(rows::api_key)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// Revokes a key of this organization; `false` when there was none.
    pub async fn delete(&self, org: &OrgId, id: &ApiKeyId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND organization_id = $2")
            .bind(id.as_str())
            .bind(org.as_str())
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn record_use(&self, id: &ApiKeyId, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.as_str())
            .execute(&self.store.pool)
            .await?;
        Ok(())
    }
}
