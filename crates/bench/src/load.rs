//! A small closed-loop load generator: `concurrency` workers, each sending its next request
//! when the last one answered, for a fixed time and at most a fixed count, recording every
//! latency. Closed-loop means the figures are what the server sustains, not a queue's length.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Load {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Latencies of the successful requests, in microseconds, sorted.
    latencies: Vec<u64>,
}

impl Load {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency in milliseconds (nearest rank).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1] as f64 / 1000.0
    }

    pub fn p50(&self) -> f64 {
        self.quantile_ms(0.50)
    }

    pub fn p99(&self) -> f64 {
        self.quantile_ms(0.99)
    }
}

/// Runs `request(i)` (true when it succeeded) from `concurrency` workers until `duration` has
/// passed or `max_requests` were started.
pub async fn run<F, Fut>(
    concurrency: usize,
    duration: Duration,
    max_requests: u64,
    request: F,
) -> Load
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let next = next.clone();
            let request = request.clone();
            tokio::spawn(async move {
                let mut load = Load::default();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= max_requests {
                        break;
                    }
                    let sent = Instant::now();
                    if request(i).await {
                        load.ok += 1;
                        load.latencies.push(sent.elapsed().as_micros() as u64);
                    } else {
                        load.failed += 1;
                    }
                }
                load
            })
        })
        .collect();
    let mut total = Load::default();
    for worker in workers {
        if let Ok(load) = worker.await {
            total.ok += load.ok;
            total.failed += load.failed;
            total.latencies.extend(load.latencies);
        }
    }
    total.elapsed = started.elapsed();
    total.latencies.sort_unstable();
    total
}

/// A GET that counts as successful on any 2xx, with the body read to the end.
pub async fn get_ok(client: &reqwest::Client, url: &str, token: Option<&str>) -> bool {
    let mut req = client.get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    match req.send().await {
        Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
        Err(_) => false,
    }
}
