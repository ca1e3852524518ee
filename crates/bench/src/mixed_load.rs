//! mixed-load: wasl as a busy organization uses it. 1,000 connected sandbox sessions, then 50
//! concurrent API clients for several minutes, each request one of: a send (40%), a listing
//! (30%) or a customer's message arriving through the sandbox (30%), spread over all the
//! sessions. Reported: errors (target none), latency percentiles per kind beside `/health`
//! measured by the same clients just before, and resident memory sampled through the run
//! (target: flat, the last minute no higher than the first by more than 10%). The measured
//! minutes follow a warm-up under the same load, in which the database's page caches (the
//! SQLite writer keeps 8 MB of them in the process) and the sandbox's bounded memory of what
//! it sent fill up: growth there is a cache reaching its size, not a leak. Beside the resident
//! memory the live heap is sampled too (bytes allocated and not freed, counted by the
//! benchmarks' allocator): resident memory also holds what the allocator keeps after a free.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{heap_bytes, rss_bytes, Account, BenchResult, Db, Fresh, Server};
use crate::load;
use crate::memory::{connect_sandbox_sessions, session_name};
use crate::report::Row;

const BENCH: &str = "mixed-load";
const SESSIONS: usize = 1_000;
const CLIENTS: usize = 50;
const CUSTOMERS: u64 = 20_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Send,
    List,
    Incoming,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Send, Kind::List, Kind::Incoming];

    fn of(i: u64) -> Kind {
        match i % 10 {
            0..=3 => Kind::Send,
            4..=6 => Kind::List,
            _ => Kind::Incoming,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Send => "send",
            Kind::List => "listing",
            Kind::Incoming => "incoming",
        }
    }
}

#[derive(Default)]
struct Tally {
    /// Latencies per kind.
    latencies: [Histogram; 3],
    errors: [u64; 3],
    first_error: Option<String>,
}

/// Latencies counted in buckets 1% wide (from 1 µs to over an hour), so that the load
/// generator, which shares the server's process, keeps the same memory however long it runs:
/// a list of every latency would itself grow the resident memory being measured.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

/// Bucket `i` holds latencies up to `1.01^i` µs.
const GROWTH: f64 = 1.01;
const BUCKETS: usize = 2_200;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl Histogram {
    fn record(&mut self, micros: u64) {
        let i = ((micros.max(1) as f64).ln() / GROWTH.ln()).ceil() as usize;
        self.counts[i.min(BUCKETS - 1)] += 1;
        self.total += 1;
    }

    fn len(&self) -> u64 {
        self.total
    }

    /// The `q` quantile in milliseconds: the upper bound of its bucket (at most 1% high).
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return GROWTH.powi(i as i32) / 1000.0;
            }
        }
        f64::NAN
    }
}

pub async fn run(db: Db, quick: bool) -> BenchResult<Vec<Row>> {
    let fresh = Fresh::create(db).await?;
    let result = measure(db, &fresh, quick).await;
    fresh.remove().await;
    result
}

async fn measure(db: Db, fresh: &Fresh, quick: bool) -> BenchResult<Vec<Row>> {
    let duration = Duration::from_secs(if quick { 20 } else { 180 });
    let warm_up = Duration::from_secs(if quick { 10 } else { 90 });
    let server = Arc::new(Server::start(fresh, &[]).await?);
    let account = Arc::new(server.enterprise_org("load@bench.sa").await?);
    connect_sandbox_sessions(&server, &account, SESSIONS).await?;
    eprintln!("  {}: {SESSIONS} sandbox sessions connected", db.name());

    let health_url = Arc::new(server.url("/health"));
    let health = load::run(CLIENTS, Duration::from_secs(5), 200_000, {
        let client = server.client.clone();
        move |_| {
            let (client, url) = (client.clone(), health_url.clone());
            async move { load::get_ok(&client, &url, None).await }
        }
    })
    .await;

    // Memory is sampled every 5 s while the clients run.
    let samples: Arc<Mutex<Vec<(Duration, u64)>>> = Arc::default();
    let heap: Arc<Mutex<Vec<(Duration, u64)>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let sampler = {
        let (samples, heap, running) = (samples.clone(), heap.clone(), running.clone());
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                if let Ok(rss) = rss_bytes() {
                    lock(&samples).push((started.elapsed(), rss));
                }
                lock(&heap).push((started.elapsed(), heap_bytes()));
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
    };
    let next = Arc::new(AtomicU64::new(0));
    let tally: Arc<Mutex<Tally>> = Arc::default();
    let measured_from = started + warm_up;
    let deadline = measured_from + duration;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (server, account, next, tally) =
                (server.clone(), account.clone(), next.clone(), tally.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let kind = Kind::of(i);
                    let sent = Instant::now();
                    let outcome = request(&server, &account, kind, i).await;
                    let micros = sent.elapsed().as_micros() as u64;
                    if sent < measured_from {
                        // Warm-up: errors still count, latencies do not.
                        if let Err(e) = outcome {
                            let mut t = lock(&tally);
                            t.errors[kind as usize] += 1;
                            t.first_error.get_or_insert(e);
                        }
                        continue;
                    }
                    let mut t = lock(&tally);
                    let k = kind as usize;
                    match outcome {
                        Ok(()) => t.latencies[k].record(micros),
                        Err(e) => {
                            t.errors[k] += 1;
                            t.first_error.get_or_insert(e);
                        }
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.map_err(|e| e.to_string())?;
    }
    let elapsed = measured_from.elapsed();
    running.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let samples = lock(&samples).clone();
    let heap = lock(&heap).clone();
    drop(account);
    let server = Arc::into_inner(server).ok_or("the server is still shared")?;
    server.stop().await?;

    let tally = Arc::into_inner(tally)
        .ok_or("the tally is still shared")?
        .into_inner()
        .map_err(|e| e.to_string())?;
    let total: u64 = tally.latencies.iter().map(Histogram::len).sum();
    let errors: u64 = tally.errors.iter().sum();
    let mut rows = Vec::new();
    rows.push(
        Row::new(BENCH, db.name(), "errors")
            .figure(
                format!("{errors}"),
                format!("{} requests", total + errors),
                0.0,
            )
            .target("0", errors == 0)
            .note(format!(
                "{SESSIONS} connected sandbox sessions, {CLIENTS} clients for {:.0} s after a {:.0} s warm-up, {:.0} requests/s in all (40% sends, 30% listings, 30% incoming messages over {CUSTOMERS} customers){}",
                elapsed.as_secs_f64(),
                warm_up.as_secs_f64(),
                total as f64 / elapsed.as_secs_f64(),
                tally
                    .first_error
                    .as_deref()
                    .map(|e| format!("; first error: {e}"))
                    .unwrap_or_default()
            )),
    );
    for kind in Kind::ALL {
        let l = &tally.latencies[kind as usize];
        rows.push(
            Row::new(
                BENCH,
                db.name(),
                &format!("{} p50 / p99 latency (ms)", kind.name()),
            )
            .figure(
                format!("{:.1} / {:.1}", l.quantile_ms(0.5), l.quantile_ms(0.99)),
                format!("{:.1} / {:.1} (/health)", health.p50(), health.p99()),
                l.quantile_ms(0.99) / health.p99(),
            )
            .note(format!(
                "{} answered, {:.0}/s, {} errors",
                l.len(),
                l.len() as f64 / elapsed.as_secs_f64(),
                tally.errors[kind as usize]
            )),
        );
    }
    rows.push(memory_row(
        db,
        "RSS, last window ÷ first window",
        &samples,
        warm_up,
        duration,
    ));
    rows.push(memory_row(
        db,
        "live heap, last window ÷ first window",
        &heap,
        warm_up,
        duration,
    ));
    Ok(rows)
}

/// Flat memory: the highest RSS of the last minute (the last third for short runs) against
/// the highest of the first minute after the warm-up.
fn memory_row(
    db: Db,
    measure: &str,
    samples: &[(Duration, u64)],
    warm_up: Duration,
    duration: Duration,
) -> Row {
    let window = Duration::from_secs(60).min(duration / 3);
    let early = samples
        .iter()
        .filter(|(t, _)| *t >= warm_up && *t <= warm_up + window)
        .map(|(_, r)| *r)
        .max()
        .unwrap_or(0);
    let late = samples
        .iter()
        .filter(|(t, _)| *t >= (warm_up + duration).saturating_sub(window))
        .map(|(_, r)| *r)
        .max()
        .unwrap_or(0);
    let growth = late as f64 / early.max(1) as f64;
    let trace: Vec<String> = samples
        .iter()
        .step_by((samples.len() / 12).max(1))
        .map(|(t, r)| format!("{:.0}s {:.0} MB", t.as_secs_f64(), *r as f64 / 1048576.0))
        .collect();
    Row::new(BENCH, db.name(), measure)
        .figure(
            format!("{:.1} MB", late as f64 / 1048576.0),
            format!(
                "{:.1} MB (first {:.0} s measured)",
                early as f64 / 1048576.0,
                window.as_secs_f64()
            ),
            growth,
        )
        .target("≤ 1.10×", growth <= 1.10)
        .note(format!(
            "samples every 5 s from the start of the warm-up ({:.0} s): {}",
            warm_up.as_secs_f64(),
            trace.join(", ")
        ))
}

async fn request(server: &Server, account: &Account, kind: Kind, i: u64) -> Result<(), String> {
    let session = session_name((i as usize * 7919) % SESSIONS);
    let customer = format!("9665{:08}", 30_000_000 + (i * 31) % CUSTOMERS);
    let (method, path, body, expect) = match kind {
        Kind::Send => (
            reqwest::Method::POST,
            "/api/v1/whatsapp/messages/send".to_owned(),
            Some(
                json!({"to": customer, "text": format!("طلبك رقم {i} جاهز للاستلام"), "sessionName": session}),
            ),
            StatusCode::CREATED,
        ),
        Kind::List => (
            reqwest::Method::GET,
            format!("/api/v1/whatsapp/messages?sessionName={session}&contact={customer}&limit=20"),
            None,
            StatusCode::OK,
        ),
        Kind::Incoming => (
            reqwest::Method::POST,
            format!("/api/v1/whatsapp/sandbox/{session}/incoming"),
            Some(
                json!({"from": customer, "type": "text", "text": format!("متى يصل الطلب {i}؟"), "pushName": "عميل"}),
            ),
            StatusCode::OK,
        ),
    };
    let (status, answer) = server.call(method, &path, &account.token, body).await?;
    if status == expect {
        Ok(())
    } else {
        Err(format!("{} {path}: {status} {answer}", kind.name()))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn quantiles_are_within_a_bucket_of_the_truth() {
        let mut h = Histogram::default();
        for micros in 1..=10_000u64 {
            h.record(micros);
        }
        assert_eq!(h.len(), 10_000);
        for (q, truth_ms) in [(0.5, 5.0), (0.99, 9.9), (1.0, 10.0)] {
            let got = h.quantile_ms(q);
            assert!(
                got >= truth_ms && got <= truth_ms * 1.011,
                "q{q}: {got} ms for {truth_ms} ms"
            );
        }
        assert!(Histogram::default().quantile_ms(0.5).is_nan());
        // Beyond the last bucket still counts, in the last bucket.
        h.record(u64::MAX);
        assert_eq!(h.len(), 10_001);
    }
}
