//! sessions-memory: what one session costs in resident memory. 1,000 connected sandbox
//! sessions (target ≤ 100 KB each); 100 web-engine sessions that keep trying to connect, and
//! 100 web sessions linked through the local WhatsApp Web peer and idle (target ≤ 1 MB
//! each); each measured in its own process against that process with zero sessions.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::Semaphore;

use crate::harness::{rss_bytes, Account, BenchResult, Db, Fresh, Server};
use crate::report::Row;
use crate::web_peer::{self, PeerProcess};

const BENCH: &str = "sessions-memory";
const SANDBOX_SESSIONS: usize = 1_000;
const WEB_SESSIONS: usize = 100;
const SETUP_CONCURRENCY: usize = 16;

pub async fn run(db: Db, _quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = sandbox(db, &fresh).await;
    fresh.remove().await;
    result
}

/// Where the web sessions of a run are pointed: WhatsApp cannot be reached from a benchmark.
#[derive(Debug, Clone, Copy)]
pub enum WebStandIn {
    /// A closed port: every attempt is refused at once, and the session lives mostly in its
    /// backoff between attempts.
    Refusing,
    /// A server that takes the WebSocket and then never answers WhatsApp's handshake: every
    /// session holds a live client (its protocol state loaded, a socket open) until the
    /// handshake times out, the heaviest moment of a connecting session.
    Silent,
}

pub async fn run_web(db: Db, stand_in: WebStandIn) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = web(db, &fresh, stand_in).await;
    fresh.remove().await;
    result
}

async fn sandbox(db: Db, fresh: &Fresh) -> BenchResult<Vec<Row>> {
    let server = Arc::new(Server::start(fresh, &[]).await?);
    let account = Arc::new(server.enterprise_org("memory@bench.sa").await?);
    server.session_statuses(&account).await?;
    let before = rss_bytes()?;
    connect_sandbox_sessions(&server, &account, SANDBOX_SESSIONS).await?;
    eprintln!(
        "  {}: {SANDBOX_SESSIONS} sandbox sessions connected",
        db.name()
    );
    let after = rss_bytes()?;
    let per_session = after.saturating_sub(before) as f64 / SANDBOX_SESSIONS as f64;
    let row = Row::new(BENCH, db.name(), "RSS per connected sandbox session")
        .figure(
            format!("{:.1} KB", per_session / 1024.0),
            format!("{:.1} MB (0 sessions)", mb(before)),
            after as f64 / before as f64,
        )
        .target("≤ 100 KB", per_session <= 100.0 * 1024.0)
        .note(format!(
            "RSS {:.1} MB with 0 sessions → {:.1} MB with {SANDBOX_SESSIONS} connected sandbox sessions",
            mb(before),
            mb(after)
        ));
    drop(account);
    let server = Arc::into_inner(server).ok_or("the server is still shared")?;
    server.stop().await?;
    Ok(vec![row])
}

async fn web(db: Db, fresh: &Fresh, stand_in: WebStandIn) -> BenchResult<Vec<Row>> {
    let (url, measure, described) = match stand_in {
        WebStandIn::Refusing => (
            refusing_url().await?,
            "RSS per connecting web session (refused)",
            "pointed at a port that refuses connections",
        ),
        WebStandIn::Silent => (
            silent_server().await?,
            "RSS per connecting web session (handshake pending)",
            "each holding a WebSocket to a server that never answers the handshake",
        ),
    };
    let server = Arc::new(Server::start(fresh, &[("WASL_WEB_SOCKET_URL", url)]).await?);
    let account = Arc::new(server.enterprise_org("web@bench.sa").await?);
    server.session_statuses(&account).await?;
    let before = rss_bytes()?;
    let (status, _) = server.create_session(&account, &name(0), "web").await?;
    let rows = if status != StatusCode::CREATED {
        vec![Row::new(BENCH, db.name(), measure)
            .note(format!("not measured: web engine not available in this build (creating a web session answered {status})"))]
    } else {
        for_each(
            &server,
            &account,
            WEB_SESSIONS,
            |server, account, i| async move {
                if i == 0 {
                    return Ok(());
                }
                let (status, _) = server.create_session(&account, &name(i), "web").await?;
                expect_created(status, i)
            },
        )
        .await?;
        // Let every session go through a few refused attempts and its backoff, so what is
        // measured is a session in its steady "connecting" life, not its first instant.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let statuses = server.session_statuses(&account).await?;
        let after = rss_bytes()?;
        let per_session = after.saturating_sub(before) as f64 / WEB_SESSIONS as f64;
        let mut by_status: Vec<(String, usize)> = Vec::new();
        for s in statuses.values() {
            match by_status.iter_mut().find(|(k, _)| k == s) {
                Some((_, n)) => *n += 1,
                None => by_status.push((s.clone(), 1)),
            }
        }
        vec![Row::new(BENCH, db.name(), measure)
            .figure(
                format!("{:.1} KB", per_session / 1024.0),
                format!("{:.1} MB (0 sessions)", mb(before)),
                after as f64 / before as f64,
            )
            .target("≤ 1 MB", per_session <= 1024.0 * 1024.0)
            .note(format!(
                "RSS {:.1} MB → {:.1} MB with {WEB_SESSIONS} web sessions {described}, 5 s after creation; statuses then: {by_status:?}",
                mb(before),
                mb(after)
            ))]
    };
    drop(account);
    let server = Arc::into_inner(server).ok_or("the server is still shared")?;
    server.stop().await?;
    Ok(rows)
}

/// 100 web sessions linked by QR through the peer (in a process of its own), connected and
/// idle: each holds a logged-in client with its Signal and app-state keys loaded, a Noise
/// socket and its keep-alive.
pub async fn run_web_linked(db: Db) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = web_linked(db, &fresh).await;
    fresh.remove().await;
    result
}

async fn web_linked(db: Db, fresh: &Fresh) -> BenchResult<Vec<Row>> {
    const MEASURE: &str = "RSS per connected web session (linked, idle)";
    let peer = Arc::new(PeerProcess::start().await?);
    let server =
        Arc::new(Server::start(fresh, &[("WASL_WEB_SOCKET_URL", peer.url.clone())]).await?);
    let account = Arc::new(server.enterprise_org("linked@bench.sa").await?);
    server.session_statuses(&account).await?;
    let before = rss_bytes()?;
    let started = std::time::Instant::now();
    let permits = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = Vec::with_capacity(WEB_SESSIONS);
    for i in 0..WEB_SESSIONS {
        let (server, account, peer, permits) = (
            server.clone(),
            account.clone(),
            peer.clone(),
            permits.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            web_peer::link(&server, &account, &peer, &name(i), &format!("96651{i:07}")).await
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    server
        .wait_for_sessions(
            &account,
            "connected",
            WEB_SESSIONS,
            Duration::from_secs(300),
        )
        .await?;
    let linked_in = started.elapsed();
    eprintln!(
        "  {}: {WEB_SESSIONS} web sessions linked and connected in {:.1} s",
        db.name(),
        linked_in.as_secs_f64()
    );
    // Idle for a few keep-alive rounds, so what is measured is a session's steady life.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let statuses = server.session_statuses(&account).await?;
    let connected = statuses.values().filter(|s| *s == "connected").count();
    let after = rss_bytes()?;
    let per_session = after.saturating_sub(before) as f64 / WEB_SESSIONS as f64;
    let peer_rss = peer
        .rss_bytes()
        .map_or("unknown".to_owned(), |b| format!("{:.1} MB", mb(b)));
    let row = Row::new(BENCH, db.name(), MEASURE)
        .figure(
            format!("{:.1} KB", per_session / 1024.0),
            format!("{:.1} MB (0 sessions)", mb(before)),
            after as f64 / before as f64,
        )
        .target("≤ 1 MB", per_session <= 1024.0 * 1024.0 && connected == WEB_SESSIONS)
        .note(format!(
            "RSS {:.1} MB → {:.1} MB with {WEB_SESSIONS} web sessions linked by QR through the local WhatsApp Web peer (its own process, {peer_rss}) and idle 20 s; {connected} connected at the measure; linking all took {:.1} s",
            mb(before),
            mb(after),
            linked_in.as_secs_f64()
        ));
    drop(account);
    let server = Arc::into_inner(server).ok_or("the server is still shared")?;
    server.stop().await?;
    Ok(vec![row])
}

/// A port that was just free and is closed again: every connection attempt is refused.
async fn refusing_url() -> BenchResult<String> {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("find a closed port: {e}"))?;
    Ok(format!("ws://127.0.0.1:{}/ws/chat", closed.port()))
}

/// A WebSocket server that accepts every connection, completes the upgrade and then reads
/// and ignores whatever comes, so WhatsApp's handshake never gets its answer.
async fn silent_server() -> BenchResult<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind the silent server: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("silent server address: {e}"))?
        .port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use futures_util::StreamExt;
                if let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await {
                    while let Some(Ok(_)) = ws.next().await {}
                }
            });
        }
    });
    Ok(format!("ws://127.0.0.1:{port}/ws/chat"))
}

/// Creates `count` sandbox sessions named by [`session_name`], scans each and waits until all
/// are connected.
pub async fn connect_sandbox_sessions(
    server: &Arc<Server>,
    account: &Arc<Account>,
    count: usize,
) -> BenchResult<()> {
    for_each(server, account, count, |server, account, i| async move {
        let (status, _) = server.create_session(&account, &name(i), "sandbox").await?;
        expect_created(status, i)
    })
    .await?;
    server
        .wait_for_sessions(account, "qr", count, Duration::from_secs(300))
        .await?;
    for_each(server, account, count, |server, account, i| async move {
        server
            .scan(&account, &name(i), &format!("9665{i:08}"))
            .await
    })
    .await?;
    server
        .wait_for_sessions(account, "connected", count, Duration::from_secs(300))
        .await
}

pub fn session_name(i: usize) -> String {
    format!("s{i:04}")
}

fn name(i: usize) -> String {
    session_name(i)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

fn expect_created(status: StatusCode, i: usize) -> BenchResult<()> {
    // 200 is a retried create of a session that is already linking.
    if status == StatusCode::CREATED || status == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("creating session {} answered {status}", name(i)))
    }
}

/// Runs `step(i)` for `0..count`, a few at a time, retrying each a few times (a sandbox session
/// may not show its QR yet when its scan comes).
async fn for_each<F, Fut>(
    server: &Arc<Server>,
    account: &Arc<Account>,
    count: usize,
    step: F,
) -> BenchResult<()>
where
    F: Fn(Arc<Server>, Arc<Account>, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = BenchResult<()>> + Send,
{
    let permits = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let (server, account, step, permits) = (
            server.clone(),
            account.clone(),
            step.clone(),
            permits.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            let mut last = Ok(());
            for attempt in 0..5u64 {
                last = step(server.clone(), account.clone(), i).await;
                if last.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
            }
            last
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}
