//! The deadline watch: the 48 h / 72 h / NIS2 clocks of open incidents, alerts raised once and
//! mailed to the security team.

use kernel::crypto::Personal;
use kernel::error::Error;
use kernel::policy::EffectivePolicy;
use kernel::rbac::Principal;
use kernel::store::{Query, query_all};
use kernel::time::Timestamp;
use serde::Serialize;

use super::{IncidentService, conflict};
use crate::deadlines;
use crate::model::*;
use crate::outbox::Purpose;
use crate::records::OPEN_INCIDENTS_INDEX;

#[derive(Debug, Default, Serialize)]
pub struct WatchReport {
    pub incidents_checked: usize,
    pub alerts: Vec<(IncidentId, Alert)>,
}

impl IncidentService {
    /// The deadline watch: one firing at `at` (its scheduled time). Raises each alert once.
    pub async fn watch_deadlines(&self, at: Timestamp) -> Result<WatchReport, Error> {
        let mut report = WatchReport::default();
        let open = query_all(self.store.as_ref(), Query::gsi1(OPEN_INCIDENTS_INDEX)).await?;
        let principal = Principal::system("deadline-watch");
        for item in open {
            report.incidents_checked += 1;
            let id = item.record::<IncidentRecord>()?.id;
            for _ in 0..5 {
                let (mut record, version) = self.load_incident(&id).await?;
                let policies = self.policies(&record).await?;
                let alerts = deadlines::due_alerts(&record, at, |t| {
                    policies
                        .get(t)
                        .cloned()
                        .unwrap_or_else(EffectivePolicy::page)
                })
                .map_err(|e| Error::Internal(e.to_string()))?;
                if alerts.is_empty() {
                    break;
                }
                record.alerts.extend(alerts.clone());
                let before = record.customer_tenants();
                let raised = record.alerts.len();
                let mut ops = self.save_ops(
                    &principal,
                    &mut record,
                    version,
                    "deadline.alert",
                    &alerts,
                    &before,
                )?;
                // The security team is told by mail in the same transaction: the alerts exist
                // exactly when their message does (one per firing, named by the alert count).
                if let Some(mailbox) = &self.alert_recipient {
                    let (subject, body) =
                        crate::notice::staff_alert(&id, &alerts, &self.incident_url(&id));
                    ops.push(
                        self.queue_message(
                            format!("{id}-alert-{raised}"),
                            Purpose::StaffAlert { incident: id },
                            mailbox,
                            subject,
                            &Personal::new(body),
                        )
                        .await?,
                    );
                }
                match self.store.transact(ops).await.map_err(conflict) {
                    Ok(_) => {
                        report.alerts.extend(alerts.into_iter().map(|a| (id, a)));
                        break;
                    }
                    Err(Error::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(report)
    }
}
