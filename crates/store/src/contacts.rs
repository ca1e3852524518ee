use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::search::fold;
use wasl_domain::{Contact, OrgId, SessionId};

use crate::events::{insert_event, EventRenderer, StoredEvent};
use crate::sql::Params;
use crate::{rows::now_millis, Cursor, Page, PageRequest, Store, StoreError};

pub(crate) const CONTACT_COLUMNS: &str =
    "c.id, c.organization_id, c.phone_number, c.name, c.profile_pic_url, c.is_blocked, c.tags,
    c.notes, c.last_message_at, c.related_user, c.related_customer, c.opted_out_at, c.created_at,
    c.updated_at";

/// The same columns, unprefixed, for RETURNING.
pub(crate) const CONTACT_COLUMNS_BARE: &str =
    "id, organization_id, phone_number, name, profile_pic_url, is_blocked, tags,
    notes, last_message_at, related_user, related_customer, opted_out_at, created_at, updated_at";

pub(crate) fn contact(row: &AnyRow) -> Result<Contact, StoreError> {
    let tags: String = row.try_get("tags")?;
    Ok(Contact {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        phone_number: row.try_get("phone_number")?,
        name: row.try_get("name")?,
        profile_pic_url: row.try_get("profile_pic_url")?,
        is_blocked: row.try_get::<i64, _>("is_blocked")? != 0,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        notes: row.try_get("notes")?,
        last_message_at: row.try_get("last_message_at")?,
        related_user: row.try_get("related_user")?,
        related_customer: row.try_get("related_customer")?,
        opted_out_at: row.try_get("opted_out_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// What search matches: name, phone and tags, folded.
pub(crate) fn search_text(name: Option<&str>, phone: &str, tags: &[String]) -> String {
    fold(&format!(
        "{} {} {}",
        name.unwrap_or(""),
        phone,
        tags.join(" ")
    ))
}

/// The changes a person makes to a contact; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactUpdate {
    pub name: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<Option<String>>,
    pub related_customer: Option<Option<String>>,
    pub is_blocked: Option<bool>,
}

/// The customers an organization talks to.
pub struct Contacts<'a> {
    store: &'a Store,
}

impl Store {
    pub fn contacts(&self) -> Contacts<'_> {
        Contacts { store: self }
    }
}

impl Contacts<'_> {
    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<Contact>, StoreError> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.organization_id = $1 AND c.id = $2"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(contact)
            .transpose()
    }

    pub async fn by_phone(&self, org: &OrgId, phone: &str) -> Result<Option<Contact>, StoreError> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.organization_id = $1 AND c.phone_number = $2");
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(phone)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(contact)
            .transpose()
    }

    /// The organization's contacts of these numbers (those that exist), in one read.
    pub async fn by_phones(
        &self,
        org: &OrgId,
        phones: &[&str],
    ) -> Result<Vec<Contact>, StoreError> {
        let mut found = Vec::new();
        for chunk in phones.chunks(500) {
            let mut params = crate::sql::Params::new(self.store.dialect);
            let sql = format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.organization_id = {} AND c.phone_number IN ({})",
                params.text(org.as_str()),
                params.texts(chunk.iter().copied())
            );
            for row in params.query(&sql).fetch_all(&self.store.pool).await? {
                found.push(contact(&row)?);
            }
        }
        Ok(found)
    }

    /// Applies a person's changes; returns the contact as it now is.
    /// Applies a person's changes to a contact and records `contact.updated`, in one write
    /// transaction: the contact is read, changed and announced without another write (a
    /// message naming the contact) slipping in between.
    pub async fn update(
        &self,
        org: &OrgId,
        id: &str,
        update: &ContactUpdate,
        render: &dyn EventRenderer,
    ) -> Result<Option<(Contact, StoredEvent)>, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.organization_id = $1 AND c.id = $2"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Ok(None);
        };
        let mut c = contact(&row)?;
        if let Some(name) = &update.name {
            c.name.clone_from(name);
        }
        if let Some(tags) = &update.tags {
            c.tags.clone_from(tags);
        }
        if let Some(notes) = &update.notes {
            c.notes.clone_from(notes);
        }
        if let Some(customer) = &update.related_customer {
            c.related_customer.clone_from(customer);
        }
        if let Some(blocked) = update.is_blocked {
            c.is_blocked = blocked;
        }
        c.updated_at = now_millis();
        let tags =
            serde_json::to_string(&c.tags).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "UPDATE contacts SET name = $1, tags = $2, notes = $3, related_customer = $4, is_blocked = $5,
                search_text = $6, updated_at = $7 WHERE organization_id = $8 AND id = $9",
        )
        .bind(c.name.clone())
        .bind(tags)
        .bind(c.notes.clone())
        .bind(c.related_customer.clone())
        .bind(i64::from(c.is_blocked))
        .bind(search_text(c.name.as_deref(), &c.phone_number, &c.tags))
        .bind(c.updated_at)
        .bind(org.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        let event =
            insert_event(tx, org, "contact.updated", render.contact(&c), c.updated_at).await?;
        w.commit().await?;
        Ok(Some((c, event)))
    }

    /// Contacts, most recently active first; `search` matches folded name, phone and tags;
    /// `session` keeps those who talked with that session.
    pub async fn list(
        &self,
        org: &OrgId,
        session: Option<&SessionId>,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Contact>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let mut conditions = vec![format!("c.organization_id = {}", params.text(org.as_str()))];
        if let Some(session) = session {
            conditions.push(format!(
                "c.id IN (SELECT contact_id FROM conversations WHERE session_id = {})",
                params.text(session.as_str())
            ));
        }
        if let Some(search) = search.map(fold).filter(|s| !s.is_empty()) {
            let pattern = params.text(format!("%{}%", escape_like(&search)));
            conditions.push(format!("c.search_text LIKE {pattern} ESCAPE '\\'"));
        }
        let total: i64 = params
            .query(&format!(
                "SELECT COUNT(*) FROM contacts c WHERE {}",
                conditions.join(" AND ")
            ))
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        // Contacts nobody has written to yet sort last, as if their last message were at 0.
        const ACTIVE: &str = "COALESCE(c.last_message_at, 0)";
        if let Some(cursor) = &page.after {
            conditions.push(params.after(ACTIVE, "c.id", cursor));
        }
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE {}
             ORDER BY {ACTIVE} DESC, c.id DESC LIMIT {} OFFSET {}",
            conditions.join(" AND "),
            params.int(page.probe()),
            params.int(page.offset())
        );
        let items = params
            .query(&sql)
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(contact)
            .collect::<Result<_, _>>()?;
        Ok(Page::keyset(items, total, &page, |c: &Contact| Cursor {
            at: c.last_message_at.unwrap_or(0),
            id: c.id.clone(),
        }))
    }
}

/// Escapes LIKE's wildcards so a search for "50%" looks for the text "50%".
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
