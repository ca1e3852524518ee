//! Slows down password guessing and mass sign-ups, without letting an attacker lock a real
//! person out from elsewhere.
//!
//! Failed sign-ins are counted in a sliding window per (account, address) pair and per
//! address. Past the pair's limit, that address answers 429 for that account until the window
//! moves on, even with the right password; past the address's limit, the address answers 429
//! for every account. The account as a whole (failures from every address) is never locked:
//! past its own threshold each further attempt is only answered later, by a delay that grows
//! with the failures, so guessing from many addresses gets slow while the owner, from their
//! own address, still signs in. An unknown e-mail is counted and slowed the same way as a
//! known one, so neither the answer nor its timing tells them apart.
//!
//! Registrations are counted per address in a window of their own.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures of one account from one address before that pair is refused.
    pub per_pair: usize,
    /// Failures from one address, over all accounts, before the address is refused.
    pub per_ip: usize,
    /// Failures of one account, from anywhere, after which its attempts are slowed.
    pub slow_after: usize,
    /// The longest an attempt is slowed.
    pub max_delay: Duration,
    pub window: Duration,
    /// Registrations from one address per `registration_window`.
    pub registrations_per_ip: usize,
    pub registration_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_pair: 5,
            per_ip: 20,
            slow_after: 10,
            max_delay: Duration::from_secs(5),
            window: Duration::from_secs(15 * 60),
            registrations_per_ip: 10,
            registration_window: Duration::from_secs(3600),
        }
    }
}

/// Times of recent events by key, each kept for one window.
#[derive(Debug, Default)]
struct Windows {
    events: HashMap<String, VecDeque<Instant>>,
}

impl Windows {
    /// How many events `key` had in the window ending `now`, and when the oldest leaves it.
    fn count(&mut self, key: &str, window: Duration, now: Instant) -> (usize, Option<Duration>) {
        let Some(times) = self.events.get_mut(key) else {
            return (0, None);
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        let frees = times
            .front()
            .map(|first| window.saturating_sub(now.duration_since(*first)));
        (times.len(), frees)
    }

    fn record(&mut self, key: String, window: Duration, now: Instant) {
        // Bound memory under a flood of distinct names: forget windows that have passed.
        if self.events.len() > 100_000 {
            self.events.retain(|_, t| {
                t.back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
        self.events.entry(key).or_default().push_back(now);
    }

    fn clear(&mut self, key: &str) {
        self.events.remove(key);
    }
}

fn pair(account: &str, ip: &str) -> String {
    format!("pair:{account}\u{0}{ip}")
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    limits: Limits,
    failures: Mutex<Windows>,
    registrations: Mutex<Windows>,
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            failures: Mutex::default(),
            registrations: Mutex::default(),
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, Windows> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(wait)` when this address may not try this account (or any account) now.
    pub fn blocked(&self, account: &str, ip: &str, now: Instant) -> Option<Duration> {
        let window = self.limits.window;
        let mut failures = self.failures();
        let (by_pair, pair_frees) = failures.count(&pair(account, ip), window, now);
        let (by_ip, ip_frees) = failures.count(&format!("ip:{ip}"), window, now);
        [
            (by_pair >= self.limits.per_pair)
                .then_some(pair_frees)
                .flatten(),
            (by_ip >= self.limits.per_ip).then_some(ip_frees).flatten(),
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// How long to wait before answering an attempt on `account`: nothing until the account
    /// has failed `slow_after` times in the window (from anywhere), then 250 ms doubling with
    /// each further failure, up to `max_delay`.
    pub fn delay(&self, account: &str, now: Instant) -> Duration {
        let (failed, _) =
            self.failures()
                .count(&format!("account:{account}"), self.limits.window, now);
        let beyond = failed.saturating_sub(self.limits.slow_after);
        if beyond == 0 {
            return Duration::ZERO;
        }
        let steps = u32::try_from(beyond - 1).unwrap_or(u32::MAX).min(16);
        Duration::from_millis(250)
            .saturating_mul(1 << steps)
            .min(self.limits.max_delay)
    }

    pub fn record_failure(&self, account: &str, ip: &str, now: Instant) {
        let window = self.limits.window;
        let mut failures = self.failures();
        failures.record(pair(account, ip), window, now);
        failures.record(format!("ip:{ip}"), window, now);
        failures.record(format!("account:{account}"), window, now);
    }

    /// The right password from this address: its failures for the account are forgotten.
    pub fn record_success(&self, account: &str, ip: &str) {
        self.failures().clear(&pair(account, ip));
    }

    /// Counts a registration from `ip`; `Some(wait)` when the address has registered its
    /// limit already (the registration must not go ahead).
    pub fn register(&self, ip: &str, now: Instant) -> Option<Duration> {
        let window = self.limits.registration_window;
        let mut registrations = self.registrations.lock().unwrap_or_else(|e| e.into_inner());
        let (count, frees) = registrations.count(ip, window, now);
        if count >= self.limits.registrations_per_ip {
            return frees;
        }
        registrations.record(ip.to_owned(), window, now);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            per_pair: 3,
            per_ip: 5,
            slow_after: 4,
            max_delay: Duration::from_secs(2),
            window: Duration::from_secs(60),
            registrations_per_ip: 2,
            registration_window: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_pair_is_locked_but_the_account_only_slowed() {
        let limiter = LoginLimiter::new(limits());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.blocked("a@x.io", "1.1.1.1", t0), None);
            limiter.record_failure("a@x.io", "1.1.1.1", t0);
        }
        assert!(
            limiter.blocked("a@x.io", "1.1.1.1", t0).is_some(),
            "the pair"
        );
        assert_eq!(
            limiter.blocked("a@x.io", "2.2.2.2", t0),
            None,
            "the owner's own address is not locked out"
        );
        assert_eq!(limiter.delay("a@x.io", t0), Duration::ZERO);
        // Failures from many addresses slow the account, and never lock it.
        for i in 0..4 {
            limiter.record_failure("a@x.io", &format!("3.3.3.{i}"), t0);
        }
        // 7 failures, 3 beyond the threshold: 250 ms doubled twice.
        assert_eq!(limiter.delay("a@x.io", t0), Duration::from_millis(1_000));
        assert_eq!(limiter.blocked("a@x.io", "2.2.2.2", t0), None);
        for i in 0..10 {
            limiter.record_failure("a@x.io", &format!("4.4.4.{i}"), t0);
        }
        assert_eq!(
            limiter.delay("a@x.io", t0),
            Duration::from_secs(2),
            "capped"
        );
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            limiter.blocked("a@x.io", "1.1.1.1", later),
            None,
            "window passed"
        );
        assert_eq!(limiter.delay("a@x.io", later), Duration::ZERO);
    }

    #[test]
    fn an_address_failing_on_many_accounts_is_locked() {
        let limiter = LoginLimiter::new(limits());
        let t0 = Instant::now();
        for i in 0..5 {
            limiter.record_failure(&format!("u{i}@x.io"), "1.1.1.1", t0);
        }
        assert!(limiter.blocked("another@x.io", "1.1.1.1", t0).is_some());
        limiter.record_success("u0@x.io", "1.1.1.1");
        assert!(limiter.blocked("another@x.io", "1.1.1.1", t0).is_some());
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let limiter = LoginLimiter::new(limits());
        let t0 = Instant::now();
        assert_eq!(limiter.register("1.1.1.1", t0), None);
        assert_eq!(limiter.register("1.1.1.1", t0), None);
        assert!(limiter.register("1.1.1.1", t0).is_some());
        assert_eq!(limiter.register("2.2.2.2", t0), None);
        assert_eq!(
            limiter.register("1.1.1.1", t0 + Duration::from_secs(61)),
            None
        );
    }
}
