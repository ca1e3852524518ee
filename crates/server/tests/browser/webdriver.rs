//! A tiny W3C WebDriver client over reqwest, driving headless Chromium through a chromedriver
//! this test starts itself. Waits poll with a deadline and fail saying what never happened.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// How long any one expectation may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromedriver process; killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    async fn start(client: &reqwest::Client) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}): the browser tests need Chromium and \
                     chromedriver (apt-get install chromium chromium-driver; .ci/run does this)"
                )
            });
        let mut driver = Driver { child, port };
        let deadline = Instant::now() + DEADLINE;
        loop {
            let status = client
                .get(format!("http://127.0.0.1:{port}/status"))
                .send()
                .await;
            if let Ok(r) = status {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == json!(true) {
                        return driver;
                    }
                }
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    profile: PathBuf,
    quit: bool,
    // Declared last: dropped after the session is deleted.
    _driver: Driver,
}

/// A WebDriver command that failed: the W3C error code and message.
#[derive(Debug)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl Browser {
    /// A desktop window of this size, or with `phone`, a phone's viewport of this size (Chrome
    /// keeps desktop windows at least 500 px wide, so a phone is emulated).
    pub async fn start(width: u32, height: u32, phone: bool) -> Browser {
        let http = reqwest::Client::new();
        let driver = Driver::start(&http).await;
        let profile =
            std::env::temp_dir().join(format!("wasl-chrome-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&profile).expect("create the browser profile dir");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            // A microphone that plays a tone, allowed without the permission prompt: voice
            // notes are recorded for real.
            "--use-fake-device-for-media-stream".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
        ];
        let mut options = json!({ "args": args });
        if phone {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true},
            });
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let res: Value = http
            .post(format!("http://127.0.0.1:{}/session", driver.port))
            .json(&caps)
            .send()
            .await
            .expect("ask chromedriver for a session")
            .json()
            .await
            .expect("chromedriver answers JSON");
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {res}"))
            .to_owned();
        let base = format!("http://127.0.0.1:{}/session/{id}", driver.port);
        Browser {
            http,
            base,
            profile,
            quit: false,
            _driver: driver,
        }
    }

    async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.map_err(|e| WdError {
            error: "transport".into(),
            message: e.to_string(),
        })?;
        let ok = res.status().is_success();
        let v: Value = res.json().await.map_err(|e| WdError {
            error: "transport".into(),
            message: e.to_string(),
        })?;
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(WdError {
                error: v["value"]["error"].as_str().unwrap_or("unknown").to_owned(),
                message: v["value"]["message"].as_str().unwrap_or("").to_owned(),
            })
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WdError> {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    /// Makes every page this browser opens lack `WebSocket`, so the dashboard has to fall back
    /// to polling (through chromedriver's DevTools bridge).
    pub async fn without_websocket(&self) {
        self.post(
            "/goog/cdp/execute",
            json!({
                "cmd": "Page.addScriptToEvaluateOnNewDocument",
                "params": {"source": "delete window.WebSocket; window.WebSocket = undefined;"},
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("disable WebSocket: {e}"));
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn exec(&self, script: &str, args: Value) -> Value {
        self.try_exec(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    pub async fn try_exec(&self, script: &str, args: Value) -> Result<Value, WdError> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    pub async fn find(&self, css: &str) -> Option<Element> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await
            .ok()?;
        v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned()))
    }

    /// Waits until `script` returns something truthy, and returns it.
    pub async fn wait_until(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let last = match self.try_exec(script, args.clone()).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => v,
                Err(e) => json!(e.to_string()),
            };
            if Instant::now() > deadline {
                let toasts = self.toasts().await;
                let shot = self.failure_screenshot().await;
                panic!(
                    "timed out waiting for {what}; last result: {last}; toasts: {toasts:?}; \
                     the page as it was: {shot}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching `css` that is displayed.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_until(
            &format!("{css} to be visible"),
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.getClientRects().length > 0;",
            json!([css]),
        )
        .await;
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("{css} vanished"))
    }

    /// Clicks the element `css` as a user would, retrying while it is covered or re-rendered.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let el = self.wait_for(css).await;
            match self
                .post(&format!("/element/{}/click", el.0), json!({}))
                .await
            {
                Ok(_) => return,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot click {css}: {e}"),
            }
        }
    }

    /// Types into `css` after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        let _ = self
            .post(&format!("/element/{}/clear", el.0), json!({}))
            .await;
        self.send_keys(&el, text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn send_keys(&self, el: &Element, text: &str) -> Result<Value, WdError> {
        self.post(&format!("/element/{}/value", el.0), json!({ "text": text }))
            .await
    }

    /// Gives a file to an `<input type=file>`, hidden or not.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let el = self
            .find(css)
            .await
            .unwrap_or_else(|| panic!("no file input {css}"));
        self.send_keys(&el, &path.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choose file for {css}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await;
        self.exec(
            "return document.querySelector(arguments[0]).innerText.trim();",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub async fn toasts(&self) -> Vec<String> {
        self.try_exec(
            "return [...document.querySelectorAll('.toast')].map(t => t.innerText.trim());",
            json!([]),
        )
        .await
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
    }

    /// Saves a PNG of the window to `docs/screenshots/<name>.png` (toasts removed, so the
    /// page itself shows).
    pub async fn screenshot(&self, name: &str) {
        self.exec(
            "document.querySelectorAll('.toast').forEach(t => t.remove()); \
             document.activeElement?.blur?.(); return true;",
            json!([]),
        )
        .await;
        self.screenshot_as_is(name).await;
    }

    /// The page as it is, toasts included (for the shots that are about a toast).
    pub async fn screenshot_as_is(&self, name: &str) {
        let png = self
            .cmd(reqwest::Method::GET, "/screenshot", None)
            .await
            .expect("take a screenshot");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("screenshot is base64");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&dir).expect("create docs/screenshots");
        std::fs::write(dir.join(format!("{name}.png")), bytes).expect("write the screenshot");
    }

    /// A PNG of the window when a wait times out, under the target dir (not in the docs), so
    /// a failure shows what the page looked like. Says where it went, or why it could not.
    async fn failure_screenshot(&self) -> String {
        let Ok(png) = self.cmd(reqwest::Method::GET, "/screenshot", None).await else {
            return "no screenshot (the browser did not answer)".into();
        };
        let Some(Ok(bytes)) = png
            .as_str()
            .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
        else {
            return "no screenshot (not base64)".into();
        };
        let dir = std::env::temp_dir().join("wasl-browser-failures");
        let path = dir.join(format!("{}.png", uuid::Uuid::now_v7().simple()));
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes)) {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("no screenshot ({e})"),
        }
    }

    pub async fn quit(mut self) {
        let _ = self.cmd(reqwest::Method::DELETE, "", None).await;
        self.quit = true;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.quit {
            // A failed test: end the browser from a thread with its own runtime, since
            // dropping happens inside the test's runtime.
            let url = self.base.clone();
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(async {
                        let _ = reqwest::Client::new().delete(url).send().await;
                    });
                }
            })
            .join();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
