//! The month's uptime as a picture: a bar per calendar day (Europe/Berlin), its height the day's
//! uptime (0 to 100 %), red where downtime counted, grey where an exclusion removed it, pale for
//! days still to come, and a mark of the same colour under the axis for every day with an outage
//! (a day at 0 % has no bar to colour); the 95.0 % line across. SVG drawn here, no script; the outage table beside it says
//! the same in words.

use kernel::time::{Period, TimeRange, Timestamp};
use maud::{Markup, html};
use sla::MonthReport;

/// One day of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub number: u32,
    pub range: TimeRange,
    pub counted_seconds: i64,
    pub excluded_seconds: i64,
    pub future: bool,
}

impl Day {
    /// The day's uptime in per cent (downtime that counts only).
    pub fn uptime_percent(&self) -> f64 {
        let length = self.range.duration().as_secs().max(1) as f64;
        100.0 * (length - self.counted_seconds as f64) / length
    }
}

fn overlap(ranges: impl Iterator<Item = TimeRange>, day: &TimeRange) -> i64 {
    ranges
        .filter_map(|r| r.intersection(day))
        .map(|r| r.duration().as_secs())
        .sum()
}

/// The report's days, by calendar day in the company's time zone.
pub fn days(report: &MonthReport, now: Timestamp) -> Vec<Day> {
    let mut days = Vec::new();
    let mut start = report.window.start();
    let end = report.window.end();
    let mut number = 1;
    while start < end && number <= 31 {
        let Ok(next) = Period::Days(1).after(start) else {
            break;
        };
        let Ok(range) = TimeRange::new(start, next.min(end)) else {
            break;
        };
        let counted = overlap(report.counted.iter().copied(), &range);
        let outage = overlap(report.outages.iter().map(|o| o.range), &range);
        days.push(Day {
            number,
            range,
            counted_seconds: counted,
            excluded_seconds: (outage - counted).max(0),
            future: start >= now,
        });
        start = next;
        number += 1;
    }
    days
}

/// Height of the strip under the axis that marks a day's outage (so a day at 0 % still shows).
const MARK: f64 = 6.0;

/// Both charts' frame: the drawing's size and the margins around the plot (labels left, the
/// target's figure right, the bars' labels below).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 52.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 38.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;

/// The chart, described for screen readers by its title and description.
pub fn month_chart(days: &[Day], target_percent: f64, title: &str, description: &str) -> Markup {
    let (plot_w, plot_h) = (PLOT_W, PLOT_H);
    let y = |percent: f64| TOP + plot_h * (100.0 - percent.clamp(0.0, 100.0)) / 100.0;
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
            aria-labelledby="chart-title chart-desc" class="chart" {
            title id="chart-title" { (title) }
            desc id="chart-desc" { (description) }
            @for tick in [0.0, 50.0, 100.0] {
                line class="axis" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(tick)) y2=(y(tick)) {}
                text x=(LEFT - 6.0) y=(y(tick) + 4.0) text-anchor="end" { (format!("{tick:.0} %")) }
            }
            @for (i, day) in days.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                @let percent = if day.future { 100.0 } else { day.uptime_percent() };
                @let class = if day.future { "bar future" } else if day.counted_seconds > 0 { "bar down" } else if day.excluded_seconds > 0 { "bar excluded" } else { "bar" };
                rect class=(class) x=(format!("{x:.1}")) y=(format!("{:.1}", y(percent))) width=(format!("{bar_w:.1}"))
                    height=(format!("{:.1}", (TOP + plot_h - y(percent)).max(1.0))) {
                    title { (day.number) ". " (format!("{:.2} %", percent)) }
                }
                @if day.counted_seconds > 0 || day.excluded_seconds > 0 {
                    rect class=(if day.counted_seconds > 0 { "bar down" } else { "bar excluded" }) x=(format!("{x:.1}"))
                        y=(format!("{:.1}", TOP + plot_h + 2.0)) width=(format!("{bar_w:.1}")) height=(MARK) {}
                }
                @if day.number == 1 || day.number % 5 == 0 {
                    text x=(format!("{:.1}", x + bar_w / 2.0)) y=(HEIGHT - 10.0) text-anchor="middle" { (day.number) }
                }
            }
            line class="target" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(target_percent)) y2=(y(target_percent)) {}
            text x=(WIDTH - RIGHT + 6.0) y=(y(target_percent) + 4.0) text-anchor="start" { (format!("{target_percent:.1} %")) }
        }
    }
}

/// The trust page's year: a bar per month, its height the month's uptime on a scale from 80 to
/// 100 % (a month lower still reaches the floor), green where it kept the promise, red where it
/// did not, pale for this month so far, a grey stub where nothing was measured; the promised
/// line across. The table beside it says the same in words.
pub fn year_chart(
    months: &[trust::UptimeMonth],
    target_percent: f64,
    title: &str,
    description: &str,
) -> Markup {
    const FLOOR: f64 = 80.0;
    let (plot_w, plot_h) = (PLOT_W, PLOT_H);
    let y = |percent: f64| TOP + plot_h * (100.0 - percent.clamp(FLOOR, 100.0)) / (100.0 - FLOOR);
    let slot = plot_w / months.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
            aria-labelledby="year-title year-desc" class="chart" {
            title id="year-title" { (title) }
            desc id="year-desc" { (description) }
            @for tick in [FLOOR, 90.0, 100.0] {
                line class="axis" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(tick)) y2=(y(tick)) {}
                text x=(LEFT - 6.0) y=(y(tick) + 4.0) text-anchor="end" { (format!("{tick:.0} %")) }
            }
            @for (i, month) in months.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                @let label = month.month.get(5..7).unwrap_or("") .to_string() + "/" + month.month.get(2..4).unwrap_or("");
                @match month.uptime_basis_points {
                    Some(bp) => {
                        @let percent = f64::from(bp) / 100.0;
                        @let class = if !month.complete { "bar future" } else if month.met == Some(false) { "bar down" } else { "bar" };
                        rect class=(class) x=(format!("{x:.1}")) y=(format!("{:.1}", y(percent))) width=(format!("{bar_w:.1}"))
                            height=(format!("{:.1}", (TOP + plot_h - y(percent)).max(MARK))) {
                            title { (month.month) ": " (format!("{percent:.2} %")) }
                        }
                    }
                    None => {
                        rect class="bar none" x=(format!("{x:.1}")) y=(format!("{:.1}", TOP + plot_h - MARK)) width=(format!("{bar_w:.1}")) height=(MARK) {
                            title { (month.month) ": –" }
                        }
                    }
                }
                text x=(format!("{:.1}", x + bar_w / 2.0)) y=(HEIGHT - 10.0) text-anchor="middle" { (label) }
            }
            line class="target" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(target_percent)) y2=(y(target_percent)) {}
            text x=(WIDTH - RIGHT + 6.0) y=(y(target_percent) + 4.0) text-anchor="start" { (format!("{target_percent:.1} %")) }
        }
    }
}

/// A month as one line of time (calendar days of Europe/Berlin marked), with `bands` laid over
/// it where they fall, each drawn with its class (`down`, `excluded`, `future`) and at least
/// two pixels wide so a minute's outage stays visible. The words beside it carry the figures.
pub fn month_timeline(
    month: &TimeRange,
    bands: &[(&str, TimeRange)],
    title: &str,
    description: &str,
) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 56.0;
    const L: f64 = 8.0;
    const R: f64 = 8.0;
    const BAND_TOP: f64 = 6.0;
    const BAND_H: f64 = 22.0;
    let span = month.duration().as_secs().max(1) as f64;
    let x = |at: Timestamp| {
        let offset = at.duration_since(month.start()).as_secs() as f64;
        L + (W - L - R) * (offset / span).clamp(0.0, 1.0)
    };
    let mut day_starts = Vec::new();
    let mut day = month.start();
    while day < month.end() && day_starts.len() < 32 {
        day_starts.push(day);
        match Period::Days(1).after(day) {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" class="chart timeline" aria-label=(format!("{title}. {description}")) {
            rect class="bar track" x=(L) y=(BAND_TOP) width=(W - L - R) height=(BAND_H) {}
            @for (i, start) in day_starts.iter().enumerate() {
                @let at = x(*start);
                line class="axis" x1=(format!("{at:.1}")) x2=(format!("{at:.1}")) y1=(BAND_TOP + BAND_H) y2=(BAND_TOP + BAND_H + 4.0) {}
                @if i == 0 || (i + 1) % 5 == 0 {
                    text x=(format!("{:.1}", at + 2.0)) y=(H - 6.0) text-anchor="start" { (i + 1) }
                }
            }
            @for (class, range) in bands {
                @let from = x(range.start());
                @let width = (x(range.end()) - from).max(2.0);
                rect class={ "bar " (class) } x=(format!("{from:.1}")) y=(BAND_TOP) width=(format!("{width:.1}")) height=(BAND_H) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_day_with_counted_downtime_is_drawn_red_and_lower() {
        let day = |counted, excluded, future| Day {
            number: 3,
            range: TimeRange::new(at("2026-11-02T23:00:00Z"), at("2026-11-03T23:00:00Z"))
                .expect("range"),
            counted_seconds: counted,
            excluded_seconds: excluded,
            future,
        };
        assert_eq!(day(0, 0, false).uptime_percent(), 100.0);
        assert!((day(4_320, 0, false).uptime_percent() - 95.0).abs() < 1e-9);
        let svg = month_chart(
            &[day(43_200, 0, false), day(0, 600, false), day(0, 0, true)],
            95.0,
            "t",
            "d",
        )
        .into_string();
        assert!(svg.contains(r#"class="bar down""#), "{svg}");
        assert!(svg.contains(r#"class="bar excluded""#));
        assert!(svg.contains(r#"class="bar future""#));
        assert!(svg.contains("95.0 %"));
        assert!(!svg.contains("style="), "the CSP refuses style attributes");
    }

    #[test]
    fn a_missed_month_is_red_an_unmeasured_one_a_stub_and_this_month_pale() {
        let month = |name: &str, complete, bp: Option<u32>, met| trust::UptimeMonth {
            month: name.into(),
            complete,
            uptime_basis_points: bp,
            uptime: None,
            met,
            planned_maintenance_seconds: 0,
            planned_maintenance_windows: 0,
        };
        let svg = year_chart(
            &[
                month("2026-09", true, None, None),
                month("2026-10", true, Some(9_990), Some(true)),
                month("2026-11", true, Some(9_100), Some(false)),
                month("2026-12", false, Some(10_000), None),
            ],
            95.0,
            "t",
            "d",
        )
        .into_string();
        assert!(svg.contains(r#"class="bar none""#), "{svg}");
        assert!(svg.contains(r#"class="bar down""#));
        assert!(svg.contains(r#"class="bar future""#));
        assert!(svg.contains(r#"class="bar" "#));
        assert!(svg.contains("11/26") && svg.contains("95.0 %"));
        assert!(!svg.contains("style="), "the CSP refuses style attributes");
    }
}
