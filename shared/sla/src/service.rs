//! The SLA: probe results in, month reports, claims checked against the measurements, credits.
//! This file holds the service and the input checks its use cases share; each use case is a file
//! below `service/`: `probing`, `operators` (outages and exclusions), `reports`, `claims`.

use std::sync::Arc;

use serde::Serialize;

use super::records::*;
use billing::credits::CreditService;
use billing::service::BillingService;
use kernel::audit::{self, Audited, Stamp};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::scrub;
use kernel::store::{Query, Store, query_all};
use kernel::time::{Clock, Month, SignedDuration, TimeRange, Timestamp};

// One file per use case; each adds its operations to `SlaService`.
mod claims;
mod operators;
mod probing;
mod reports;

pub use claims::{ClaimInput, ClaimView, ClaimedOutage, DecisionInput};
pub use operators::{ExclusionInput, OutageInput};
pub use probing::{ProbeTarget, Prober, TargetState};

/// Failed minutes in a row before they count as an outage, unless configured otherwise.
pub const DEFAULT_CONFIRMATIONS: usize = 2;

fn text(errors: &mut Vec<FieldError>, pointer: &str, value: Option<String>, max: usize) -> String {
    let value = value.unwrap_or_default().trim().to_string();
    if value.is_empty() || value.chars().count() > max {
        errors.push(FieldError::new(
            pointer,
            format!("is required (1 to {max} characters)"),
        ));
    }
    scrub::scrub(&value).0
}

fn range(
    errors: &mut Vec<FieldError>,
    prefix: &str,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
) -> Option<TimeRange> {
    match (start, end) {
        (Some(s), Some(e)) if s < e => TimeRange::new(s, e).ok(),
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                format!("{prefix}/end"),
                "must lie after the start",
            ));
            None
        }
        (s, e) => {
            if s.is_none() {
                errors.push(FieldError::new(
                    format!("{prefix}/start"),
                    "is required (date and time)",
                ));
            }
            if e.is_none() {
                errors.push(FieldError::new(
                    format!("{prefix}/end"),
                    "is required (date and time)",
                ));
            }
            None
        }
    }
}

fn floor_minute(at: Timestamp) -> Timestamp {
    Timestamp::from_second(at.as_second().div_euclid(60) * 60).unwrap_or(at)
}

fn previous(month: Month) -> Result<Month, Error> {
    let start = month
        .range()
        .map_err(|e| Error::Internal(e.to_string()))?
        .start();
    let before = start
        .checked_sub(SignedDuration::from_secs(1))
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Month::containing(before))
}

fn minutes_in(window: &TimeRange) -> i64 {
    window.duration().as_secs().div_euclid(60)
}

/// The audit heads the SLA's records keep — outages, exclusions and the claims of `tenants` —
/// by chain (see `kernel::audit::verify_all_chains_to`).
pub async fn audit_heads(
    store: &dyn Store,
    tenants: &[TenantId],
) -> Result<kernel::audit::RecordHeads, Error> {
    let mut heads = kernel::audit::RecordHeads::new();
    for item in query_all(store, Query::partition(OUTAGES_PARTITION)).await? {
        let outage: RecordedOutage = item.record()?;
        heads.insert(outage.chain(), outage.audit);
    }
    for item in query_all(store, Query::partition(EXCLUSIONS_PARTITION)).await? {
        let exclusion: Exclusion = item.record()?;
        heads.insert(exclusion.chain(), exclusion.audit);
    }
    for tenant in tenants {
        let claims = query_all(
            store,
            Query::partition(claims_partition(tenant)).prefix(ClaimId::PREFIX),
        )
        .await?;
        for item in claims {
            let claim: Claim = item.record()?;
            heads.insert(claim.chain(), claim.audit);
        }
    }
    Ok(heads)
}

pub struct SlaService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    billing: Arc<BillingService>,
    credits: CreditService,
    confirmations: usize,
}

impl SlaService {
    pub fn new(
        store: GuardedStore,
        clock: Arc<dyn Clock>,
        billing: Arc<BillingService>,
        confirmations: usize,
    ) -> Self {
        let credits = CreditService::new(store.clone(), clock.clone(), billing.clone());
        Self {
            store: store.shared(),
            clock,
            billing,
            credits,
            confirmations: confirmations.max(1),
        }
    }

    /// A new record and its first audit entry, together.
    async fn create_audited(
        &self,
        record: &mut impl Audited,
        stamp: Stamp<'_>,
        change: &impl Serialize,
    ) -> Result<(), Error> {
        let ops = audit::create_ops(record, stamp, change)?;
        self.store.transact(ops).await?;
        Ok(())
    }
}
