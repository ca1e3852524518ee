//! What every benchmark stands on: a fresh database (a SQLite file, or a PostgreSQL database
//! that is dropped afterwards), the real server started in this process on 127.0.0.1:0, and
//! the API calls that set up an organization and its sessions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::sync::oneshot;

pub type BenchResult<T> = Result<T, String>;

pub const ADMIN_TOKEN: &str = "bench-admin-token-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    pub fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    }

    pub fn parse(value: &str) -> Option<Db> {
        match value {
            "sqlite" => Some(Db::Sqlite),
            "postgres" => Some(Db::Postgres),
            _ => None,
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("WASL_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{database}")
}

/// Is the PostgreSQL server reachable? Asked once by the parent before the PostgreSQL runs.
pub async fn postgres_reachable() -> Result<(), String> {
    sqlx::PgConnection::connect(&postgres_admin_url())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A fresh database and data dir for one benchmark, removed by [`Fresh::remove`].
pub struct Fresh {
    pub url: String,
    pub data_dir: PathBuf,
    pg_database: Option<String>,
}

impl Fresh {
    pub async fn create(db: Db) -> BenchResult<Fresh> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let data_dir = std::env::temp_dir().join(format!("wasl-bench-{id}"));
        std::fs::create_dir_all(&data_dir).map_err(|e| format!("data dir: {e}"))?;
        let (url, pg_database) = match db {
            Db::Sqlite => (
                format!("sqlite://{}?mode=rwc", data_dir.join("wasl.db").display()),
                None,
            ),
            Db::Postgres => {
                let name = format!("wasl_bench_{id}");
                let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
                    .await
                    .map_err(|e| format!("PostgreSQL: {e}"))?;
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .map_err(|e| format!("create database: {e}"))?;
                (with_database(&postgres_admin_url(), &name), Some(name))
            }
        };
        Ok(Fresh {
            url,
            data_dir,
            pg_database,
        })
    }

    pub async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(name) = self.pg_database {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
            }
        }
    }
}

/// The real server, started in this process, so its memory is this process's memory.
pub struct Server {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl Server {
    pub async fn start(fresh: &Fresh, extra: &[(&str, String)]) -> BenchResult<Server> {
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("WASL_DATA_DIR".into(), fresh.data_dir.display().to_string());
        vars.insert("DATABASE_URL".into(), fresh.url.clone());
        vars.insert("WASL_ADMIN_TOKEN".into(), ADMIN_TOKEN.into());
        vars.insert("WASL_BIND".into(), "127.0.0.1".into());
        // No pause between sends, so the outbox can keep up with the load.
        vars.insert("WASL_SEND_INTERVAL_MS".into(), "0".into());
        for (k, v) in extra {
            vars.insert((*k).to_owned(), v.clone());
        }
        let settings = wasl::settings::Settings::from_vars(&vars).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            wasl::launch_with_tcp_listener(settings, listener, shutdown)
                .await
                .map_err(|e| e.to_string())
        });
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let server = Server {
            addr,
            client,
            shutdown: Some(tx),
            task: Some(task),
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn wait_until_ready(&self) -> BenchResult<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.client.get(self.url("/ready")).send().await {
                if r.status() == StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err("wasl did not become ready in 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(mut self) -> BenchResult<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(60), task).await {
                Ok(Ok(result)) => result?,
                Ok(Err(e)) => return Err(format!("the server task failed: {e}")),
                Err(_) => return Err("wasl did not stop within 60 s".into()),
            }
        }
        Ok(())
    }

    /// Sends a JSON request; `token` is a bearer token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> BenchResult<(StatusCode, Value)> {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = res.status();
        let value = res
            .json()
            .await
            .map_err(|e| format!("{path}: not JSON: {e}"))?;
        Ok((status, value))
    }

    /// Registers an organization on plan enterprise (unlimited sessions).
    pub async fn enterprise_org(&self, email: &str) -> BenchResult<Account> {
        let res = self
            .client
            .post(self.url("/api/v1/auth/register"))
            .json(&json!({"organizationName": "متجر الأداء", "name": "سارة", "email": email, "password": "a long bench password"}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = res.json().await.map_err(|e| e.to_string())?;
        let account = Account {
            token: text(&body["data"]["token"], "token")?,
            org_id: text(&body["data"]["organization"]["id"], "organization id")?,
        };
        let path = format!("/api/v1/admin/organizations/{}/plan", account.org_id);
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &path,
                ADMIN_TOKEN,
                Some(json!({"plan": "enterprise"})),
            )
            .await?;
        if status != StatusCode::OK {
            return Err(format!("set plan: {status} {body}"));
        }
        Ok(account)
    }

    /// Creates a session; returns the status and the session id when there is one.
    pub async fn create_session(
        &self,
        account: &Account,
        name: &str,
        engine: &str,
    ) -> BenchResult<(StatusCode, Option<String>)> {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/whatsapp/sessions",
                &account.token,
                Some(json!({"sessionName": name, "engine": engine})),
            )
            .await?;
        Ok((
            status,
            body["data"]["sessionId"].as_str().map(str::to_owned),
        ))
    }

    /// The organization's sessions by status.
    pub async fn session_statuses(
        &self,
        account: &Account,
    ) -> BenchResult<HashMap<String, String>> {
        let mut out = HashMap::new();
        for page in 1.. {
            let path = format!("/api/v1/whatsapp/sessions?page={page}&limit=100");
            let (status, body) = self
                .call(reqwest::Method::GET, &path, &account.token, None)
                .await?;
            if status != StatusCode::OK {
                return Err(format!("list sessions: {status} {body}"));
            }
            let sessions = body["data"]["sessions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for s in &sessions {
                out.insert(
                    text(&s["sessionName"], "session name")?,
                    text(&s["status"], "status")?,
                );
            }
            if sessions.len() < 100 {
                break;
            }
        }
        Ok(out)
    }

    /// Polls the session list until `count` sessions are `status`, with a deadline.
    pub async fn wait_for_sessions(
        &self,
        account: &Account,
        status: &str,
        count: usize,
        within: Duration,
    ) -> BenchResult<()> {
        let deadline = Instant::now() + within;
        loop {
            let statuses = self.session_statuses(account).await?;
            let done = statuses.values().filter(|s| *s == status).count();
            if done >= count {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "only {done} of {count} sessions became {status} in {within:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates a sandbox session, scans its QR and waits until it is connected.
    pub async fn connected_sandbox(
        &self,
        account: &Account,
        name: &str,
        phone: &str,
    ) -> BenchResult<String> {
        let (status, id) = self.create_session(account, name, "sandbox").await?;
        let id = id.ok_or_else(|| format!("create session: {status}"))?;
        self.wait_for_sessions(account, "qr", 1, Duration::from_secs(30))
            .await?;
        self.scan(account, name, phone).await?;
        self.wait_for_sessions(account, "connected", 1, Duration::from_secs(30))
            .await?;
        Ok(id)
    }

    pub async fn scan(&self, account: &Account, name: &str, phone: &str) -> BenchResult<()> {
        let path = format!("/api/v1/whatsapp/sandbox/{name}/scan");
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &path,
                &account.token,
                Some(json!({"phoneNumber": phone})),
            )
            .await?;
        if status == StatusCode::OK {
            Ok(())
        } else {
            Err(format!("scan {name}: {status} {body}"))
        }
    }
}

fn text(value: &Value, what: &str) -> BenchResult<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no {what} in the answer"))
}

/// A signed-in owner of an organization.
pub struct Account {
    pub token: String,
    pub org_id: String,
}

/// The bytes this process's code holds on the heap right now (allocated and not yet freed).
pub fn heap_bytes() -> u64 {
    crate::ALLOCATOR.allocated() as u64
}

/// This process's resident memory in bytes (`/proc/self/statm`, second field, in pages).
pub fn rss_bytes() -> BenchResult<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").map_err(|e| format!("statm: {e}"))?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or("statm has no resident field")?;
    Ok(pages * page_size())
}

fn page_size() -> u64 {
    std::process::Command::new("getconf")
        .arg("PAGESIZE")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096)
}
