//! Multi-row statements. Writing a batch of rows in one statement instead of one statement
//! per row is what lets a single SQLite writer keep up with thousands of messages a second.

use super::{Binds, Dialect};

/// Bound values per statement stay under both databases' limits (SQLite 32,766, PostgreSQL
/// 65,535) with room to spare.
const MAX_BINDS: usize = 30_000;

/// How many rows of `columns` values fit in one statement.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_BINDS / columns.max(1)).max(1)
}

/// A statement whose text depends on how many rows a batch has. It is not kept prepared:
/// each batch size would be a statement of its own, crowding the connection's cache of the
/// statements that do repeat; and PostgreSQL, after a few runs of a kept statement, may
/// switch to one generic plan chosen while the table was still small (a scan of the whole
/// table for every batch, where the index finds a batch's rows at once). Unprepared, each
/// batch is planned for the values it carries.
pub(crate) fn batch_query(
    sql: &str,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(sql).persistent(false)
}

/// The type of a column in a [`Rows`] batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Text,
    Int,
}

impl Ty {
    fn sql(self) -> &'static str {
        match self {
            Ty::Text => "text",
            Ty::Int => "bigint",
        }
    }
}

/// What can fill a text column of [`Rows`]: text, or no text (NULL).
pub(crate) trait TextValue {
    fn text(self) -> Option<String>;
}

impl TextValue for &str {
    fn text(self) -> Option<String> {
        Some(self.to_owned())
    }
}

impl TextValue for String {
    fn text(self) -> Option<String> {
        Some(self)
    }
}

impl TextValue for Option<&str> {
    fn text(self) -> Option<String> {
        self.map(str::to_owned)
    }
}

impl TextValue for Option<String> {
    fn text(self) -> Option<String> {
        self
    }
}

#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

/// A batch of rows for one multi-row statement, written where a statement takes rows: after
/// `INSERT INTO t (…)`, or as `FROM (…) AS v` (its columns named as [`Rows::new`] names them).
///
/// SQLite gets `VALUES (?, …), …` with every value bound. PostgreSQL gets the whole batch as
/// one JSON value read by `json_to_recordset`: the statement's text is then the same for any
/// number of rows, so it is parsed and planned once per connection and kept prepared, and a
/// batch costs one round trip instead of a parse, a description and an execution.
pub(crate) struct Rows {
    dialect: Dialect,
    columns: &'static [(&'static str, Ty)],
    cells: Vec<Cell>,
}

impl Rows {
    pub(crate) fn for_tx(
        tx: &sqlx::Transaction<'static, sqlx::Any>,
        columns: &'static [(&'static str, Ty)],
    ) -> Self {
        Rows::new(Dialect::of(tx), columns)
    }

    fn new(dialect: Dialect, columns: &'static [(&'static str, Ty)]) -> Self {
        Rows {
            dialect,
            columns,
            cells: Vec::new(),
        }
    }

    /// The JSON that carries the rows to PostgreSQL.
    fn json(self) -> String {
        let width = self.columns.len().max(1);
        let mut rows = Vec::with_capacity(self.cells.len() / width);
        let mut row = serde_json::Map::with_capacity(width);
        for (i, cell) in self.cells.into_iter().enumerate() {
            let value = match cell {
                Cell::Text(v) => v.map_or(serde_json::Value::Null, serde_json::Value::from),
                Cell::Int(v) => v.map_or(serde_json::Value::Null, serde_json::Value::from),
            };
            row.insert(self.columns[i % width].0.to_owned(), value);
            if i % width == width - 1 {
                rows.push(serde_json::Value::Object(std::mem::take(&mut row)));
            }
        }
        serde_json::Value::Array(rows).to_string()
    }

    /// The next value of the current row (rows are filled column by column, in order).
    pub(crate) fn text(&mut self, value: impl TextValue) -> &mut Self {
        self.check(Ty::Text);
        self.cells.push(Cell::Text(value.text()));
        self
    }

    pub(crate) fn int(&mut self, value: impl Into<Option<i64>>) -> &mut Self {
        self.check(Ty::Int);
        self.cells.push(Cell::Int(value.into()));
        self
    }

    fn check(&self, ty: Ty) {
        debug_assert_eq!(
            self.columns[self.cells.len() % self.columns.len()].1,
            ty,
            "a value of the wrong type for column {}",
            self.columns[self.cells.len() % self.columns.len()].0
        );
    }

    pub(crate) fn len(&self) -> usize {
        self.cells.len() / self.columns.len().max(1)
    }

    /// The rows as SQL: `VALUES …` or `SELECT * FROM json_to_recordset($1) AS v(…)`. They take
    /// the statement's first placeholders; `next` is the one after them.
    pub(crate) fn source(&self) -> (String, Binds) {
        let mut binds = Binds::new(self.dialect);
        let sql = match self.dialect {
            Dialect::Sqlite => format!("VALUES {}", binds.rows(self.len(), self.columns.len())),
            Dialect::Postgres => format!(
                "SELECT * FROM json_to_recordset(CAST({} AS json)) AS v({})",
                binds.one(),
                self.columns
                    .iter()
                    .map(|(name, ty)| format!("{name} {}", ty.sql()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        (sql, binds)
    }

    /// Is the statement's text the same whatever the number of rows (worth keeping prepared)?
    pub(crate) fn fixed_text(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// The statement built with [`Rows::source`], with the rows' values bound. It is kept
    /// prepared when its text does not depend on the number of rows, else not (see
    /// [`batch_query`]).
    pub(crate) fn query(
        self,
        sql: &str,
    ) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(sql).persistent(self.fixed_text());
        match self.dialect {
            Dialect::Sqlite => {
                for cell in self.cells {
                    query = match cell {
                        Cell::Text(v) => query.bind(v),
                        Cell::Int(v) => query.bind(v),
                    };
                }
                query
            }
            Dialect::Postgres => query.bind(self.json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[(&str, Ty)] = &[("id", Ty::Text), ("name", Ty::Text), ("at", Ty::Int)];

    fn two_rows(dialect: Dialect) -> Rows {
        let mut rows = Rows::new(dialect, COLUMNS);
        rows.text("a").text(Some("سارة")).int(1);
        rows.text("b").text(None::<&str>).int(None);
        rows
    }

    #[test]
    fn sqlite_rows_are_bound_values() {
        let rows = two_rows(Dialect::Sqlite);
        assert_eq!(rows.len(), 2);
        assert!(!rows.fixed_text());
        assert_eq!(rows.source().0, "VALUES (?, ?, ?), (?, ?, ?)");
    }

    #[test]
    fn postgres_rows_are_one_json_value_whatever_their_number() {
        let rows = two_rows(Dialect::Postgres);
        let (sql, mut next) = rows.source();
        assert_eq!(
            sql,
            "SELECT * FROM json_to_recordset(CAST($1 AS json)) AS v(id text, name text, at bigint)"
        );
        assert_eq!(next.one(), "$2");
        assert!(rows.fixed_text());
        let json: serde_json::Value = serde_json::from_str(&rows.json()).expect("json");
        assert_eq!(
            json,
            serde_json::json!([
                {"id": "a", "name": "سارة", "at": 1},
                {"id": "b", "name": null, "at": null}
            ])
        );
        let mut one = Rows::new(Dialect::Postgres, COLUMNS);
        one.text("c").text("x").int(3);
        assert_eq!(
            one.source().0,
            sql,
            "the same statement for one row as for two"
        );
    }

    #[test]
    fn statements_stay_under_the_bind_limit() {
        assert!(rows_per_statement(26) * 26 <= MAX_BINDS);
        assert!(rows_per_statement(100_000) >= 1);
    }
}
