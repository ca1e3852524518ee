//! Scheduled messages (SPEC §15): when each occurrence of a schedule falls. A schedule is a
//! local date and time in the organization's time zone, repeated daily, weekly or monthly
//! (every `interval` of them) until a local time or for a number of occurrences. Occurrences
//! are computed from the first one by their number, in local time, and only then turned
//! into instants with the zone's real rules: 09:00 stays 09:00 across a DST change, and a
//! monthly schedule on the 31st falls on the last day of shorter months (and comes back to
//! the 31st after them, never drifting to the 28th).

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::calendar::TimeZone;
use crate::{ParseError, Session};

/// The most occurrences a schedule may be asked for.
pub const MOST_COUNT: u32 = 10_000;
/// The largest interval (every 365 days, 52 weeks, 12 months… at most this many).
pub const MOST_INTERVAL: u32 = 365;

/// How often a schedule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
}

impl Frequency {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "daily" => Ok(Frequency::Daily),
            "weekly" => Ok(Frequency::Weekly),
            "monthly" => Ok(Frequency::Monthly),
            _ => Err(ParseError::new(
                field,
                "frequency must be daily, weekly or monthly",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }
}

/// How a schedule repeats: every `interval` days, weeks or months, until a local time
/// (inclusive) and/or for `count` occurrences in all, whichever ends first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub frequency: Frequency,
    pub interval: u32,
    pub until: Option<NaiveDateTime>,
    pub count: Option<u32>,
}

/// A schedule's occurrences: the first at `start` (local), then by `repeat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recurrence {
    pub start: NaiveDateTime,
    pub repeat: Option<Repeat>,
}

impl Recurrence {
    /// The local date and time of occurrence `n` (the first is 0), or `None` past the end.
    pub fn local(&self, n: u32) -> Option<NaiveDateTime> {
        let Some(repeat) = self.repeat else {
            return (n == 0).then_some(self.start);
        };
        if repeat.count.is_some_and(|count| n >= count) {
            return None;
        }
        let steps = u64::from(n) * u64::from(repeat.interval.max(1));
        let date = self.start.date();
        let date = match repeat.frequency {
            Frequency::Daily => date.checked_add_days(chrono::Days::new(steps))?,
            Frequency::Weekly => date.checked_add_days(chrono::Days::new(steps.checked_mul(7)?))?,
            Frequency::Monthly => {
                // From the first of the month, so the day is chosen in the month reached:
                // the 31st of a 30-day month is its 30th, and the 31st again the month after.
                let first = date.with_day(1)?;
                let month = first.checked_add_months(Months::new(u32::try_from(steps).ok()?))?;
                month.with_day(date.day().min(days_in_month(month)))?
            }
        };
        let local = date.and_time(self.start.time());
        match repeat.until {
            Some(until) if local > until => None,
            _ => Some(local),
        }
    }

    /// The instant of occurrence `n` in `zone`.
    pub fn instant(&self, zone: TimeZone, n: u32) -> Option<i64> {
        self.local(n).map(|local| zone.instant(local))
    }

    /// The first occurrence at or after the instant `at`: its number and instant.
    pub fn next_from(&self, zone: TimeZone, at: i64, from: u32) -> Option<(u32, i64)> {
        // A first guess by elapsed time (never past the answer), then step forward: a
        // schedule started years ago does not walk through every day since.
        let mut n = from.max(self.guess(zone, at));
        loop {
            let instant = self.instant(zone, n)?;
            if instant >= at {
                return Some((n, instant));
            }
            n = n.checked_add(1)?;
        }
    }

    /// A number of occurrence surely not after the first one at or after `at`.
    fn guess(&self, zone: TimeZone, at: i64) -> u32 {
        let Some(repeat) = self.repeat else { return 0 };
        let local = zone.local(at);
        if local <= self.start {
            return 0;
        }
        let interval = i64::from(repeat.interval.max(1));
        let elapsed = match repeat.frequency {
            Frequency::Daily => (local - self.start).num_days() / interval,
            Frequency::Weekly => (local - self.start).num_days() / 7 / interval,
            Frequency::Monthly => {
                let months = (i64::from(local.year()) - i64::from(self.start.year())) * 12
                    + i64::from(local.month())
                    - i64::from(self.start.month());
                months / interval
            }
        };
        // One step back covers a DST shift or a short month between the guess and `at`.
        u32::try_from((elapsed - 1).max(0)).unwrap_or(u32::MAX)
    }
}

fn days_in_month(first: NaiveDate) -> u32 {
    let next = first
        .checked_add_months(Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    u32::try_from((next - first).num_days()).unwrap_or(31)
}

/// A local time as the API takes it: `2027-03-15T09:00` (seconds allowed), in the
/// organization's zone; or an RFC 3339 time with an offset, the same instant seen in that
/// zone.
pub fn parse_local_time(
    field: &'static str,
    value: &str,
    zone: TimeZone,
) -> Result<NaiveDateTime, ParseError> {
    let value = value.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(zone.local(t.timestamp_millis()));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(t);
        }
    }
    Err(ParseError::new(
        field,
        "a local date and time such as 2027-03-15T09:00, or an RFC 3339 time with an offset",
    ))
}

/// `until` as the API takes it: a local date (the whole day counts) or a local time.
pub fn parse_until(
    field: &'static str,
    value: &str,
    zone: TimeZone,
) -> Result<NaiveDateTime, ParseError> {
    if let Ok(date) = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") {
        return Ok(date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default()));
    }
    parse_local_time(field, value, zone)
}

/// A local time as the API writes it back: `2027-03-15T09:00` (seconds when there are some).
pub fn write_local(t: NaiveDateTime) -> String {
    if t.and_utc().timestamp() % 60 == 0 {
        t.format("%Y-%m-%dT%H:%M").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// Reads a local time this module wrote.
pub fn read_local(stored: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(stored, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(stored, "%Y-%m-%dT%H:%M"))
        .ok()
}

impl Repeat {
    pub fn parse(
        frequency: &str,
        interval: Option<i64>,
        until: Option<&str>,
        count: Option<i64>,
        zone: TimeZone,
    ) -> Result<Self, Vec<ParseError>> {
        let mut errors = Vec::new();
        let frequency = Frequency::parse("repeat.frequency", frequency)
            .map_err(|e| errors.push(e))
            .ok();
        let interval = match interval {
            None => Some(1),
            Some(i) => match u32::try_from(i)
                .ok()
                .filter(|i| (1..=MOST_INTERVAL).contains(i))
            {
                Some(i) => Some(i),
                None => {
                    errors.push(ParseError::new(
                        "repeat.interval",
                        format!("1 to {MOST_INTERVAL}"),
                    ));
                    None
                }
            },
        };
        let until = match until.filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(u) => match parse_until("repeat.until", u, zone) {
                Ok(u) => Some(u),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        let count = match count {
            None => None,
            Some(c) => match u32::try_from(c)
                .ok()
                .filter(|c| (1..=MOST_COUNT).contains(c))
            {
                Some(c) => Some(c),
                None => {
                    errors.push(ParseError::new(
                        "repeat.count",
                        format!("1 to {MOST_COUNT}"),
                    ));
                    None
                }
            },
        };
        match (frequency, interval) {
            (Some(frequency), Some(interval)) if errors.is_empty() => Ok(Repeat {
                frequency,
                interval,
                until,
                count,
            }),
            _ => Err(errors),
        }
    }
}

/// Where a schedule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleStatus {
    /// Occurrences are sent when they come.
    Active,
    /// Nothing is sent until it is resumed; occurrences meanwhile are passed over.
    Paused,
    /// Its last occurrence came.
    Completed,
    /// Ended by someone; kept with its occurrences.
    Cancelled,
}

impl ScheduleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleStatus::Active => "active",
            ScheduleStatus::Paused => "paused",
            ScheduleStatus::Completed => "completed",
            ScheduleStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(value: &str) -> Self {
        match value {
            "paused" => ScheduleStatus::Paused,
            "completed" => ScheduleStatus::Completed,
            "cancelled" => ScheduleStatus::Cancelled,
            _ => ScheduleStatus::Active,
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "active" => Ok(ScheduleStatus::Active),
            "paused" => Ok(ScheduleStatus::Paused),
            "completed" => Ok(ScheduleStatus::Completed),
            "cancelled" => Ok(ScheduleStatus::Cancelled),
            _ => Err(ParseError::new(
                field,
                "active, paused, completed or cancelled",
            )),
        }
    }
}

/// A scheduled message as stored.
#[derive(Debug, Clone)]
pub struct ScheduledMessage {
    pub id: String,
    pub organization_id: crate::OrgId,
    /// The session it is sent from; the organization's `default` when not given.
    pub session_name: Option<crate::SessionName>,
    pub to: String,
    pub message: crate::automation::Reply,
    pub recurrence: Recurrence,
    pub status: ScheduleStatus,
    /// The number of the next occurrence to come.
    pub next_number: u32,
    /// When it comes (UTC); `None` once there is none.
    pub next_run_at: Option<i64>,
    /// Grows with every change and firing (see the store's firing).
    pub revision: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ScheduledMessage {
    /// Whether `session` is the one it is sent from.
    pub fn sends_from(&self, session: &Session) -> bool {
        let name = self.session_name.as_ref().map_or("default", |n| n.as_str());
        session.name.as_str() == name
    }
}

/// What became of one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccurrenceOutcome {
    /// Its message was put in the outbox (its status is then the message's).
    Sent,
    /// It fell while wasl was down, longer ago than the grace period: not sent.
    Missed,
    /// Not sent, for the customer's sake: blocked, or opted out of a marketing template.
    Skipped,
    /// It could not be made (its template or file is gone, its session deleted).
    Failed,
}

impl OccurrenceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OccurrenceOutcome::Sent => "sent",
            OccurrenceOutcome::Missed => "missed",
            OccurrenceOutcome::Skipped => "skipped",
            OccurrenceOutcome::Failed => "failed",
        }
    }

    pub fn from_stored(value: &str) -> Self {
        match value {
            "missed" => OccurrenceOutcome::Missed,
            "skipped" => OccurrenceOutcome::Skipped,
            "failed" => OccurrenceOutcome::Failed,
            _ => OccurrenceOutcome::Sent,
        }
    }
}

/// One occurrence as it came.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub schedule_id: String,
    pub number: u32,
    pub due_at: i64,
    pub fired_at: i64,
    pub outcome: OccurrenceOutcome,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    pub message_id: Option<String>,
    /// Its message's status, when it has a message.
    pub message_status: Option<crate::MessageStatus>,
}

/// What to do with the occurrences of a schedule that are due at `now`: the ones late by
/// more than `grace_ms` are missed; of the rest only the latest is sent (a short outage sends
/// late once, never a burst). Returns the missed numbers, the one to send, and the next.
pub fn due_occurrences(
    recurrence: &Recurrence,
    zone: TimeZone,
    next_number: u32,
    now: i64,
    grace_ms: i64,
) -> Due {
    let mut due = Due {
        missed: Vec::new(),
        send: None,
        next: None,
    };
    let mut n = next_number;
    // An outage of years on a daily schedule records at most this many missed occurrences
    // one by one; the rest are passed over together.
    const MOST_RECORDED: usize = 1_000;
    while let Some(at) = recurrence.instant(zone, n) {
        if at > now {
            due.next = Some((n, at));
            break;
        }
        if now - at > grace_ms {
            if due.missed.len() < MOST_RECORDED {
                due.missed.push((n, at));
            } else if let Some((skip_to, _)) = recurrence.next_from(zone, now - grace_ms, n) {
                n = skip_to;
                continue;
            }
        } else if let Some(earlier) = due.send.replace((n, at)) {
            due.missed.push(earlier);
        }
        match n.checked_add(1) {
            Some(next) => n = next,
            None => break,
        }
    }
    due
}

/// The occurrences due now (see [`due_occurrences`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub missed: Vec<(u32, i64)>,
    pub send: Option<(u32, i64)>,
    /// The next occurrence after them, if any.
    pub next: Option<(u32, i64)>,
}

/// The instants of a schedule's occurrences from `from` (an instant) up to `to`, at most
/// `limit`: the calendar of what is coming.
pub fn upcoming(
    recurrence: &Recurrence,
    zone: TimeZone,
    next_number: u32,
    from: i64,
    to: i64,
    limit: usize,
) -> Vec<(u32, i64)> {
    let mut found = Vec::new();
    let Some((mut n, mut at)) = recurrence.next_from(zone, from, next_number) else {
        return found;
    };
    while at <= to && found.len() < limit {
        found.push((n, at));
        let Some(next) = n.checked_add(1) else { break };
        n = next;
        match recurrence.instant(zone, n) {
            Some(next_at) => at = next_at,
            None => break,
        }
    }
    found
}

/// A day's worth of milliseconds, for callers that count in days.
pub const DAY_MS: i64 = Duration::days(1).num_milliseconds();

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse("tz", name).expect("zone")
    }

    fn local(s: &str) -> NaiveDateTime {
        parse_local_time("t", s, zone("UTC")).expect("local")
    }

    fn utc(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .timestamp_millis()
    }

    fn repeat(frequency: Frequency, interval: u32) -> Option<Repeat> {
        Some(Repeat {
            frequency,
            interval,
            until: None,
            count: None,
        })
    }

    #[test]
    fn nine_in_berlin_stays_nine_across_both_dst_changes() {
        let berlin = zone("Europe/Berlin");
        let r = Recurrence {
            start: local("2027-03-26T09:00"),
            repeat: repeat(Frequency::Daily, 1),
        };
        // CET (UTC+1) before the last Sunday of March, CEST (UTC+2) after.
        assert_eq!(r.instant(berlin, 0), Some(utc("2027-03-26T08:00:00Z")));
        assert_eq!(r.instant(berlin, 3), Some(utc("2027-03-29T07:00:00Z")));
        let autumn = Recurrence {
            start: local("2027-10-30T09:00"),
            repeat: repeat(Frequency::Daily, 1),
        };
        assert_eq!(autumn.instant(berlin, 0), Some(utc("2027-10-30T07:00:00Z")));
        assert_eq!(autumn.instant(berlin, 1), Some(utc("2027-10-31T08:00:00Z")));
    }

    #[test]
    fn a_time_the_clocks_skip_is_read_after_the_jump() {
        let berlin = zone("Europe/Berlin");
        let r = Recurrence {
            start: local("2027-03-27T02:30"),
            repeat: repeat(Frequency::Daily, 1),
        };
        // 02:30 does not exist on 28 March 2027 in Berlin: it is sent when the clocks jump,
        // 03:00 CEST, and the next day at 02:30 again.
        assert_eq!(r.instant(berlin, 1), Some(utc("2027-03-28T01:00:00Z")));
        assert_eq!(r.local(2), Some(local("2027-03-29T02:30")));
    }

    #[test]
    fn monthly_on_the_31st_falls_on_the_last_day_and_comes_back() {
        let r = Recurrence {
            start: local("2027-01-31T10:00"),
            repeat: repeat(Frequency::Monthly, 1),
        };
        let days: Vec<String> = (0..5)
            .filter_map(|n| r.local(n))
            .map(|t| t.format("%m-%d").to_string())
            .collect();
        assert_eq!(days, ["01-31", "02-28", "03-31", "04-30", "05-31"]);
        let leap = Recurrence {
            start: local("2028-01-31T10:00"),
            repeat: repeat(Frequency::Monthly, 1),
        };
        assert_eq!(leap.local(1), Some(local("2028-02-29T10:00")));
        let quarterly = Recurrence {
            start: local("2027-11-30T08:00"),
            repeat: repeat(Frequency::Monthly, 3),
        };
        assert_eq!(quarterly.local(1), Some(local("2028-02-29T08:00")));
        assert_eq!(quarterly.local(2), Some(local("2028-05-30T08:00")));
    }

    #[test]
    fn until_and_count_end_the_series_whichever_comes_first() {
        let until = parse_until("until", "2027-01-03", zone("UTC")).expect("until");
        let r = Recurrence {
            start: local("2027-01-01T09:00"),
            repeat: Some(Repeat {
                frequency: Frequency::Daily,
                interval: 1,
                until: Some(until),
                count: Some(10),
            }),
        };
        assert!(r.local(2).is_some());
        assert_eq!(r.local(3), None, "the 4th is after the 3rd of January");
        let counted = Recurrence {
            repeat: Some(Repeat {
                until: None,
                count: Some(2),
                ..r.repeat.expect("repeat")
            }),
            ..r
        };
        assert!(counted.local(1).is_some());
        assert_eq!(counted.local(2), None);
        let once = Recurrence {
            start: local("2027-01-01T09:00"),
            repeat: None,
        };
        assert_eq!(once.local(1), None);
    }

    #[test]
    fn weekly_with_an_interval_and_the_next_from_a_late_start() {
        let riyadh = zone("Asia/Riyadh");
        let r = Recurrence {
            start: local("2027-01-04T18:00"),
            repeat: repeat(Frequency::Weekly, 2),
        };
        assert_eq!(r.local(1), Some(local("2027-01-18T18:00")));
        // Years later, the next occurrence is found without walking every week since.
        let at = utc("2031-06-01T00:00:00Z");
        let (n, instant) = r.next_from(riyadh, at, 0).expect("next");
        assert!(instant >= at);
        assert!(r.instant(riyadh, n - 1).expect("previous") < at);
        assert_eq!(
            instant - r.instant(riyadh, n - 1).expect("previous"),
            14 * DAY_MS
        );
    }

    #[test]
    fn a_short_outage_sends_late_once_a_long_one_misses() {
        let utc_zone = zone("UTC");
        let r = Recurrence {
            start: local("2027-01-01T09:00"),
            repeat: repeat(Frequency::Daily, 1),
        };
        let hour = 3_600_000;
        // Down from 08:00 to 09:30 on the 1st: the 09:00 occurrence goes at 09:30.
        let now = utc("2027-01-01T09:30:00Z");
        let due = due_occurrences(&r, utc_zone, 0, now, hour);
        assert_eq!(due.send, Some((0, utc("2027-01-01T09:00:00Z"))));
        assert!(due.missed.is_empty());
        assert_eq!(due.next.map(|n| n.0), Some(1));
        // Down for three days: the 1st, 2nd and 3rd are missed; the 4th at 09:20 is sent.
        let now = utc("2027-01-04T09:20:00Z");
        let due = due_occurrences(&r, utc_zone, 0, now, hour);
        assert_eq!(
            due.missed.iter().map(|m| m.0).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(due.send.map(|s| s.0), Some(3));
        // Two hours late: missed, nothing sent.
        let now = utc("2027-01-01T11:00:00Z");
        let due = due_occurrences(&r, utc_zone, 0, now, hour);
        assert_eq!(due.send, None);
        assert_eq!(due.missed.len(), 1);
    }

    #[test]
    fn a_decade_of_downtime_is_passed_over_without_recording_every_day() {
        let r = Recurrence {
            start: local("2020-01-01T09:00"),
            repeat: repeat(Frequency::Daily, 1),
        };
        let now = utc("2030-01-01T12:00:00Z");
        let due = due_occurrences(&r, zone("UTC"), 0, now, 3_600_000);
        assert_eq!(due.missed.len(), 1_000);
        assert_eq!(due.send, None);
        let (n, at) = due.next.expect("next");
        assert_eq!(at, utc("2030-01-02T09:00:00Z"));
        assert!(n > 3_000);
    }

    #[test]
    fn a_time_with_an_offset_is_seen_in_the_zone() {
        let t = parse_local_time(
            "scheduleAt",
            "2027-03-15T09:00:00+00:00",
            zone("Asia/Riyadh"),
        )
        .expect("parse");
        assert_eq!(write_local(t), "2027-03-15T12:00");
        assert!(parse_local_time("scheduleAt", "tomorrow", zone("UTC")).is_err());
        assert_eq!(read_local("2027-03-15T12:00"), Some(t));
    }

    #[test]
    fn the_calendar_lists_what_comes_in_a_window() {
        let r = Recurrence {
            start: local("2027-01-01T09:00"),
            repeat: repeat(Frequency::Daily, 1),
        };
        let got = upcoming(
            &r,
            zone("UTC"),
            0,
            utc("2027-01-10T00:00:00Z"),
            utc("2027-01-12T23:00:00Z"),
            10,
        );
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [9, 10, 11]);
    }
}
