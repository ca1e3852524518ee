//! Prometheus metrics, kept by hand: a few counters and a latency histogram per route need no
//! metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct RouteTiming {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

pub struct Metrics {
    started: Instant,
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    timings: Mutex<BTreeMap<String, RouteTiming>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            requests: Mutex::default(),
            timings: Mutex::default(),
        }
    }
}

impl Metrics {
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        {
            let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            *requests
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        let mut timings = self.timings.lock().unwrap_or_else(|e| e.into_inner());
        let timing = timings.entry(route.to_owned()).or_default();
        timing.count += 1;
        timing.sum_secs += secs;
        for (bucket, bound) in timing.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP wasl_http_requests_total HTTP requests by method, route and status."
        );
        let _ = writeln!(out, "# TYPE wasl_http_requests_total counter");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "wasl_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP wasl_http_request_duration_seconds Time to answer a request, by route."
        );
        let _ = writeln!(out, "# TYPE wasl_http_request_duration_seconds histogram");
        for (route, t) in self
            .timings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let route = escape(route);
            for (bound, n) in BUCKETS.iter().zip(t.buckets) {
                let _ = writeln!(out, "wasl_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "wasl_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                t.count
            );
            let _ = writeln!(
                out,
                "wasl_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                t.sum_secs
            );
            let _ = writeln!(
                out,
                "wasl_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                t.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP wasl_uptime_seconds Seconds since this process started."
        );
        let _ = writeln!(out, "# TYPE wasl_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "wasl_uptime_seconds {}",
            self.started.elapsed().as_secs_f64()
        );
        if let Some(rss) = resident_memory_bytes() {
            let _ = writeln!(
                out,
                "# HELP process_resident_memory_bytes Resident memory size in bytes."
            );
            let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The process's resident memory, from `/proc/self/statm` (Linux; `None` elsewhere).
pub fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.record_request("GET", "/health", 200, Duration::from_millis(3));
        m.record_request("GET", "/health", 200, Duration::from_millis(30));
        let text = m.render();
        assert!(text
            .contains(r#"wasl_http_requests_total{method="GET",route="/health",status="200"} 2"#));
        assert!(text.contains(
            r#"wasl_http_request_duration_seconds_bucket{route="/health",le="0.005"} 1"#
        ));
        assert!(text.contains(r#"wasl_http_request_duration_seconds_count{route="/health"} 2"#));
    }
}
