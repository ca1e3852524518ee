//! Multi-row statements. Writing a batch of rows in one statement instead of one statement
//! per row is what lets a single SQLite writer keep up with thousands of messages a second.

use crate::Dialect;

/// Bound values per statement stay under both databases' limits (SQLite 32,766, PostgreSQL
/// 65,535) with room to spare.
const MAX_BINDS: usize = 30_000;

/// How many rows of `columns` values fit in one statement.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_BINDS / columns.max(1)).max(1)
}

/// Placeholders for one statement, numbered in the order the values are bound.
///
/// SQLite gets anonymous `?`: its driver resolves a numbered `$n` by searching the
/// statement's parameter names for every value bound, which grows with the square of the
/// number of values and dominated the cost of a batch of a few hundred rows. PostgreSQL gets
/// `$n`, the only form it knows. A statement built with this must take all its values from it.
pub(crate) struct Binds {
    dialect: Dialect,
    next: usize,
}

impl Binds {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Binds { dialect, next: 1 }
    }

    /// Placeholders for a statement run in this transaction.
    pub(crate) fn for_tx(tx: &sqlx::Transaction<'static, sqlx::Any>) -> Self {
        let dialect = if tx.backend_name() == "PostgreSQL" {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        };
        Binds::new(dialect)
    }

    /// The next placeholder.
    pub(crate) fn one(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        match self.dialect {
            Dialect::Sqlite => "?".to_owned(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// `a, b, c` for an `IN (…)` list of `n` values.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `(a, b), (c, d)` for `rows` rows of `columns` values.
    pub(crate) fn rows(&mut self, rows: usize, columns: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(columns)))
            .collect::<Vec<_>>()
            .join(", ")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_values_are_numbered_row_by_row() {
        let mut binds = Binds::new(Dialect::Postgres);
        assert_eq!(binds.one(), "$1");
        assert_eq!(binds.rows(2, 3), "($2, $3, $4), ($5, $6, $7)");
        assert_eq!(binds.list(2), "$8, $9");
    }

    #[test]
    fn sqlite_values_are_anonymous() {
        let mut binds = Binds::new(Dialect::Sqlite);
        assert_eq!(binds.rows(2, 2), "(?, ?), (?, ?)");
        assert_eq!(binds.list(3), "?, ?, ?");
    }

    #[test]
    fn statements_stay_under_the_bind_limit() {
        assert!(rows_per_statement(26) * 26 <= MAX_BINDS);
        assert!(rows_per_statement(100_000) >= 1);
    }
}
