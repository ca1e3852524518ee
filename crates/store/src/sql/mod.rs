//! How the store speaks SQL: the [`Dialect`] (what differs between SQLite and PostgreSQL),
//! placeholders ([`Binds`], and [`Params`] for statements built as they go) and multi-row
//! statements for batches ([`Rows`]).

mod binds;
mod dialect;
mod rows;

pub(crate) use binds::{Binds, Params};
pub use dialect::Dialect;
pub(crate) use rows::{batch_query, rows_per_statement, Rows, Ty};
