//! Gathers the statement's figures from the areas (aggregates only) and the deployment.

use auth::AuthService;
use incidents::IncidentService;
use kernel::crypto::{KeyOwner, Keyring};
use kernel::error::Error;
use kernel::store::Store;
use kernel::tenants;
use kernel::time::{Month, Period, SignedDuration, Timestamp};
use retention::RetentionService;
use sla::SlaService;
use sla::records::ExclusionCategory;

use crate::published;
use crate::sections::Figures;
use crate::statement::UptimeMonth;

/// The areas the figures come from.
pub struct Sources<'a> {
    pub store: &'a dyn Store,
    pub keyring: &'a Keyring,
    pub sla: &'a SlaService,
    pub incidents: &'a IncidentService,
    pub retention: &'a RetentionService,
    pub auth: &'a AuthService,
}

/// What the deployment says about itself.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub environment: String,
    /// `AWS_REGION` of the function making the statement.
    pub region: Option<String>,
    /// `REGROOTER_BACKUP_RETENTION_DAYS`, set by Terraform from the backup plan's own figure.
    pub backup_retention_days: Option<u32>,
    pub dpo_contact: String,
    pub security_contact: String,
    /// Key ids of the published deletion-certificate keys (which also sign this statement).
    pub certificate_keys: Vec<String>,
}

/// The twelve months counted back from `now`.
pub const PERIOD: Period = Period::Months(12);

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

fn month_before(month: Month) -> Result<Month, Error> {
    let start = month.range().map_err(internal)?.start();
    let before = start
        .checked_sub(SignedDuration::from_secs(1))
        .map_err(internal)?;
    Ok(Month::containing(before))
}

/// A month's uptime with how it was measured.
struct MonthFigures {
    month: UptimeMonth,
    unmeasured_seconds: i64,
    elapsed_seconds: i64,
    targets: usize,
    vantages: Vec<String>,
}

async fn uptime_month(sla: &SlaService, month: Month) -> Result<MonthFigures, Error> {
    let report = sla.month_report(None, month).await?;
    let measured = !report.targets.is_empty();
    let period = report.period_seconds.max(1);
    let up = (period - report.counted_downtime_seconds).clamp(0, period);
    let basis_points = u32::try_from(i128::from(up) * 10_000 / i128::from(period)).unwrap_or(0);
    let maintenance: Vec<_> = report
        .exclusions
        .iter()
        .filter(|e| e.category == ExclusionCategory::PlannedMaintenance && e.announced_at.is_some())
        .collect();
    let maintenance_seconds = maintenance
        .iter()
        .filter_map(|e| e.range.intersection(&report.window))
        .map(|r| r.duration().as_secs())
        .sum();
    Ok(MonthFigures {
        month: UptimeMonth {
            month: month.to_string(),
            complete: report.complete,
            uptime_basis_points: measured.then_some(basis_points),
            uptime: measured.then(|| report.uptime.clone()),
            met: (measured && report.complete).then_some(report.meets_target),
            planned_maintenance_seconds: maintenance_seconds,
            planned_maintenance_windows: u32::try_from(maintenance.len()).unwrap_or(u32::MAX),
        },
        unmeasured_seconds: report.unknown_seconds,
        elapsed_seconds: report.window.duration().as_secs(),
        targets: report.targets.len(),
        vantages: report
            .vantages
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
    })
}

/// Everything the statement is made from, as of `now`.
pub async fn figures(
    sources: &Sources<'_>,
    deployment: Deployment,
    now: Timestamp,
) -> Result<Figures, Error> {
    let period_start = PERIOD.before(now).map_err(internal)?;
    let this_month = Month::containing(now);
    let mut past = Vec::new();
    let mut month = this_month;
    for _ in 0..12 {
        month = month_before(month)?;
        past.push(month);
    }
    past.reverse();
    let mut months = Vec::with_capacity(13);
    for month in past {
        months.push(uptime_month(sources.sla, month).await?.month);
    }
    // At the very first instant of a month there is nothing of it to report yet.
    let (mut unmeasured, mut elapsed, mut targets, mut vantages) = (0, 0, 0, Vec::new());
    if this_month.range().map_err(internal)?.start() < now {
        let current = uptime_month(sources.sla, this_month).await?;
        (unmeasured, elapsed, targets, vantages) = (
            current.unmeasured_seconds,
            current.elapsed_seconds,
            current.targets,
            current.vantages,
        );
        months.push(current.month);
    }

    let mut owners = vec![KeyOwner::Platform];
    for tenant in tenants::all(sources.store).await? {
        owners.push(KeyOwner::Tenant(tenant.id));
    }
    Ok(Figures {
        now,
        period_start,
        environment: deployment.environment,
        region: deployment.region,
        backup_retention_days: deployment.backup_retention_days,
        dpo_contact: deployment.dpo_contact,
        security_contact: deployment.security_contact,
        months,
        probe_targets: if targets > 0 && unmeasured < elapsed {
            targets
        } else {
            0
        },
        month_unmeasured_seconds: unmeasured,
        month_elapsed_seconds: elapsed,
        vantages,
        breaches: sources.incidents.breach_figures(period_start, now).await?,
        deletions: sources
            .retention
            .deletion_figures(period_start, now)
            .await?,
        certificate_keys: deployment.certificate_keys,
        keys: sources
            .keyring
            .key_figures(&owners, period_start)
            .await
            .map_err(internal)?,
        kek: sources
            .keyring
            .kek_rotation()
            .await
            .map_err(|e| e.to_string()),
        staff: sources.auth.staff_factor_figures().await?,
        waf: published::waf_eval(),
        advisory_audit: published::advisory_audit(),
    })
}
