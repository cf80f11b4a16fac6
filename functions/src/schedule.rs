//! The scheduled jobs, read from `schedules.json` — the one definition both the local scheduler
//! and Terraform's EventBridge Scheduler schedules use, so the two can never disagree.
//!
//! Expressions are in EventBridge's cron syntax, `cron(minutes hours day-of-month month
//! day-of-week year)`, evaluated in UTC. The local scheduler translates them to a standard
//! five-field pattern for `croner`.

use std::str::FromStr;

use croner::Cron;
use kernel::time::Timestamp;
use serde::Deserialize;

/// The file itself, compiled in.
pub const SCHEDULES_JSON: &str = include_str!("../schedules.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    comment: String,
    schedules: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    job: String,
    function: String,
    expression: String,
    description: String,
    #[serde(default)]
    catch_up: CatchUp,
}

/// What the local scheduler does with the firings a long step of simulated time passes over.
/// (EventBridge fires each as it comes; only simulated time leaps.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Every firing runs, in order: each does work of its own (a probe's minute, a deadline).
    #[default]
    Every,
    /// Only the newest runs: the job makes a snapshot of the present (the trust statement), so
    /// the firings before it would only be overwritten.
    Latest,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("schedules.json: {0}")]
    File(String),
    #[error("schedule '{job}': {reason}")]
    Expression { job: String, reason: String },
}

/// One scheduled job.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub job: String,
    /// The Lambda function EventBridge invokes.
    pub function: String,
    /// The EventBridge expression, exactly as Terraform deploys it.
    pub expression: String,
    pub description: String,
    pub catch_up: CatchUp,
    cron: Cron,
}

impl Schedule {
    pub fn new(
        job: &str,
        function: &str,
        expression: &str,
        description: &str,
    ) -> Result<Self, ScheduleError> {
        let fail = |reason: String| ScheduleError::Expression {
            job: job.to_string(),
            reason,
        };
        let pattern = to_standard_cron(expression).map_err(fail)?;
        let cron = Cron::from_str(&pattern).map_err(|e| fail(format!("'{pattern}': {e}")))?;
        Ok(Self {
            job: job.to_string(),
            function: function.to_string(),
            expression: expression.to_string(),
            description: description.to_string(),
            catch_up: CatchUp::Every,
            cron,
        })
    }

    pub fn with_catch_up(mut self, catch_up: CatchUp) -> Self {
        self.catch_up = catch_up;
        self
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Result<Timestamp, ScheduleError> {
        let fail = |reason: String| ScheduleError::Expression {
            job: self.job.clone(),
            reason,
        };
        let start = jiff02::Timestamp::from_second(after.as_second())
            .map_err(|e| fail(e.to_string()))?
            .to_zoned(jiff02::tz::TimeZone::UTC);
        let next = self
            .cron
            .find_next_occurrence(&start, false)
            .map_err(|e| fail(e.to_string()))?;
        Timestamp::from_second(next.timestamp().as_second()).map_err(|e| fail(e.to_string()))
    }
}

/// Every schedule from `schedules.json`.
pub fn all() -> Result<Vec<Schedule>, ScheduleError> {
    let file: File =
        serde_json::from_str(SCHEDULES_JSON).map_err(|e| ScheduleError::File(e.to_string()))?;
    file.schedules
        .into_iter()
        .map(|e| {
            Schedule::new(&e.job, &e.function, &e.expression, &e.description)
                .map(|s| s.with_catch_up(e.catch_up))
        })
        .collect()
}

/// `cron(0/15 * * * ? *)` → `0-59/15 * * * *`. Only the subset the platform uses is accepted:
/// numbers, `*`, ranges and steps; `?` for day-of-week; `*` for the year.
pub fn to_standard_cron(expression: &str) -> Result<String, String> {
    let inner = expression
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("'{expression}' is not of the form cron(...)"))?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minute, hour, dom, month, dow, year] = fields.as_slice() else {
        return Err(format!("'{expression}' needs six fields"));
    };
    if *year != "*" {
        return Err("the year field must be '*'".into());
    }
    if !matches!(*dow, "?" | "*") {
        return Err("day-of-week schedules are not used; set it to '?'".into());
    }
    let step_range = |field: &str, max: u32| -> Result<String, String> {
        if !field
            .bytes()
            .all(|b| b.is_ascii_digit() || b"*,-/".contains(&b))
        {
            return Err(format!("unsupported field '{field}'"));
        }
        // EventBridge writes "start/step"; standard cron wants "start-max/step".
        Ok(match field.split_once('/') {
            Some((start, step)) if start != "*" && !start.contains('-') => {
                format!("{start}-{max}/{step}")
            }
            _ => field.to_string(),
        })
    };
    let dom = if *dom == "?" { "*" } else { dom };
    Ok(format!(
        "{} {} {} {} *",
        step_range(minute, 59)?,
        step_range(hour, 23)?,
        step_range(dom, 31)?,
        step_range(month, 12)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn schedule(job: &str) -> Schedule {
        all()
            .expect("schedules")
            .into_iter()
            .find(|s| s.job == job)
            .expect("job")
    }

    #[test]
    fn every_schedule_parses() {
        let jobs: Vec<String> = all()
            .expect("schedules")
            .into_iter()
            .map(|s| s.job)
            .collect();
        assert_eq!(
            jobs,
            [
                "deadline-watch",
                "outbox-drain",
                "retention",
                "trust-statement",
                "sla-probe",
                "sla-month-close",
                "credit-application"
            ]
        );
    }

    #[test]
    fn translation() {
        assert_eq!(
            to_standard_cron("cron(0/15 * * * ? *)"),
            Ok("0-59/15 * * * *".into())
        );
        assert_eq!(
            to_standard_cron("cron(30 2 * * ? *)"),
            Ok("30 2 * * *".into())
        );
        assert_eq!(
            to_standard_cron("rate(5 minutes)"),
            Err("'rate(5 minutes)' is not of the form cron(...)".into())
        );
        assert_eq!(
            to_standard_cron("cron(0 0 * * MON *)"),
            Err("day-of-week schedules are not used; set it to '?'".into())
        );
        assert_eq!(
            to_standard_cron("cron(0 0 L * ? *)"),
            Err("unsupported field 'L'".into())
        );
    }

    #[test]
    fn next_firings() {
        let watch = schedule("deadline-watch");
        assert_eq!(
            watch.next_after(ts("2026-03-01T10:07:00Z")).expect("next"),
            ts("2026-03-01T10:15:00Z")
        );
        assert_eq!(
            watch.next_after(ts("2026-03-01T10:15:00Z")).expect("next"),
            ts("2026-03-01T10:30:00Z")
        );
        let retention = schedule("retention");
        assert_eq!(
            retention
                .next_after(ts("2026-03-01T10:07:00Z"))
                .expect("next"),
            ts("2026-03-02T02:30:00Z")
        );
        let close = schedule("sla-month-close");
        assert_eq!(
            close.next_after(ts("2026-02-14T00:00:00Z")).expect("next"),
            ts("2026-03-01T04:00:00Z")
        );
        let probe = schedule("sla-probe");
        assert_eq!(
            probe.next_after(ts("2026-02-14T00:00:30Z")).expect("next"),
            ts("2026-02-14T00:01:00Z")
        );
    }
}
