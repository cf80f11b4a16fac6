//! What the SLA stores: probe days, outages recorded by operators, exclusions, claims.

use serde::{Deserialize, Serialize};

use super::measure::Vantage;

use billing::credits::CreditId;
use kernel::audit::{AuditHead, Audited};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::money::Money;
use kernel::store::{Item, ItemKey};
use kernel::time::{Month, TimeRange, Timestamp};

kernel::generated_id!(
    /// An outage recorded by an operator.
    OutageId,
    "out"
);
kernel::generated_id!(
    /// An interval excluded from the SLA.
    ExclusionId,
    "exc"
);
kernel::generated_id!(
    /// A customer's SLA claim.
    ClaimId,
    "clm"
);

/// The registry of probe targets (so a report finds every target that ever had results).
pub const TARGETS_PARTITION: &str = "SLA_TARGETS";
pub const OUTAGES_PARTITION: &str = "SLA_OUTAGES";
pub const EXCLUSIONS_PARTITION: &str = "SLA_EXCLUSIONS";
pub const MONTHS_PARTITION: &str = "SLA_MONTHS";

/// One UTC day of one probe target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeDay {
    pub target: String,
    /// Where the minutes were seen from (absent in records of the region, written before there
    /// were two).
    #[serde(default, skip_serializing_if = "is_region")]
    pub vantage: Vantage,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// 1 440 characters: `u`, `d` or `?` per minute.
    pub minutes: String,
}

fn is_region(vantage: &Vantage) -> bool {
    *vantage == Vantage::Region
}

/// A target's days from one vantage: `SLA#<target>` from the region (as before there were two),
/// `SLA#<target>@edge` from the edge (target names have no `@`).
pub fn target_partition(target: &str, vantage: Vantage) -> String {
    match vantage {
        Vantage::Region => format!("SLA#{target}"),
        other => format!("SLA#{target}@{}", other.as_str()),
    }
}

pub fn day_key(target: &str, vantage: Vantage, day: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        target_partition(target, vantage),
        format!("DAY#{day}"),
    )?)
}

/// Who an outage or an exclusion concerns: every tenant, or one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "scope", content = "tenant")]
pub enum Scope {
    Platform,
    Tenant(TenantId),
}

impl Scope {
    pub fn concerns(&self, tenant: Option<&TenantId>) -> bool {
        match (self, tenant) {
            (Scope::Platform, _) => true,
            (Scope::Tenant(t), Some(other)) => t == other,
            (Scope::Tenant(_), None) => false,
        }
    }
}

/// An outage an operator records (e.g. one the probes could not see), with evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOutage {
    pub id: OutageId,
    pub range: TimeRange,
    pub scope: Scope,
    pub description: String,
    pub evidence: String,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
    pub audit: AuditHead,
}

/// The page's exclusions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionCategory {
    /// Force majeure or circumstances outside the company's control.
    ForceMajeure,
    /// Acts or omissions of the customer.
    CustomerAct,
    /// Acts or omissions of third parties.
    ThirdPartyAct,
    /// Faults in infrastructure or software run by the customer or third parties.
    ExternalInfrastructure,
    /// Planned maintenance, announced in advance.
    PlannedMaintenance,
}

impl ExclusionCategory {
    pub fn describe(self) -> &'static str {
        match self {
            ExclusionCategory::ForceMajeure => {
                "force majeure or circumstances outside the company's control"
            }
            ExclusionCategory::CustomerAct => "acts or omissions of the customer",
            ExclusionCategory::ThirdPartyAct => "acts or omissions of third parties",
            ExclusionCategory::ExternalInfrastructure => {
                "faults in infrastructure or software run by the customer or third parties"
            }
            ExclusionCategory::PlannedMaintenance => "planned maintenance, announced in advance",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub id: ExclusionId,
    pub range: TimeRange,
    pub category: ExclusionCategory,
    pub scope: Scope,
    pub reason: String,
    pub evidence: String,
    /// Planned maintenance only: when it was announced (before it began).
    pub announced_at: Option<Timestamp>,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
    pub audit: AuditHead,
}

pub fn outage_item(outage: &RecordedOutage) -> Result<Item, Error> {
    Ok(Item::new(
        ItemKey::new(
            OUTAGES_PARTITION,
            format!("{}#{}", outage.range.start(), outage.id),
        )?,
        RecordKind::SlaOutage,
    )
    .with_record(outage)?)
}

pub fn exclusion_item(exclusion: &Exclusion) -> Result<Item, Error> {
    Ok(Item::new(
        ItemKey::new(
            EXCLUSIONS_PARTITION,
            format!("{}#{}", exclusion.range.start(), exclusion.id),
        )?,
        RecordKind::SlaExclusion,
    )
    .with_record(exclusion)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Filed late: lapsed, with the reason.
    Lapsed,
    /// Filed in time and checked against the measurements; billing staff decide.
    Verified,
    Approved,
    Rejected,
}

/// Where the credit of a claim comes from: the billing period's fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeBasis {
    pub invoice: String,
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    pub fee: Money,
}

/// A claimed interval set against the measurements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludedPart {
    pub range: TimeRange,
    pub category: ExclusionCategory,
    pub exclusion: ExclusionId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    pub checked_at: Timestamp,
    /// The month's figures as measured.
    pub uptime: String,
    pub meets_target: bool,
    pub counted_downtime_seconds: i64,
    pub claimed_seconds: i64,
    /// Claimed time the measurements confirm as downtime that counts.
    pub confirmed: Vec<TimeRange>,
    pub confirmed_seconds: i64,
    /// Claimed downtime that an exclusion covers.
    pub excluded: Vec<ExcludedPart>,
    pub excluded_seconds: i64,
    /// Claimed time the measurements do not show as downtime (up, a blip, or unknown not counted).
    pub unconfirmed: Vec<TimeRange>,
    pub unconfirmed_seconds: i64,
    pub fee_basis: Option<FeeBasis>,
    /// 5 % (or the contract's share) of the fee, half a cent and more rounded up.
    pub credit: Option<Money>,
    /// Whether the measurements support a credit, and why (or why not).
    pub eligible: bool,
    pub reasons: Vec<String>,
    /// The same reasons in German, line for line (absent in verifications made before they were
    /// kept; pages then show the English ones).
    #[serde(default)]
    pub reasons_de: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub approved: bool,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub id: ClaimId,
    pub tenant: TenantId,
    pub month: Month,
    pub outages: Vec<TimeRange>,
    pub filed_at: Timestamp,
    pub filed_by: String,
    /// The end of the claim window for the month.
    pub deadline: Timestamp,
    pub status: ClaimStatus,
    pub lapse_reason: Option<String>,
    pub verification: Option<Verification>,
    pub decision: Option<Decision>,
    pub credit: Option<CreditId>,
    pub audit: AuditHead,
}

pub fn claims_partition(tenant: &TenantId) -> String {
    format!("SLA_CLAIMS#{tenant}")
}

pub fn claim_key(tenant: &TenantId, id: &ClaimId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(claims_partition(tenant), id.to_string())?)
}

pub fn claim_item(claim: &Claim) -> Result<Item, Error> {
    Ok(Item::new(claim_key(&claim.tenant, &claim.id)?, RecordKind::SlaClaim).with_record(claim)?)
}

/// A probe target that has had results (the report finds every target through these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetRecord {
    pub target: String,
}

pub fn target_key(target: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(TARGETS_PARTITION, target)?)
}

pub fn target_item(target: &str) -> Result<Item, Error> {
    Ok(
        Item::new(target_key(target)?, RecordKind::SlaTarget).with_record(&TargetRecord {
            target: target.to_string(),
        })?,
    )
}

/// The marker of a month's SLA credit: which claim made which credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthCredit {
    pub claim: ClaimId,
    pub credit: CreditId,
    pub month: Month,
}

pub fn month_credit_item(tenant: &TenantId, marker: &MonthCredit) -> Result<Item, Error> {
    Ok(Item::new(
        month_credit_key(tenant, marker.month)?,
        RecordKind::SlaMonthCredit,
    )
    .with_record(marker)?)
}

/// One SLA credit per tenant and month: the marker written with the approval.
pub fn month_credit_key(tenant: &TenantId, month: Month) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        claims_partition(tenant),
        format!("CREDITED#{month}"),
    )?)
}

/// A closed month's platform figures, kept as they were computed at the close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthSummary {
    pub month: Month,
    pub closed_at: Timestamp,
    pub uptime: String,
    pub meets_target: bool,
    pub downtime_seconds: i64,
    pub excluded_seconds: i64,
    pub counted_downtime_seconds: i64,
    pub unknown_seconds: i64,
}

// Each outage, exclusion and claim has its own audit chain.

impl Audited for RecordedOutage {
    fn chain(&self) -> String {
        format!("sla-outage:{}", self.id)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        outage_item(self)
    }
}

impl Audited for Exclusion {
    fn chain(&self) -> String {
        format!("sla-exclusion:{}", self.id)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        exclusion_item(self)
    }
}

impl Audited for Claim {
    fn chain(&self) -> String {
        format!("sla-claim:{}", self.id)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        claim_item(self)
    }
}
