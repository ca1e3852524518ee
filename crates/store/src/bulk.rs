//! Multi-row statements. Writing a batch of rows in one statement instead of one statement
//! per row is what lets a single SQLite writer keep up with thousands of messages a second.

/// Bound values per statement stay under both databases' limits (SQLite 32,766, PostgreSQL
/// 65,535) with room to spare.
const MAX_BINDS: usize = 30_000;

/// How many rows of `columns` values fit in one statement.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_BINDS / columns.max(1)).max(1)
}

/// `($start, $start+1, …), (…)` for `rows` rows of `columns` placeholders each.
pub(crate) fn values_clause(rows: usize, columns: usize, start: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(start + row * columns + column).to_string());
        }
        out.push(')');
    }
    out
}

/// `$start, $start+1, …` for an `IN (…)` list of `n` values.
pub(crate) fn placeholders(n: usize, start: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_numbered_row_by_row() {
        assert_eq!(values_clause(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_clause(1, 2, 5), "($5, $6)");
        assert_eq!(placeholders(3, 2), "$2, $3, $4");
    }

    #[test]
    fn statements_stay_under_the_bind_limit() {
        assert!(rows_per_statement(26) * 26 <= MAX_BINDS);
        assert!(rows_per_statement(100_000) >= 1);
    }
}
