//! A month's uptime: pure arithmetic over intervals.
//!
//! uptime = 1 − counted downtime ÷ the month's length, where the month is the calendar month in
//! Europe/Berlin (28–31 days; the spring month is an hour shorter, the autumn month an hour
//! longer) and counted downtime = (measured ∪ recorded outages [∪ unknown time, if the contract
//! counts it]) − exclusions. Intervals are merged first, so overlapping outages count once, and
//! clipped to the month, so an outage across a month boundary counts in each month for its part.
//! The promise holds when counted × 10 000 ≤ length × (10 000 − target in basis points): exact
//! integer arithmetic on seconds, so exactly 95.0 % meets it.

use serde::Serialize;

use super::measure::Vantage;
use super::records::{Exclusion, ExclusionCategory, ExclusionId, RecordedOutage};
use kernel::ids::TenantId;
use kernel::policy::{BasisPoints, DownWhen, UnknownTreatment};
use kernel::time::{Month, TimeRange, Timestamp};

/// What goes into a month's figures.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub tenant: Option<TenantId>,
    pub month: Month,
    /// The month, or its part up to now while it runs.
    pub window: TimeRange,
    pub complete: bool,
    pub targets: Vec<String>,
    /// Outages the probes show (runs of confirmed failures), any target.
    pub measured: Vec<TimeRange>,
    /// Minutes without a probe result, any target.
    pub unknown: Vec<TimeRange>,
    /// Failed minutes in runs too short to be outages.
    pub blips: Vec<TimeRange>,
    pub confirmations: usize,
    /// Outages and exclusions that concern this tenant (or every tenant).
    pub recorded: Vec<RecordedOutage>,
    pub exclusions: Vec<Exclusion>,
    pub unknown_treatment: UnknownTreatment,
    pub target: BasisPoints,
    /// Where the targets were probed from this month.
    pub vantages: Vec<Vantage>,
    pub down_when: DownWhen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutageLine {
    pub range: TimeRange,
    pub seconds: i64,
    /// `measured` and/or the ids of recorded outages.
    pub sources: Vec<String>,
    pub excluded_seconds: i64,
    pub counted_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExclusionLine {
    pub id: ExclusionId,
    pub category: ExclusionCategory,
    pub category_text: &'static str,
    pub range: TimeRange,
    /// Downtime this exclusion removed (only the overlap counts).
    pub excluded_seconds: i64,
    pub reason: String,
    pub announced_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthReport {
    pub tenant: Option<TenantId>,
    pub month: Month,
    pub window: TimeRange,
    pub complete: bool,
    pub period_seconds: i64,
    pub target: String,
    pub uptime: String,
    pub meets_target: bool,
    pub downtime_seconds: i64,
    pub excluded_seconds: i64,
    pub counted_downtime_seconds: i64,
    pub unknown_seconds: i64,
    pub unknown_treatment: UnknownTreatment,
    pub blip_minutes: u64,
    pub confirmations: usize,
    pub targets: Vec<String>,
    /// Where the targets were probed from: the region, the edge, or both.
    pub vantages: Vec<Vantage>,
    pub down_when: DownWhen,
    pub outages: Vec<OutageLine>,
    pub exclusions: Vec<ExclusionLine>,
    pub unknown: Vec<TimeRange>,
    /// The downtime that counts, after exclusions (what claims are checked against).
    pub counted: Vec<TimeRange>,
    /// The report in words: how each figure came about.
    pub notes: Vec<String>,
}

fn seconds(ranges: &[TimeRange]) -> i64 {
    TimeRange::total(ranges).as_secs()
}

fn clip(ranges: &[TimeRange], window: &TimeRange) -> Vec<TimeRange> {
    TimeRange::merge(
        ranges
            .iter()
            .filter_map(|r| r.intersection(window))
            .collect(),
    )
}

/// `ranges` ∩ `with`, merged.
pub fn intersect(ranges: &[TimeRange], with: &[TimeRange]) -> Vec<TimeRange> {
    let mut out = Vec::new();
    for a in ranges {
        for b in with {
            out.extend(a.intersection(b));
        }
    }
    TimeRange::merge(out)
}

/// `ranges` − `holes`, merged.
pub fn subtract(ranges: &[TimeRange], holes: &[TimeRange]) -> Vec<TimeRange> {
    TimeRange::merge(ranges.iter().flat_map(|r| r.subtract(holes)).collect())
}

/// `up` out of `total` as a percentage with three decimals, rounded down (so a figure below the
/// target never shows as the target).
pub fn percent(up: i64, total: i64) -> String {
    if total <= 0 {
        return "n/a".into();
    }
    let milli = i128::from(up.max(0)) * 100_000 / i128::from(total);
    format!("{}.{:03} %", milli / 1_000, milli % 1_000)
}

/// Whether `counted` seconds of downtime out of `total` keep `target`.
pub fn meets(counted: i64, total: i64, target: BasisPoints) -> bool {
    let allowed = i128::from(10_000 - i64::from(target.0.min(10_000)));
    i128::from(counted) * 10_000 <= i128::from(total) * allowed
}

pub fn compute(input: ReportInput) -> MonthReport {
    let window = input.window;
    let measured = clip(&input.measured, &window);
    let recorded: Vec<(String, TimeRange)> = input
        .recorded
        .iter()
        .filter_map(|o| o.range.intersection(&window).map(|r| (o.id.to_string(), r)))
        .collect();
    let downtime = TimeRange::merge(
        measured
            .iter()
            .copied()
            .chain(recorded.iter().map(|(_, r)| *r))
            .collect(),
    );
    let unknown = subtract(&clip(&input.unknown, &window), &downtime);
    let countable = match input.unknown_treatment {
        UnknownTreatment::Downtime => {
            TimeRange::merge(downtime.iter().chain(&unknown).copied().collect())
        }
        UnknownTreatment::NotDowntime => downtime.clone(),
    };
    let exclusion_ranges: Vec<TimeRange> = input
        .exclusions
        .iter()
        .filter_map(|e| e.range.intersection(&window))
        .collect();
    let excluded = intersect(&countable, &exclusion_ranges);
    let counted = subtract(&countable, &exclusion_ranges);

    let outages = downtime
        .iter()
        .map(|range| {
            let mut sources = Vec::new();
            if measured.iter().any(|m| m.intersection(range).is_some()) {
                sources.push("measured".to_string());
            }
            sources.extend(
                recorded
                    .iter()
                    .filter(|(_, r)| r.intersection(range).is_some())
                    .map(|(id, _)| id.clone()),
            );
            let one = [*range];
            OutageLine {
                range: *range,
                seconds: range.duration().as_secs(),
                sources,
                excluded_seconds: seconds(&intersect(&one, &exclusion_ranges)),
                counted_seconds: seconds(&intersect(&one, &counted)),
            }
        })
        .collect();
    let exclusions = input
        .exclusions
        .iter()
        .filter_map(|e| {
            let range = e.range.intersection(&window)?;
            Some(ExclusionLine {
                id: e.id,
                category: e.category,
                category_text: e.category.describe(),
                range,
                excluded_seconds: seconds(&intersect(&countable, &[range])),
                reason: e.reason.clone(),
                announced_at: e.announced_at,
            })
        })
        .collect();

    let period_seconds = window.duration().as_secs();
    let downtime_seconds = seconds(&downtime);
    let excluded_seconds = seconds(&excluded);
    let counted_seconds = seconds(&counted);
    let unknown_seconds = seconds(&unknown);
    let meets_target = meets(counted_seconds, period_seconds, input.target);
    let uptime = percent(period_seconds - counted_seconds, period_seconds);
    let mut notes = vec![
        format!(
            "{}: {} seconds, the calendar month in Europe/Berlin{}",
            input.month,
            period_seconds,
            if input.complete {
                String::new()
            } else {
                format!(" so far (the month runs until {})", window.end())
            }
        ),
        format!(
            "Downtime {downtime_seconds} s: runs of at least {} failed probe minutes on any of {} \
             target(s), and outages recorded by operators, merged so overlaps count once.",
            input.confirmations,
            input.targets.len()
        ),
        format!(
            "Excluded {excluded_seconds} s: only the part of an exclusion that overlaps downtime."
        ),
        match input.unknown_treatment {
            UnknownTreatment::NotDowntime => format!(
                "Unknown {unknown_seconds} s (no probe result): shown, not counted as downtime \
                 (contract setting: not_downtime)."
            ),
            UnknownTreatment::Downtime => format!(
                "Unknown {unknown_seconds} s (no probe result): counted as downtime in the \
                 customer's favour (contract setting: downtime)."
            ),
        },
        format!(
            "Uptime {uptime} = 1 − {counted_seconds} ÷ {period_seconds}; the promise is at least \
             {} ({}).",
            input.target,
            if meets_target { "met" } else { "missed" }
        ),
    ];
    let blip_minutes = (seconds(&clip(&input.blips, &window)) / 60).unsigned_abs();
    if blip_minutes > 0 {
        notes.push(format!(
            "{blip_minutes} failed minute(s) in runs shorter than {} were not counted as outages.",
            input.confirmations
        ));
    }
    if input.targets.is_empty() {
        notes.push("No probe target has results for this month: every minute is unknown.".into());
    }
    if input.vantages.len() > 1 {
        notes.push(match input.down_when {
            DownWhen::BothVantages => "Probed from two vantage points (the platform's AWS region and Cloudflare's network): a minute is down only when both saw it down, and unknown when either has no result.".into(),
            DownWhen::EitherVantage => "Probed from two vantage points (the platform's AWS region and Cloudflare's network): a minute is down when either saw it down (contract setting: either_vantage).".into(),
        });
    }
    MonthReport {
        tenant: input.tenant,
        month: input.month,
        window,
        complete: input.complete,
        period_seconds,
        target: input.target.to_string(),
        uptime,
        meets_target,
        downtime_seconds,
        excluded_seconds,
        counted_downtime_seconds: counted_seconds,
        unknown_seconds,
        unknown_treatment: input.unknown_treatment,
        blip_minutes,
        confirmations: input.confirmations,
        targets: input.targets,
        vantages: input.vantages,
        down_when: input.down_when,
        outages,
        exclusions,
        unknown,
        counted,
        notes,
    }
}
