//! What retention stores about its own work, in the partition `RETENTION#<tenant>` — outside the
//! tenant's partition, so deleting the tenant's data never deletes the proof of it: the state
//! of the stages, the legal holds, and the signed certificates. Ids, counts and dates only.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use kernel::audit::{AuditHead, Audited};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::{DataCategory, RecordKind};
use kernel::store::{Item, ItemKey};
use kernel::time::{Period, Timestamp};

kernel::generated_id!(
    /// A legal hold: a statutory duty to keep some of a tenant's data.
    HoldId,
    "hold"
);

kernel::generated_id!(
    /// A deletion certificate (one per stage run).
    CertificateId,
    "cert"
);

/// The secondary-index partition listing every tenant with a retention state.
pub const STATES_INDEX: &str = "RETENTION_STATES";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Service end + 30 days: all personal data in the primary stores.
    Stage1,
    /// A further year on: all remaining copies.
    Stage2,
    /// After both stages: what a legal hold kept, once the hold has ended.
    HoldRelease,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Stage1 => "stage1",
            Stage::Stage2 => "stage2",
            Stage::HoldRelease => "hold_release",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Keys about to be deleted, written down before the delete so a crash cannot lose their count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBatch {
    pub keys: Vec<ItemKey>,
    pub kinds: Vec<RecordKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageRun {
    pub stage: Stage,
    pub certificate: CertificateId,
    pub started_at: Timestamp,
    /// Items deleted, per record kind.
    pub deleted: BTreeMap<RecordKind, u64>,
    /// Items kept under a legal hold and re-sealed with the legal-hold key, per record kind.
    pub kept_under_hold: BTreeMap<RecordKind, u64>,
    pub holds_applied: Vec<HoldId>,
    /// The batch being deleted, if any.
    pub pending: Option<PendingBatch>,
    /// Where the partition scan continues (items before it were kept or deleted already).
    pub scan_from: Option<String>,
    /// Keys listed for destruction (written before they are destroyed).
    pub keys_to_destroy: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedStage {
    pub stage: Stage,
    pub certificate: CertificateId,
    pub finished_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalDeletionRequest {
    pub requested_at: Timestamp,
    pub requested_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionState {
    pub tenant: TenantId,
    /// Fixed when the state is created (first stage or a final-deletion request): the tenant's
    /// profile is itself deleted in stage 1.
    pub service_ended_at: Timestamp,
    pub stage1_due: Timestamp,
    pub stage2_due: Timestamp,
    pub deletion_after_service_end: Period,
    pub remaining_copies_retention: Period,
    pub backup_retention: Period,
    pub final_deletion: Option<FinalDeletionRequest>,
    pub running: Option<StageRun>,
    pub completed: Vec<CompletedStage>,
    /// Items a legal hold kept are still there (a hold release will delete them).
    pub held_items_remain: bool,
    pub audit: Option<AuditHead>,
    /// Where the certificates go: the tenant's breach contact, read before stage 1 destroys
    /// the tenant's keys and sealed under the platform's identity key; dropped once the last
    /// stage's certificate carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_recipient: Option<kernel::crypto::SealedField>,
}

impl RetentionState {
    pub fn done(&self, stage: Stage) -> bool {
        self.completed.iter().any(|c| c.stage == stage)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    pub id: HoldId,
    pub tenant: TenantId,
    /// The statutory duty, e.g. "§ 147 Abs. 1 Nr. 4 AO: Buchungsbelege, 8 Jahre".
    pub legal_basis: String,
    pub categories: BTreeSet<DataCategory>,
    pub until: Timestamp,
    pub set_by: String,
    pub set_at: Timestamp,
    pub lifted_at: Option<Timestamp>,
    pub lifted_by: Option<String>,
    pub audit: AuditHead,
}

impl LegalHold {
    pub fn active(&self, now: Timestamp) -> bool {
        self.lifted_at.is_none() && self.until > now
    }
}

/// Each hold has its own audit chain.
impl Audited for LegalHold {
    fn chain(&self) -> String {
        format!("hold:{}", self.id)
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        hold_item(self)
    }
}

/// A legal hold as a certificate names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldSummary {
    pub id: HoldId,
    pub legal_basis: String,
    pub categories: BTreeSet<DataCategory>,
    pub until: Timestamp,
}

/// The signed statement of one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletionCertificate {
    pub id: CertificateId,
    pub tenant: TenantId,
    pub stage: Stage,
    /// In words, what the stage covers and what it does not.
    pub scope: String,
    pub service_ended_at: Timestamp,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// Items deleted per store (record kind of the data inventory).
    pub deleted: BTreeMap<RecordKind, u64>,
    pub kept_under_hold: BTreeMap<RecordKind, u64>,
    pub holds: Vec<HoldSummary>,
    /// Data keys destroyed (crypto-shredding): every copy they sealed, backups included, is
    /// unreadable from now on.
    pub keys_destroyed: Vec<String>,
    /// When the last backup that still holds the deleted data expires (finished + 7 days).
    pub backups_expire_by: Timestamp,
    pub final_deletion_requested: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredCertificate {
    pub certificate: DeletionCertificate,
    /// The certificate as a compact JWS (EdDSA), verifiable with the published key.
    pub jws: String,
    pub kid: String,
    /// The recipient the certificate is still to be mailed to (sealed as in the retention
    /// state); none once it is on its way, or when the tenant had no breach contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_to: Option<kernel::crypto::SealedField>,
}

pub fn partition(tenant: &TenantId) -> String {
    format!("RETENTION#{tenant}")
}

/// A service end an operator dated further back than the grace allows, waiting for a second
/// staff member's approval; until then the service has not ended and nothing is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEndRequest {
    pub tenant: TenantId,
    pub ended_at: Timestamp,
    pub requested_by: String,
    pub requested_at: Timestamp,
}

pub fn service_end_request_key(tenant: &TenantId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(partition(tenant), "SERVICE_END_REQUEST")?)
}

pub fn service_end_request_item(request: &ServiceEndRequest) -> Result<Item, Error> {
    Ok(Item::new(
        service_end_request_key(&request.tenant)?,
        RecordKind::ServiceEndRequest,
    )
    .with_record(request)?)
}

pub fn state_key(tenant: &TenantId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(partition(tenant), "STATE")?)
}

pub fn hold_key(tenant: &TenantId, id: &HoldId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(partition(tenant), format!("HOLD#{id}"))?)
}

pub fn certificate_key(tenant: &TenantId, id: &CertificateId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(partition(tenant), format!("CERT#{id}"))?)
}

pub fn state_item(state: &RetentionState) -> Result<Item, Error> {
    Ok(
        Item::new(state_key(&state.tenant)?, RecordKind::RetentionState)
            .with_gsi1(ItemKey::new(STATES_INDEX, state.tenant.as_str())?)
            .with_record(state)?,
    )
}

pub fn hold_item(hold: &LegalHold) -> Result<Item, Error> {
    Ok(Item::new(hold_key(&hold.tenant, &hold.id)?, RecordKind::LegalHold).with_record(hold)?)
}

pub fn certificate_item(stored: &StoredCertificate) -> Result<Item, Error> {
    Ok(Item::new(
        certificate_key(&stored.certificate.tenant, &stored.certificate.id)?,
        RecordKind::DeletionCertificate,
    )
    .with_record(stored)?)
}
