//! The `wasl` binary run as a separate process, the way an operator runs it, so that a test can
//! kill it outright (SIGKILL) and start it again on the same data dir and database. Its
//! output (the structured logs) is kept in a file for the test to read.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;

pub const ADMIN_TOKEN: &str = "process-admin-token-0123456789";
/// Known to the test so that it can open what wasl sealed.
pub const MASTER_KEY_B64: &str = "d2FzbC1wcm9jZXNzLXRlc3QtbWFzdGVyLWtleS0wMTI=";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

fn postgres_admin_url() -> String {
    std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{database}")
}

/// A data dir and a database that outlive the processes started on them.
pub struct Installation {
    pub data_dir: PathBuf,
    pub database_url: String,
    pg_database: Option<String>,
    extra: Vec<(String, String)>,
}

impl Installation {
    pub async fn new(db: Db, extra: &[(&str, &str)]) -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let data_dir = std::env::temp_dir().join(format!("wasl-process-{id}"));
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let (database_url, pg_database) = match db {
            Db::Sqlite => (
                format!("sqlite://{}?mode=rwc", data_dir.join("wasl.db").display()),
                None,
            ),
            Db::Postgres => {
                let name = format!("wasl_test_{id}");
                let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL must be running for the PostgreSQL half (see README)");
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create the test database");
                (with_database(&postgres_admin_url(), &name), Some(name))
            }
        };
        Installation {
            data_dir,
            database_url,
            pg_database,
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Everything the processes printed, across every start: beside the data dir, not in it,
    /// so that a test that fills the data dir's disk still reads the logs.
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.with_extension("log")
    }

    /// Starts `wasl` and waits until it answers `/ready`.
    pub async fn start(&self) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wasl"));
        command
            .env("WASL_DATA_DIR", &self.data_dir)
            .env("DATABASE_URL", &self.database_url)
            .env("WASL_PORT", "0")
            .env("WASL_BIND", "127.0.0.1")
            .env("WASL_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("WASL_MASTER_KEY", MASTER_KEY_B64)
            .env(
                "WASL_JWT_SECRET",
                "process-test-jwt-secret-0123456789abcdef",
            )
            .env("WASL_LOG_FORMAT", "json")
            .env("WASL_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("WASL_SEND_INTERVAL_MS", "0")
            .env("WASL_SANDBOX_DELIVERY_MS", "50")
            .env("WASL_RECONNECT_BASE_MS", "200")
            .env("WASL_RECONNECT_MAX_MS", "1000")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.extra {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start the wasl binary");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let log = self.log_path();
        copy_output(stdout, log.clone(), Some(addr_tx));
        copy_output(stderr, log, None);
        let addr = tokio::task::spawn_blocking(move || {
            addr_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("wasl printed its address")
        })
        .await
        .expect("address");
        let process = Process {
            child,
            addr,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
        };
        process.wait_ready().await;
        process
    }

    pub async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let _ = std::fs::remove_file(self.log_path());
        if let Some(name) = &self.pg_database {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
            }
        }
    }

    /// A connection of the test's own to the database, to check what is stored.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await
            .expect("connect to the database")
    }
}

/// Appends a stream to the log file, line by line; the first "running on" line gives the
/// address the process listens on.
fn copy_output(
    stream: impl std::io::Read + Send + 'static,
    log: PathBuf,
    addr: Option<std::sync::mpsc::Sender<SocketAddr>>,
) {
    std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = writeln!(file, "{line}");
            if let Some(tx) = &addr {
                if let Some(rest) = line.strip_prefix("wasl is running on http://") {
                    if let Ok(a) = rest.trim().parse::<SocketAddr>() {
                        let _ = tx.send(a);
                    }
                }
            }
        }
    });
}

pub struct Process {
    child: Child,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
}

/// A test that fails half-way drops its process: it must not live on after the test, holding
/// a port and a database and using the machine's cores.
impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Process {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.client.get(self.url("/ready")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "wasl never became ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process outright, as a power cut or the OOM killer would.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("wasl did not stop within 30 s of SIGTERM");
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body))
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Registers an organization and puts it on plan enterprise; its owner's token and id.
    pub async fn enterprise_owner(&self, email: &str, password: &str) -> (String, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                "",
                Some(json!({"organizationName": "متجر الاختبار", "name": "سارة", "email": email, "password": password})),
            )
            .await
            .expect("register");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let token = body["data"]["token"].as_str().expect("token").to_owned();
        let org = body["data"]["organization"]["id"]
            .as_str()
            .expect("org")
            .to_owned();
        let (status, body) = self
            .call(
                Method::PUT,
                &format!("/api/v1/admin/organizations/{org}/plan"),
                ADMIN_TOKEN,
                Some(json!({"plan": "enterprise"})),
            )
            .await
            .expect("plan");
        assert_eq!(status, StatusCode::OK, "{body}");
        (token, org)
    }

    /// Creates a sandbox session, scans it as `phone` and waits until it is connected.
    pub async fn linked_sandbox(&self, token: &str, name: &str, phone: &str) {
        let (status, body) = self
            .post(
                "/api/v1/whatsapp/sessions",
                token,
                json!({"sessionName": name, "engine": "sandbox"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.wait_status(token, name, "qr").await;
        let (status, body) = self
            .post(
                &format!("/api/v1/whatsapp/sandbox/{name}/scan"),
                token,
                json!({"phoneNumber": phone}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.wait_status(token, name, "connected").await;
    }

    pub async fn wait_status(&self, token: &str, name: &str, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self
                .get(&format!("/api/v1/whatsapp/sessions/{name}/status"), token)
                .await;
            if body["data"]["session"]["status"] == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "session {name} never became {status}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
