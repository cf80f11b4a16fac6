//! Probe results, minute by minute, and the outages they show.
//!
//! Each probe target keeps one record per UTC day: 1 440 characters, one per minute — `u` the
//! check passed, `d` it failed, `?` no result (the probe did not run, or its result was lost).
//! A minute is never assumed up or down: without a result it stays unknown, and every report says
//! how unknown minutes were counted.
//!
//! An outage is a run of at least `confirmations` consecutive failed minutes (default 2: one
//! failed check alone is a blip, e.g. a lost packet). The whole run counts, from its first failed
//! minute to the first minute that was not a failure.

use serde::{Deserialize, Serialize};

use kernel::time::{SignedDuration, TimeRange, Timestamp};

pub const MINUTES_PER_DAY: usize = 1_440;
const SECONDS_PER_DAY: i64 = 86_400;

/// What one minute of one target shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinuteState {
    Up,
    Down,
    Unknown,
}

impl MinuteState {
    pub fn symbol(self) -> char {
        match self {
            MinuteState::Up => 'u',
            MinuteState::Down => 'd',
            MinuteState::Unknown => '?',
        }
    }

    pub fn from_symbol(c: char) -> Self {
        match c {
            'u' => MinuteState::Up,
            'd' => MinuteState::Down,
            _ => MinuteState::Unknown,
        }
    }
}

/// Where a probe looks from. Each vantage keeps its own minutes; a report combines them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Vantage {
    /// The `sla-probe` function in the platform's own AWS region (eu-central-1).
    #[default]
    Region,
    /// The Worker's cron trigger, from Cloudflare's network.
    Edge,
}

impl Vantage {
    pub const ALL: [Vantage; 2] = [Vantage::Region, Vantage::Edge];

    pub fn as_str(self) -> &'static str {
        match self {
            Vantage::Region => "region",
            Vantage::Edge => "edge",
        }
    }
}

pub use kernel::policy::DownWhen;

/// One minute from two vantages.
pub fn combine_minute(region: MinuteState, edge: MinuteState, rule: DownWhen) -> MinuteState {
    use MinuteState::{Down, Unknown, Up};
    match rule {
        DownWhen::BothVantages => match (region, edge) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (Down, Down) => Down,
            _ => Up,
        },
        DownWhen::EitherVantage => match (region, edge) {
            (Down, _) | (_, Down) => Down,
            (Unknown, _) | (_, Unknown) => Unknown,
            (Up, Up) => Up,
        },
    }
}

/// One target's series from the vantages that have results in the window, combined minute by
/// minute. A vantage counts from its first result on: before it, the other decides alone (the
/// platform was probed from one place then); from then on, a minute it has no result for is a
/// vantage missing, and `rule` decides.
pub fn combine(region: Option<Series>, edge: Option<Series>, rule: DownWhen) -> Option<Series> {
    match (region, edge) {
        (Some(region), Some(edge)) if region.start == edge.start => {
            let first = |s: &Series| s.minutes.iter().position(|m| *m != MinuteState::Unknown);
            let (from_region, from_edge) = (first(&region), first(&edge));
            let minutes = region
                .minutes
                .iter()
                .zip(edge.minutes.iter())
                .enumerate()
                .map(|(i, (r, e))| {
                    let region_counts = from_region.is_some_and(|f| i >= f);
                    let edge_counts = from_edge.is_some_and(|f| i >= f);
                    match (region_counts, edge_counts) {
                        (true, true) => combine_minute(*r, *e, rule),
                        (true, false) => *r,
                        (false, true) => *e,
                        (false, false) => MinuteState::Unknown,
                    }
                })
                .collect();
            Some(Series {
                start: region.start,
                minutes,
            })
        }
        // Both are read over the same window, so they start alike; were they not, the one
        // from the platform's region stands.
        (Some(region), _) => Some(region),
        (None, edge) => edge,
    }
}

/// The UTC day number (days since 1970-01-01) and minute of day of an instant.
pub fn day_and_minute(at: Timestamp) -> (i64, usize) {
    let seconds = at.as_second();
    let day = seconds.div_euclid(SECONDS_PER_DAY);
    let minute = seconds.rem_euclid(SECONDS_PER_DAY) / 60;
    // rem_euclid keeps it in 0..86_400, so the minute is in 0..1_440.
    (day, usize::try_from(minute).unwrap_or(0))
}

/// The start of a UTC day number.
pub fn day_start(day: i64) -> Timestamp {
    Timestamp::from_second(day * SECONDS_PER_DAY).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `YYYY-MM-DD` of a UTC day number (the sort key of a day record).
pub fn day_label(day: i64) -> String {
    day_start(day)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// The UTC day number of a `YYYY-MM-DD` label.
pub fn day_number(label: &str) -> Option<i64> {
    format!("{label}T00:00:00Z")
        .parse::<Timestamp>()
        .ok()
        .map(|t| day_and_minute(t).0)
}

/// A fresh day: every minute unknown.
pub fn unknown_day() -> String {
    "?".repeat(MINUTES_PER_DAY)
}

/// Sets minute `minute` of a day string.
pub fn set_minute(day: &mut String, minute: usize, state: MinuteState) {
    if day.len() != MINUTES_PER_DAY || !day.is_ascii() {
        *day = unknown_day();
    }
    if minute < MINUTES_PER_DAY {
        let symbol = state.symbol().to_string();
        day.replace_range(minute..=minute, &symbol);
    }
}

/// A contiguous series of minute states starting at `start` (minute-aligned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub start: Timestamp,
    pub minutes: Vec<MinuteState>,
}

/// What a series shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Runs of at least `confirmations` failed minutes.
    pub outages: Vec<TimeRange>,
    /// Minutes without a result.
    pub unknown: Vec<TimeRange>,
    /// Failed minutes in runs too short to count as an outage.
    pub blips: Vec<TimeRange>,
}

fn minute_range(start: Timestamp, from: usize, to: usize) -> Option<TimeRange> {
    let at = |i: usize| {
        start.checked_add(SignedDuration::from_secs(
            i64::try_from(i).unwrap_or(i64::MAX / 120) * 60,
        ))
    };
    match (at(from), at(to)) {
        (Ok(a), Ok(b)) => TimeRange::new(a, b).ok(),
        _ => None,
    }
}

/// Outages and unknown stretches of a series, with `confirmations` ≥ 1 failed minutes in a row
/// needed for an outage.
pub fn read(series: &Series, confirmations: usize) -> Reading {
    let confirmations = confirmations.max(1);
    let mut reading = Reading::default();
    let mut i = 0;
    let n = series.minutes.len();
    while i < n {
        let state = series.minutes[i];
        let mut j = i;
        while j < n && series.minutes[j] == state {
            j += 1;
        }
        match state {
            MinuteState::Down if j - i >= confirmations => {
                reading.outages.extend(minute_range(series.start, i, j));
            }
            MinuteState::Down => reading.blips.extend(minute_range(series.start, i, j)),
            MinuteState::Unknown => reading.unknown.extend(minute_range(series.start, i, j)),
            MinuteState::Up => {}
        }
        i = j;
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn series(start: &str, pattern: &str) -> Series {
        Series {
            start: ts(start),
            minutes: pattern.chars().map(MinuteState::from_symbol).collect(),
        }
    }

    fn range(a: &str, b: &str) -> TimeRange {
        TimeRange::new(ts(a), ts(b)).expect("range")
    }

    #[test]
    fn outages_need_consecutive_failures_and_unknown_stays_unknown() {
        let s = series("2026-03-01T00:00:00Z", "uudduuuddd??uduu");
        let r = read(&s, 2);
        assert_eq!(
            r.outages,
            vec![
                range("2026-03-01T00:02:00Z", "2026-03-01T00:04:00Z"),
                range("2026-03-01T00:07:00Z", "2026-03-01T00:10:00Z"),
            ]
        );
        assert_eq!(
            r.unknown,
            vec![range("2026-03-01T00:10:00Z", "2026-03-01T00:12:00Z")]
        );
        assert_eq!(
            r.blips,
            vec![range("2026-03-01T00:13:00Z", "2026-03-01T00:14:00Z")]
        );
        // With three confirmations the first run is a blip.
        let r = read(&s, 3);
        assert_eq!(r.outages.len(), 1);
        assert_eq!(TimeRange::total(&r.blips).as_secs(), 180);
        // With one, every failure counts.
        assert_eq!(read(&s, 1).outages.len(), 3);
    }

    #[test]
    fn days_and_minutes_are_utc() {
        assert_eq!(day_and_minute(ts("1970-01-02T00:01:30Z")), (1, 1));
        assert_eq!(day_and_minute(ts("2026-03-29T23:59:00Z")).1, 1_439);
        let (day, _) = day_and_minute(ts("2026-03-29T12:00:00Z"));
        assert_eq!(day_label(day), "2026-03-29");
        assert_eq!(day_start(day), ts("2026-03-29T00:00:00Z"));
        let mut d = unknown_day();
        set_minute(&mut d, 0, MinuteState::Up);
        set_minute(&mut d, 1_439, MinuteState::Down);
        assert!(d.starts_with("u?"));
        assert!(d.ends_with("?d"));
        assert_eq!(d.len(), MINUTES_PER_DAY);
    }

    #[test]
    fn two_vantages_down_only_together_and_a_missing_one_is_unknown() {
        use MinuteState::{Down as D, Unknown as U, Up as P};
        for (region, edge, both, either) in [
            (P, P, P, P),
            (D, P, P, D),
            (P, D, P, D),
            (D, D, D, D),
            (D, U, U, D),
            (U, P, U, U),
            (U, U, U, U),
        ] {
            assert_eq!(
                combine_minute(region, edge, DownWhen::BothVantages),
                both,
                "{region:?} {edge:?}"
            );
            assert_eq!(
                combine_minute(region, edge, DownWhen::EitherVantage),
                either,
                "{region:?} {edge:?}"
            );
        }
        let start: Timestamp = "2026-05-01T00:00:00Z".parse().expect("ts");
        let series = |minutes: Vec<MinuteState>| Series { start, minutes };
        // The edge starts probing at minute 2: before it, the region decides alone.
        let combined = combine(
            Some(series(vec![D, D, D, D, P])),
            Some(series(vec![U, U, P, D, U])),
            DownWhen::BothVantages,
        )
        .expect("series");
        assert_eq!(combined.minutes, vec![D, D, P, D, U]);
        assert_eq!(
            combine(None, Some(series(vec![D])), DownWhen::BothVantages)
                .expect("edge")
                .minutes,
            vec![D]
        );
        assert!(combine(None, None, DownWhen::BothVantages).is_none());
    }
}
