//! Wall-clock time in the units wasl stores (Unix milliseconds, UTC).

pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 text of a stored timestamp, as the API shows it.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where the time comes from for schedules that span hours (webhook retries): the system
/// clock in production, a clock the tests move forward instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now_millis(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        now_millis()
    }
}

/// The system clock shifted forward by as much as a test asks, so that a day of retries
/// passes in an instant without sleeping through it.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        now_millis() + self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
