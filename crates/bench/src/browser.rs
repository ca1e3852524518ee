//! Headless Chromium driven over W3C WebDriver (a chromedriver this program starts), for the
//! benchmarks the browser's own timing measures. The machine's `chromium` and `chromedriver`
//! are used; without them the benchmark says it could not measure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::BenchResult;

/// One browser window, with its chromedriver; both end when it is dropped.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    profile: PathBuf,
    driver: Child,
}

impl Browser {
    pub async fn start(width: u32, height: u32) -> BenchResult<Browser> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port: {e}"))?
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start chromedriver ({e}): install chromium and chromium-driver")
            })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| e.to_string())?;
        let profile = std::env::temp_dir().join(format!(
            "wasl-bench-chrome-{}",
            uuid::Uuid::now_v7().simple()
        ));
        let mut browser = Browser {
            http,
            base: String::new(),
            profile,
            driver,
        };
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match browser.http.get(format!("{root}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == json!(true)),
                Err(_) => false,
            };
            if ready {
                break;
            }
            if Instant::now() > deadline {
                return Err("chromedriver did not become ready in 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", browser.profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "args": args },
        }}});
        let res: Value = browser
            .http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await
            .map_err(|e| format!("a browser session: {e}"))?
            .json()
            .await
            .map_err(|e| format!("a browser session: {e}"))?;
        let id = res["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no browser session: {res}"))?;
        browser.base = format!("{root}/session/{id}");
        Ok(browser)
    }

    async fn post(&self, path: &str, body: Value) -> BenchResult<Value> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let ok = res.status().is_success();
        let v: Value = res.json().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(format!("webdriver {path}: {}", v["value"]["message"]))
        }
    }

    pub async fn goto(&self, url: &str) -> BenchResult<()> {
        self.post("/url", json!({ "url": url })).await.map(|_| ())
    }

    /// Runs `script` (a function body; `arguments` holds `args`; a promise is awaited).
    pub async fn exec(&self, script: &str, args: Value) -> BenchResult<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Waits until `script` returns something other than null or false, and returns it.
    pub async fn wait_until(&self, what: &str, script: &str, args: Value) -> BenchResult<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.exec(script, args.clone()).await?;
            if !v.is_null() && v != json!(false) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Browser {
    /// Ends the browser session (and with it Chromium), then chromedriver.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
