//! Rows written straight into the database with sqlx, bypassing wasl: the baseline of the ingest
//! benchmark and the fast way to fill a database for the listing benchmark. One multi-row
//! INSERT per transaction, in the SQL both dialects share.

use sqlx::AnyPool;

use crate::harness::BenchResult;

/// The columns of `messages` a received text message fills.
const COLUMNS: &str = "id, organization_id, session_id, message_id, contact_id, contact_phone, from_number, to_number,
    direction, type, text, status, sent_at, delivered_at, created_at";
const PER_ROW: usize = 15;

pub async fn pool(url: &str) -> BenchResult<AnyPool> {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .map_err(|e| format!("connect {}: {e}", url.split('?').next().unwrap_or("")))
}

/// Who the rows belong to.
pub struct Owner<'a> {
    pub org_id: &'a str,
    pub session_id: &'a str,
    pub session_phone: &'a str,
}

/// One message, as a customer sent it or the session answered.
pub struct RawMessage {
    pub contact_id: String,
    pub contact_phone: String,
    pub incoming: bool,
    pub text: String,
    pub created_at: i64,
}

/// Inserts `rows` in one transaction with one multi-row INSERT.
pub async fn insert_messages(
    pool: &AnyPool,
    owner: &Owner<'_>,
    rows: &[RawMessage],
) -> BenchResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sqlite = pool.connect_options().database_url.scheme() == "sqlite";
    let placeholders: Vec<String> = (0..rows.len())
        .map(|r| {
            // SQLite looks each named `$N` up among the statement's earlier names, which is
            // quadratic in a 7,500-parameter INSERT; its anonymous `?` is positional.
            let cells: Vec<String> = (1..=PER_ROW)
                .map(|c| {
                    if sqlite {
                        "?".to_owned()
                    } else {
                        format!("${}", r * PER_ROW + c)
                    }
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO messages ({COLUMNS}) VALUES {}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for m in rows {
        let (from, to) = if m.incoming {
            (m.contact_phone.as_str(), owner.session_phone)
        } else {
            (owner.session_phone, m.contact_phone.as_str())
        };
        query = query
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(owner.org_id)
            .bind(owner.session_id)
            .bind(format!("3EB0{}", uuid::Uuid::now_v7().simple()))
            .bind(m.contact_id.as_str())
            .bind(m.contact_phone.as_str())
            .bind(from)
            .bind(to)
            .bind(if m.incoming { "incoming" } else { "outgoing" })
            .bind("text")
            .bind(m.text.as_str())
            .bind(if m.incoming { "delivered" } else { "read" })
            .bind(m.created_at)
            .bind(m.created_at + 400)
            .bind(m.created_at);
    }
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    query
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("insert messages: {e}"))?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// Inserts one contact and returns its id.
pub async fn insert_contact(
    pool: &AnyPool,
    org_id: &str,
    phone: &str,
    name: &str,
    at: i64,
) -> BenchResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO contacts (id, organization_id, phone_number, name, search_text, last_message_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.as_str())
    .bind(org_id)
    .bind(phone)
    .bind(name)
    .bind(format!("{name} {phone}"))
    .bind(at)
    .bind(at)
    .bind(at)
    .execute(pool)
    .await
    .map_err(|e| format!("insert contact: {e}"))?;
    Ok(id)
}

/// Inserts contacts `(phone, name)` in batches, in one transaction each; returns their ids.
pub async fn insert_contacts(
    pool: &AnyPool,
    org_id: &str,
    contacts: &[(String, String)],
    at: i64,
) -> BenchResult<Vec<String>> {
    const PER_CONTACT: usize = 8;
    let sqlite = pool.connect_options().database_url.scheme() == "sqlite";
    let mut ids = Vec::with_capacity(contacts.len());
    for batch in contacts.chunks(500) {
        let placeholders: Vec<String> = (0..batch.len())
            .map(|r| {
                let cells: Vec<String> = (1..=PER_CONTACT)
                    .map(|c| {
                        if sqlite {
                            "?".to_owned()
                        } else {
                            format!("${}", r * PER_CONTACT + c)
                        }
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO contacts (id, organization_id, phone_number, name, search_text, last_message_at, created_at, updated_at) VALUES {}",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (phone, name) in batch {
            let id = uuid::Uuid::now_v7().to_string();
            query = query
                .bind(id.clone())
                .bind(org_id)
                .bind(phone.as_str())
                .bind(name.as_str())
                .bind(format!("{name} {phone}"))
                .bind(at)
                .bind(at)
                .bind(at);
            ids.push(id);
        }
        query
            .execute(pool)
            .await
            .map_err(|e| format!("insert contacts: {e}"))?;
    }
    Ok(ids)
}

/// The conversations of the messages written raw, with their counters, as wasl keeps them while
/// storing messages (and as its migrations fill them for messages stored before them).
pub async fn conversations_from_messages(pool: &AnyPool) -> BenchResult<()> {
    sqlx::query(
        "INSERT INTO conversations (id, organization_id, session_id, contact_id, status, last_message_id,
                                    last_message_at, unread_count, incoming_count, outgoing_count,
                                    created_at, updated_at)
         SELECT 'bench-' || session_id || '-' || contact_id, organization_id, session_id, contact_id,
                'open', MAX(id), MAX(created_at), 0,
                SUM(CASE WHEN direction = 'incoming' THEN 1 ELSE 0 END),
                SUM(CASE WHEN direction = 'outgoing' THEN 1 ELSE 0 END),
                MIN(created_at), MAX(created_at)
         FROM messages GROUP BY organization_id, session_id, contact_id",
    )
    .execute(pool)
    .await
    .map(|_| ())
    .map_err(|e| format!("conversations: {e}"))
}

pub async fn count(pool: &AnyPool, sql: &str) -> BenchResult<i64> {
    use sqlx::Row as _;
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
        .map_err(|e| e.to_string())
}

pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
