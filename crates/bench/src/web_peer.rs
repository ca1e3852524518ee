//! The local WhatsApp Web peer (`wasl-wa-peer`) for the benchmarks that measure linked web
//! sessions, run in a process of its own (this binary with `--peer`) so that what it holds per
//! connection is not counted in the measured process's memory. The two talk in lines: the
//! peer prints `url <ws-url>`, then answers each `scan <phone> <qr>` with `ok <jid>` or
//! `err <why>`.

use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::harness::{Account, BenchResult, Server};

/// `wasl-bench --peer`: serves the peer until its input closes.
pub async fn serve() -> std::process::ExitCode {
    let peer = match wasl_wa_peer::Peer::start().await {
        Ok(peer) => peer,
        Err(e) => {
            eprintln!("the peer did not start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Requests are read on a thread of their own: stdin is blocking.
    let (tx, mut requests) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut say = format!("url {}", peer.url());
    loop {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{say}").is_err() || out.flush().is_err() {
            break;
        }
        drop(out);
        let Some(line) = requests.recv().await else {
            break;
        };
        let mut words = line.splitn(3, ' ');
        say = match (words.next(), words.next(), words.next()) {
            (Some("scan"), Some(phone), Some(qr)) => match peer.scan(qr, phone).await {
                Ok(jid) => format!("ok {jid}"),
                Err(e) => format!("err {}", e.replace('\n', " ")),
            },
            _ => format!("err unknown request {line:?}"),
        };
    }
    std::process::ExitCode::SUCCESS
}

/// The peer's process, seen from a benchmark.
pub struct PeerProcess {
    child: Child,
    pub url: String,
    talk: Arc<Mutex<(ChildStdin, Lines<BufReader<ChildStdout>>)>>,
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PeerProcess {
    pub async fn start() -> BenchResult<PeerProcess> {
        let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
        let mut child = Command::new(exe)
            .arg("--peer")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start the peer: {e}"))?;
        let stdin = child.stdin.take().ok_or("the peer's input")?;
        let stdout = child.stdout.take().ok_or("the peer's output")?;
        let (first, lines) = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            (first, lines)
        })
        .await
        .map_err(|e| e.to_string())?;
        let first = first
            .ok_or("the peer ended before saying its address")?
            .map_err(|e| format!("the peer: {e}"))?;
        let url = first
            .strip_prefix("url ")
            .ok_or_else(|| format!("the peer said {first:?}"))?
            .to_owned();
        Ok(PeerProcess {
            child,
            url,
            talk: Arc::new(Mutex::new((stdin, lines))),
        })
    }

    /// The phone of `phone` scans `qr`; the linked device's JID.
    pub async fn scan(&self, phone: &str, qr: &str) -> BenchResult<String> {
        let talk = self.talk.clone();
        let request = format!("scan {phone} {qr}");
        let answer = tokio::task::spawn_blocking(move || -> BenchResult<String> {
            let mut talk = talk.lock().map_err(|_| "the peer's pipe is poisoned")?;
            let (stdin, lines) = &mut *talk;
            writeln!(stdin, "{request}").map_err(|e| format!("to the peer: {e}"))?;
            stdin.flush().map_err(|e| format!("to the peer: {e}"))?;
            lines
                .next()
                .ok_or("the peer ended")?
                .map_err(|e| format!("from the peer: {e}"))
        })
        .await
        .map_err(|e| e.to_string())??;
        match answer.split_once(' ') {
            Some(("ok", jid)) => Ok(jid.to_owned()),
            _ => Err(format!("the peer could not link {phone}: {answer}")),
        }
    }

    /// The peer process's own resident memory, for the notes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    }
}

/// Creates web session `name`, shows its QR code to the peer's phone for `phone` (read from the
/// PNG as a camera would) and returns once the phone linked it; connecting follows.
pub async fn link(
    server: &Server,
    account: &Account,
    peer: &PeerProcess,
    name: &str,
    phone: &str,
) -> BenchResult<String> {
    let (status, id) = server.create_session(account, name, "web").await?;
    if status != StatusCode::CREATED {
        return Err(format!("creating web session {name} answered {status}"));
    }
    let id = id.ok_or("a session id")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let qr = loop {
        let (status, body) = server
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/whatsapp/sessions/{name}/qr"),
                &account.token,
                None,
            )
            .await?;
        if status == StatusCode::OK {
            let png = body["data"]["qrCode"].as_str().ok_or("qrCode")?;
            break wasl_wa_peer::read_qr(png)?;
        }
        if Instant::now() > deadline {
            return Err(format!("{name} showed no QR code in 60 s"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    peer.scan(phone, &qr).await?;
    Ok(id)
}
