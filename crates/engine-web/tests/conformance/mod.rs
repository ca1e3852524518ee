//! What the conformance story needs: a fresh database of either kind, a `WebStore` beside
//! the crate's own `InMemoryBackend` (the reference), and `both!` to call one method on each
//! and require the same answer.

pub mod app_sync;
pub mod device;
pub mod protocol;
pub mod signal;

use std::sync::Arc;

use sqlx::Connection;
use wasl_domain::SessionId;
use wasl_engine_web::{Cipher, WebStore};
use wasl_store::Store;
use whatsapp_rust::wacore::store::InMemoryBackend;

pub const MASTER_KEY: [u8; 32] = *b"wasl-test-master-key-32-bytes!!!";

/// Calls `$method(args…)` on the web store and on the reference, unwraps both, maps each
/// answer through the optional normalizer (for types without `PartialEq`, or unordered
/// lists) and asserts they are equal. Evaluates to the web store's normalized answer.
#[macro_export]
macro_rules! both {
    ($pair:expr, $method:ident ( $($arg:expr),* $(,)? )) => {
        $crate::both!($pair, $method($($arg),*), |x| x)
    };
    ($pair:expr, $method:ident ( $($arg:expr),* $(,)? ), $norm:expr) => {{
        let ours = $pair.web.$method($($arg),*).await
            .unwrap_or_else(|e| panic!("web store {}: {e:?}", stringify!($method)));
        let reference = $pair.reference.$method($($arg),*).await
            .unwrap_or_else(|e| panic!("reference {}: {e:?}", stringify!($method)));
        let norm = $norm;
        let (ours, reference) = (norm(ours), norm(reference));
        assert_eq!(ours, reference, "{} differs from the reference store", stringify!($method));
        ours
    }};
}

/// Serializes a value to compare types that have no `PartialEq`.
pub fn json<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).expect("serializable")
}

/// Sorts a list whose order the contract leaves open.
pub fn sorted<T: Ord>(mut list: Vec<T>) -> Vec<T> {
    list.sort();
    list
}

pub struct Pair {
    pub web: WebStore,
    pub reference: InMemoryBackend,
}

impl Pair {
    pub fn new(store: &Store, session: &str) -> Self {
        Self {
            web: web_store(store, session, &MASTER_KEY),
            reference: InMemoryBackend::new(),
        }
    }
}

pub fn web_store(store: &Store, session: &str, key: &[u8; 32]) -> WebStore {
    WebStore::new(
        store.clone(),
        Arc::new(Cipher::new(key)),
        SessionId::from_trusted(session),
    )
}

fn postgres_admin_url() -> String {
    std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{database}")
}

/// A fresh database, removed when dropped (also when the test panics).
pub enum TestDb {
    Sqlite { path: std::path::PathBuf },
    Postgres { name: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("wasl-web-{}.db", uuid::Uuid::now_v7()));
        TestDb::Sqlite { path }
    }

    pub async fn postgres() -> Self {
        let name = format!("wasl_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
            .await
            .expect("PostgreSQL must be running for the PostgreSQL half (see README)");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        TestDb::Postgres { name }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            TestDb::Postgres { name } => with_database(&postgres_admin_url(), name),
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url()).await.expect("open the store")
    }

    /// Every stored value, read back raw with a connection of our own.
    pub async fn raw_values(&self) -> Vec<Vec<u8>> {
        let url = self.url();
        let rows: Vec<(Vec<u8>,)> = match self {
            TestDb::Sqlite { .. } => {
                let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
                sqlx::query_as("SELECT value FROM web_engine_state")
                    .fetch_all(&mut conn)
                    .await
                    .expect("read values")
            }
            TestDb::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&url).await.expect("postgres");
                sqlx::query_as("SELECT value FROM web_engine_state")
                    .fetch_all(&mut conn)
                    .await
                    .expect("read values")
            }
        };
        rows.into_iter().map(|(value,)| value).collect()
    }

    /// The database files themselves (SQLite only): what a stolen disk would show.
    pub fn raw_files(&self) -> Vec<Vec<u8>> {
        match self {
            TestDb::Sqlite { path } => ["", "-wal", "-shm"]
                .iter()
                .filter_map(|suffix| std::fs::read(format!("{}{suffix}", path.display())).ok())
                .collect(),
            TestDb::Postgres { .. } => Vec::new(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { name } => {
                // Drop runs inside the test's runtime, so the cleanup gets a thread and a
                // runtime of its own.
                let name = name.clone();
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(mut conn) =
                            sqlx::PgConnection::connect(&postgres_admin_url()).await
                        {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Does `needle` occur anywhere in `haystack`?
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
