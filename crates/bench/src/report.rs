//! Rows of results, as printed in the terminal and as written to `docs/benchmarks.md`, and the
//! machine they were measured on.

use std::fmt::Write as _;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// One measured figure beside its baseline from the same run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub bench: String,
    pub db: String,
    pub measure: String,
    pub figure: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    /// `None` when there is no target for this row or it was not measured.
    pub met: Option<bool>,
    pub note: String,
}

impl Row {
    pub fn new(bench: &str, db: &str, measure: &str) -> Row {
        Row {
            bench: bench.into(),
            db: db.into(),
            measure: measure.into(),
            figure: "—".into(),
            baseline: "—".into(),
            ratio: "—".into(),
            target: "—".into(),
            met: None,
            note: String::new(),
        }
    }

    pub fn figure(mut self, figure: String, baseline: String, ratio: f64) -> Row {
        self.figure = figure;
        self.baseline = baseline;
        self.ratio = if ratio.is_finite() {
            format!("{ratio:.2}×")
        } else {
            "—".into()
        };
        self
    }

    pub fn target(mut self, target: &str, met: bool) -> Row {
        self.target = target.into();
        self.met = Some(met);
        self
    }

    /// A target shown for comparison only: no verdict.
    pub fn informational(mut self, target: &str) -> Row {
        self.target = target.into();
        self.met = None;
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        }
    }
}

pub fn print_header() {
    println!(
        "{:<16} {:<9} {:<34} {:>16} {:>20} {:>9} {:>18}  result",
        "benchmark", "database", "measure", "figure", "baseline", "ratio", "target"
    );
}

pub fn print_row(row: &Row) {
    println!(
        "{:<16} {:<9} {:<34} {:>16} {:>20} {:>9} {:>18}  {}",
        row.bench,
        row.db,
        row.measure,
        row.figure,
        row.baseline,
        row.ratio,
        row.target,
        row.verdict()
    );
    if !row.note.is_empty() {
        println!("{:<16} {:<9} ↳ {}", "", "", row.note);
    }
}

/// The machine the numbers come from.
pub fn machine() -> Vec<(&'static str, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("PRETTY_NAME=")
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = output("uname", &["-r"]);
    let commit = output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = !output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    vec![
        ("CPU", cpu),
        ("cores", cores),
        ("RAM", ram),
        ("OS", format!("{os} (Linux {kernel})")),
        ("rustc", output("rustc", &["--version"])),
        (
            "git commit",
            if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            },
        ),
        (
            "date",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
    ]
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// What each benchmark measures, in the words of its issue.
pub const DESCRIPTIONS: [(&str, &str); 10] = [
    ("sessions-memory", "Resident memory (`/proc/self/statm` of the process that holds the sessions) per session: 1,000 sandbox sessions created through the API in an organization on plan enterprise, scanned through the sandbox API and all connected; and 100 web-engine sessions that keep connecting, once to a local port that refuses connections and once to a WebSocket server that accepts and never answers WhatsApp's handshake (every session then holds a live client); and 100 web sessions linked by QR through the local WhatsApp Web peer (`crates/wa-peer`, run in a process of its own so its memory is not counted), each logged in with its Signal keys, Noise socket and keep-alive, measured after 20 s idle. Baseline: the same process, server started, with zero sessions; ratio = RSS with the sessions ÷ baseline RSS."),
    ("send-throughput", "`POST /api/v1/whatsapp/messages/send` (JSON `{to, text}`, a different recipient each time) against one connected sandbox session, 64 concurrent keep-alive connections, closed loop, `WASL_SEND_INTERVAL_MS=0`. Baseline: `GET /health` on the same server, measured the same way in the same run; ratio = send ÷ baseline. The load generator runs in the server's process and shares its cores. Then messages carried end to end between two web sessions of one server through the local WhatsApp Web peer (its own process): 2,000 texts (200 with `--quick`) sent by one session to the other's number, 16 requests at a time, each encrypted with Signal by the sender's client, routed by the peer, decrypted by the other client and stored once with its receipt sent back, timed from the first request until the receiver had stored them all. Baseline: the same server's sandbox session sending as many until all are sent; ratio = web ÷ sandbox."),
    ("ingest", "Incoming messages persisted per second through the engine event path: `SessionObserver::message` on `wasl::messaging::Messaging` (contact upsert, message, conversation and events, stored by the group-commit recorder), 64 concurrent tasks (as many sessions receiving at once), 1,000 different customer numbers. Baseline: the same number of rows written straight into `messages` with sqlx as multi-row INSERTs, 500 rows per transaction; ratio = observer path ÷ raw insert."),
    ("list-messages", "`GET /api/v1/whatsapp/messages?contact=<phone>&limit=50`, 1,000 sequential requests after 50 warm-up ones, with 1,000,000 stored messages (100,000 with `--quick`) of one organization and session over 100 contacts, 20% of them the target contact's. Baseline: `GET /health` on the same server, measured the same way; ratio = listing ÷ baseline."),
    ("webhook-delivery", "Signed webhook deliveries per second from the real dispatcher to a local receiver that answers 200 at once: 20,000 `message.received` events (5,000 with `--quick`) stored through the engine event path, each fanned out to the organization's webhook in its own transaction, counted at the receiver from its first request to the last new event. Baseline: the same receiver hit directly with as many requests in flight as a webhook's lane keeps (16); ratio = deliveries ÷ direct requests. Then the same again in an organization whose second webhook points at a receiver that never answers (every attempt hangs for the 10 s timeout); ratio = rate beside the dead receiver ÷ rate alone."),
    ("mixed-load", "1,000 connected sandbox sessions in one organization, then 50 concurrent API clients for a 90-second warm-up and 3 measured minutes (10 s and 20 s with `--quick`), closed loop, each request a send (40%), a listing of one session's conversation with one customer (30%) or a customer's message arriving through the sandbox control API (30%), spread over every session and 20,000 customers. Baselines: `GET /health` from the same 50 clients just before (latency ratio = p99 ÷ /health p99), and for memory the highest RSS of the first measured minute (ratio = highest RSS of the last minute ÷ it), and the same for the live heap (bytes allocated and not freed, counted by the benchmark process's allocator; RSS also holds memory the allocator keeps after a free). The warm-up lets the in-process SQLite page caches (8 MB for the writer, 512 KB per reader) and the sandbox's bounded memory of its last 100,000 transmissions fill up. Latencies are counted in 1%-wide buckets, so the load generator in the same process keeps constant memory."),
    ("live-stream", "What an open dashboard receives on its live socket (`/api/v1/events`) per incoming message while 20 customers write 100 messages at 5 a second through the sandbox: every frame's bytes counted, divided by the messages. The dashboard moves rows and bubbles in place from these events and makes no request of its own per message. Baseline: the message itself, as `GET /api/v1/whatsapp/messages` returns it; ratio = bytes per message ÷ the message's JSON."),
    ("auto-reply", "Customers write through the sandbox (4 sessions) to an organization with 10 everyday rules (keywords, an order-number pattern, a welcome within business hours). Answer latency: from a customer's message being stored (`createdAt`) to its answer being handed to the engine (`sentAt`), under a steady stream of 50 messages a second for 30 s, each from a customer of their own so every message is answered; baseline: an ordinary API send's stored → handed to the engine beside the same stream with no rules. Intake: customers' messages stored per second from 32 concurrent writers for 20 s, customers each writing a 6-message conversation, beside the same load with no rules (answers not made within the window are counted, with the time automation took to catch up). Informational: small talk no rule answers, and every message answered (the worst case)."),
    ("schedules", "10,000 scheduled messages (1,000 with `--quick`) saved through the API, each to a customer of its own over 4 sandbox sessions, all due in the same second: the time from that second until every one is in the outbox (its occurrence fired and its message stored), and a count that none fired twice; with each message's lateness (stored − due). Baseline: as many API sends to the same sessions, 32 at a time, from the first request until the last is accepted into the outbox; ratio = scheduler ÷ API. Target: all within 10 s, none twice."),
    ("dashboard-render", "By headless Chromium's own timing (the User Timing measures the dashboard records around its renders, `wasl:chat-list-render` and `wasl:thread-render`), the benchmark driving the browser over WebDriver: the chat list of an organization with 10,000 conversations from navigation to its rows on screen, and a thread of 10,000 messages from the click on its conversation to its bubbles on screen; medians of 7 loads. Baseline: the same pages of an organization with 100 conversations and a 100-message thread, in the same server and browser, loaded alternately; ratio = 10,000 ÷ 100. Both lists render a window of rows around the view, so neither page grows with the history."),
];

/// The whole of `docs/benchmarks.md`.
pub fn markdown(rows: &[Row], quick: bool, command: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `{command}` (from `crates/bench`); rerun it to refresh this page. Every figure"
    );
    let _ = writeln!(
        md,
        "stands beside a baseline measured in the same run on the same machine, so the ratio"
    );
    let _ = writeln!(
        md,
        "means something even where the absolute numbers depend on the hardware. Timings are"
    );
    let _ = writeln!(
        md,
        "never asserted in tests; a missed target here is a finding, not a failure.\n"
    );
    if quick {
        let _ = writeln!(
            md,
            "**This page comes from a `--quick` run (shorter runs, fewer stored messages).**\n"
        );
    }
    let _ = writeln!(md, "## Machine\n\n| | |\n| --- | --- |");
    for (k, v) in machine() {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    for (bench, description) in DESCRIPTIONS {
        let bench_rows: Vec<&Row> = rows.iter().filter(|r| r.bench == bench).collect();
        if bench_rows.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n## {bench}\n\n{description}\n");
        let _ = writeln!(
            md,
            "| database | measure | figure | baseline | ratio | target | result |"
        );
        let _ = writeln!(md, "| --- | --- | ---: | ---: | ---: | ---: | --- |");
        for r in &bench_rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.db,
                r.measure,
                r.figure,
                r.baseline,
                r.ratio,
                r.target,
                match r.met {
                    Some(true) => "met",
                    Some(false) => "**missed**",
                    None => "",
                }
            );
        }
        let notes: Vec<&&Row> = bench_rows.iter().filter(|r| !r.note.is_empty()).collect();
        if !notes.is_empty() {
            md.push('\n');
            for r in notes {
                let _ = writeln!(md, "- {} / {}: {}", r.db, r.measure, r.note);
            }
        }
    }
    // A benchmark without a description still has its figures on the page.
    for r in rows
        .iter()
        .filter(|r| DESCRIPTIONS.iter().all(|(b, _)| *b != r.bench))
    {
        let _ = writeln!(
            md,
            "\n- {} / {} / {}: {} (baseline {}, {}) {} {}",
            r.bench, r.db, r.measure, r.figure, r.baseline, r.ratio, r.target, r.note
        );
    }
    md
}
