//! Aggregates for the public trust statement: deletion stages completed (each with its signed
//! certificate) in a period and stages that are overdue. Counts only, never a tenant.

use serde::{Deserialize, Serialize};

use super::records::Stage;
use super::service::{RetentionService, StageStatus};
use kernel::error::Error;
use kernel::time::{Period, Timestamp};

/// The retention job runs daily; a stage still not done two days after it fell due has been
/// missed by at least one run, and says so.
pub const OVERDUE_AFTER: Period = Period::Hours(48);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionFigures {
    /// Deletion stages finished in the period; each issued one signed certificate.
    pub stages_completed: u32,
    pub certificates_issued: u32,
    /// Stages due longer than [`OVERDUE_AFTER`] and not done (legal holds excepted: a held stage
    /// is not due).
    pub stages_overdue: u32,
}

impl RetentionService {
    /// The figures of the period from `since` up to `now`.
    pub async fn deletion_figures(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<DeletionFigures, Error> {
        let overdue_before = OVERDUE_AFTER
            .before(now)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut figures = DeletionFigures::default();
        for tenant in self.plan(now, None).await? {
            for (stage, status) in [
                (Stage::Stage1, &tenant.stage1),
                (Stage::Stage2, &tenant.stage2),
            ] {
                match status {
                    StageStatus::Done { finished_at, .. }
                        if *finished_at >= since && *finished_at <= now =>
                    {
                        figures.stages_completed += 1;
                        figures.certificates_issued += 1;
                    }
                    StageStatus::Due { due }
                        if *due < overdue_before && tenant.due_now.contains(&stage) =>
                    {
                        figures.stages_overdue += 1;
                    }
                    StageStatus::Running { since } if *since < overdue_before => {
                        figures.stages_overdue += 1;
                    }
                    _ => {}
                }
            }
        }
        Ok(figures)
    }
}
