//! Embedded, append-only migrations, applied at start-up in order, each in its own
//! transaction. Shipped migrations are never edited: a change is a new file.

use sqlx::Row;

use crate::{Dialect, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order, for one dialect's folder. Both dialects list the same versions
/// and names; only the SQL files differ.
macro_rules! migrations {
    ($dialect:literal) => {
        &[
            migration!($dialect, 1, "foundation", "0001_foundation.sql"),
            migration!($dialect, 2, "sessions", "0002_sessions.sql"),
            migration!($dialect, 3, "web_engine_state", "0003_web_engine_state.sql"),
            migration!($dialect, 4, "messaging", "0004_messaging.sql"),
            migration!($dialect, 5, "webhooks", "0005_webhooks.sql"),
            migration!(
                $dialect,
                6,
                "conversation_counts",
                "0006_conversation_counts.sql"
            ),
            migration!(
                $dialect,
                7,
                "partial_message_indexes",
                "0007_partial_message_indexes.sql"
            ),
            migration!($dialect, 8, "webhook_lanes", "0008_webhook_lanes.sql"),
            migration!($dialect, 9, "ordered_queues", "0009_ordered_queues.sql"),
            migration!($dialect, 10, "hardening", "0010_hardening.sql"),
            migration!($dialect, 11, "conversations", "0011_conversations.sql"),
            migration!($dialect, 12, "assignee_index", "0012_assignee_index.sql"),
            migration!($dialect, 13, "default_country", "0013_default_country.sql"),
            migration!(
                $dialect,
                14,
                "replies_reactions_search",
                "0014_replies_reactions_search.sql"
            ),
            migration!($dialect, 15, "keyset_indexes", "0015_keyset_indexes.sql"),
            migration!(
                $dialect,
                16,
                "organization_calendar",
                "0016_organization_calendar.sql"
            ),
            migration!($dialect, 17, "automation", "0017_automation.sql"),
            migration!(
                $dialect,
                18,
                "automation_queue_order",
                "0018_automation_queue_order.sql"
            ),
            migration!(
                $dialect,
                19,
                "scheduled_messages",
                "0019_scheduled_messages.sql"
            ),
            migration!($dialect, 20, "broadcasts", "0020_broadcasts.sql"),
        ]
    };
}

macro_rules! migration {
    ($dialect:literal, $version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dialect, "/", $file)),
        }
    };
}

const SQLITE: &[Migration] = migrations!("sqlite");
const POSTGRES: &[Migration] = migrations!("postgres");

/// An arbitrary constant: several wasl nodes starting at once migrate one after another.
const PG_MIGRATION_LOCK: i64 = 0x7761_736c;

/// Applies every pending migration in one transaction: a failed start-up leaves the schema as
/// it was.
pub(crate) async fn run(store: &Store, up_to: Option<i64>) -> Result<(), StoreError> {
    let migrations = match store.dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    let mut tx = store.pool.begin().await?;
    if store.dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS wasl_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM wasl_migrations")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let up_to = up_to.unwrap_or(i64::MAX);
    for migration in migrations
        .iter()
        .filter(|m| !applied.contains(&m.version) && m.version <= up_to)
    {
        let fail = |source| StoreError::Migration {
            version: migration.version,
            source,
        };
        for statement in statements(migration.sql) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        sqlx::query("INSERT INTO wasl_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(crate::rows::now_millis())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "migration applied"
        );
    }
    tx.commit().await?;
    Ok(())
}

fn is_comment_only(statement: &str) -> bool {
    statement
        .lines()
        .all(|line| line.trim().is_empty() || line.trim().starts_with("--"))
}

/// The statements of a migration, one at a time: a statement ends with `;` at the end of a
/// line, except inside a dollar-quoted body (`$$ … $$` or `$tag$ … $tag$`, as PostgreSQL
/// functions are written), whose own `;` lines belong to it. Empty and comment-only pieces
/// are left out.
fn statements(sql: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<&str> = None;
    let mut i = 0;
    while i < sql.len() {
        let rest = &sql[i..];
        if let Some(tag) = quote {
            if rest.starts_with(tag) {
                quote = None;
                i += tag.len();
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
            continue;
        }
        if rest.starts_with("--") {
            // A comment runs to the end of its line; a `$` in it opens nothing.
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        if let Some(after) = rest.strip_prefix('$') {
            let tag_end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map(|n| n + 1);
            if let Some(end) = tag_end.filter(|end| rest[*end..].starts_with('$')) {
                quote = Some(&rest[..=end]);
                i += end + 1;
                continue;
            }
        }
        if rest.starts_with(";\n") || rest == ";" {
            out.push(&sql[start..=i]);
            i += 1;
            start = i;
            continue;
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out.push(&sql[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|s| !s.trim_end_matches(';').trim().is_empty() && !is_comment_only(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_line_ending_semicolons_but_not_inside_dollar_quotes() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT);\n\nCREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 'y';\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nCREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n-- only a comment\n";
        let found = statements(sql);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].ends_with("CREATE TABLE a (x TEXT);"));
        assert!(
            found[1].starts_with("CREATE FUNCTION f()") && found[1].ends_with("LANGUAGE plpgsql;")
        );
        assert!(found[1].contains("RETURN NEW;\nEND;"));
        assert!(found[2].contains("$body$ SELECT 1; $body$"));
        for migration in SQLITE.iter().chain(POSTGRES) {
            assert!(!statements(migration.sql).is_empty(), "{}", migration.name);
        }
    }

    /// Every file in a dialect's folder is applied, in the order of its number: a migration
    /// written but not listed would silently never run.
    #[test]
    fn every_migration_file_is_listed() {
        for (dialect, listed) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dialect);
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .expect("the migrations folder")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".sql"))
                .collect();
            files.sort();
            assert_eq!(files.len(), listed.len(), "{dialect}: {files:?}");
            for (i, (file, migration)) in files.iter().zip(listed).enumerate() {
                let number: i64 = file[..4].parse().expect("a numbered file");
                assert_eq!(number, migration.version, "{dialect}: {file}");
                assert_eq!(number, i as i64 + 1, "{dialect}: numbers run without gaps");
                let path = dir.join(file);
                let sql = std::fs::read_to_string(&path).expect("readable");
                assert_eq!(sql, migration.sql, "{dialect}: {file} is the listed file");
            }
        }
    }
}
