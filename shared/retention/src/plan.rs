//! The retention plan of one tenant: the two stage dates, from the recorded service end and the
//! periods that apply (the page's, or the contract's where it differs).

use serde::Serialize;

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::policy::EffectivePolicy;
use kernel::tenants::{ServiceEndSource, ServiceStatus, TenantRecord};
use kernel::time::{Period, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionPlan {
    pub tenant: TenantId,
    pub service_ended_at: Timestamp,
    pub service_end_source: Option<ServiceEndSource>,
    /// Stage 1: every personal data item of the tenant in every primary store.
    pub stage1_due: Timestamp,
    /// Stage 2: all remaining copies (exports, archives), counted from stage 1.
    pub stage2_due: Timestamp,
    pub deletion_after_service_end: Period,
    pub remaining_copies_retention: Period,
    pub backup_retention: Period,
}

/// The plan of a tenant whose service has ended; `None` while the service runs.
pub fn plan_for(record: &TenantRecord) -> Result<Option<RetentionPlan>, Error> {
    let (ServiceStatus::Ended, Some(ended_at)) = (record.status, record.service_ended_at) else {
        return Ok(None);
    };
    let policy = EffectivePolicy::for_contract(&record.contract)?;
    let stage1_due = policy
        .deletion_after_service_end
        .after(ended_at)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let stage2_due = policy
        .remaining_copies_retention
        .after(stage1_due)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Some(RetentionPlan {
        tenant: record.id.clone(),
        service_ended_at: ended_at,
        service_end_source: record.service_end_source.clone(),
        stage1_due,
        stage2_due,
        deletion_after_service_end: policy.deletion_after_service_end,
        remaining_copies_retention: policy.remaining_copies_retention,
        backup_retention: policy.backup_retention,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::policy::ContractTerms;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn tenant(ended: Option<&str>, contract: ContractTerms) -> TenantRecord {
        TenantRecord {
            id: TenantId::new("acme").expect("id"),
            name: "ACME".into(),
            contact_email: None,
            contract,
            status: if ended.is_some() {
                ServiceStatus::Ended
            } else {
                ServiceStatus::Active
            },
            service_ended_at: ended.map(ts),
            service_end_source: None,
            audit: None,
            passkeys_required: false,
            created_at: ts("2025-01-01T00:00:00Z"),
            updated_at: ts("2025-01-01T00:00:00Z"),
        }
    }

    #[test]
    fn stage_dates_follow_the_page_in_company_time() {
        let plan = plan_for(&tenant(
            Some("2026-03-15T10:00:00Z"),
            ContractTerms::default(),
        ))
        .expect("plan")
        .expect("ended");
        // 30 calendar days in Europe/Berlin: across the DST change the wall time stays 11:00.
        assert_eq!(plan.stage1_due, ts("2026-04-14T09:00:00Z"));
        assert_eq!(plan.stage2_due, ts("2027-04-14T09:00:00Z"));
        assert!(
            plan_for(&tenant(None, ContractTerms::default()))
                .expect("plan")
                .is_none()
        );
    }

    #[test]
    fn the_contract_may_change_the_periods() {
        let terms = ContractTerms {
            deletion_after_service_end: Some(Period::Days(90)),
            remaining_copies_retention: Some(Period::Days(180)),
            ..ContractTerms::default()
        };
        let plan = plan_for(&tenant(Some("2026-01-01T00:00:00Z"), terms))
            .expect("plan")
            .expect("ended");
        // 01:00 CET on 1 January + 90 days = 01:00 CEST on 1 April.
        assert_eq!(plan.stage1_due, ts("2026-03-31T23:00:00Z"));
        assert_eq!(plan.deletion_after_service_end, Period::Days(90));
        assert_eq!(plan.remaining_copies_retention, Period::Days(180));
    }
}
