//! Time: an injected [`Clock`], the company's civil time zone, and half-open time ranges.
//!
//! Invariant: domain code never reads the system time itself; it asks the `Clock` it was given.
//! That is what makes "48 hours", "30 days" and "a further year" testable.

use std::sync::{Mutex, OnceLock};

pub use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use jiff::{Span, ZonedDateTime, civil::Date};
use serde::{Deserialize, Serialize};

/// The source of "now". Production uses [`SystemClock`]; tests and the local platform's
/// simulated time use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Reads the operating system's clock. Not available on wasm32 (the Worker supplies its own).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    // The one place that reads the system's time (clippy.toml disallows it everywhere else).
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to, and never backwards.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("time cannot go backwards: the clock reads {current}, asked for {requested}")]
    Backwards {
        current: Timestamp,
        requested: Timestamp,
    },
    #[error("a time range must end after it starts ({start} .. {end})")]
    EmptyRange { start: Timestamp, end: Timestamp },
    #[error("date arithmetic out of range: {0}")]
    OutOfRange(String),
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `to`, which must not lie before the current reading.
    pub fn set(&self, to: Timestamp) -> Result<Timestamp, TimeError> {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if to < *now {
            return Err(TimeError::Backwards {
                current: *now,
                requested: to,
            });
        }
        *now = to;
        Ok(to)
    }

    /// Moves the clock forward by `by` (which must not be negative).
    pub fn advance(&self, by: SignedDuration) -> Result<Timestamp, TimeError> {
        let current = self.now();
        let to = current
            .checked_add(by)
            .map_err(|e| TimeError::OutOfRange(e.to_string()))?;
        self.set(to)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// Europe/Berlin, where the company keeps its calendar. Built from the POSIX rule in force since
/// 1996 (CET/CEST, last Sunday of March and October), so no time-zone database has to ship with
/// the Worker; every date this system computes lies after 1996.
pub fn company_time_zone() -> TimeZone {
    static BERLIN: OnceLock<TimeZone> = OnceLock::new();
    BERLIN
        .get_or_init(|| {
            TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3")
                .unwrap_or_else(|_| unreachable!("the Europe/Berlin POSIX rule is a valid literal"))
        })
        .clone()
}

/// Renders an instant in the company's civil time, e.g. `2026-03-30T11:00:00+02:00[Europe/Berlin]`.
pub fn in_company_time(at: Timestamp) -> ZonedDateTime {
    at.to_zoned_datetime(company_time_zone())
}

/// A span of time in the sense the trust page uses it.
///
/// * `Hours` are elapsed real time: 48 hours are 48 hours even across a daylight-saving change
///   (GDPR Art. 33 counts hours, not wall-clock readings).
/// * `Days` and `Years` are calendar periods in Europe/Berlin: "30 days after the service ends"
///   lands on the same local time of day 30 calendar days later; one year after 29 February is
///   28 February of the next year (the period never runs longer than a year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Period {
    Hours(u32),
    Days(u32),
    /// Calendar months in Europe/Berlin (31 January + 1 month is 28 or 29 February).
    Months(u16),
    Years(u16),
}

impl Period {
    /// The instant this period after `start` ends.
    pub fn after(self, start: Timestamp) -> Result<Timestamp, TimeError> {
        let out_of_range = |e: jiff::Error| TimeError::OutOfRange(e.to_string());
        match self {
            Period::Hours(h) => start
                .checked_add(SignedDuration::from_hours(i64::from(h)))
                .map_err(out_of_range),
            Period::Days(d) => in_company_time(start)
                .checked_add(Span::new().days(i64::from(d)))
                .map(|z| z.timestamp())
                .map_err(out_of_range),
            Period::Months(m) => in_company_time(start)
                .checked_add(Span::new().months(i64::from(m)))
                .map(|z| z.timestamp())
                .map_err(out_of_range),
            Period::Years(y) => in_company_time(start)
                .checked_add(Span::new().years(i64::from(y)))
                .map(|z| z.timestamp())
                .map_err(out_of_range),
        }
    }

    /// The instant this period before `end` starts (used for "12 hours before the deadline").
    pub fn before(self, end: Timestamp) -> Result<Timestamp, TimeError> {
        let out_of_range = |e: jiff::Error| TimeError::OutOfRange(e.to_string());
        match self {
            Period::Hours(h) => end
                .checked_sub(SignedDuration::from_hours(i64::from(h)))
                .map_err(out_of_range),
            Period::Days(d) => in_company_time(end)
                .checked_sub(Span::new().days(i64::from(d)))
                .map(|z| z.timestamp())
                .map_err(out_of_range),
            Period::Months(m) => in_company_time(end)
                .checked_sub(Span::new().months(i64::from(m)))
                .map(|z| z.timestamp())
                .map_err(out_of_range),
            Period::Years(y) => in_company_time(end)
                .checked_sub(Span::new().years(i64::from(y)))
                .map(|z| z.timestamp())
                .map_err(out_of_range),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Hours(h) => write!(f, "{h} h"),
            Period::Days(d) => write!(f, "{d} days"),
            Period::Months(1) => write!(f, "1 month"),
            Period::Months(m) => write!(f, "{m} months"),
            Period::Years(1) => write!(f, "1 year"),
            Period::Years(y) => write!(f, "{y} years"),
        }
    }
}

/// A half-open interval `[start, end)` with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawRange")]
pub struct TimeRange {
    start: Timestamp,
    end: Timestamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: Timestamp,
    end: Timestamp,
}

impl TryFrom<RawRange> for TimeRange {
    type Error = TimeError;
    fn try_from(raw: RawRange) -> Result<Self, TimeError> {
        TimeRange::new(raw.start, raw.end)
    }
}

impl TimeRange {
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, TimeError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(TimeError::EmptyRange { start, end })
        }
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }

    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    /// True when `other` lies entirely inside `self`.
    pub fn covers(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn intersection(&self, other: &TimeRange) -> Option<TimeRange> {
        TimeRange::new(self.start.max(other.start), self.end.min(other.end)).ok()
    }

    /// Sorts and coalesces overlapping or touching ranges, so every instant is counted once.
    pub fn merge(mut ranges: Vec<TimeRange>) -> Vec<TimeRange> {
        ranges.sort();
        let mut merged: Vec<TimeRange> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        merged
    }

    /// What is left of `self` after removing every range in `holes`.
    pub fn subtract(&self, holes: &[TimeRange]) -> Vec<TimeRange> {
        let mut pieces = Vec::new();
        let mut cursor = self.start;
        for hole in TimeRange::merge(holes.to_vec()) {
            if hole.end <= cursor || hole.start >= self.end {
                continue;
            }
            if hole.start > cursor {
                pieces.push(TimeRange {
                    start: cursor,
                    end: hole.start,
                });
            }
            cursor = cursor.max(hole.end);
        }
        if cursor < self.end {
            pieces.push(TimeRange {
                start: cursor,
                end: self.end,
            });
        }
        pieces
    }

    /// Total length of a set of ranges, counting overlaps once.
    pub fn total(ranges: &[TimeRange]) -> SignedDuration {
        TimeRange::merge(ranges.to_vec())
            .iter()
            .map(TimeRange::duration)
            .fold(SignedDuration::ZERO, |a, b| a + b)
    }
}

/// A calendar month in the company's time zone, e.g. `2026-02`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i16,
    month: i8,
}

impl Month {
    pub fn new(year: i16, month: i8) -> Result<Self, TimeError> {
        Date::new(year, month, 1)
            .map(|_| Self { year, month })
            .map_err(|e| TimeError::OutOfRange(e.to_string()))
    }

    pub fn containing(at: Timestamp) -> Self {
        let date = in_company_time(at).date();
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn year(&self) -> i16 {
        self.year
    }

    pub fn month(&self) -> i8 {
        self.month
    }

    pub fn next(&self) -> Result<Self, TimeError> {
        if self.month == 12 {
            Month::new(self.year + 1, 1)
        } else {
            Month::new(self.year, self.month + 1)
        }
    }

    /// `[first day 00:00, first day of next month 00:00)` in Europe/Berlin.
    pub fn range(&self) -> Result<TimeRange, TimeError> {
        let start = Self::start_of(self.year, self.month)?;
        let next = self.next()?;
        let end = Self::start_of(next.year, next.month)?;
        TimeRange::new(start, end)
    }

    fn start_of(year: i16, month: i8) -> Result<Timestamp, TimeError> {
        Date::new(year, month, 1)
            .and_then(|d| d.to_zoned_datetime(company_time_zone()))
            .map(|z| z.timestamp())
            .map_err(|e| TimeError::OutOfRange(e.to_string()))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::OutOfRange(format!("'{s}' is not a month of the form YYYY-MM"));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        Month::new(year, month).map_err(|_| bad())
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    #[test]
    fn forty_eight_hours_across_the_spring_dst_change_are_48_real_hours() {
        // Awareness on Saturday 2026-03-28 10:00 CET; clocks jump 02:00 -> 03:00 on Sunday.
        let aware = ts("2026-03-28T09:00:00Z");
        let due = Period::Hours(48).after(aware).expect("in range");
        assert_eq!(due.duration_since(aware), SignedDuration::from_hours(48));
        // On the wall clock in Berlin that is 11:00 CEST on Monday: 49 wall-clock hours later.
        let local = in_company_time(due);
        assert_eq!(local.date().to_string(), "2026-03-30");
        assert_eq!(local.time().to_string(), "11:00:00");
    }

    #[test]
    fn seventy_two_hours_across_the_autumn_dst_change_are_72_real_hours() {
        let aware = ts("2026-10-24T12:00:00Z");
        let due = Period::Hours(72).after(aware).expect("in range");
        assert_eq!(due.duration_since(aware), SignedDuration::from_hours(72));
        assert_eq!(in_company_time(due).time().to_string(), "13:00:00");
    }

    #[test]
    fn thirty_days_are_calendar_days_in_berlin() {
        // Service ends 2026-03-15 12:00 CET; 30 calendar days later is 2026-04-14 12:00 CEST,
        // which is only 719 real hours because the clocks went forward in between.
        let end = ts("2026-03-15T11:00:00Z");
        let stage1 = Period::Days(30).after(end).expect("in range");
        let local = in_company_time(stage1);
        assert_eq!(local.date().to_string(), "2026-04-14");
        assert_eq!(local.time().to_string(), "12:00:00");
        assert_eq!(
            stage1.duration_since(end),
            SignedDuration::from_hours(30 * 24 - 1)
        );
    }

    #[test]
    fn a_month_is_a_calendar_month_in_company_time() {
        // 31 January + 1 month: the last day of February (a leap year's 29th).
        let later = Period::Months(1)
            .after(ts("2028-01-31T09:00:00Z"))
            .expect("in range");
        assert_eq!(in_company_time(later).date().to_string(), "2028-02-29");
        // Across the change to summer time the local hour stays, so one hour less passes.
        let start = ts("2026-03-10T09:00:00Z");
        let later = Period::Months(1).after(start).expect("in range");
        assert_eq!(later, ts("2026-04-10T08:00:00Z"));
        assert_eq!(Period::Months(1).before(later).expect("in range"), start);
        assert_eq!(Period::Months(1).to_string(), "1 month");
    }

    #[test]
    fn a_year_after_29_february_is_28_february() {
        let start = ts("2028-02-29T09:00:00Z");
        let later = Period::Years(1).after(start).expect("in range");
        assert_eq!(in_company_time(later).date().to_string(), "2029-02-28");
        // ...and a year after 2027-03-30 spans the leap day: 366 days.
        let start = ts("2027-03-30T10:00:00Z");
        let later = Period::Years(1).after(start).expect("in range");
        assert_eq!(in_company_time(later).date().to_string(), "2028-03-30");
        assert_eq!(
            later.duration_since(start),
            SignedDuration::from_hours(366 * 24)
        );
    }

    #[test]
    fn manual_clock_moves_forward_only() {
        let clock = ManualClock::new(ts("2026-01-01T00:00:00Z"));
        clock
            .advance(SignedDuration::from_hours(36))
            .expect("forward");
        assert_eq!(clock.now(), ts("2026-01-02T12:00:00Z"));
        assert!(matches!(
            clock.set(ts("2026-01-01T00:00:00Z")),
            Err(TimeError::Backwards { .. })
        ));
    }

    #[test]
    fn ranges_merge_subtract_and_total() {
        let r = |a: &str, b: &str| TimeRange::new(ts(a), ts(b)).expect("valid");
        let merged = TimeRange::merge(vec![
            r("2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"),
            r("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"),
            r("2026-01-01T00:30:00Z", "2026-01-01T02:00:00Z"),
        ]);
        assert_eq!(
            merged,
            vec![r("2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z")]
        );
        let left = r("2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z")
            .subtract(&[r("2026-01-01T01:00:00Z", "2026-01-01T01:30:00Z")]);
        assert_eq!(TimeRange::total(&left), SignedDuration::from_mins(150));
        let instant = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            TimeRange::new(instant, instant),
            Err(TimeError::EmptyRange {
                start: instant,
                end: instant
            })
        );
    }

    #[test]
    fn months_have_their_own_length() {
        let feb = "2026-02".parse::<Month>().expect("month");
        assert_eq!(
            feb.range().expect("range").duration(),
            SignedDuration::from_hours(28 * 24)
        );
        let feb_leap = Month::new(2028, 2).expect("month");
        assert_eq!(
            feb_leap.range().expect("range").duration(),
            SignedDuration::from_hours(29 * 24)
        );
        // March in Berlin loses an hour to daylight saving time.
        let march = Month::new(2026, 3).expect("month");
        assert_eq!(
            march.range().expect("range").duration(),
            SignedDuration::from_hours(31 * 24 - 1)
        );
        assert_eq!(
            Month::new(2026, 12)
                .expect("m")
                .next()
                .expect("n")
                .to_string(),
            "2027-01"
        );
        for bad in ["2026-13", "26-01"] {
            assert_eq!(
                bad.parse::<Month>(),
                Err(TimeError::OutOfRange(format!(
                    "'{bad}' is not a month of the form YYYY-MM"
                ))),
            );
        }
    }
}
