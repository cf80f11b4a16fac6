//! Notification deadlines of an incident and the deadline watch's alerts.
//!
//! * Each customer whose data we process (we are processor): due at awareness + the page's 48 h
//!   (or the stricter time of its contract).
//! * Our own data (we are controller) with a risk: the supervisory authority at awareness + 72 h.
//!   Until the assessment is done the clock is assumed to run: the law does not wait for it.
//! * Our own data with a high risk: the data subjects "without undue delay"; the watch holds us
//!   to the 72-hour mark at the latest.
//! * An incident marked significant under NIS2, whoever's data: the early warning 24 h after
//!   awareness, the incident notification after 72 h, the final report one month after the
//!   notification went out (one month after it was due, while it has not).

use serde::Serialize;

use super::model::{Alert, AlertKind, Duty, IncidentRecord, IncidentStatus};
use kernel::ids::TenantId;
use kernel::policy::{self, EffectivePolicy};
use kernel::time::{Period, TimeError, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    Pending,
    MetOnTime,
    MetLate,
    Missed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub duty: Duty,
    pub due: Timestamp,
    /// When the notification went out, if it did.
    pub met_at: Option<Timestamp>,
    pub state: DeadlineState,
}

/// The deadlines of `incident` as of `now`. `policy_for` gives a customer's effective policy.
pub fn deadlines(
    incident: &IncidentRecord,
    now: Timestamp,
    policy_for: impl Fn(&TenantId) -> EffectivePolicy,
) -> Result<Vec<Deadline>, TimeError> {
    let mut duties: Vec<(Duty, Period)> = incident
        .customer_tenants()
        .into_iter()
        .map(|tenant| {
            let period = policy_for(&tenant).customer_notification;
            (Duty::Customer { tenant }, period)
        })
        .collect();
    if incident.nis2_significant {
        duties.push((Duty::Nis2EarlyWarning, policy::NIS2_EARLY_WARNING));
        duties.push((Duty::Nis2Notification, policy::NIS2_NOTIFICATION));
    }
    if incident.controller_data_affected() {
        let decision = incident.assessment.as_ref().map(|a| a.effective());
        let authority = decision.is_none_or(|d| d.notify_supervisory_authority);
        if authority {
            duties.push((
                Duty::SupervisoryAuthority,
                policy::SUPERVISORY_AUTHORITY_NOTIFICATION,
            ));
        }
        if decision.is_some_and(|d| d.communicate_to_data_subjects) {
            duties.push((
                Duty::DataSubjects,
                policy::SUPERVISORY_AUTHORITY_NOTIFICATION,
            ));
        }
    }
    let deadline = |duty: Duty, due: Timestamp| {
        let met_at = first_notice(incident, &duty);
        let state = match met_at {
            Some(at) if at <= due => DeadlineState::MetOnTime,
            Some(_) => DeadlineState::MetLate,
            None if now >= due => DeadlineState::Missed,
            None => DeadlineState::Pending,
        };
        Deadline {
            duty,
            due,
            met_at,
            state,
        }
    };
    let mut out = Vec::with_capacity(duties.len() + 1);
    for (duty, period) in duties {
        out.push(deadline(duty, period.after(incident.aware_at)?));
    }
    // NIS2's final report counts from the incident notification, not from awareness.
    if let Some(notification) = out.iter().find(|d| d.duty == Duty::Nis2Notification) {
        let from = notification.met_at.unwrap_or(notification.due);
        let due = policy::NIS2_FINAL_REPORT_AFTER_NOTIFICATION.after(from)?;
        out.push(deadline(Duty::Nis2FinalReport, due));
    }
    Ok(out)
}

/// When the notice owed under `duty` first went out (the first one that counts meets the
/// deadline; follow-ups do not move it).
pub fn first_notice(incident: &IncidentRecord, duty: &Duty) -> Option<Timestamp> {
    incident
        .notices
        .iter()
        .filter(|n| n.duty == *duty && n.counts())
        .map(|n| n.sent_at)
        .min()
}

/// The alerts the watch firing at `now` must raise: once when a deadline is 12 hours away, once
/// when it is missed — each at most once per duty, whatever the number of firings.
pub fn due_alerts(
    incident: &IncidentRecord,
    now: Timestamp,
    policy_for: impl Fn(&TenantId) -> EffectivePolicy,
) -> Result<Vec<Alert>, TimeError> {
    if incident.status == IncidentStatus::Closed {
        return Ok(Vec::new());
    }
    let mut alerts = Vec::new();
    for deadline in deadlines(incident, now, policy_for)? {
        if deadline.met_at.is_some() {
            continue;
        }
        let raised = |kind: AlertKind| {
            incident
                .alerts
                .iter()
                .any(|a| a.duty == deadline.duty && a.kind == kind)
        };
        let warn_from = policy::DEADLINE_WARNING_BEFORE.before(deadline.due)?;
        for (kind, from) in [
            (AlertKind::DueSoon, warn_from),
            (AlertKind::Missed, deadline.due),
        ] {
            if now >= from && !raised(kind) {
                alerts.push(Alert {
                    duty: deadline.duty.clone(),
                    kind,
                    due: deadline.due,
                    raised_at: now,
                });
            }
        }
    }
    Ok(alerts)
}
