//! The web engine's protocol state: one generic table, `web_engine_state`, that the engine
//! fills with sealed values (see migration 0003 for what each column means per kind). The
//! store never sees a plaintext secret: it keeps bytes and the few plain columns queries need,
//! and offers the handful of operations whatsapp-rust's storage traits come down to.

use sqlx::any::AnyRow;
use sqlx::Row;
use wasl_domain::SessionId;

use crate::rows::now_millis;
use crate::{Store, StoreError};

/// SQLite allows 32766 bound parameters and PostgreSQL 65535; chunks of this many keys keep
/// every `IN (...)` list far below both.
const CHUNK: usize = 500;

const COLUMNS: &str = "kind, key, scope, member, num, num2, value";

/// One row of engine state. `value` is opaque (sealed by the engine).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebStateRow {
    pub kind: String,
    pub key: String,
    pub scope: String,
    pub member: String,
    pub num: Option<i64>,
    pub num2: Option<i64>,
    pub value: Vec<u8>,
}

/// One change in a batch applied in a single transaction.
#[derive(Debug, Clone)]
pub enum WebStateWrite {
    /// Insert or replace the row with this (kind, key).
    Put(WebStateRow),
    Delete {
        kind: String,
        key: String,
    },
    /// Delete every row of `kind` whose scope is `scope`.
    DeleteScope {
        kind: String,
        scope: String,
    },
    /// Delete every row of `kind`.
    DeleteKind {
        kind: String,
    },
    /// Delete every row of `kind` whose member is `member`.
    DeleteMember {
        kind: String,
        member: String,
    },
}

/// Which rows of a kind a sweep removes.
#[derive(Debug, Clone, Copy)]
pub enum WebStateSweep {
    /// `num` is set and below the bound (expired deadlines, old timestamps).
    NumBelow(i64),
    /// Both numbers are absent or below their bounds: nothing live is left in the row.
    BothBelow { num: i64, num2: i64 },
}

fn row(r: &AnyRow) -> Result<WebStateRow, StoreError> {
    Ok(WebStateRow {
        kind: r.try_get("kind")?,
        key: r.try_get("key")?,
        scope: r.try_get("scope")?,
        member: r.try_get("member")?,
        num: r.try_get("num")?,
        num2: r.try_get("num2")?,
        value: r.try_get("value")?,
    })
}

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The web engine's protocol state (keys, sessions, app state), per session.
pub struct WebState<'a> {
    store: &'a Store,
}

impl Store {
    pub fn web_state(&self) -> WebState<'_> {
        WebState { store: self }
    }
}

impl WebState<'_> {
    pub async fn get(
        &self,
        session: &SessionId,
        kind: &str,
        key: &str,
    ) -> Result<Option<WebStateRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM web_engine_state WHERE session_id = $1 AND kind = $2 AND key = $3"
        );
        sqlx::query(&sql)
            .bind(session.as_str())
            .bind(kind)
            .bind(key)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    /// The rows that exist among `keys`, in no particular order.
    pub async fn get_many(
        &self,
        session: &SessionId,
        kind: &str,
        keys: &[String],
    ) -> Result<Vec<WebStateRow>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let sql = format!(
                "SELECT {COLUMNS} FROM web_engine_state
                 WHERE session_id = $1 AND kind = $2 AND key IN ({})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(session.as_str()).bind(kind);
            for key in chunk {
                query = query.bind(key);
            }
            for r in query.fetch_all(&self.store.pool).await? {
                out.push(row(&r)?);
            }
        }
        Ok(out)
    }

    /// Every row of a kind, or only those of one scope, by key.
    pub async fn list(
        &self,
        session: &SessionId,
        kind: &str,
        scope: Option<&str>,
    ) -> Result<Vec<WebStateRow>, StoreError> {
        let filter = if scope.is_some() {
            " AND scope = $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM web_engine_state WHERE session_id = $1 AND kind = $2{filter}
             ORDER BY key"
        );
        let mut query = sqlx::query(&sql).bind(session.as_str()).bind(kind);
        if let Some(scope) = scope {
            query = query.bind(scope);
        }
        query
            .fetch_all(&self.store.pool)
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// The row of a scope with the highest `num`, the most recently written on a tie.
    pub async fn latest_in_scope(
        &self,
        session: &SessionId,
        kind: &str,
        scope: &str,
    ) -> Result<Option<WebStateRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM web_engine_state WHERE session_id = $1 AND kind = $2 AND scope = $3
             ORDER BY num DESC, updated_at DESC, key LIMIT 1"
        );
        sqlx::query(&sql)
            .bind(session.as_str())
            .bind(kind)
            .bind(scope)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    /// Is there any row of these kinds in `scope`?
    pub async fn scope_exists(
        &self,
        session: &SessionId,
        kinds: &[&str],
        scope: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT 1 FROM web_engine_state
             WHERE session_id = $1 AND scope = $2 AND kind IN ({}) LIMIT 1",
            placeholders(3, kinds.len())
        );
        let mut query = sqlx::query(&sql).bind(session.as_str()).bind(scope);
        for kind in kinds {
            query = query.bind(*kind);
        }
        Ok(query.fetch_optional(&self.store.pool).await?.is_some())
    }

    /// The highest `num` of a kind, if any row has one.
    pub async fn max_num(
        &self,
        session: &SessionId,
        kind: &str,
    ) -> Result<Option<i64>, StoreError> {
        let r = sqlx::query(
            "SELECT MAX(num) FROM web_engine_state WHERE session_id = $1 AND kind = $2",
        )
        .bind(session.as_str())
        .bind(kind)
        .fetch_one(&self.store.pool)
        .await?;
        Ok(r.try_get::<Option<i64>, _>(0)?)
    }

    /// Applies every change in one transaction: all of them are durable, or none.
    pub async fn apply(
        &self,
        session: &SessionId,
        writes: &[WebStateWrite],
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let now = now_millis();
        let mut w = self.store.begin_write().await?;
        for write in writes {
            let query = match write {
                WebStateWrite::Put(r) => sqlx::query(
                    "INSERT INTO web_engine_state
                         (session_id, kind, key, scope, member, num, num2, value, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (session_id, kind, key) DO UPDATE SET
                         scope = excluded.scope, member = excluded.member, num = excluded.num,
                         num2 = excluded.num2, value = excluded.value,
                         updated_at = excluded.updated_at",
                )
                .bind(session.as_str())
                .bind(r.kind.as_str())
                .bind(r.key.as_str())
                .bind(r.scope.as_str())
                .bind(r.member.as_str())
                .bind(r.num)
                .bind(r.num2)
                .bind(r.value.as_slice())
                .bind(now),
                WebStateWrite::Delete { kind, key } => sqlx::query(
                    "DELETE FROM web_engine_state WHERE session_id = $1 AND kind = $2 AND key = $3",
                )
                .bind(session.as_str())
                .bind(kind.as_str())
                .bind(key.as_str()),
                WebStateWrite::DeleteScope { kind, scope } => sqlx::query(
                    "DELETE FROM web_engine_state
                     WHERE session_id = $1 AND kind = $2 AND scope = $3",
                )
                .bind(session.as_str())
                .bind(kind.as_str())
                .bind(scope.as_str()),
                WebStateWrite::DeleteKind { kind } => {
                    sqlx::query("DELETE FROM web_engine_state WHERE session_id = $1 AND kind = $2")
                        .bind(session.as_str())
                        .bind(kind.as_str())
                }
                WebStateWrite::DeleteMember { kind, member } => sqlx::query(
                    "DELETE FROM web_engine_state
                     WHERE session_id = $1 AND kind = $2 AND member = $3",
                )
                .bind(session.as_str())
                .bind(kind.as_str())
                .bind(member.as_str()),
            };
            query.execute(&mut *w.tx).await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Sets `num2` on the rows that exist among `keys`. Never inserts: a row deleted meanwhile
    /// stays deleted.
    pub async fn set_num2(
        &self,
        session: &SessionId,
        kind: &str,
        keys: &[String],
        num2: i64,
    ) -> Result<(), StoreError> {
        let mut w = self.store.begin_write().await?;
        for chunk in keys.chunks(CHUNK) {
            let sql = format!(
                "UPDATE web_engine_state SET num2 = $3, updated_at = $4
                 WHERE session_id = $1 AND kind = $2 AND key IN ({})",
                placeholders(5, chunk.len())
            );
            let mut query = crate::sql::batch_query(&sql)
                .bind(session.as_str())
                .bind(kind)
                .bind(num2)
                .bind(now_millis());
            for key in chunk {
                query = query.bind(key);
            }
            query.execute(&mut *w.tx).await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Removes the row and returns it, in one statement: two callers never both get it.
    pub async fn take(
        &self,
        session: &SessionId,
        kind: &str,
        key: &str,
    ) -> Result<Option<WebStateRow>, StoreError> {
        let sql = format!(
            "DELETE FROM web_engine_state WHERE session_id = $1 AND kind = $2 AND key = $3
             RETURNING {COLUMNS}"
        );
        sqlx::query(&sql)
            .bind(session.as_str())
            .bind(kind)
            .bind(key)
            .fetch_optional(&self.store.pool)
            .await?
            .as_ref()
            .map(row)
            .transpose()
    }

    /// Deletes the rows of a kind that the sweep selects; returns how many went.
    pub async fn sweep(
        &self,
        session: &SessionId,
        kind: &str,
        sweep: WebStateSweep,
    ) -> Result<u64, StoreError> {
        let base = "DELETE FROM web_engine_state WHERE session_id = $1 AND kind = $2";
        let result = match sweep {
            WebStateSweep::NumBelow(bound) => {
                sqlx::query(&format!("{base} AND num IS NOT NULL AND num < $3"))
                    .bind(session.as_str())
                    .bind(kind)
                    .bind(bound)
                    .execute(&self.store.pool)
                    .await?
            }
            WebStateSweep::BothBelow { num, num2 } => {
                sqlx::query(&format!(
                    "{base} AND (num IS NULL OR num < $3) AND (num2 IS NULL OR num2 < $4)"
                ))
                .bind(session.as_str())
                .bind(kind)
                .bind(num)
                .bind(num2)
                .execute(&self.store.pool)
                .await?
            }
        };
        Ok(result.rows_affected())
    }

    /// Forgets everything the web engine stored for a session (after a logout: the engine
    /// never wipes its own store). Returns how many rows went.
    pub async fn delete(&self, session: &SessionId) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM web_engine_state WHERE session_id = $1")
            .bind(session.as_str())
            .execute(&self.store.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
