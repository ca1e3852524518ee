//! The two migration folders build the same schema: every table, column (with its
//! nullability and its kind of type) and index that one dialect's migrations make, the other's
//! make too. The SQL may differ (SQLite rebuilds a table where PostgreSQL alters it); what it
//! builds may not, apart from the declared type differences (`BLOB` is `BYTEA`).

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use sqlx::{Connection, Row};
use wasl_store::Store;

/// table → (columns: name → (type kind, nullable), indexes: name → (unique, columns)).
type Schema = BTreeMap<
    String,
    (
        BTreeMap<String, (String, bool)>,
        BTreeMap<String, (bool, Vec<String>)>,
    ),
>;

/// What a declared type is, across the two dialects.
fn kind(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" => "text",
        "bigint" | "integer" | "int8" | "int4" => "integer",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" | "float8" => "real",
        "boolean" | "bool" => "boolean",
        other => return other.to_owned(),
    }
    .to_owned()
}

async fn sqlite_schema(url: &str) -> Schema {
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
    let tables: Vec<String> = sqlx::query(
        // The full-text index is each database's own (an FTS5 table and its shadow tables
        // here, a GIN expression index there, which the index query below cannot list).
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("tables")
    .iter()
    .map(|r| r.get(0))
    .collect();
    let mut schema = Schema::new();
    for table in tables {
        let mut columns = BTreeMap::new();
        for row in sqlx::query(&format!("PRAGMA table_info({table})"))
            .fetch_all(&mut conn)
            .await
            .expect("columns")
        {
            let name: String = row.get("name");
            let declared: String = row.get("type");
            let not_null: i64 = row.get("notnull");
            let primary: i64 = row.get("pk");
            columns.insert(name, (kind(&declared), not_null == 0 && primary == 0));
        }
        let mut indexes = BTreeMap::new();
        for row in sqlx::query(&format!("PRAGMA index_list({table})"))
            .fetch_all(&mut conn)
            .await
            .expect("indexes")
        {
            let name: String = row.get("name");
            let origin: String = row.get("origin");
            // Indexes SQLite makes for primary keys and UNIQUE column constraints are named
            // `sqlite_autoindex_…`; PostgreSQL names its own. Only declared indexes count.
            if origin != "c" {
                continue;
            }
            let unique: i64 = row.get("unique");
            let cols: Vec<String> = sqlx::query(&format!("PRAGMA index_info({name})"))
                .fetch_all(&mut conn)
                .await
                .expect("index columns")
                .iter()
                .map(|r| r.get::<String, _>("name"))
                .collect();
            indexes.insert(name, (unique == 1, cols));
        }
        schema.insert(table, (columns, indexes));
    }
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("postgres");
    let mut schema = Schema::new();
    for row in sqlx::query(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("columns")
    {
        let table: String = row.get(0);
        let column: String = row.get(1);
        let declared: String = row.get(2);
        let nullable: String = row.get(3);
        schema
            .entry(table)
            .or_default()
            .0
            .insert(column, (kind(&declared), nullable == "YES"));
    }
    for row in sqlx::query(
        "SELECT t.relname, i.relname, ix.indisunique,
                array_agg(a.attname::text ORDER BY k.n)
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public'
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE NOT ix.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
         GROUP BY t.relname, i.relname, ix.indisunique",
    )
    .fetch_all(&mut conn)
    .await
    .expect("indexes")
    {
        let table: String = row.get(0);
        let index: String = row.get(1);
        let unique: bool = row.get(2);
        let columns: Vec<String> = row.get(3);
        schema
            .entry(table)
            .or_default()
            .1
            .insert(index, (unique, columns));
    }
    schema
}

fn postgres_admin_url() -> String {
    std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[tokio::test]
async fn both_migration_folders_build_the_same_schema() {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let dir = std::env::temp_dir().join(format!("wasl-parity-{id}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let sqlite_url = format!("sqlite://{}?mode=rwc", dir.join("wasl.db").display());
    Store::open(&sqlite_url)
        .await
        .expect("sqlite store")
        .close()
        .await;

    let admin = postgres_admin_url();
    let name = format!("wasl_parity_{id}");
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL must be running (see README)");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    let pg_url = format!("{base}/{name}");
    Store::open(&pg_url).await.expect("pg store").close().await;

    let sqlite = sqlite_schema(&sqlite_url).await;
    let postgres = postgres_schema(&pg_url).await;
    sqlx::Executor::execute(
        &mut conn,
        format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
    )
    .await
    .expect("drop database");
    let _ = std::fs::remove_dir_all(&dir);

    let tables = |s: &Schema| s.keys().cloned().collect::<Vec<_>>();
    assert!(
        sqlite.len() >= 15,
        "the schema was read: {:?}",
        tables(&sqlite)
    );
    assert!(
        sqlite.values().map(|(_, i)| i.len()).sum::<usize>() >= 15,
        "and its indexes"
    );
    assert_eq!(tables(&sqlite), tables(&postgres), "the same tables");
    for (table, (columns, indexes)) in &sqlite {
        let (pg_columns, pg_indexes) = &postgres[table];
        assert_eq!(columns, pg_columns, "the columns of {table}");
        assert_eq!(indexes, pg_indexes, "the indexes of {table}");
    }
}
