//! Starts the real wasl server for a test: port 0, a fresh data dir, and a fresh database,
//! either a new SQLite file or a new PostgreSQL database that is dropped afterwards.

use std::collections::HashMap;
use std::net::SocketAddr;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::sync::oneshot;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The server a test talks to. Dropping it stops the server and removes its database.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Moves webhook schedules forward without sleeping.
    pub clock: std::sync::Arc<wasl::clock::ManualClock>,
    vars: HashMap<String, String>,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    data_dir: std::path::PathBuf,
    pg_database: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("WASL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{database}")
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, &[]).await
}

/// Starts wasl with extra settings (`WASL_…` variables) on top of the test defaults.
pub async fn spawn_app_with(db: Db, extra: &[(&str, &str)]) -> TestApp {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let data_dir = std::env::temp_dir().join(format!("wasl-test-{id}"));
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("WASL_DATA_DIR".into(), data_dir.display().to_string());
    vars.insert("WASL_ADMIN_TOKEN".into(), ADMIN_TOKEN.into());
    // Quick reconnects and receipts keep the tests short; the behaviour is the same.
    vars.insert("WASL_RECONNECT_BASE_MS".into(), "300".into());
    vars.insert("WASL_RECONNECT_MAX_MS".into(), "2000".into());
    vars.insert("WASL_SANDBOX_DELIVERY_MS".into(), "50".into());
    vars.insert("WASL_SEND_INTERVAL_MS".into(), "20".into());
    // The test receivers listen on loopback.
    vars.insert("WASL_WEBHOOK_ALLOW_PRIVATE".into(), "true".into());
    let pg_database = match db {
        Db::Sqlite => None,
        Db::Postgres => {
            let name = format!("wasl_test_{id}");
            let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
                .await
                .expect(
                    "PostgreSQL must be running for the PostgreSQL half of the suite (see README)",
                );
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create the test database");
            vars.insert(
                "DATABASE_URL".into(),
                with_database(&postgres_admin_url(), &name),
            );
            Some(name)
        }
    };
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let clock = std::sync::Arc::new(wasl::clock::ManualClock::default());
    let (addr, tx, server) = start_server(&vars, clock.clone()).await;
    let app = TestApp {
        addr,
        clock,
        vars,
        client: reqwest::Client::new(),
        shutdown: Some(tx),
        server: Some(server),
        data_dir,
        pg_database,
    };
    app.wait_until_ready().await;
    app
}

async fn start_server(
    vars: &HashMap<String, String>,
    clock: std::sync::Arc<wasl::clock::ManualClock>,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let settings = wasl::settings::Settings::from_vars(vars).expect("test settings are valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) =
            wasl::launch_with_options(settings, listener, shutdown, wasl::LaunchOptions { clock })
                .await
        {
            panic!("wasl failed: {e}");
        }
    });
    (addr, tx, server)
}

impl TestApp {
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server gracefully and starts it again on the same data dir and database.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await;
    }

    /// [`TestApp::restart`], doing `between` to the data dir while wasl is stopped.
    pub async fn restart_with(&mut self, between: impl FnOnce(&std::path::Path)) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(std::time::Duration::from_secs(30), server)
                .await
                .expect("wasl stops within 30 s")
                .expect("wasl stopped cleanly");
        }
        between(&self.data_dir);
        let (addr, tx, server) = start_server(&self.vars, self.clock.clone()).await;
        self.addr = addr;
        self.shutdown = Some(tx);
        self.server = Some(server);
        self.wait_until_ready().await;
    }

    /// Polls a session's status until `done` holds, failing with the last status seen.
    pub async fn wait_for_session(
        &self,
        token: &str,
        name: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (status, body) = self
                .get(&format!("/api/v1/whatsapp/sessions/{name}/status"), token)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let session = body["data"]["session"].clone();
            if done(&session) {
                return session;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "session {name} never became {what}; last: {session}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
        }
    }

    /// Polls `/ready` with a deadline instead of sleeping a fixed time.
    async fn wait_until_ready(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Ok(r) = self.client.get(self.url("/ready")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "wasl did not become ready in 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Sends a JSON request and returns the status and the parsed body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_lang(method, path, token, body, None).await
    }

    pub async fn call_lang(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        lang: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(lang) = lang {
            req = req.header("accept-language", lang);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.expect("body read");
        let value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Registers a new organization; returns its owner.
    pub async fn register(&self, email: &str) -> Account {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({
                    "organizationName": format!("مؤسسة {email}"),
                    "name": "سارة",
                    "email": email,
                    "password": "correct horse battery",
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register: {body}");
        Account::from_auth(&body)
    }

    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Adds a user with `role` to the owner's organization and signs them in.
    pub async fn add_user(&self, owner: &Account, email: &str, role: &str) -> Account {
        let (status, body) = self
            .post(
                "/api/v1/users",
                &owner.token,
                json!({"name": "عمر", "email": email, "password": "agent password", "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "add user: {body}");
        let (status, body) = self.login(email, "agent password").await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        Account::from_auth(&body)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(name) = self.pg_database.take() {
            // Drop runs inside the test's runtime, so the database is dropped from a thread
            // with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut conn) =
                            sqlx::PgConnection::connect(&postgres_admin_url()).await
                        {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Account {
    pub token: String,
    pub user_id: String,
    pub org_id: String,
}

impl Account {
    pub fn from_auth(body: &Value) -> Self {
        Account {
            token: body["data"]["token"].as_str().expect("token").to_owned(),
            user_id: body["data"]["user"]["id"]
                .as_str()
                .expect("user id")
                .to_owned(),
            org_id: body["data"]["organization"]["id"]
                .as_str()
                .expect("org id")
                .to_owned(),
        }
    }
}

/// Asserts a failure envelope with this status and code.
#[track_caller]
pub fn assert_error(result: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (actual, body) = result;
    assert_eq!(*actual, status, "status of {body}");
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["error"]["code"], json!(code), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
}

/// Runs a test body once on SQLite and once on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::helpers::spawn_app($crate::helpers::Db::Postgres).await).await;
                }
            }
        )*
    };
}

/// A response read whole, without assuming it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl Reply {
    /// The body as text (lossy), for messages and for searching it.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

impl TestApp {
    /// Sends a request built by the caller and reads the whole reply.
    pub async fn send_raw(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = res.bytes().await.expect("body read").to_vec();
        let json = serde_json::from_slice(&bytes).ok();
        Reply {
            status,
            content_type,
            bytes,
            json,
        }
    }
}

/// Why `body` is not the failure envelope of SPEC §3 (`success: false`, a non-empty
/// `message`, and an `error.code` in UPPER_SNAKE), or `None` when it is.
pub fn error_envelope_problem(body: &Value) -> Option<String> {
    if body["success"] != json!(false) {
        return Some("`success` is not false".into());
    }
    if body["message"].as_str().is_none_or(|m| m.trim().is_empty()) {
        return Some("`message` is not a non-empty string".into());
    }
    let upper_snake = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && !c.starts_with('_')
    };
    if !body["error"]["code"].as_str().is_some_and(upper_snake) {
        return Some("`error.code` is not a non-empty UPPER_SNAKE string".into());
    }
    None
}

/// A counter of `/metrics` (`wasl_scheduler_passes_total`, …).
pub async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not in /metrics"))
}

/// Waits until the worker counting its passes in `name` has looked again (a whole pass begun
/// after this call): what it did not do then, it will not do for this state of the clock.
pub async fn looked_again(app: &TestApp, name: &str) {
    let start = metric(app, name).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while metric(app, name).await < start + 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{name}: the worker stopped looking"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// An organization's reusable content, for tests that address it by id.
pub struct Content {
    pub media_id: String,
    pub template_id: String,
    /// The quick reply sends the file.
    pub quick_reply_id: String,
    /// A rule no message of a sweep triggers.
    pub auto_reply_id: String,
    /// A message scheduled years ahead: it never fires during a sweep.
    pub scheduled_message_id: String,
    /// A draft broadcast to a list of one number.
    pub broadcast_id: String,
}

/// Creates a file of the media library, a template, a quick reply, an auto-reply, a
/// scheduled message and a draft broadcast (on the session `default`, which must exist).
pub async fn reusable_content(app: &TestApp, token: &str) -> Content {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::messaging::png_bytes()).file_name("logo.png"),
    );
    let media = app
        .send_raw(
            app.client
                .post(app.url("/api/v1/whatsapp/media"))
                .bearer_auth(token)
                .multipart(form),
        )
        .await;
    assert_eq!(media.status, StatusCode::CREATED, "{}", media.text());
    let media_id = media.json.expect("json")["data"]["mediaId"]
        .as_str()
        .expect("id")
        .to_owned();
    let created = |path: &'static str, body: Value, pointer: &'static str| {
        let token = token.to_owned();
        async move {
            let (status, body) = app.post(path, &token, body).await;
            assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
            body.pointer(pointer)
                .and_then(Value::as_str)
                .expect("id")
                .to_owned()
        }
    };
    Content {
        template_id: created(
            "/api/v1/whatsapp/templates",
            json!({"name": "fuzz_offer", "category": "utility", "content": "مرحبا {{name|عميلنا}}"}),
            "/data/template/id",
        )
        .await,
        quick_reply_id: created(
            "/api/v1/whatsapp/quick-replies",
            json!({"shortCode": "fuzz", "content": "رد جاهز", "mediaId": media_id}),
            "/data/quickReply/id",
        )
        .await,
        auto_reply_id: created(
            "/api/v1/whatsapp/auto-replies",
            json!({"name": "fuzz", "matchType": "exact", "trigger": "لن-يكتبها-أحد-في-الجولة", "response": {"type": "text", "text": "x"}}),
            "/data/autoReply/id",
        )
        .await,
        scheduled_message_id: created(
            "/api/v1/whatsapp/scheduled-messages",
            json!({"to": "+966551190001", "message": {"type": "text", "text": "تذكير"}, "scheduleAt": "2036-01-01T09:00", "repeat": {"frequency": "monthly"}}),
            "/data/scheduledMessage/id",
        )
        .await,
        broadcast_id: created(
            "/api/v1/whatsapp/broadcasts",
            json!({"name": "fuzz", "sessionName": "default", "recipients": {"type": "list", "phones": ["+966551190002"]}, "message": {"type": "text", "text": "عرض"}}),
            "/data/broadcast/id",
        )
        .await,
        media_id,
    }
}
