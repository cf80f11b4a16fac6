//! The scheduled jobs: the job `x-y` of `schedules.json` is the function `x_y` here (the build
//! fails without it). The local scheduler runs them all; each job Lambda receives the job name
//! and scheduled time from EventBridge Scheduler and runs only its own.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kernel::time::Timestamp;

use crate::services::Services;

/// A job handler: the services and the scheduled time of the firing.
pub type Handler = Arc<
    dyn Fn(
            Arc<Services>,
            Timestamp,
        ) -> Pin<Box<dyn Future<Output = Result<(), kernel::Error>> + Send>>
        + Send
        + Sync,
>;

/// Every scheduled job's handler, by job name (the local scheduler runs them all; a Lambda runs
/// only its own, [`crate::entry::JobFunction::jobs`]).
pub fn handlers() -> HashMap<String, Handler> {
    crate::entry::JOBS
        .iter()
        .map(|&(job, run)| {
            let handler: Handler = Arc::new(move |services, at| run(services, at));
            (job.to_string(), handler)
        })
        .collect()
}

/// Carries decided credits to Stripe's customer balance; a failed call stays pending and is
/// retried here with the same idempotency key.
pub(crate) async fn credit_application(
    services: Arc<Services>,
    at: Timestamp,
) -> Result<(), kernel::Error> {
    let report = services
        .credits
        .apply_pending(services.gateway.as_ref())
        .await?;
    for (credit, error) in &report.failed {
        tracing::warn!(target: "regrooter::billing", event = "credit_pending", credit = %credit, error = %error, "credit not yet applied");
    }
    tracing::info!(target: "regrooter::jobs", job = "credit-application", scheduled = %at, applied = report.applied.len(), pending = report.failed.len(), "done");
    Ok(())
}

/// Logs each incident alert as the structured event the alarms watch
/// (`incident_deadline_alert`).
pub fn log_alerts(alerts: &[(incidents::IncidentId, incidents::model::Alert)]) {
    for (incident, alert) in alerts {
        tracing::warn!(
            target: "regrooter::security",
            event = "incident_deadline_alert",
            incident = %incident,
            duty = %alert.duty,
            kind = ?alert.kind,
            due = %alert.due,
            raised_at = %alert.raised_at,
            "notification deadline alert"
        );
    }
}

/// Raises the incident deadline alerts due at `at`; each alert is also a structured log event
/// (`incident_deadline_alert`) for the alarms.
pub(crate) async fn deadline_watch(
    services: Arc<Services>,
    at: Timestamp,
) -> Result<(), kernel::Error> {
    let report = services.incidents.watch_deadlines(at).await?;
    log_alerts(&report.alerts);
    tracing::info!(target: "regrooter::jobs", job = "deadline-watch", scheduled = %at, checked = report.incidents_checked, alerts = report.alerts.len(), "done");
    Ok(())
}

/// Hands every due message of the outbox to the mail transport, once; a message whose last
/// run died after its claim is marked in doubt and never resent by itself. Logs message ids and
/// states, never addresses.
pub(crate) async fn outbox_drain(
    services: Arc<Services>,
    at: Timestamp,
) -> Result<(), kernel::Error> {
    use incidents::DeliveryState;
    let report = services.incidents.drain_outbox(at).await?;
    for (message, state) in &report.messages {
        match state {
            DeliveryState::Accepted | DeliveryState::Queued => {
                tracing::info!(target: "regrooter::outbox", message = %message, state = %state, "message handed to the transport");
            }
            _ => {
                tracing::warn!(target: "regrooter::outbox", event = "message_not_sent", message = %message, state = %state, "message not sent");
            }
        }
    }
    log_alerts(&report.alerts);
    if !report.messages.is_empty() {
        tracing::info!(target: "regrooter::jobs", job = "outbox-drain", scheduled = %at, accepted = report.count(DeliveryState::Accepted), retrying = report.count(DeliveryState::Queued), failed = report.count(DeliveryState::Failed), in_doubt = report.count(DeliveryState::InDoubt), "done");
    }
    Ok(())
}

/// Runs every deletion stage due at `at` (and resumes any a crash interrupted). A tenant that
/// failed makes the job fail, so the alarm fires; the others are done regardless.
pub(crate) async fn retention(services: Arc<Services>, at: Timestamp) -> Result<(), kernel::Error> {
    let report = services.retention.run_due(at).await?;
    crate::routes::retention::log_run(&report);
    // The certificates go to the customers (queued; the outbox drain sends them).
    let mailed = services.send_certificates().await?;
    if mailed > 0 {
        tracing::info!(target: "regrooter::jobs", job = "retention", certificates_mailed = mailed, "certificates queued for the breach contacts");
    }
    tracing::info!(target: "regrooter::jobs", job = "retention", scheduled = %at, completed = report.completed.len(), failed = report.failed.len(), "done");
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(kernel::Error::Internal(format!(
            "retention failed for {} tenant(s); the next run resumes",
            report.failed.len()
        )))
    }
}

/// Makes, signs and keeps the trust statement (`/trust`): signed with the deletion-certificate
/// key, which only this function holds.
pub(crate) async fn trust_statement(
    services: Arc<Services>,
    at: Timestamp,
) -> Result<(), kernel::Error> {
    let signer = services.certificate_signer.as_deref().ok_or_else(|| {
        kernel::Error::Unavailable(
            "no signing key: the trust statement is signed with the deletion-certificate key (REGROOTER_CERTIFICATE_KEY)".into(),
        )
    })?;
    let sources = trust::Sources {
        store: services.store.as_ref(),
        keyring: &services.keyring,
        sla: &services.sla,
        incidents: &services.incidents,
        retention: &services.retention,
        auth: &services.auth,
    };
    let config = &services.config;
    let deployment = trust::Deployment {
        environment: config.environment.as_str().to_string(),
        region: config.region.clone(),
        backup_retention_days: config.backup_retention_days,
        dpo_contact: config.dpo_contact.clone(),
        security_contact: config.security_contact.clone(),
        certificate_keys: services
            .certificate_keys
            .iter()
            .map(|k| k.kid().to_string())
            .collect(),
    };
    let issuer = trust::signed::issuer(&config.token_issuer);
    let (statement, _) = trust::issue(&sources, deployment, signer, &issuer, at).await?;
    let (held, failing, missing) = statement.counts();
    tracing::info!(target: "regrooter::jobs", job = "trust-statement", scheduled = %at, held, failing, missing, "done");
    Ok(())
}

/// Checks every configured endpoint once, for the minute of the firing. A failed endpoint is a
/// result (down), not a failure of the job; only a result that could not be stored fails it.
pub(crate) async fn sla_probe(services: Arc<Services>, at: Timestamp) -> Result<(), kernel::Error> {
    let prober = services.prober.as_deref().ok_or_else(|| {
        kernel::Error::Unavailable("this function has no prober (registry flag probes)".into())
    })?;
    let results = services
        .sla
        .probe(prober, &services.config.sla_targets, at)
        .await?;
    let down = results
        .iter()
        .filter(|(_, s)| *s == sla::MinuteState::Down)
        .count();
    tracing::info!(target: "regrooter::jobs", job = "sla-probe", scheduled = %at, targets = results.len(), down, "done");
    Ok(())
}

/// Keeps the previous month's platform figures as computed at the close; a month below the
/// promise is logged for billing (claims are likely).
pub(crate) async fn sla_month_close(
    services: Arc<Services>,
    at: Timestamp,
) -> Result<(), kernel::Error> {
    match services.sla.close_month(at).await? {
        Some(summary) if !summary.meets_target => {
            tracing::warn!(target: "regrooter::sla", event = "sla_month_below_target", month = %summary.month, uptime = %summary.uptime, "the month missed the uptime promise");
        }
        Some(summary) => {
            tracing::info!(target: "regrooter::sla", event = "sla_month_closed", month = %summary.month, uptime = %summary.uptime, "month closed");
        }
        None => {
            tracing::info!(target: "regrooter::jobs", job = "sla-month-close", scheduled = %at, "closed already");
        }
    }
    Ok(())
}
