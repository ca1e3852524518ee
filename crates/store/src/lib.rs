//! wasl's storage. One [`Store`] speaks to SQLite (the embedded default) or PostgreSQL (the
//! production database), chosen once from the database URL. Queries are written once in the
//! SQL both dialects share (`$1` placeholders, `ON CONFLICT`, `RETURNING`); each dialect has
//! its own migrations folder so that a schema can use what its database does best.
#![forbid(unsafe_code)]

mod api_keys;
mod bulk;
pub mod cipher;
mod contacts;
mod conversations;
mod error;
mod events;
mod messages;
mod migrate;
mod organizations;
mod outbox;
mod page;
mod record;
mod rows;
mod sessions;
mod stats;
mod users;
mod web_state;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use contacts::ContactUpdate;
pub use error::StoreError;
pub use events::{webhook_body, EventRenderer, StoredEvent};
pub use messages::{MessageFilter, Recorded};
pub use page::{Page, PageRequest};
pub use record::{NewMessage, RecordOutcome};
pub use sessions::SessionChange;
pub use stats::Stats;
pub use users::UserUpdate;
pub use web_state::{WebStateRow, WebStateSweep, WebStateWrite};
pub use webhooks::{Attempt, AttemptOutcome, Delivery, Webhook};

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
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite has one writer at a time. Queuing write transactions here, in the process, is
    /// much faster than letting them collide in SQLite's busy handler (which sleeps), and it
    /// avoids the snapshot errors a read transaction gets when it upgrades to a write.
    write_gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

/// A write transaction, holding the SQLite write gate until it ends.
pub(crate) struct WriteTx {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect)
            .finish()
    }
}

impl Store {
    /// Opens the database and applies the pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url)?;
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("the database URL is not valid: {e}")))?;
        let pool = match dialect {
            // SQLite allows one writer at a time; WAL lets readers go on beside it, and
            // `synchronous = NORMAL` in WAL mode still survives a crash of the process.
            Dialect::Sqlite => AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(StoreError::connect)?,
            Dialect::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(StoreError::connect)?,
        };
        let write_gate =
            (dialect == Dialect::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        let store = Store {
            pool,
            dialect,
            write_gate,
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Begins a transaction that will write.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        Ok(WriteTx {
            tx: self.pool.begin().await?,
            _gate: gate,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Is the database answering? Used by `/ready`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for in-flight queries and closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
