//! Time in the unit wasl stores (Unix milliseconds, UTC), and the one [`Clock`] that says what
//! time it is, injected wherever time decides something (retries, schedules, receipts), so that
//! tests move it forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

/// The wall clock, in Unix milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where the time comes from: the system clock in production, a clock a test moves.
pub trait Clock: Send + Sync + 'static {
    fn now_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        now_millis()
    }
}

/// The system clock shifted forward by as much as a test asks, so that a day of retries
/// passes in an instant without sleeping through it.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        now_millis() + self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_forward_by_what_it_is_told() {
        let clock = ManualClock::default();
        let before = clock.now_millis();
        clock.advance(std::time::Duration::from_secs(3600));
        let after = clock.now_millis();
        assert!(after - before >= 3_600_000, "{before} → {after}");
        assert!(SystemClock.now_millis() <= after);
    }
}
