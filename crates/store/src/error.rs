/// What can go wrong in the store. A unique-key clash is a `Conflict` the caller turns into
/// a 409; storage that cannot take writes right now (a full disk, a read-only file system, a
/// database that does not answer) is `Unavailable`, a 503 worth retrying; everything else is a
/// server fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("already exists: {0}")]
    Conflict(Conflict),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    /// The storage cannot take this now; nothing was written, and the same request may
    /// succeed once space or access comes back.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if storage_unavailable(&e) {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Database(e)
        }
    }
}

impl StoreError {
    pub(crate) fn connect(e: sqlx::Error) -> Self {
        StoreError::Connect(e)
    }

    /// Maps a unique violation to `Conflict(what)`, leaving other errors as they are.
    pub(crate) fn unique(e: sqlx::Error, what: Conflict) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::from(e),
        }
    }

    /// A file of the store's (a media file, say) could not be written or read.
    pub fn file(what: &str, e: &std::io::Error) -> Self {
        StoreError::Unavailable(format!("{what}: {e}"))
    }

    /// Whether this is the storage refusing for now (see [`StoreError::Unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Connect(_))
    }

    /// PostgreSQL ended the transaction to break a deadlock (SQLSTATE 40P01) or a
    /// serialization failure (40001): nothing of it was written, and running it again is safe.
    pub fn is_deadlock(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }
}

/// What already exists when a write would make a second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// A user with this e-mail (e-mails are unique over the whole server).
    #[error("a user with this e-mail")]
    Email,
    /// A session of this name in the organization.
    #[error("a session of this name")]
    Session,
    /// An outgoing message with this idempotency key in the organization.
    #[error("a message with this idempotency key")]
    IdempotencyKey,
    /// An API key with this hash (never, in practice: keys are random).
    #[error("an API key with this hash")]
    ApiKey,
    /// A conversation's assignee must be an active person of its organization.
    #[error("no active person of the organization with this id")]
    Assignee,
    /// The organization's plan allows no more active sessions.
    #[error("the plan's session limit")]
    SessionLimit,
    /// A template of this name and language in the organization.
    #[error("a template of this name and language")]
    Template,
    /// A quick reply of this short code among those the same people see.
    #[error("a quick reply with this short code")]
    ShortCode,
    /// A file of the media library that something still sends.
    #[error("a media file in use")]
    MediaInUse,
}

/// Whether the database refused because its storage cannot take writes (or cannot be reached)
/// rather than because of what was asked: SQLite's full disk, I/O errors, a read-only or
/// unopenable file; PostgreSQL's "insufficient resources" (disk full, out of memory, too many
/// connections), its system errors (I/O) and read-only transactions; and a database that
/// cannot be reached at all.
fn storage_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            // PostgreSQL's codes are five-character SQLSTATEs; SQLite's are its extended
            // result codes (at most four digits), whose low byte is the primary code.
            if code.len() == 5 {
                code.starts_with("53") || code.starts_with("58") || code == "25006"
            } else {
                const READONLY: i32 = 8;
                const IOERR: i32 = 10;
                const FULL: i32 = 13;
                const CANTOPEN: i32 = 14;
                code.parse::<i32>().is_ok_and(|extended| {
                    matches!(extended & 0xFF, READONLY | IOERR | FULL | CANTOPEN)
                })
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_and_pool_failures_are_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::other("connection reset"));
        assert!(StoreError::from(io).is_unavailable());
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unavailable());
        assert!(StoreError::file("media", &std::io::Error::other("read-only")).is_unavailable());
    }
}
