//! `regrooter sla report` on the local platform's data directory.

use kernel::ids::TenantId;
use kernel::time::Month;
use sla::MonthReport;

use crate::cli::{CliError, SlaCommand};

fn duration(seconds: i64) -> String {
    format!(
        "{}h {:02}m {:02}s",
        seconds / 3_600,
        (seconds % 3_600) / 60,
        seconds % 60
    )
}

fn print(report: &MonthReport) {
    let whom = report
        .tenant
        .as_ref()
        .map_or_else(|| "the platform".to_string(), |t| format!("tenant {t}"));
    println!(
        "SLA {} for {whom}{}",
        report.month,
        if report.complete {
            ""
        } else {
            " (month in progress)"
        }
    );
    println!(
        "  uptime            {}  (promise: at least {}: {})",
        report.uptime,
        report.target,
        if report.meets_target { "met" } else { "MISSED" }
    );
    println!("  period            {}", duration(report.period_seconds));
    println!("  downtime          {}", duration(report.downtime_seconds));
    println!("  excluded          {}", duration(report.excluded_seconds));
    println!(
        "  counted downtime  {}",
        duration(report.counted_downtime_seconds)
    );
    println!(
        "  unknown           {}  ({:?})",
        duration(report.unknown_seconds),
        report.unknown_treatment
    );
    for outage in &report.outages {
        println!(
            "  outage {} – {}  {}  counted {}  [{}]",
            outage.range.start(),
            outage.range.end(),
            duration(outage.seconds),
            duration(outage.counted_seconds),
            outage.sources.join(", ")
        );
    }
    for exclusion in &report.exclusions {
        println!(
            "  excluded {} – {}  {}  {}: {}",
            exclusion.range.start(),
            exclusion.range.end(),
            duration(exclusion.excluded_seconds),
            exclusion.category_text,
            exclusion.reason
        );
    }
    for note in &report.notes {
        println!("  · {note}");
    }
}

pub async fn run(command: SlaCommand) -> Result<(), CliError> {
    match command {
        SlaCommand::Report {
            tenant,
            month,
            json,
            data,
        } => {
            let month: Month = month
                .parse()
                .map_err(|e: kernel::time::TimeError| CliError::Usage(e.to_string()))?;
            let tenant = tenant
                .map(|t| TenantId::new(&t).map_err(|e| CliError::Usage(format!("--tenant: {e}"))))
                .transpose()?;
            let services = crate::local::existing(&data).await?;
            if let Some(t) = &tenant
                && kernel::tenants::get(services.store.as_ref(), t)
                    .await
                    .map_err(|e| CliError::Refused(e.to_string()))?
                    .is_none()
            {
                return Err(CliError::Usage(format!("no tenant '{t}'")));
            }
            let report = services
                .sla
                .month_report(tenant.as_ref(), month)
                .await
                .map_err(|e| CliError::Refused(e.to_string()))?;
            if json {
                let text = serde_json::to_string_pretty(&report)
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                println!("{text}");
            } else {
                print(&report);
            }
            Ok(())
        }
    }
}
