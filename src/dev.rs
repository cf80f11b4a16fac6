//! Development-only routes, mounted only when the platform runs on the manual clock (which
//! production refuses): read and move simulated time. Moving time runs every scheduled job that
//! became due, in order, before answering — so a test sees their effects at once.

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

#[derive(Debug, Serialize)]
struct ClockState {
    now: Timestamp,
    fired: Vec<Firing>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    /// Move forward by a duration, e.g. "36h" or "PT15M".
    advance: Option<SignedDuration>,
    /// Move to an instant.
    to: Option<Timestamp>,
}

async fn read(State(state): State<DevState>) -> Json<ClockState> {
    Json(ClockState {
        now: state.clock.now(),
        fired: vec![],
    })
}

async fn move_clock(
    State(state): State<DevState>,
    body: axum::body::Bytes,
) -> Result<Json<ClockState>, functions::http::ApiError> {
    let request: Move = functions::http::parse_json(&body)?;
    let result = match (request.advance, request.to) {
        (Some(by), None) if by.is_negative() => {
            return Err(kernel::Error::validation("/advance", "time only moves forward").into());
        }
        (Some(by), None) => state.clock.advance(by),
        (None, Some(to)) => state.clock.set(to),
        _ => {
            return Err(
                kernel::Error::validation("", "give exactly one of 'advance' or 'to'").into(),
            );
        }
    };
    let now = result.map_err(|e| kernel::Error::validation("", e.to_string()))?;
    let fired = state.scheduler.run_due(now).await;
    Ok(Json(ClockState { now, fired }))
}
