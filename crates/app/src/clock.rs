//! The clock wasl runs by (see [`wasl_domain::time`]), and how the API writes a time.

pub use wasl_domain::time::{now_millis, Clock, ManualClock, SystemClock};

/// RFC 3339 text of a stored timestamp, as the API shows it.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
