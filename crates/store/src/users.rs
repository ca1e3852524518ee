use sqlx::{Any, Executor, Row};
use wasl_domain::{Country, Email, NewUser, OrgId, PersonName, Role, User, UserId};

use crate::rows::{self, USER_COLUMNS};
use crate::Conflict;
use crate::{Page, PageRequest, Store, StoreError};

/// A user as a sign-in token finds them.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub user: User,
    pub token_generation: i64,
    /// The token was signed out.
    pub token_revoked: bool,
    /// The organization's default country, which every request of the user reads numbers in.
    pub default_country: Option<Country>,
}

/// The changes an owner or admin makes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub name: Option<PersonName>,
    pub role: Option<Role>,
    pub skills: Option<Vec<String>>,
    /// `Some(None)` clears the limit.
    pub max_chats: Option<Option<u32>>,
    pub is_active: Option<bool>,
    pub password_hash: Option<String>,
}

pub(crate) async fn insert_user<'e, E>(executor: E, user: &NewUser) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let skills =
        serde_json::to_string(&user.skills).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO users (id, organization_id, name, email, password_hash, role, skills,
                            max_chats, is_active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
    )
    .bind(user.id.as_str())
    .bind(user.organization_id.as_str())
    .bind(user.name.as_str())
    .bind(user.email.as_str())
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(skills)
    .bind(user.max_chats.map(i64::from))
    .bind(user.created_at)
    .execute(executor)
    .await
    .map_err(|e| StoreError::unique(e, Conflict::Email))?;
    Ok(())
}

/// The people of an organization, their roles and their sign-in tokens.
pub struct Users<'a> {
    store: &'a Store,
}

impl Store {
    pub fn users(&self) -> Users<'_> {
        Users { store: self }
    }
}

impl Users<'_> {
    pub async fn create(&self, user: &NewUser) -> Result<(), StoreError> {
        insert_user(&self.store.pool, user).await
    }

    /// The user with this e-mail and their password hash, for signing in.
    pub async fn by_email(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(email.as_str())
            .fetch_optional(&self.store.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((rows::user(&row)?, row.try_get("password_hash")?)))
    }

    /// A user of this organization; another organization's user is `None`, as if it did not
    /// exist.
    pub async fn get(&self, org: &OrgId, id: &UserId) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND organization_id = $2");
        sqlx::query(&sql)
            .bind(id.as_str())
            .bind(org.as_str())
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(rows::user)
            .transpose()
    }

    pub async fn list(&self, org: &OrgId, page: PageRequest) -> Result<Page<User>, StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM users WHERE organization_id = $1")
            .bind(org.as_str())
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1
             ORDER BY created_at, id LIMIT $2 OFFSET $3"
        );
        let items = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(i64::from(page.limit))
            .bind(page.offset())
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(rows::user)
            .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    /// How many active owners the organization has (it must always keep one).
    pub async fn count_owners(&self, org: &OrgId) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM users WHERE organization_id = $1 AND role = 'owner' AND is_active = 1",
        )
        .bind(org.as_str())
        .fetch_one(&self.store.pool)
        .await?
        .try_get(0)?)
    }

    /// What a sign-in token needs checked, in one round trip: the user (of this organization),
    /// their token generation, and whether the token `jti` was signed out.
    pub async fn for_token(
        &self,
        org: &OrgId,
        id: &UserId,
        jti: &str,
    ) -> Result<Option<TokenHolder>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, token_generation,
                    (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $3) AS revoked,
                    (SELECT default_country FROM organizations WHERE id = $2) AS default_country
             FROM users WHERE id = $1 AND organization_id = $2"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(jti)
            .fetch_optional(&self.store.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(TokenHolder {
            user: rows::user(&row)?,
            token_generation: row.try_get("token_generation")?,
            token_revoked: row.try_get::<i64, _>("revoked")? > 0,
            default_country: rows::country(row.try_get("default_country")?)?,
        }))
    }

    /// A user's current token generation (tokens issued now carry it).
    pub async fn token_generation(&self, id: &UserId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT token_generation FROM users WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.store.pool)
                .await?
                .map(|row| row.try_get::<i64, _>(0))
                .transpose()?
                .unwrap_or(0),
        )
    }

    /// Ends one sign-in token (signing out) until it would have expired anyway; tokens that
    /// have expired meanwhile are forgotten.
    pub async fn revoke_token(
        &self,
        jti: &str,
        user: &UserId,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut w = self.store.begin_write().await?;
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(user.as_str())
        .bind(expires_at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// Applies the changes and returns the user as it now is; `None` when the user is not in
    /// this organization. A new password ends every sign-in token issued before it (the
    /// user's token generation moves on); a lower role lowers the roles of the API keys the
    /// user created to it, so no key holds more than its creator.
    pub async fn update(
        &self,
        org: &OrgId,
        id: &UserId,
        update: &UserUpdate,
    ) -> Result<Option<User>, StoreError> {
        let skills = update
            .skills
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // COALESCE keeps a column when its new value is NULL; `max_chats` can be cleared, so a
        // separate flag says whether to touch it.
        let mut w = self.store.begin_write().await?;
        sqlx::query(
            "UPDATE users SET
                name = COALESCE($1, name),
                role = COALESCE($2, role),
                skills = COALESCE($3, skills),
                max_chats = CASE WHEN $4 = 1 THEN $5 ELSE max_chats END,
                is_active = COALESCE($6, is_active),
                password_hash = COALESCE($7, password_hash),
                token_generation = token_generation + $10
             WHERE id = $8 AND organization_id = $9",
        )
        .bind(update.name.as_ref().map(|n| n.as_str().to_owned()))
        .bind(update.role.map(Role::as_str))
        .bind(skills)
        .bind(i64::from(update.max_chats.is_some()))
        .bind(update.max_chats.flatten().map(i64::from))
        .bind(update.is_active.map(i64::from))
        .bind(update.password_hash.clone())
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(i64::from(update.password_hash.is_some()))
        .execute(&mut *w.tx)
        .await?;
        if let Some(role) = update.role {
            for higher in Role::ALL.iter().filter(|r| **r > role) {
                sqlx::query(
                    "UPDATE api_keys SET role = $1
                     WHERE created_by = $2 AND organization_id = $3 AND role = $4",
                )
                .bind(role.as_str())
                .bind(id.as_str())
                .bind(org.as_str())
                .bind(higher.as_str())
                .execute(&mut *w.tx)
                .await?;
            }
        }
        w.commit().await?;
        self.store.users().get(org, id).await
    }

    /// Deletes a user of this organization; `false` when there was none.
    pub async fn delete(&self, org: &OrgId, id: &UserId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND organization_id = $2")
            .bind(id.as_str())
            .bind(org.as_str())
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn record_login(&self, id: &UserId, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.as_str())
            .execute(&self.store.pool)
            .await?;
        Ok(())
    }
}
