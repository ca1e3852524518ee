//! Starts the real wasl server for a browser test: port 0, a fresh data dir and a fresh
//! SQLite database, the same way the API tests do.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// The server a test drives. Dropping it stops the server and removes its data dir.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    data_dir: std::path::PathBuf,
}

pub async fn spawn() -> TestServer {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let data_dir = std::env::temp_dir().join(format!("wasl-browser-{id}"));
    let vars: HashMap<String, String> = [
        ("WASL_DATA_DIR", data_dir.display().to_string()),
        ("WASL_RECONNECT_BASE_MS", "300".to_owned()),
        ("WASL_RECONNECT_MAX_MS", "2000".to_owned()),
        // Long enough that a sent message is seen as sent before it is delivered.
        ("WASL_SANDBOX_DELIVERY_MS", "700".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = wasl::settings::Settings::from_vars(&vars).expect("test settings are valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = wasl::launch_with_tcp_listener(settings, listener, shutdown).await {
            panic!("wasl failed: {e}");
        }
    });
    let app = TestServer {
        addr,
        client: reqwest::Client::new(),
        shutdown: Some(tx),
        server: Some(server),
        data_dir,
    };
    app.wait_until_ready().await;
    app
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.client.get(self.url("/ready")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "wasl did not become ready in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Calls the API as the signed-in user of the dashboard, in `lang`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        lang: &str,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("accept-language", lang);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.expect("body read");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{path} answered non-JSON ({status}): {text}"));
        (status, value)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
