//! Aggregates for the public trust statement: how many incidents there were and whether the
//! customers were told within the promised time. Counts only — never a title, a tenant or a
//! date of a single incident — so the figures may be published.

use crate::records::INCIDENT_INDEXES;
use serde::{Deserialize, Serialize};

use super::deadlines::{self, DeadlineState};
use super::model::{Duty, IncidentRecord};
use super::service::IncidentService;
use kernel::error::Error;
use kernel::policy::EffectivePolicy;
use kernel::store::{Query, query_all};
use kernel::time::Timestamp;

/// Incidents whose awareness lies in a period, and their customer notices (the 48 h promise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachFigures {
    /// Incidents the company became aware of in the period.
    pub incidents: u32,
    /// Of them, the ones where customers' data (we are processor) was affected.
    pub with_customer_data: u32,
    /// Customer notices owed (one per affected customer and incident) whose time has come.
    pub customer_notices_due: u32,
    pub customer_notices_on_time: u32,
    pub customer_notices_late: u32,
    /// Due, and still not sent.
    pub customer_notices_missed: u32,
    /// Owed, but their time has not come yet (not counted either way).
    pub customer_notices_pending: u32,
}

impl IncidentService {
    /// The figures of every incident the company became aware of from `since` up to `now`.
    pub async fn breach_figures(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<BreachFigures, Error> {
        let mut figures = BreachFigures::default();
        for partition in INCIDENT_INDEXES {
            for item in query_all(self.store.as_ref(), Query::gsi1(partition)).await? {
                let record: IncidentRecord = item.record()?;
                if record.aware_at < since || record.aware_at > now {
                    continue;
                }
                figures.incidents += 1;
                if !record.customer_tenants().is_empty() {
                    figures.with_customer_data += 1;
                }
                let policies = self.policies(&record).await?;
                let deadlines = deadlines::deadlines(&record, now, |t| {
                    policies
                        .get(t)
                        .cloned()
                        .unwrap_or_else(EffectivePolicy::page)
                })
                .map_err(|e| Error::Internal(e.to_string()))?;
                for deadline in deadlines
                    .iter()
                    .filter(|d| matches!(d.duty, Duty::Customer { .. }))
                {
                    match deadline.state {
                        DeadlineState::Pending => figures.customer_notices_pending += 1,
                        DeadlineState::MetOnTime => {
                            figures.customer_notices_due += 1;
                            figures.customer_notices_on_time += 1;
                        }
                        DeadlineState::MetLate => {
                            figures.customer_notices_due += 1;
                            figures.customer_notices_late += 1;
                        }
                        DeadlineState::Missed => {
                            figures.customer_notices_due += 1;
                            figures.customer_notices_missed += 1;
                        }
                    }
                }
            }
        }
        Ok(figures)
    }
}
