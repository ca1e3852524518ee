//! Conversations (SPEC §16): one row per contact per session, written in the transaction that
//! stores each of its messages (see `record`), and changed by hand (status, assignee).

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use wasl_domain::search::fold;
use wasl_domain::{
    Conversation, ConversationOverview, ConversationStatus, OrgId, SessionId, UserId,
};

use crate::contacts::{contact, escape_like, CONTACT_COLUMNS};
use crate::events::{insert_event, EventRenderer, StoredEvent};
use crate::messages::message;
use crate::sql::Params;
use crate::{Conflict, Cursor, Page, PageRequest, Store, StoreError};

/// The columns of a conversation, each read back as `v_<name>`: listings join contacts and
/// messages, whose columns have the same names.
pub(crate) const COLUMNS: &[&str] = &[
    "id",
    "organization_id",
    "session_id",
    "contact_id",
    "status",
    "assignee_id",
    "unread_count",
    "last_message_id",
    "last_message_at",
    "waiting_since",
    "first_response_at",
    "resolved_at",
    "created_at",
    "updated_at",
];

/// `v.id AS v_id, …` (with `table` = "v.") or `id AS v_id, …` for RETURNING.
pub(crate) fn conversation_columns(table: &str) -> String {
    COLUMNS
        .iter()
        .map(|c| format!("{table}{c} AS v_{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn conversation(row: &AnyRow) -> Result<Conversation, StoreError> {
    let status: String = row.try_get("v_status")?;
    Ok(Conversation {
        id: row.try_get("v_id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("v_organization_id")?),
        session_id: SessionId::from_trusted(row.try_get::<String, _>("v_session_id")?),
        contact_id: row.try_get("v_contact_id")?,
        status: ConversationStatus::parse("status", &status)
            .map_err(|_| StoreError::Corrupt(format!("conversation status {status:?}")))?,
        assignee_id: row
            .try_get::<Option<String>, _>("v_assignee_id")?
            .map(UserId::from_trusted),
        unread_count: row.try_get("v_unread_count")?,
        last_message_id: row.try_get("v_last_message_id")?,
        last_message_at: row.try_get("v_last_message_at")?,
        waiting_since: row.try_get("v_waiting_since")?,
        first_response_at: row.try_get("v_first_response_at")?,
        resolved_at: row.try_get("v_resolved_at")?,
        created_at: row.try_get("v_created_at")?,
        updated_at: row.try_get("v_updated_at")?,
    })
}

pub(crate) const MESSAGE_COLUMNS_M: &str = "m.id, m.organization_id, m.session_id, m.message_id, m.contact_id, m.contact_phone, m.from_number,
    m.to_number, m.direction, m.type, m.text, m.caption, m.media_path, m.mime_type, m.filename, m.media_size, m.ptt, m.status,
    m.sent_at, m.delivered_at, m.read_at, m.error_message, m.idempotency_key, m.attempts, m.related_user, m.created_at,
    m.quoted, m.customer_reaction, m.business_reaction, m.metadata";

/// Whose conversations to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Nobody has them.
    Unassigned,
    /// This person has them.
    Person(UserId),
}

/// Which conversations to list; `None` is any.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub session: Option<SessionId>,
    pub status: Option<ConversationStatus>,
    pub assignee: Option<AssigneeFilter>,
    /// Matches the contact's name, phone and tags, folded.
    pub search: Option<String>,
    /// Only those with messages nobody has read yet.
    pub unread: bool,
}

/// A change made by hand; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ConversationChange {
    pub status: Option<ConversationStatus>,
    /// `Some(None)` takes it away from whoever has it.
    pub assignee: Option<Option<UserId>>,
}

/// The overview query: a conversation with its last message, its contact read separately.
fn overview_sql(conditions: &str) -> String {
    format!(
        "SELECT {}, {MESSAGE_COLUMNS_M}
         FROM conversations v JOIN contacts c ON c.id = v.contact_id JOIN messages m ON m.id = v.last_message_id
         WHERE {conditions}",
        conversation_columns("v.")
    )
}

/// Conversations: a contact on a session, with its status and assignee.
pub struct Conversations<'a> {
    store: &'a Store,
}

impl Store {
    pub fn conversations(&self) -> Conversations<'_> {
        Conversations { store: self }
    }
}

impl Conversations<'_> {
    /// Conversations, most recent first, with their contact, last message and unread count.
    pub async fn list(
        &self,
        org: &OrgId,
        filter: &ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationOverview>, StoreError> {
        let mut params = Params::new(self.store.dialect);
        let mut conditions = vec![format!("v.organization_id = {}", params.text(org.as_str()))];
        if let Some(session) = &filter.session {
            conditions.push(format!("v.session_id = {}", params.text(session.as_str())));
        }
        if let Some(status) = filter.status {
            conditions.push(format!("v.status = {}", params.text(status.as_str())));
        }
        match &filter.assignee {
            None => {}
            Some(AssigneeFilter::Unassigned) => conditions.push("v.assignee_id IS NULL".into()),
            Some(AssigneeFilter::Person(user)) => {
                conditions.push(format!("v.assignee_id = {}", params.text(user.as_str())));
            }
        }
        if let Some(search) = filter.search.as_deref().map(fold).filter(|s| !s.is_empty()) {
            let pattern = params.text(format!("%{}%", escape_like(&search)));
            conditions.push(format!("c.search_text LIKE {pattern} ESCAPE '\\'"));
        }
        if filter.unread {
            conditions.push("v.unread_count > 0".into());
        }
        // The total counts the whole listing, so it is read before the cursor narrows it
        // (and with only its own values bound: PostgreSQL refuses extra ones).
        let counted = (params.clone(), conditions.join(" AND "));
        if let Some(cursor) = &page.after {
            conditions.push(params.after("v.last_message_at", "v.id", cursor));
        }
        let conditions = conditions.join(" AND ");
        let count_sql = format!(
            "SELECT COUNT(*) FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE {}",
            counted.1
        );
        let total: i64 = counted
            .0
            .query(&count_sql)
            .fetch_one(&self.store.pool)
            .await?
            .try_get(0)?;
        // The listing takes the same values, then its page.
        let sql = format!(
            "{} ORDER BY v.last_message_at DESC, v.id DESC LIMIT {} OFFSET {}",
            overview_sql(&conditions),
            params.int(page.probe()),
            params.int(page.offset())
        );
        let rows = params.query(&sql).fetch_all(&self.store.pool).await?;
        let items = self.overviews(&rows).await?;
        Ok(Page::keyset(
            items,
            total,
            &page,
            |o: &ConversationOverview| Cursor {
                at: o.conversation.last_message_at,
                id: o.conversation.id.clone(),
            },
        ))
    }

    /// Rows of [`overview_sql`] with their contacts, read in one query.
    async fn overviews(&self, rows: &[AnyRow]) -> Result<Vec<ConversationOverview>, StoreError> {
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            found.push((conversation(row)?, message(row)?));
        }
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Params::new(self.store.dialect);
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id IN ({})",
            params.texts(found.iter().map(|(c, _)| c.contact_id.as_str()))
        );
        let mut contacts = std::collections::HashMap::new();
        for row in params.query(&sql).fetch_all(&self.store.pool).await? {
            let contact = contact(&row)?;
            contacts.insert(contact.id.clone(), contact);
        }
        found
            .into_iter()
            .map(|(conversation, last_message)| {
                let contact = contacts
                    .get(&conversation.contact_id)
                    .cloned()
                    .ok_or_else(|| {
                        StoreError::Corrupt("a conversation without its contact".into())
                    })?;
                Ok(ConversationOverview {
                    conversation,
                    contact,
                    last_message,
                })
            })
            .collect()
    }

    /// One conversation of the organization.
    pub async fn get(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<ConversationOverview>, StoreError> {
        let sql = overview_sql("v.organization_id = $1 AND v.id = $2");
        let rows = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(self.overviews(&rows).await?.pop())
    }

    /// The conversation of a contact on a session, if they have written or been written to.
    pub async fn of_contact(
        &self,
        org: &OrgId,
        session: &SessionId,
        contact_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = format!(
            "SELECT {} FROM conversations v
             WHERE v.organization_id = $1 AND v.session_id = $2 AND v.contact_id = $3",
            conversation_columns("v.")
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(session.as_str())
            .bind(contact_id)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(conversation)
            .transpose()
    }

    /// Changes a conversation's status or assignee by hand, with its `conversation.updated`
    /// event in the same transaction. `None` when the organization has no such conversation;
    /// no event when nothing changed. An assignee must be an active person of the
    /// organization ([`Conflict::Assignee`] otherwise).
    pub async fn change(
        &self,
        org: &OrgId,
        id: &str,
        change: &ConversationChange,
        at: i64,
        render: &dyn EventRenderer,
    ) -> Result<Option<(ConversationOverview, Option<StoredEvent>)>, StoreError> {
        let mut w = self.store.begin_write().await?;
        let tx = &mut w.tx;
        let sql = format!(
            "SELECT {} FROM conversations v WHERE v.organization_id = $1 AND v.id = $2{}",
            conversation_columns("v."),
            self.store.dialect.lock_rows()
        );
        let Some(row) = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Ok(None);
        };
        let mut updated = conversation(&row)?;
        let mut changed = false;
        if let Some(status) = change.status {
            changed |= updated.set_status(status, at);
        }
        if let Some(assignee) = &change.assignee {
            if let Some(person) = assignee {
                if !is_active_member(tx, org, person).await? {
                    return Err(StoreError::Conflict(Conflict::Assignee));
                }
            }
            changed |= updated.assign(assignee.clone(), at);
        }
        if changed {
            sqlx::query(
                "UPDATE conversations SET status = $1, assignee_id = $2, resolved_at = $3,
                    waiting_since = $4, first_response_at = $5, updated_at = $6
                 WHERE id = $7",
            )
            .bind(updated.status.as_str())
            .bind(updated.assignee_id.as_ref().map(|u| u.as_str().to_owned()))
            .bind(updated.resolved_at)
            .bind(updated.waiting_since)
            .bind(updated.first_response_at)
            .bind(updated.updated_at)
            .bind(&updated.id)
            .execute(&mut **tx)
            .await?;
        }
        let rows = sqlx::query(&overview_sql("v.organization_id = $1 AND v.id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
        let mut found = Vec::with_capacity(1);
        for row in &rows {
            found.push((conversation(row)?, message(row)?));
        }
        let Some((conversation, last_message)) = found.pop() else {
            return Ok(None);
        };
        let contact_sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1");
        let contact = contact(
            &sqlx::query(&contact_sql)
                .bind(&conversation.contact_id)
                .fetch_one(&mut **tx)
                .await?,
        )?;
        let overview = ConversationOverview {
            conversation,
            contact,
            last_message,
        };
        if !changed {
            drop(w);
            return Ok(Some((overview, None)));
        }
        let event = insert_event(
            tx,
            org,
            "conversation.updated",
            render.conversation(&overview),
            at,
        )
        .await?;
        w.commit().await?;
        Ok(Some((overview, Some(event))))
    }

    /// Someone opened the conversation: nothing in it is unread any more. `false` when the
    /// organization has no such conversation.
    pub async fn read(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE conversations SET unread_count = 0 WHERE organization_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id)
        .execute(&self.store.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

async fn is_active_member(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    user: &UserId,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query(
            "SELECT 1 FROM users WHERE id = $1 AND organization_id = $2 AND is_active <> 0",
        )
        .bind(user.as_str())
        .bind(org.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .is_some(),
    )
}
