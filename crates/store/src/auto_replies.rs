//! Auto-reply rules (SPEC §14). Responses and conditions are JSON written from checked values
//! and read back through the same checks (`wasl_domain::automation`).

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::automation::{
    AutoReply, ConditionFields, Conditions, MatchType, Reply, ReplyFields, Trigger,
};
use wasl_domain::{OrgId, SessionName};

use crate::{Page, PageRequest, Store, StoreError};

const COLUMNS: &str =
    "id, organization_id, name, match_type, trigger_text, response, conditions, away_response,
    session_name, priority, cooldown_minutes, is_active, created_at, updated_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("auto-reply {what}"))
}

fn reply_json(reply: &Reply) -> Result<String, StoreError> {
    serde_json::to_string(&reply.fields()).map_err(|_| corrupt("response"))
}

fn reply(json: &str) -> Result<Reply, StoreError> {
    let fields: ReplyFields = serde_json::from_str(json).map_err(|_| corrupt("response"))?;
    Reply::parse("response", &fields).map_err(|_| corrupt("response"))
}

fn auto_reply(row: &AnyRow) -> Result<AutoReply, StoreError> {
    let match_type: String = row.try_get("match_type")?;
    let match_type =
        MatchType::parse("matchType", &match_type).map_err(|_| corrupt("match type"))?;
    let trigger: String = row.try_get("trigger_text")?;
    let conditions: ConditionFields =
        serde_json::from_str(&row.try_get::<String, _>("conditions")?)
            .map_err(|_| corrupt("conditions"))?;
    Ok(AutoReply {
        id: row.try_get("id")?,
        organization_id: OrgId::from_trusted(row.try_get::<String, _>("organization_id")?),
        name: row.try_get("name")?,
        trigger: Trigger::parse("trigger", match_type, &trigger).map_err(|_| corrupt("trigger"))?,
        response: reply(&row.try_get::<String, _>("response")?)?,
        conditions: Conditions::parse(&conditions).map_err(|_| corrupt("conditions"))?,
        away_response: row
            .try_get::<Option<String>, _>("away_response")?
            .as_deref()
            .map(reply)
            .transpose()?,
        session_name: row
            .try_get::<Option<String>, _>("session_name")?
            .map(|n| SessionName::parse(&n).map_err(|_| corrupt("session")))
            .transpose()?,
        priority: row.try_get("priority")?,
        cooldown_minutes: u32::try_from(row.try_get::<i64, _>("cooldown_minutes")?)
            .map_err(|_| corrupt("cooldown"))?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub struct AutoReplies<'a> {
    store: &'a Store,
}

impl Store {
    pub fn auto_replies(&self) -> AutoReplies<'_> {
        AutoReplies { store: self }
    }
}

impl AutoReplies<'_> {
    pub async fn insert(&self, rule: &AutoReply) -> Result<(), StoreError> {
        let conditions =
            serde_json::to_string(&rule.conditions.fields()).map_err(|_| corrupt("conditions"))?;
        sqlx::query(&format!(
            "INSERT INTO auto_replies ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(rule.id.as_str())
        .bind(rule.organization_id.as_str())
        .bind(rule.name.as_str())
        .bind(rule.trigger.match_type().as_str())
        .bind(rule.trigger.text())
        .bind(reply_json(&rule.response)?)
        .bind(conditions)
        .bind(rule.away_response.as_ref().map(reply_json).transpose()?)
        .bind(rule.session_name.as_ref().map(|s| s.as_str().to_owned()))
        .bind(rule.priority)
        .bind(i64::from(rule.cooldown_minutes))
        .bind(i64::from(rule.is_active))
        .bind(rule.created_at)
        .bind(rule.updated_at)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Replaces a rule's settings (its id and creation stay); `false` when there is none.
    pub async fn update(&self, rule: &AutoReply) -> Result<bool, StoreError> {
        let conditions =
            serde_json::to_string(&rule.conditions.fields()).map_err(|_| corrupt("conditions"))?;
        let done = sqlx::query(
            "UPDATE auto_replies SET name = $1, match_type = $2, trigger_text = $3, response = $4,
                 conditions = $5, away_response = $6, session_name = $7, priority = $8,
                 cooldown_minutes = $9, is_active = $10, updated_at = $11
             WHERE organization_id = $12 AND id = $13",
        )
        .bind(rule.name.as_str())
        .bind(rule.trigger.match_type().as_str())
        .bind(rule.trigger.text())
        .bind(reply_json(&rule.response)?)
        .bind(conditions)
        .bind(rule.away_response.as_ref().map(reply_json).transpose()?)
        .bind(rule.session_name.as_ref().map(|s| s.as_str().to_owned()))
        .bind(rule.priority)
        .bind(i64::from(rule.cooldown_minutes))
        .bind(i64::from(rule.is_active))
        .bind(rule.updated_at)
        .bind(rule.organization_id.as_str())
        .bind(rule.id.as_str())
        .execute(&self.store.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn get(&self, org: &OrgId, id: &str) -> Result<Option<AutoReply>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM auto_replies WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?
        .as_ref()
        .map(auto_reply)
        .transpose()
    }

    /// Every rule of the organization, in the order they are tried.
    pub async fn all(&self, org: &OrgId) -> Result<Vec<AutoReply>, StoreError> {
        let mut rules = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM auto_replies WHERE organization_id = $1"
        ))
        .bind(org.as_str())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(auto_reply)
        .collect::<Result<Vec<_>, _>>()?;
        wasl_domain::automation::by_priority(&mut rules);
        Ok(rules)
    }

    /// A page of the rules, in the order they are tried.
    pub async fn list(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<AutoReply>, StoreError> {
        let total: i64 =
            sqlx::query("SELECT COUNT(*) FROM auto_replies WHERE organization_id = $1")
                .bind(org.as_str())
                .fetch_one(&self.store.pool)
                .await?
                .try_get(0)?;
        let items = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM auto_replies WHERE organization_id = $1
             ORDER BY priority DESC, created_at, id LIMIT $2 OFFSET $3"
        ))
        .bind(org.as_str())
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(&self.store.pool)
        .await?
        .iter()
        .map(auto_reply)
        .collect::<Result<_, _>>()?;
        Ok(Page::counted(items, total))
    }

    pub async fn delete(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM auto_replies WHERE organization_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&self.store.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
