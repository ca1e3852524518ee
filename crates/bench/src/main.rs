//! `wasl-bench`: every benchmark of the project, on SQLite and on PostgreSQL, each figure beside
//! a baseline measured in the same run. Each (benchmark, database) pair runs in a fresh child
//! process of this same binary, so one run's memory and caches never flatter the next.
//!
//! ```sh
//! cargo run --release -p wasl-bench -- [--quick] [--only NAME]
//! ```
#![forbid(unsafe_code)]

/// The allocator of the benchmarks' processes, counting the bytes in use (see `harness::heap_bytes`).
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

mod auto_reply;
mod browser;
mod dashboard_render;
mod harness;
mod ingest;
mod listing;
mod live_stream;
mod load;
mod memory;
mod mixed_load;
mod raw;
mod report;
mod schedules;
mod send;
mod web_peer;
mod webhook_delivery;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use harness::Db;
use report::Row;

const BENCHES: [&str; 10] = [
    "sessions-memory",
    "send-throughput",
    "ingest",
    "list-messages",
    "webhook-delivery",
    "mixed-load",
    "live-stream",
    "dashboard-render",
    "auto-reply",
    "schedules",
];
const ROW_PREFIX: &str = "WASL-BENCH-ROW ";
const USAGE: &str =
    "usage: wasl-bench [--quick] [--only sessions-memory|send-throughput|ingest|list-messages|webhook-delivery|mixed-load|live-stream|dashboard-render|auto-reply|schedules]";

struct Args {
    quick: bool,
    only: Option<String>,
    child: Option<(String, Db)>,
    /// Serve the WhatsApp Web peer for a benchmark process (see `web_peer`).
    peer: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        only: None,
        child: None,
        peer: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--only" => {
                let name = it.next().ok_or(USAGE)?;
                if !BENCHES.contains(&name.as_str()) {
                    return Err(format!("unknown benchmark {name:?}\n{USAGE}"));
                }
                args.only = Some(name);
            }
            "--child" => {
                let name = it.next().ok_or(USAGE)?;
                let db = it.next().and_then(|d| Db::parse(&d)).ok_or(USAGE)?;
                args.child = Some((name, db));
            }
            "--peer" => args.peer = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.peer {
        return web_peer::serve().await;
    }
    match &args.child {
        Some((name, db)) => run_child(name, *db, args.quick).await,
        None => run_parent(&args).await,
    }
}

/// Runs one benchmark on one database and prints its rows for the parent.
async fn run_child(name: &str, db: Db, quick: bool) -> ExitCode {
    let result = match name {
        "sessions-memory" => memory::run(db, quick).await,
        "sessions-memory-web" => memory::run_web(db, memory::WebStandIn::Refusing).await,
        "sessions-memory-web-silent" => memory::run_web(db, memory::WebStandIn::Silent).await,
        "sessions-memory-web-linked" => memory::run_web_linked(db).await,
        "send-throughput-web" => send::run_web(db, quick).await,
        "send-throughput" => send::run(db, quick).await,
        "ingest" => ingest::run(db, quick).await,
        "list-messages" => listing::run(db, quick).await,
        "webhook-delivery" => webhook_delivery::run(db, quick).await,
        "mixed-load" => mixed_load::run(db, quick).await,
        "live-stream" => live_stream::run(db, quick).await,
        "dashboard-render" => dashboard_render::run(db, quick).await,
        "auto-reply" => auto_reply::run(db, quick).await,
        "schedules" => schedules::run(db, quick).await,
        _ => Err(format!("unknown benchmark {name}")),
    };
    let (rows, code) = match result {
        Ok(rows) => (rows, ExitCode::SUCCESS),
        Err(e) => (
            vec![Row::new(
                name.split("-web").next().unwrap_or(name),
                db.name(),
                "(run)",
            )
            .note(format!("failed: {e}"))],
            ExitCode::FAILURE,
        ),
    };
    for row in rows {
        if let Ok(line) = serde_json::to_string(&row) {
            println!("{ROW_PREFIX}{line}");
        }
    }
    code
}

async fn run_parent(args: &Args) -> ExitCode {
    let command = format!(
        "cargo run --release -p wasl-bench --{}{}",
        if args.quick { " --quick" } else { "" },
        args.only
            .as_deref()
            .map(|o| format!(" --only {o}"))
            .unwrap_or_default()
    );
    let postgres = harness::postgres_reachable().await;
    if let Err(e) = &postgres {
        eprintln!(
            "PostgreSQL at {} is not reachable ({e}); its rows are not measured",
            harness::postgres_admin_url()
        );
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find this program's own path to start the benchmark processes");
        return ExitCode::FAILURE;
    };
    report::print_header();
    let mut rows = Vec::new();
    let mut failed = false;
    for bench in BENCHES
        .iter()
        .filter(|b| args.only.as_deref().is_none_or(|o| o == **b))
    {
        for db in [Db::Sqlite, Db::Postgres] {
            let child_rows = match (&postgres, db) {
                (Err(e), Db::Postgres) => {
                    vec![Row::new(bench, db.name(), "(run)")
                        .note(format!("not measured: PostgreSQL unreachable ({e})"))]
                }
                _ => {
                    let mut all = Vec::new();
                    for part in parts(bench) {
                        match run_child_process(&exe, part, db, args.quick) {
                            Ok((child_rows, ok)) => {
                                failed |= !ok;
                                all.extend(child_rows);
                            }
                            Err(e) => {
                                failed = true;
                                all.push(
                                    Row::new(bench, db.name(), "(run)")
                                        .note(format!("failed: {e}")),
                                );
                            }
                        }
                    }
                    all
                }
            };
            for row in &child_rows {
                report::print_row(row);
            }
            rows.extend(child_rows);
        }
    }
    if args.only.is_some() {
        println!("\n--only: docs/benchmarks.md is left as it is (only a full run rewrites it)");
    } else {
        let path = docs_path();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match std::fs::write(&path, report::markdown(&rows, args.quick, &command)) {
            Ok(()) => println!("\nwrote {}", path.display()),
            Err(e) => {
                eprintln!("cannot write {}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The child processes of a benchmark: the two session kinds are measured in processes of
/// their own, each against its own zero-session baseline.
fn parts(bench: &str) -> Vec<&str> {
    match bench {
        "sessions-memory" => vec![
            "sessions-memory",
            "sessions-memory-web",
            "sessions-memory-web-silent",
            "sessions-memory-web-linked",
        ],
        "send-throughput" => vec!["send-throughput", "send-throughput-web"],
        other => vec![other],
    }
}

/// Starts `exe --child BENCH DB` and collects the rows it prints; its stderr (progress) passes
/// through.
fn run_child_process(
    exe: &PathBuf,
    bench: &str,
    db: Db,
    quick: bool,
) -> Result<(Vec<Row>, bool), String> {
    let mut command = Command::new(exe);
    command
        .args(["--child", bench, db.name()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if quick {
        command.arg("--quick");
    }
    let mut child = command.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let mut rows = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match line.strip_prefix(ROW_PREFIX) {
                Some(json) => {
                    rows.push(serde_json::from_str(json).map_err(|e| format!("bad row: {e}"))?)
                }
                None => println!("{line}"),
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((rows, status.success()))
}

fn docs_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md")
}
