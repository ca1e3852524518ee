//! wasl's storage. One [`Store`] speaks to SQLite (the embedded default) or PostgreSQL (the
//! production database), chosen once from the database URL. Queries are written once in the
//! SQL both dialects share (`$1` placeholders, `ON CONFLICT`, `RETURNING`); each dialect has
//! its own migrations folder so that a schema can use what its database does best.
#![forbid(unsafe_code)]

mod api_keys;
mod auto_replies;
mod automation;
mod broadcasts;
mod business_hours;
pub mod cipher;
mod contacts;
mod conversations;
mod deliveries;
mod error;
mod events;
mod media_library;
mod messages;
mod migrate;
mod organizations;
mod outbox;
mod page;
mod quick_replies;
mod record;
mod rows;
mod schedules;
mod sessions;
mod sql;
mod stats;
mod templates;
mod users;
mod web_state;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection as _, Executor, Row};

pub use api_keys::{ApiKeys, KeyHolder};
pub use auto_replies::AutoReplies;
pub use automation::{Automation, Claimed, OptOutChange, Sent, Settled, Settlement};
pub use broadcasts::{Broadcasts, Listed, Recipient, Step, Waiting};
pub use business_hours::Calendars;
pub use contacts::{ContactUpdate, Contacts};
pub use conversations::{AssigneeFilter, ConversationChange, ConversationFilter, Conversations};
pub use deliveries::{AttemptRecord, Deliveries};
pub use error::{Conflict, StoreError};
pub use events::{new_event, webhook_body, EventRenderer, Events, StoredEvent};
pub use media_library::MediaLibrary;
pub use messages::{MessageFilter, Messages, ReactionSide, Recorded};
pub use organizations::{OrganizationUpdate, Organizations};
pub use outbox::Outbox;
pub use page::{Cursor, Page, PageRequest};
pub use quick_replies::QuickReplies;
pub use record::{BatchOutcome, MessageRef, Moved, NewMessage, RecordOutcome, StatusMove};
pub use schedules::{Fired, Firing, OccurrenceRecord, Schedules};
pub use sessions::{SessionChange, Sessions};
pub use sql::Dialect;
pub use stats::{Analytics, Stats};
pub use templates::{TemplateFilter, Templates};
pub use users::{TokenHolder, UserUpdate, Users};
pub use web_state::{WebState, WebStateRow, WebStateSweep, WebStateWrite};
pub use webhooks::{Attempt, AttemptOutcome, Delivery, Webhook, Webhooks};

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite has one writer at a time. Queuing write transactions here, in the process, is
    /// much faster than letting them collide in SQLite's busy handler (which sleeps), and it
    /// avoids the snapshot errors a read transaction gets when it upgrades to a write.
    write_gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// SQLite's write transactions run on a connection of their own (a pool of one): its page
    /// cache stays warm, where a shared connection's cache is dropped whenever another writes.
    writer: Option<AnyPool>,
    /// Dropped with the last clone of the store, which ends its background work.
    alive: std::sync::Arc<()>,
}

/// A write transaction, holding its turn at the SQLite write gate until it ends.
pub(crate) struct WriteTx {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
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

/// Decides, as a connection goes back to its pool, whether it may be used again: not if it is
/// still inside a transaction. A transaction that failed half-way can leave one behind: when
/// SQLite's disk is full, a failed COMMIT (or statement) rolls the transaction back by itself,
/// the ROLLBACK sqlx sends afterwards fails ("no transaction is active"), and sqlx still counts
/// the transaction as open, so every later `BEGIN` on that connection failed with "begin_with
/// at non-zero transaction depth" until the process restarted. Such a connection is closed
/// instead, and the pool opens a fresh one for the next write.
type Reusable<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, sqlx::Error>> + Send + 'c>>;

fn reusable(conn: &mut AnyConnection) -> Reusable<'_> {
    Box::pin(async move {
        if !conn.is_in_transaction() {
            return Ok(true);
        }
        // A dropped transaction's ROLLBACK may still be queued on the connection: the ping
        // runs after it, so the depth read next is the settled one.
        if conn.ping().await.is_err() {
            return Ok(false);
        }
        let clean = !conn.is_in_transaction();
        if !clean {
            tracing::warn!("a connection left inside a failed transaction is closed");
        }
        Ok(clean)
    })
}

/// Pool options for SQLite, with the settings every connection needs.
fn sqlite_pool(connections: u32, cache_kib: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        // A local file does not drop connections; a ping before every query only costs.
        .test_before_acquire(false)
        .after_release(|conn, _meta| reusable(conn))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                // WAL lets readers go on beside the writer; `synchronous = NORMAL` in WAL mode
                // still survives a crash of the process.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                // Page cache sizes: see `Store::open`.
                conn.execute(format!("PRAGMA cache_size = -{cache_kib}").as_str())
                    .await?;
                // No checkpoint on commit: it would run on the writer and stall every write
                // queued behind it. `checkpoint_wal` does it beside the writer instead.
                conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                // A log that grew past its usual size (a reader held it for long) is cut back
                // to 512 MB when it starts over.
                conn.execute("PRAGMA journal_size_limit = 536870912")
                    .await?;
                Ok(())
            })
        })
}

/// How the store runs. The defaults are what the server uses; tests shrink them to see the
/// same behaviour with less data.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// How long SQLite's write-ahead log may grow, in pages, before it is started over
    /// (65,536 pages of 4 KB are 256 MB). Each restart makes writes wait ~30-45 ms; at 64 MB a
    /// busy server restarted every second and the mixed-load benchmark's send p99 went from
    /// 31 to 81 ms, at 256 MB it stays at 31 ms and memory is as flat.
    pub wal_reset_pages: i64,
    /// How often the log is checkpointed.
    pub checkpoint_every: Duration,
    /// Applies the migrations up to this version only: a database as an earlier release left
    /// it, for the tests that upgrade one. `None` (always, in the server) applies them all.
    pub migrations_up_to: Option<i64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            wal_reset_pages: 65_536,
            checkpoint_every: Duration::from_secs(1),
            migrations_up_to: None,
        }
    }
}

/// Keeps SQLite's write-ahead log small. Every second (by default) a passive checkpoint copies the log back
/// into the database file on a reader connection; it never blocks the writer. But a passive
/// checkpoint alone never lets the log start over while writes and reads go on all the time:
/// some reader always holds an older part of the log, so the log (and its index, mapped into
/// the process) would grow without end, filling the disk and the memory of a busy server.
/// When the log has grown past [`StoreOptions::wal_reset_pages`], the next writes wait at
/// the write gate while the writer's connection finishes the checkpoint and starts the log
/// over from its beginning (the file keeps its size and is overwritten, which costs less than
/// truncating and growing it again); the passive checkpoints have already copied nearly all
/// of it, so the pause is short. Ends when the store is closed.
async fn checkpoint_wal(
    tuning: StoreOptions,
    readers: AnyPool,
    writer: AnyPool,
    gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    store_alive: std::sync::Weak<()>,
) {
    let mut tick = tokio::time::interval(tuning.checkpoint_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if readers.is_closed() || store_alive.strong_count() == 0 {
            return;
        }
        // One row: (busy, pages in the log, pages copied back).
        let passive = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&readers)
            .await
            .and_then(|row| row.try_get::<i64, _>(1));
        let pages = match passive {
            Ok(pages) => pages,
            Err(e) => {
                if !readers.is_closed() {
                    tracing::warn!(error = %e, "cannot checkpoint the SQLite log");
                }
                continue;
            }
        };
        if pages < tuning.wal_reset_pages {
            continue;
        }
        let _turn = gate.lock().await;
        // The restart waits for the readers still on the old part of the log, at most a
        // second: writes are waiting meanwhile. A reader that takes longer only delays the
        // restart to a later tick.
        let restarted = async {
            let mut conn = writer.acquire().await?;
            conn.execute("PRAGMA busy_timeout = 1000").await?;
            let done = conn.execute("PRAGMA wal_checkpoint(RESTART)").await;
            conn.execute("PRAGMA busy_timeout = 10000").await?;
            done
        };
        if let Err(e) = restarted.await {
            if !writer.is_closed() {
                tracing::warn!(error = %e, pages, "cannot start the SQLite log over");
            }
        }
    }
}

impl Store {
    /// Opens the database and applies the pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// [`Store::open`] with options of its own.
    pub async fn open_with(url: &str, tuning: StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url)?;
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("the database URL is not valid: {e}")))?;
        let (pool, writer) = match dialect {
            // SQLite allows one writer at a time; WAL lets readers go on beside it. Write
            // transactions get a connection of their own: its page cache stays warm, where a
            // pool connection's cache is thrown away whenever another connection writes.
            // The writer keeps 8 MB, enough for the pages every write touches (the tails of
            // the tables and of the time-ordered indexes); pages of the randomly keyed
            // indexes come from the operating system's cache, which the kernel may reclaim,
            // instead of piling up in the process as the database grows. Readers keep 512 KB
            // each: their caches are emptied by every write, so more would only churn.
            Dialect::Sqlite => {
                let readers = sqlite_pool(8, 512).connect_with(options.clone());
                let writer = sqlite_pool(1, 8_192).connect_with(options);
                (
                    readers.await.map_err(StoreError::connect)?,
                    Some(writer.await.map_err(StoreError::connect)?),
                )
            }
            Dialect::Postgres => (
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    // No ping before every query (a round trip each): a connection PostgreSQL
                    // dropped fails its query, is discarded, and the next one is fresh.
                    .test_before_acquire(false)
                    .after_release(|conn, _meta| reusable(conn))
                    // Every statement is planned for the values it runs with. After a few runs
                    // of a prepared statement PostgreSQL may settle on one generic plan made
                    // without the values; made while a table was small, such a plan read a
                    // contact by walking all of the organization's contacts (3,750 rows per
                    // lookup in the send benchmark) instead of its unique index, and kept
                    // doing so as the table grew. Planning these short statements each time
                    // costs far less than one such scan.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("SET plan_cache_mode = force_custom_plan")
                                .await
                                .map(|_| ())
                        })
                    })
                    .connect_with(options)
                    .await
                    .map_err(StoreError::connect)?,
                None,
            ),
        };
        let write_gate = writer
            .is_some()
            .then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        let store = Store {
            pool,
            dialect,
            write_gate,
            writer,
            alive: std::sync::Arc::default(),
        };
        migrate::run(&store, tuning.migrations_up_to).await?;
        if let (Some(writer), Some(gate)) = (&store.writer, &store.write_gate) {
            tokio::spawn(checkpoint_wal(
                tuning,
                store.pool.clone(),
                writer.clone(),
                gate.clone(),
                std::sync::Arc::downgrade(&store.alive),
            ));
        }
        Ok(store)
    }

    /// Begins a transaction that will write.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let turn = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let pool = self.writer.as_ref().unwrap_or(&self.pool).clone();
        // `BEGIN` runs in a task of its own, which finishes even if the caller is dropped
        // meanwhile. Cancelled half-way, sqlx's PostgreSQL driver forgets a `BEGIN` the server
        // has already run, and the connection goes back to the pool inside a transaction that
        // is never ended: every later statement on it holds its row locks for good. Callers
        // are cancelled in ordinary life (a client that hangs up, an engine's timeout).
        let sqlite = self.dialect == Dialect::Sqlite;
        let tx = tokio::spawn(async move {
            // SQLite: the write lock is taken at BEGIN. A deferred transaction that reads and
            // then writes fails at once (a busy snapshot) if another connection wrote
            // meanwhile; an immediate one waits its turn instead.
            if sqlite {
                pool.begin_with("BEGIN IMMEDIATE").await
            } else {
                // Foreign-key checks run as prepared lookups by primary key, one per written
                // row: their generic plans are right and planning them anew for every row (as
                // `force_custom_plan` on the connection would) cost ~7% of incoming messages
                // stored per second. Statements that a generic plan could make slow are not
                // kept prepared in write transactions (see `bulk::batch_query`).
                pool.begin_with("BEGIN; SET LOCAL plan_cache_mode = auto")
                    .await
            }
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("beginning a transaction failed: {e}")))??;
        Ok(WriteTx { tx, _turn: turn })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Is the database answering? Used by `/ready`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Proves the database takes writes now, by writing one row (`/ready`): a database that
    /// answers reads but whose disk is full is not ready.
    pub async fn probe_write(&self, at: i64) -> Result<(), StoreError> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO write_probe (id, written_at) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
        )
        .bind(at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// Waits for in-flight queries and closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
    }
}
