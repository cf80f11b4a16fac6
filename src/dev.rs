//! Development-only routes, mounted only when the platform runs on the manual clock (which
//! production refuses): read and move simulated time. Moving time runs every scheduled job that
//! became due, in order, before answering — so a test sees their effects at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use kernel::Clock;
use kernel::time::{ManualClock, SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::scheduler::{Firing, Scheduler};

#[derive(Clone)]
struct DevState {
    clock: Arc<ManualClock>,
    scheduler: Arc<Scheduler>,
}

pub fn router(clock: Arc<ManualClock>, scheduler: Arc<Scheduler>) -> Router {
    Router::new()
        .route("/_dev/clock", get(read).post(move_clock))
        .with_state(DevState { clock, scheduler })
}

/// Where the clock stands, and what moving it ran: per job how many firings, how many failed,
/// the first and the last — a summary, not every firing (a day has 1 440 minutes of probes).
#[derive(Debug, Serialize)]
struct ClockState {
    now: Timestamp,
    fired: BTreeMap<String, JobSummary>,
    /// Every firing that failed, in order.
    failures: Vec<Firing>,
}

#[derive(Debug, Serialize)]
struct JobSummary {
    runs: usize,
    failed: usize,
    first: Timestamp,
    last: Timestamp,
}

impl ClockState {
    fn of(now: Timestamp, firings: Vec<Firing>) -> Self {
        let mut fired: BTreeMap<String, JobSummary> = BTreeMap::new();
        let mut failures = Vec::new();
        for firing in firings {
            let summary = fired.entry(firing.job.clone()).or_insert(JobSummary {
                runs: 0,
                failed: 0,
                first: firing.scheduled,
                last: firing.scheduled,
            });
            summary.runs += 1;
            summary.last = firing.scheduled;
            if !firing.ok {
                summary.failed += 1;
                failures.push(firing);
            }
        }
        Self {
            now,
            fired,
            failures,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    /// Move forward by a duration: "36h", "PT15M", or whole days, "3d" (24 hours each).
    advance: Option<String>,
    /// Move to an instant.
    to: Option<Timestamp>,
}

/// A forward move: whole days ("3d") or any duration jiff reads ("36h", "PT15M", "1h 30m").
fn parse_advance(text: &str) -> Result<SignedDuration, kernel::Error> {
    let text = text.trim();
    let bad = || {
        kernel::Error::validation(
            "/advance",
            format!("'{text}' is not a duration (e.g. \"3d\", \"36h\", \"PT15M\")"),
        )
    };
    let by = match text.strip_suffix('d').map(|d| d.trim().parse::<i64>()) {
        Some(Ok(days)) => days
            .checked_mul(24)
            .map(SignedDuration::from_hours)
            .ok_or_else(bad)?,
        Some(Err(_)) => return Err(bad()),
        None => text.parse::<SignedDuration>().map_err(|_| bad())?,
    };
    if by.is_negative() {
        return Err(kernel::Error::validation(
            "/advance",
            "time only moves forward",
        ));
    }
    Ok(by)
}

async fn read(State(state): State<DevState>) -> Json<ClockState> {
    Json(ClockState::of(state.clock.now(), vec![]))
}

async fn move_clock(
    State(state): State<DevState>,
    body: axum::body::Bytes,
) -> Result<Json<ClockState>, functions::http::ApiError> {
    let request: Move = functions::http::parse_json(&body)?;
    let result = match (request.advance, request.to) {
        (Some(by), None) => state.clock.advance(parse_advance(&by)?),
        (None, Some(to)) => state.clock.set(to),
        _ => {
            return Err(
                kernel::Error::validation("", "give exactly one of 'advance' or 'to'").into(),
            );
        }
    };
    let now = result.map_err(|e| kernel::Error::validation("", e.to_string()))?;
    let fired = state.scheduler.run_due(now).await;
    Ok(Json(ClockState::of(now, fired)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_hours_and_iso_durations_move_the_clock_forward_only() {
        assert_eq!(
            parse_advance("3d").ok(),
            Some(SignedDuration::from_hours(72))
        );
        assert_eq!(
            parse_advance("36h").ok(),
            Some(SignedDuration::from_hours(36))
        );
        assert_eq!(
            parse_advance("PT15M").ok(),
            Some(SignedDuration::from_mins(15))
        );
        for bad in ["3x", "d", "-1d", "-2h", "soon"] {
            assert!(
                matches!(parse_advance(bad), Err(kernel::Error::Validation(errors)) if errors[0].pointer == "/advance"),
                "{bad}"
            );
        }
    }
}
