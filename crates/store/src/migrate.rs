//! Embedded, append-only migrations, applied at start-up in order, each in its own
//! transaction. Shipped migrations are never edited: a change is a new file.

use sqlx::Row;

use crate::{Dialect, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const SQLITE: &[Migration] = &[Migration {
    version: 1,
    name: "foundation",
    sql: include_str!("../migrations/sqlite/0001_foundation.sql"),
}];

const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    name: "foundation",
    sql: include_str!("../migrations/postgres/0001_foundation.sql"),
}];

/// An arbitrary constant: several wasl nodes starting at once migrate one after another.
const PG_MIGRATION_LOCK: i64 = 0x7761_736c;

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let migrations = match store.dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    let mut conn = store.pool.acquire().await?;
    if store.dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, migrations).await;
    if store.dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, migrations: &[Migration]) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS wasl_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM wasl_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for migration in migrations.iter().filter(|m| !applied.contains(&m.version)) {
        let fail = |source| StoreError::Migration {
            version: migration.version,
            source,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(migration.sql)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        sqlx::query("INSERT INTO wasl_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(crate::rows::now_millis())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "migration applied"
        );
    }
    Ok(())
}
