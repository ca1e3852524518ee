//! Placeholders: the one way the store numbers a statement's values, and [`Params`], the
//! values of a statement whose text is built as it goes (filters), each pushed where its
//! placeholder is written so that the text and the values cannot disagree.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

use super::Dialect;

/// Placeholders for one statement, numbered in the order the values are bound.
///
/// SQLite gets anonymous `?`: its driver resolves a numbered `$n` by searching the
/// statement's parameter names for every value bound, which grows with the square of the
/// number of values and dominated the cost of a batch of a few hundred rows. PostgreSQL gets
/// `$n`, the only form it knows. A statement built with this must take all its values from it.
#[derive(Debug, Clone)]
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
        Binds::new(Dialect::of(tx))
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

/// A value of [`Params`].
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
}

/// The values of a statement built piece by piece: each call gives the placeholder to write
/// where that value goes. Write the placeholders in the order they are taken (SQLite's are
/// anonymous: they are bound by position).
#[derive(Debug, Clone)]
pub(crate) struct Params {
    binds: Binds,
    values: Vec<Value>,
}

impl Params {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Params {
            binds: Binds::new(dialect),
            values: Vec::new(),
        }
    }

    /// The placeholder for a text value.
    pub(crate) fn text(&mut self, value: impl Into<String>) -> String {
        self.values.push(Value::Text(value.into()));
        self.binds.one()
    }

    /// The placeholder for a number.
    pub(crate) fn int(&mut self, value: i64) -> String {
        self.values.push(Value::Int(value));
        self.binds.one()
    }

    /// `a, b, c` for an `IN (…)` list of texts.
    pub(crate) fn texts<'v>(&mut self, values: impl IntoIterator<Item = &'v str>) -> String {
        values
            .into_iter()
            .map(|v| self.text(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The condition of a keyset page sorted by `at` then `id`, both descending: the rows
    /// after the cursor. `at` may be an expression (the same one the listing sorts by).
    /// Written as a row-value comparison, which both databases read as one range of an index
    /// on (at, id), so a deep page is a seek, not a scan of every row before it.
    pub(crate) fn after(&mut self, at: &str, id: &str, cursor: &crate::Cursor) -> String {
        let last_at = self.int(cursor.at);
        let last_id = self.text(cursor.id.as_str());
        format!("({at}, {id}) < ({last_at}, {last_id})")
    }

    /// The statement with its values bound.
    pub(crate) fn query<'q>(&'q self, sql: &'q str) -> Query<'q, Any, AnyArguments<'q>> {
        let mut query = sqlx::query(sql);
        for value in &self.values {
            query = match value {
                Value::Text(v) => query.bind(v.as_str()),
                Value::Int(v) => query.bind(*v),
            };
        }
        query
    }
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
    fn params_give_placeholders_in_the_order_values_are_taken() {
        let mut pg = Params::new(Dialect::Postgres);
        assert_eq!(pg.text("org"), "$1");
        assert_eq!(pg.texts(["a", "b"]), "$2, $3");
        let mut listing = pg.clone();
        assert_eq!(listing.int(50), "$4");
        assert_eq!(
            pg.int(0),
            "$4",
            "a clone numbers on from where it was taken"
        );
        let mut lite = Params::new(Dialect::Sqlite);
        assert_eq!(lite.text("org"), "?");
        assert_eq!(lite.texts(["a", "b"]), "?, ?");
        assert_eq!(lite.values.len(), 3);
    }
}
