//! Slows down password guessing: failed sign-ins are counted per account and per client
//! address in a sliding window; past the limit, sign-in answers 429 until the window moves on,
//! even with the right password. A success clears the account's count.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: usize,
    pub per_ip: usize,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_account: 5,
            per_ip: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    limits: Limits,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            failures: Mutex::default(),
        }
    }

    fn keys(account: &str, ip: &str) -> [(String, usize); 2] {
        [(format!("account:{account}"), 0), (format!("ip:{ip}"), 1)]
    }

    /// `Some(wait)` when this account or address must wait before trying again.
    pub fn blocked(&self, account: &str, ip: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let caps = [self.limits.per_account, self.limits.per_ip];
        Self::keys(account, ip)
            .into_iter()
            .filter_map(|(key, which)| {
                let times = failures.get_mut(&key)?;
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.limits.window)
                {
                    times.pop_front();
                }
                (times.len() >= caps[which])
                    .then(|| {
                        times
                            .front()
                            .map(|first| self.limits.window - now.duration_since(*first))
                    })
                    .flatten()
            })
            .max()
    }

    pub fn record_failure(&self, account: &str, ip: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bound memory under a flood of distinct names: forget windows that have passed.
        if failures.len() > 100_000 {
            failures.retain(|_, t| {
                t.back()
                    .is_some_and(|last| now.duration_since(*last) < self.limits.window)
            });
        }
        for (key, _) in Self::keys(account, ip) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_recovers() {
        let limits = Limits {
            per_account: 3,
            per_ip: 5,
            window: Duration::from_secs(60),
        };
        let limiter = LoginLimiter::new(limits);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.blocked("a@x.io", "1.1.1.1", t0), None);
            limiter.record_failure("a@x.io", "1.1.1.1", t0);
        }
        assert!(
            limiter.blocked("a@x.io", "2.2.2.2", t0).is_some(),
            "per account"
        );
        assert_eq!(limiter.blocked("b@x.io", "1.1.1.1", t0), None);
        limiter.record_failure("b@x.io", "1.1.1.1", t0);
        limiter.record_failure("c@x.io", "1.1.1.1", t0);
        assert!(
            limiter.blocked("d@x.io", "1.1.1.1", t0).is_some(),
            "per address"
        );
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            limiter.blocked("a@x.io", "1.1.1.1", later),
            None,
            "window passed"
        );
        limiter.record_success("a@x.io");
    }
}
