//! Storage that stops taking writes, and starts again, under load: wasl's data dir on a small
//! file system of its own (a tmpfs the test mounts), filled to the last byte while sends and
//! customers' messages keep coming, then freed. And its media directory made read-only.
//!
//! While the disk is full, what cannot be saved answers 503 `STORAGE_UNAVAILABLE` (never a 500)
//! and `/ready` says not ready. Once space is back, writes recover by themselves, without a
//! restart: `/ready` is ready again, every send the API accepted goes out exactly once (the
//! sandbox's transmission log says so) and every customer's message the sandbox was told was
//! stored is stored once. On SQLite the database is on the full disk; on PostgreSQL only the
//! media and the sandbox's log are.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

use crate::server::{Db, Installation, Process};

const SIZE: &str = "48m";
const SENDERS: usize = 4;
const CUSTOMERS: usize = 4;
/// A PNG signature and header: enough for wasl to recognise an image.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];

/// A mount the test made; unmounted when dropped, even when the test fails half-way.
struct Mount(PathBuf);

impl Mount {
    fn run(args: &[&str]) -> Result<(), String> {
        let out = Command::new("mount")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// A tmpfs of `size` at `dir`.
    fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
        let options = format!("size={size},mode=0700");
        let target = dir.to_string_lossy().into_owned();
        Mount::run(&["-t", "tmpfs", "-o", &options, "wasl-test", &target])?;
        Ok(Mount(dir.to_owned()))
    }

    /// `dir` again at itself, read-only.
    fn read_only(dir: &Path) -> Mount {
        let target = dir.to_string_lossy().into_owned();
        Mount::run(&["--bind", &target, &target]).expect("bind mount");
        let mount = Mount(dir.to_owned());
        Mount::run(&["-o", "remount,bind,ro", &target]).expect("remount read-only");
        mount
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the file system of `dir` with one file until not a byte more fits.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("the filler file");
    for chunk in [1 << 20, 4096, 1] {
        let bytes = vec![0u8; chunk];
        while file.write_all(&bytes).is_ok() {}
    }
    let _ = file.sync_all();
    path
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    /// WhatsApp id of every message the API accepted (201).
    accepted: Mutex<HashSet<String>>,
    /// Id of every customer's message the sandbox answered 200 for (stored).
    stored: Mutex<HashSet<String>>,
    /// Sends answered 503 `STORAGE_UNAVAILABLE`.
    storage_unavailable: AtomicUsize,
    /// Of those, text sends: nothing of theirs is a file, so the database refused them.
    text_refused: AtomicUsize,
    /// Customers' messages wasl could not confirm (sent again by the "phone").
    unconfirmed: AtomicUsize,
}

impl Seen {
    fn accepted(&self) -> usize {
        self.accepted.lock().expect("lock").len()
    }

    fn stored(&self) -> usize {
        self.stored.lock().expect("lock").len()
    }
}

/// Reads a send's answer: 201 (accepted) or 503 `STORAGE_UNAVAILABLE`; anything else fails.
async fn send_answer(response: reqwest::Response, seen: &Seen, text: bool) {
    let what = if text { "a text send" } else { "an image send" };
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        StatusCode::CREATED => {
            let id = body["data"]["message"]["messageId"]
                .as_str()
                .expect("message id");
            seen.accepted.lock().expect("lock").insert(id.to_owned());
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            assert_eq!(
                body["error"]["code"], "STORAGE_UNAVAILABLE",
                "{what}: {body}"
            );
            seen.storage_unavailable.fetch_add(1, Ordering::Relaxed);
            if text {
                seen.text_refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        other => panic!("{what} answered {other}: {body}"),
    }
}

async fn load(process: &Process, token: &str, seen: &Arc<Seen>, stop: &Arc<AtomicBool>) {
    let mut tasks = Vec::new();
    for worker in 0..SENDERS {
        let (client, url, token, seen, stop) = (
            process.client.clone(),
            process.url("/api/v1/whatsapp/messages/send"),
            token.to_owned(),
            seen.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({
                    "to": format!("96655{:07}", worker * 1_000 + n % 20),
                    "text": format!("رسالة {worker}-{n} {}", "نص ".repeat(50)),
                });
                let response = client.post(&url).bearer_auth(&token).json(&body).send();
                send_answer(response.await.expect("send"), &seen, true).await;
            }
        }));
    }
    {
        let (client, url, token, seen, stop) = (
            process.client.clone(),
            process.url("/api/v1/whatsapp/messages/send-image"),
            token.to_owned(),
            seen.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let form = reqwest::multipart::Form::new()
                    .text("to", "966551234567")
                    .part(
                        "image",
                        reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("photo.png"),
                    );
                let response = client.post(&url).bearer_auth(&token).multipart(form).send();
                send_answer(response.await.expect("send"), &seen, false).await;
            }
        }));
    }
    for customer in 0..CUSTOMERS {
        let (client, url, token, seen, stop) = (
            process.client.clone(),
            process.url("/api/v1/whatsapp/sandbox/default/incoming"),
            token.to_owned(),
            seen.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("FULLIN-{customer}-{n}");
                let body = json!({
                    "from": format!("96656{customer:07}"),
                    "type": "text",
                    "text": format!("سؤال {customer}-{n}"),
                    "messageId": id,
                });
                // Like a phone, the customer sends it again, with the same id, until stored.
                loop {
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .expect("incoming");
                    match response.status() {
                        StatusCode::OK => {
                            seen.stored.lock().expect("lock").insert(id);
                            break;
                        }
                        StatusCode::SERVICE_UNAVAILABLE => {
                            seen.unconfirmed.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!(
                            "a customer's message answered {other}: {}",
                            response.text().await.unwrap_or_default()
                        ),
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("a load task");
    }
}

/// Polls until `done` holds, failing with `what` at the deadline.
async fn until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ready_status(process: &Process) -> (StatusCode, Value) {
    let response = process
        .client
        .get(process.url("/ready"))
        .send()
        .await
        .expect("ready");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn strings(pool: &sqlx::AnyPool, sql: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .expect("query")
        .iter()
        .map(|r| r.try_get::<String, _>(0).expect("text"))
        .collect()
}

/// A read-only media directory: an image send is 503 `STORAGE_UNAVAILABLE` (not a 500 that
/// blames "stored data"), `/ready` names the media, and both recover when it is writable again.
async fn read_only_media(process: &Process, token: &str, data_dir: &Path) {
    let image = || {
        let form = reqwest::multipart::Form::new()
            .text("to", "966551234567")
            .part(
                "image",
                reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("photo.png"),
            );
        process
            .client
            .post(process.url("/api/v1/whatsapp/messages/send-image"))
            .bearer_auth(token)
            .multipart(form)
            .send()
    };
    let media = data_dir.join("media");
    std::fs::create_dir_all(&media).expect("media dir");
    let read_only = Mount::read_only(&media);
    let response = image().await.expect("send");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "STORAGE_UNAVAILABLE", "{body}");
    let (status, body) = ready_status(process).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "NOT_READY", "{body}");
    assert!(body["error"]["details"]["media"].is_string(), "{body}");
    drop(read_only);
    assert_eq!(image().await.expect("send").status(), StatusCode::CREATED);
    assert_eq!(ready_status(process).await.0, StatusCode::OK);
}

pub async fn story(db: Db) {
    let install = Installation::new(db, &[("WASL_SEND_INTERVAL_MS", "5")]).await;
    let mount = match Mount::tmpfs(&install.data_dir, SIZE) {
        Ok(mount) => mount,
        Err(reason) => {
            eprintln!("skipped: cannot mount a small file system for the test ({reason})");
            install.remove().await;
            return;
        }
    };
    let process = install.start().await;
    let (token, _) = process
        .enterprise_owner("full@acme.sa", "a long disk password")
        .await;
    process
        .linked_sandbox(&token, "default", "966500000200")
        .await;
    read_only_media(&process, &token, &install.data_dir).await;

    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (seen, stop, token) = (seen.clone(), stop.clone(), token.clone());
        let process = &process;
        async move { load(process, &token, &seen, &stop).await }
    };
    let story = async {
        until("the load gets going", Duration::from_secs(60), async || {
            seen.accepted() >= 200 && seen.stored() >= 50
        })
        .await;

        // The disk fills up: what cannot be saved is refused with 503, and wasl is not ready.
        let filler = fill(&install.data_dir);
        until(
            "a send refused with STORAGE_UNAVAILABLE",
            Duration::from_secs(60),
            async || seen.storage_unavailable.load(Ordering::Relaxed) > 0,
        )
        .await;
        let mut not_ready = None;
        until(
            "/ready says not ready",
            Duration::from_secs(60),
            async || {
                let (status, body) = ready_status(&process).await;
                not_ready = Some(body);
                status == StatusCode::SERVICE_UNAVAILABLE
            },
        )
        .await;
        if db == Db::Sqlite {
            // The database itself is on the full disk: it refuses too, sends and customers'
            // messages alike (the phone is asked to send those again).
            until(
                "the database refuses writes",
                Duration::from_secs(60),
                async || {
                    seen.text_refused.load(Ordering::Relaxed) > 0
                        && seen.unconfirmed.load(Ordering::Relaxed) > 0
                },
            )
            .await;
        }
        let before_freeing = (seen.accepted(), seen.stored());

        // Space comes back: writes recover by themselves, and wasl is ready again.
        std::fs::remove_file(&filler).expect("free the disk");
        until(
            "/ready is ready again",
            Duration::from_secs(30),
            async || ready_status(&process).await.0 == StatusCode::OK,
        )
        .await;
        until(
            "sends and customers' messages are stored again",
            Duration::from_secs(60),
            async || {
                seen.accepted() >= before_freeing.0 + 100 && seen.stored() >= before_freeing.1 + 50
            },
        )
        .await;
        stop.store(true, Ordering::Relaxed);
        not_ready
    };
    let (_, not_ready) = tokio::join!(load, story);
    eprintln!(
        "{db:?}: {} sends accepted, {} refused with STORAGE_UNAVAILABLE ({} of them text); {} customers' messages stored, {} sent again; /ready while full: {}",
        seen.accepted(),
        seen.storage_unavailable.load(Ordering::Relaxed),
        seen.text_refused.load(Ordering::Relaxed),
        seen.stored(),
        seen.unconfirmed.load(Ordering::Relaxed),
        not_ready.unwrap_or_default()
    );

    // Everything accepted goes out, once; nothing is left pending or failed.
    let pool = install.database().await;
    until("the outbox drains", Duration::from_secs(120), async || {
        sqlx::query(
            "SELECT COUNT(*) FROM messages WHERE direction = 'outgoing' AND status = 'pending'",
        )
        .fetch_one(&pool)
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .expect("count")
            == 0
    })
    .await;
    let log = std::fs::read_to_string(install.data_dir.join(wasl_engine::sandbox::log::FILE_NAME))
        .expect("the sandbox transmission log");
    let mut firsts: HashMap<String, usize> = HashMap::new();
    let mut repeats = Vec::new();
    for line in log.lines() {
        match wasl_engine::sandbox::log::parse_line(line) {
            Some((_, t, true)) => *firsts.entry(t.message_id).or_default() += 1,
            Some((_, t, false)) => repeats.push(t.message_id),
            None => {}
        }
    }
    // A message sent while its sending could not be recorded is not sent again and again:
    // the outbox waits until it can record it.
    assert!(repeats.is_empty(), "sent again: {repeats:?}");
    let twice: Vec<&String> = firsts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "transmitted twice: {twice:?}");
    let accepted = seen.accepted.lock().expect("lock").clone();
    let lost: Vec<&String> = accepted
        .iter()
        .filter(|id| !firsts.contains_key(*id))
        .collect();
    assert!(lost.is_empty(), "accepted but never transmitted: {lost:?}");
    let failed = strings(
        &pool,
        "SELECT message_id FROM messages WHERE direction = 'outgoing' AND status = 'failed'",
    )
    .await;
    assert!(failed.is_empty(), "failed sends: {failed:?}");
    let incoming = strings(
        &pool,
        "SELECT message_id FROM messages WHERE direction = 'incoming'",
    )
    .await;
    let incoming_set: HashSet<&String> = incoming.iter().collect();
    assert_eq!(
        incoming.len(),
        incoming_set.len(),
        "a customer's message stored twice"
    );
    let stored = seen.stored.lock().expect("lock").clone();
    let missing: Vec<&String> = stored
        .iter()
        .filter(|id| !incoming_set.contains(id))
        .collect();
    assert!(missing.is_empty(), "confirmed but not stored: {missing:?}");
    pool.close().await;
    process.stop();
    drop(mount);
    install.remove().await;
}
