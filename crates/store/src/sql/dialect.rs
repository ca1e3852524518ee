//! What differs between SQLite and PostgreSQL in what the store says to them. Statements
//! that are the same on both stay plain SQL beside the code that runs them; a difference is a
//! method here, named for what it does, so that a reader sees one statement and one reason.

use crate::StoreError;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError::Config(
                "the database URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    /// The database of a transaction.
    pub(crate) fn of(tx: &sqlx::Transaction<'static, sqlx::Any>) -> Self {
        if tx.backend_name() == "PostgreSQL" {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        }
    }

    /// The clause that locks the rows a SELECT reads until the transaction ends. SQLite has
    /// none and needs none: its write transactions run one at a time.
    pub(crate) fn lock_rows(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// A list of texts of any length as one bound value, so that a statement's text stays the
    /// same for every list: a JSON array for SQLite (read with `json_each`), an array literal
    /// for PostgreSQL (read with `unnest(CAST($n AS text[]))`; each element quoted, its quotes
    /// and backslashes escaped).
    pub(crate) fn texts<'v>(self, values: impl IntoIterator<Item = &'v str>) -> String {
        match self {
            Dialect::Sqlite => {
                serde_json::Value::from(values.into_iter().collect::<Vec<_>>()).to_string()
            }
            Dialect::Postgres => {
                let quoted: Vec<String> = values
                    .into_iter()
                    .map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                    .collect();
                format!("{{{}}}", quoted.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_database() {
        assert_eq!(
            Dialect::from_url("sqlite://x.db").ok(),
            Some(Dialect::Sqlite)
        );
        assert_eq!(
            Dialect::from_url("postgresql://h/db").ok(),
            Some(Dialect::Postgres)
        );
        assert!(Dialect::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn lists_of_texts_are_one_value() {
        assert_eq!(Dialect::Sqlite.texts(["a\"b", "c"]), r#"["a\"b","c"]"#);
        assert_eq!(
            Dialect::Postgres.texts(["a\"b", r"c\d", "", "e,f}"]),
            r#"{"a\"b","c\\d","","e,f}"}"#
        );
        assert_eq!(Dialect::Postgres.texts([]), "{}");
    }
}
