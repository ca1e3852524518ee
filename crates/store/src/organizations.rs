use sqlx::Row;
use wasl_domain::opt_out::OptOutWords;
use wasl_domain::{Country, Lang, NewUser, OrgId, Organization, PersonName, Plan, TimeZone};

use crate::{rows, Page, PageRequest, Store, StoreError};

const ORGANIZATION_COLUMNS: &str =
    "id, name, plan, default_country, timezone, default_language, opt_out_words, created_at";

/// What a change of an organization's settings changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationUpdate {
    pub name: Option<PersonName>,
    /// `Some(None)` clears it.
    pub default_country: Option<Option<Country>>,
    pub timezone: Option<TimeZone>,
    pub default_language: Option<Lang>,
    pub opt_out_words: Option<OptOutWords>,
}

/// Organizations (tenants) and their plans.
pub struct Organizations<'a> {
    store: &'a Store,
}

impl Store {
    pub fn organizations(&self) -> Organizations<'_> {
        Organizations { store: self }
    }
}

impl Organizations<'_> {
    /// Creates an organization and its first user (the owner) together: either both exist
    /// afterwards or neither does. `Conflict(Email)` when the e-mail is taken.
    pub async fn create(
        &self,
        organization: &Organization,
        owner: &NewUser,
    ) -> Result<(), StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        sqlx::query(
            "INSERT INTO organizations (id, name, plan, timezone, default_language, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(organization.id.as_str())
        .bind(organization.name.as_str())
        .bind(organization.plan.as_str())
        .bind(organization.timezone.name())
        .bind(organization.default_language.as_str())
        .bind(organization.created_at)
        .execute(&mut **tx)
        .await?;
        crate::users::insert_user(&mut **tx, owner).await?;
        w.commit().await?;
        Ok(())
    }

    pub async fn get(&self, id: &OrgId) -> Result<Option<Organization>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(rows::organization)
        .transpose()
    }

    /// Changes an organization's plan; `None` when there is no such organization.
    pub async fn set_plan(
        &self,
        id: &OrgId,
        plan: Plan,
    ) -> Result<Option<Organization>, StoreError> {
        sqlx::query("UPDATE organizations SET plan = $1 WHERE id = $2")
            .bind(plan.as_str())
            .bind(id.as_str())
            .execute(&self.store.pool)
            .await?;
        self.store.organizations().get(id).await
    }

    /// Changes an organization's settings (`None` leaves each as it is); the organization
    /// afterwards, `None` when there is no such organization.
    pub async fn update(
        &self,
        id: &OrgId,
        changes: &OrganizationUpdate,
    ) -> Result<Option<Organization>, StoreError> {
        // One statement, so that a change of several settings is made whole or not at all;
        // a setting left out keeps its value (the default country may be cleared to NULL, so
        // whether it changes travels apart from its value).
        sqlx::query(
            "UPDATE organizations SET
                 name = COALESCE($1, name),
                 default_country = CASE WHEN $2 = 1 THEN $3 ELSE default_country END,
                 timezone = COALESCE($4, timezone),
                 default_language = COALESCE($5, default_language),
                 opt_out_words = CASE WHEN $6 = 1 THEN $7 ELSE opt_out_words END
             WHERE id = $8",
        )
        .bind(changes.name.as_ref().map(|n| n.as_str().to_owned()))
        .bind(i64::from(changes.default_country.is_some()))
        .bind(
            changes
                .default_country
                .flatten()
                .map(|c| c.as_str().to_owned()),
        )
        .bind(changes.timezone.map(|z| z.name().to_owned()))
        .bind(changes.default_language.map(|l| l.as_str().to_owned()))
        .bind(i64::from(changes.opt_out_words.is_some()))
        .bind(
            changes
                .opt_out_words
                .as_ref()
                .and_then(rows::opt_out_words_json),
        )
        .bind(id.as_str())
        .execute(&self.store.pool)
        .await?;
        self.get(id).await
    }

    /// Every organization, oldest first (platform administration).
    pub async fn list(&self, page: PageRequest) -> Result<Page<Organization>, StoreError> {
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM organizations")
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        let items = sqlx::query(&format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations
             ORDER BY created_at, id LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(rows::organization)
        .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }
}
