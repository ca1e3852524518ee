//! The organization's calendar (SPEC §11, §14): its time zone, business hours of several
//! periods a day (a period may run past midnight), holidays as whole local days, and the
//! time/day conditions of automation. Everything is computed in local time with the zone's
//! real rules (DST included) from the UTC instants wasl stores, never with a fixed offset.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _,
    Timelike, Utc,
};

use crate::ParseError;

/// An IANA time zone (`Asia/Riyadh`), checked against the time-zone database wasl carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Where an organization is unless it says otherwise.
    pub const DEFAULT: TimeZone = TimeZone(chrono_tz::Asia::Riyadh);

    pub fn parse(field: &'static str, name: &str) -> Result<Self, ParseError> {
        name.trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| {
                ParseError::coded(
                    field,
                    "invalid_time_zone",
                    format!("{name:?} is not an IANA time zone (such as \"Asia/Riyadh\")"),
                )
            })
    }

    /// A zone read back from storage; an unknown name (the database aged) falls back to
    /// the default rather than failing a read.
    pub fn from_stored(name: &str) -> Self {
        name.parse().map(TimeZone).unwrap_or(Self::DEFAULT)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The local date and time of the instant `at` (Unix milliseconds).
    pub fn local(&self, at: i64) -> NaiveDateTime {
        self.0.from_utc_datetime(&utc(at).naive_utc()).naive_local()
    }

    /// The instant of a local date and time. A time the clocks skipped (spring forward) is
    /// read as the moment they jumped (02:30 on a night that goes from 02:00 to 03:00 is
    /// 03:00); one they passed twice, as the first.
    pub fn instant(&self, local: NaiveDateTime) -> i64 {
        let mut probe = local;
        for _ in 0..4 {
            match self.0.from_local_datetime(&probe) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc).timestamp_millis();
                }
                // Skipped: move forward by the gap (at most a few hours in any zone).
                LocalResult::None => probe += Duration::minutes(30),
            }
        }
        local.and_utc().timestamp_millis()
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn utc(at: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default()
}

/// A day of the week, named as the API names it (`sunday` … `saturday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Sunday,
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Sunday => "sunday",
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        Weekday::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| {
                ParseError::new(field, format!("{value:?} is not a day (sunday … saturday)"))
            })
    }

    pub fn of(date: NaiveDate) -> Self {
        Weekday::ALL[date.weekday().num_days_from_sunday() as usize]
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A wall-clock time of day, minute precision (`"09:00"`); `"24:00"` is the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub const MIDNIGHT: ClockTime = ClockTime(0);
    pub const END_OF_DAY: ClockTime = ClockTime(24 * 60);

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError::new(
                field,
                format!("{value:?} is not a time of day (HH:MM, 00:00–24:00)"),
            )
        };
        let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(ClockTime(h * 60 + m))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    fn of(time: NaiveTime) -> Self {
        ClockTime(u16::try_from(time.hour() * 60 + time.minute()).unwrap_or(0))
    }

    fn on(self, date: NaiveDate) -> NaiveDateTime {
        date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(i64::from(self.0))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A stretch of the day from `start` to `end`; an `end` at or before `start` runs past
/// midnight into the next day (`22:00`–`02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl Period {
    pub fn parse(field: &'static str, start: &str, end: &str) -> Result<Self, ParseError> {
        let start = ClockTime::parse(field, start)?;
        let end = ClockTime::parse(field, end)?;
        if start == ClockTime::END_OF_DAY {
            return Err(ParseError::new(field, "a period cannot start at 24:00"));
        }
        if start == end {
            return Err(ParseError::new(
                field,
                "a period must not start and end at the same time",
            ));
        }
        Ok(Period { start, end })
    }

    pub fn crosses_midnight(self) -> bool {
        self.end <= self.start
    }

    /// Whether local time `t` of a day lies in this period as it starts that day (the part
    /// before midnight for a crossing period).
    fn holds_from_start(self, t: ClockTime) -> bool {
        if self.crosses_midnight() {
            t >= self.start
        } else {
            t >= self.start && t < self.end
        }
    }

    /// Whether local time `t` lies in the part after midnight of this period as it started
    /// the day before.
    fn holds_after_midnight(self, t: ClockTime) -> bool {
        self.crosses_midnight() && t < self.end
    }

    /// Whether local time `t` of a day lies in this period, started that day or the day
    /// before (a time range that repeats every day).
    pub fn holds(self, t: ClockTime) -> bool {
        self.holds_from_start(t) || self.holds_after_midnight(t)
    }
}

/// When the organization is open: periods for each day of the week and closed holidays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessHours {
    /// Indexed by [`Weekday`] (Sunday first).
    pub weekly: [Vec<Period>; 7],
    pub holidays: BTreeSet<NaiveDate>,
}

/// Periods one day may hold; more is surely a mistake.
pub const MOST_PERIODS_A_DAY: usize = 12;
/// Holidays one calendar may list.
pub const MOST_HOLIDAYS: usize = 366;

impl BusinessHours {
    pub fn periods(&self, day: Weekday) -> &[Period] {
        &self.weekly[day.index()]
    }

    pub fn set_periods(&mut self, day: Weekday, periods: Vec<Period>) {
        self.weekly[day.index()] = periods;
    }

    /// Whether no period is defined at all: the organization then has no business hours,
    /// and "within business hours" never holds.
    pub fn is_empty(&self) -> bool {
        self.weekly.iter().all(Vec::is_empty)
    }

    /// Periods of one day must not overlap each other (a crossing one runs to midnight for
    /// this check, and its morning part must not overlap the next day's periods).
    pub fn check(&self) -> Result<(), ParseError> {
        for day in Weekday::ALL {
            let periods = self.periods(day);
            if periods.len() > MOST_PERIODS_A_DAY {
                return Err(ParseError::new(
                    "weekly",
                    format!(
                        "{} has more than {MOST_PERIODS_A_DAY} periods",
                        day.as_str()
                    ),
                ));
            }
            let mut spans: Vec<(u16, u16)> = periods
                .iter()
                .map(|p| {
                    let end = if p.crosses_midnight() {
                        ClockTime::END_OF_DAY
                    } else {
                        p.end
                    };
                    (p.start.minutes(), end.minutes())
                })
                .collect();
            // The morning part of yesterday's crossing periods.
            let yesterday = Weekday::ALL[(day.index() + 6) % 7];
            spans.extend(
                self.periods(yesterday)
                    .iter()
                    .filter(|p| p.crosses_midnight() && p.end > ClockTime::MIDNIGHT)
                    .map(|p| (0, p.end.minutes())),
            );
            spans.sort_unstable();
            if spans.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(ParseError::coded(
                    "weekly",
                    "overlapping_periods",
                    format!("periods of {} overlap", day.as_str()),
                ));
            }
        }
        if self.holidays.len() > MOST_HOLIDAYS {
            return Err(ParseError::new(
                "holidays",
                format!("at most {MOST_HOLIDAYS} holidays"),
            ));
        }
        Ok(())
    }

    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    /// Whether the organization is open at local date-time `local`: not on a holiday, and in
    /// a period of that day, or in the after-midnight part of a period of the day before
    /// (unless that day was a holiday: its shift did not happen).
    pub fn is_open_local(&self, local: NaiveDateTime) -> bool {
        let date = local.date();
        if self.is_holiday(date) {
            return false;
        }
        let t = ClockTime::of(local.time());
        let today = Weekday::of(date);
        if self.periods(today).iter().any(|p| p.holds_from_start(t)) {
            return true;
        }
        let Some(before) = date.pred_opt() else {
            return false;
        };
        !self.is_holiday(before)
            && self
                .periods(Weekday::of(before))
                .iter()
                .any(|p| p.holds_after_midnight(t))
    }

    /// Whether the organization is open at instant `at` (Unix milliseconds) in `zone`.
    pub fn is_open(&self, zone: TimeZone, at: i64) -> bool {
        self.is_open_local(zone.local(at))
    }

    /// The first instant after `at` at which open turns to closed or back; `None` when it
    /// never changes within the coming weeks (no periods, or only holidays ahead).
    pub fn next_change(&self, zone: TimeZone, at: i64) -> Option<i64> {
        const HORIZON_DAYS: i64 = 400;
        let open = self.is_open(zone, at);
        let today = zone.local(at).date();
        let mut day = today.pred_opt()?;
        let last = today + Duration::days(HORIZON_DAYS);
        while day <= last {
            // This day's boundaries in local time: its own periods' starts and ends, and
            // its midnight (where holidays begin and end).
            let mut boundaries: Vec<NaiveDateTime> = vec![ClockTime::MIDNIGHT.on(day)];
            for p in self.periods(Weekday::of(day)) {
                boundaries.push(p.start.on(day));
                let end_day = if p.crosses_midnight() {
                    day.succ_opt()?
                } else {
                    day
                };
                boundaries.push(p.end.on(end_day));
            }
            let mut instants: Vec<i64> = boundaries.into_iter().map(|b| zone.instant(b)).collect();
            instants.sort_unstable();
            if let Some(change) = instants
                .into_iter()
                .find(|&t| t > at && self.is_open(zone, t) != open)
            {
                return Some(change);
            }
            day = day.succ_opt()?;
        }
        None
    }
}

/// A condition of automation on the local time: a time range that repeats every day (it may
/// cross midnight) and the days it holds on. For a crossing range, the part after midnight
/// belongs to the day it started: `22:00`–`02:00` on Thursday holds at 01:00 on Friday.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeCondition {
    pub range: Option<Period>,
    /// Empty: every day.
    pub days: Vec<Weekday>,
}

impl TimeCondition {
    pub fn holds(&self, local: NaiveDateTime) -> bool {
        let today = Weekday::of(local.date());
        let day_allowed = |d: Weekday| self.days.is_empty() || self.days.contains(&d);
        let t = ClockTime::of(local.time());
        match self.range {
            None => day_allowed(today),
            Some(range) => {
                if range.holds_from_start(t) && day_allowed(today) {
                    return true;
                }
                let yesterday = Weekday::ALL[(today.index() + 6) % 7];
                range.holds_after_midnight(t) && day_allowed(yesterday)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: TimeZone, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        zone.instant(
            NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_opt(h, mi, 0))
                .expect("a date"),
        )
    }

    fn period(start: &str, end: &str) -> Period {
        Period::parse("p", start, end).expect("a period")
    }

    fn riyadh() -> TimeZone {
        TimeZone::parse("timezone", "Asia/Riyadh").expect("a zone")
    }

    /// Sunday–Thursday 09:00–13:00 and 16:00–22:00; Friday night 22:00–02:00.
    fn shop() -> BusinessHours {
        let mut hours = BusinessHours::default();
        for day in [
            Weekday::Sunday,
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
        ] {
            hours.set_periods(
                day,
                vec![period("09:00", "13:00"), period("16:00", "22:00")],
            );
        }
        hours.set_periods(Weekday::Friday, vec![period("22:00", "02:00")]);
        hours
    }

    #[test]
    fn zones_are_checked_against_the_database() {
        assert_eq!(riyadh().name(), "Asia/Riyadh");
        assert!(TimeZone::parse("timezone", "Europe/Berlin").is_ok());
        let e = TimeZone::parse("timezone", "Mars/Olympus").expect_err("no such zone");
        assert_eq!(e.code, "invalid_time_zone");
        assert!(TimeZone::parse("timezone", "+03:00").is_err());
        assert_eq!(TimeZone::from_stored("Nowhere/Gone"), TimeZone::DEFAULT);
    }

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!(ClockTime::parse("t", "09:30").expect("ok").minutes(), 570);
        assert_eq!(
            ClockTime::parse("t", "24:00").expect("ok"),
            ClockTime::END_OF_DAY
        );
        for bad in ["9:30", "24:01", "12:60", "ab:cd", "", "12", "-1:00"] {
            assert!(ClockTime::parse("t", bad).is_err(), "{bad}");
        }
        assert!(Period::parse("p", "10:00", "10:00").is_err());
        assert!(Period::parse("p", "24:00", "02:00").is_err());
        assert!(period("22:00", "02:00").crosses_midnight());
        assert!(period("00:00", "24:00").holds(ClockTime::parse("t", "23:59").expect("ok")));
    }

    #[test]
    fn several_periods_a_day_and_a_shift_past_midnight() {
        let (zone, hours) = (riyadh(), shop());
        // 2027-01-03 is a Sunday.
        assert!(hours.is_open(zone, at(zone, 2027, 1, 3, 10, 0)));
        assert!(
            !hours.is_open(zone, at(zone, 2027, 1, 3, 14, 0)),
            "the midday break"
        );
        assert!(hours.is_open(zone, at(zone, 2027, 1, 3, 16, 0)));
        assert!(
            !hours.is_open(zone, at(zone, 2027, 1, 3, 22, 0)),
            "an end is exclusive"
        );
        // Friday 2027-01-08 23:00 and Saturday 01:00 are the night shift; 02:00 is closed.
        assert!(hours.is_open(zone, at(zone, 2027, 1, 8, 23, 0)));
        assert!(hours.is_open(zone, at(zone, 2027, 1, 9, 1, 0)));
        assert!(!hours.is_open(zone, at(zone, 2027, 1, 9, 2, 0)));
        assert!(
            !hours.is_open(zone, at(zone, 2027, 1, 9, 12, 0)),
            "no Saturday hours"
        );
    }

    #[test]
    fn a_holiday_is_a_whole_closed_day_and_cancels_its_night_shift() {
        let (zone, mut hours) = (riyadh(), shop());
        let friday = NaiveDate::from_ymd_opt(2027, 1, 8).expect("date");
        let sunday = NaiveDate::from_ymd_opt(2027, 1, 3).expect("date");
        hours.holidays.insert(sunday);
        hours.holidays.insert(friday);
        assert!(!hours.is_open(zone, at(zone, 2027, 1, 3, 10, 0)));
        assert!(!hours.is_open(zone, at(zone, 2027, 1, 8, 23, 0)));
        assert!(
            !hours.is_open(zone, at(zone, 2027, 1, 9, 1, 0)),
            "Friday's shift did not happen"
        );
        assert!(
            hours.is_open(zone, at(zone, 2027, 1, 4, 10, 0)),
            "Monday as usual"
        );
    }

    #[test]
    fn the_next_change_is_the_next_boundary_that_changes_anything() {
        let (zone, mut hours) = (riyadh(), shop());
        let sunday_10 = at(zone, 2027, 1, 3, 10, 0);
        assert_eq!(
            hours.next_change(zone, sunday_10),
            Some(at(zone, 2027, 1, 3, 13, 0))
        );
        let sunday_14 = at(zone, 2027, 1, 3, 14, 0);
        assert_eq!(
            hours.next_change(zone, sunday_14),
            Some(at(zone, 2027, 1, 3, 16, 0))
        );
        // Thursday 22:00 closes until Friday 22:00.
        let thursday_23 = at(zone, 2027, 1, 7, 23, 0);
        assert_eq!(
            hours.next_change(zone, thursday_23),
            Some(at(zone, 2027, 1, 8, 22, 0))
        );
        assert_eq!(
            hours.next_change(zone, at(zone, 2027, 1, 9, 0, 30)),
            Some(at(zone, 2027, 1, 9, 2, 0))
        );
        // Monday a holiday: Sunday evening's close lasts until Tuesday 09:00.
        hours
            .holidays
            .insert(NaiveDate::from_ymd_opt(2027, 1, 4).expect("date"));
        assert_eq!(
            hours.next_change(zone, at(zone, 2027, 1, 3, 23, 0)),
            Some(at(zone, 2027, 1, 5, 9, 0))
        );
        assert_eq!(BusinessHours::default().next_change(zone, sunday_10), None);
    }

    #[test]
    fn local_times_hold_across_a_change_of_clocks() {
        let berlin = TimeZone::parse("timezone", "Europe/Berlin").expect("a zone");
        let mut hours = BusinessHours::default();
        for day in Weekday::ALL {
            hours.set_periods(day, vec![period("09:00", "17:00")]);
        }
        // Clocks go forward on 2027-03-28 at 02:00: 09:00 is 07:00 UTC after, 08:00 UTC before.
        let before = at(berlin, 2027, 3, 27, 9, 0);
        let after = at(berlin, 2027, 3, 28, 9, 0);
        assert_eq!(utc(before).format("%H:%M").to_string(), "08:00");
        assert_eq!(utc(after).format("%H:%M").to_string(), "07:00");
        assert!(hours.is_open(berlin, after));
        assert!(!hours.is_open(berlin, after - 1));
        assert_eq!(
            hours.next_change(berlin, at(berlin, 2027, 3, 27, 18, 0)),
            Some(after)
        );
        // A skipped wall time is read after the jump.
        let skipped = NaiveDate::from_ymd_opt(2027, 3, 28)
            .and_then(|d| d.and_hms_opt(2, 30, 0))
            .expect("date");
        assert_eq!(
            utc(berlin.instant(skipped)).format("%H:%M").to_string(),
            "01:00"
        );
    }

    #[test]
    fn overlapping_periods_are_refused() {
        let mut hours = BusinessHours::default();
        hours.set_periods(
            Weekday::Sunday,
            vec![period("09:00", "13:00"), period("12:00", "14:00")],
        );
        assert_eq!(
            hours.check().expect_err("overlap").code,
            "overlapping_periods"
        );
        let mut night = BusinessHours::default();
        night.set_periods(Weekday::Sunday, vec![period("22:00", "03:00")]);
        night.set_periods(Weekday::Monday, vec![period("02:00", "10:00")]);
        assert!(
            night.check().is_err(),
            "Sunday's night runs into Monday's morning"
        );
        assert!(shop().check().is_ok());
    }

    #[test]
    fn a_time_condition_across_midnight_belongs_to_the_day_it_started() {
        let zone = riyadh();
        let condition = TimeCondition {
            range: Some(period("22:00", "02:00")),
            days: vec![Weekday::Thursday],
        };
        // Thursday 2027-01-07 23:00 and Friday 01:00 hold; Friday 23:00 does not.
        assert!(condition.holds(zone.local(at(zone, 2027, 1, 7, 23, 0))));
        assert!(condition.holds(zone.local(at(zone, 2027, 1, 8, 1, 0))));
        assert!(!condition.holds(zone.local(at(zone, 2027, 1, 8, 23, 0))));
        assert!(
            !condition.holds(zone.local(at(zone, 2027, 1, 7, 1, 0))),
            "Thursday 01:00 is Wednesday's night"
        );
        let working_days = TimeCondition {
            range: Some(period("09:00", "17:00")),
            days: vec![Weekday::Sunday, Weekday::Monday],
        };
        assert!(working_days.holds(zone.local(at(zone, 2027, 1, 3, 10, 0))));
        assert!(!working_days.holds(zone.local(at(zone, 2027, 1, 3, 18, 0))));
        assert!(TimeCondition::default().holds(zone.local(0)));
    }
}
