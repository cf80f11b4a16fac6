//! Running retention: the due stages of every tenant, crash-safe and exact.
//!
//! Each stage deletes in batches of at most 25 items. Before a batch is deleted its keys are
//! written into the tenant's retention state; after the delete they are counted and cleared. A
//! crash anywhere leaves either no pending batch (nothing lost) or a pending one, which the next
//! run deletes again (deleting a deleted item is a no-op) and counts once — so a rerun finishes
//! the job, deletes nothing twice, skips nothing, and its counts are exact. Keys to be destroyed
//! are listed the same way before the crypto-shred. Before every batch the guard checks that
//! every key lies in the tenant's own partition and that the tenant's service has ended.
//!
//! This file holds the service and what its use cases share; each use case is a file below
//! `service/`: `status` (plans and due stages), `run`, `service_end` (people's decisions),
//! `holds`, `certificates`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::records::*;
use kernel::audit::Audited;
use kernel::crypto::{KeyPurpose, Keyring};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::{DataCategory, Holding, RecordKind};
use kernel::store::{Query, Store, query_all};
use kernel::time::{Clock, Timestamp};
use kernel::token::SigningKey;

// One file per use case; each adds its operations to `RetentionService`.
mod certificates;
mod holds;
mod run;
mod service_end;
mod status;

pub use certificates::{certificate_message, scope_text, scope_text_de, verify_certificate};
pub use holds::{HoldInput, check_hold};
pub use run::RunReport;
pub use service_end::{
    FinalDeletionInput, ServiceEndInput, ServiceEndOutcome, final_deletion_phrase,
};
pub use status::{StageStatus, TenantRetention};

const ACTOR: &str = "retention";

fn chain(tenant: &TenantId) -> String {
    format!("retention:{tenant}")
}

/// The audit heads retention's records keep — each tenant's retention state and every legal
/// hold — by chain (see `kernel::audit::verify_all_chains_to`). Holds are looked up for
/// `tenants` and every tenant with a retention state (a deleted tenant's holds outlive its
/// record).
pub async fn audit_heads(
    store: &dyn Store,
    tenants: &[TenantId],
) -> Result<kernel::audit::RecordHeads, Error> {
    let mut heads = kernel::audit::RecordHeads::new();
    let mut tenants: BTreeSet<TenantId> = tenants.iter().cloned().collect();
    for item in query_all(store, Query::gsi1(STATES_INDEX).limit(1_000)).await? {
        let state: RetentionState = item.record()?;
        if let Some(head) = state.audit {
            heads.insert(chain(&state.tenant), head);
        }
        tenants.insert(state.tenant);
    }
    for tenant in &tenants {
        for item in query_all(store, Query::partition(partition(tenant)).prefix("HOLD#")).await? {
            let hold: LegalHold = item.record()?;
            heads.insert(hold.chain(), hold.audit);
        }
    }
    Ok(heads)
}

fn stage_purposes(stage: Stage) -> &'static [KeyPurpose] {
    match stage {
        Stage::Stage1 => &[KeyPurpose::Primary, KeyPurpose::Identity],
        Stage::Stage2 => &[KeyPurpose::Copies],
        Stage::HoldRelease => &[],
    }
}

fn categories(kind: RecordKind) -> BTreeSet<DataCategory> {
    kind.spec().personal.iter().map(|f| f.category).collect()
}

fn held(kind: RecordKind, holds: &[LegalHold]) -> bool {
    let mine = categories(kind);
    holds
        .iter()
        .any(|h| h.categories.iter().any(|c| mine.contains(c)))
}

/// Whether a stage deletes an item of this kind (holds aside).
fn in_scope(stage: Stage, kind: RecordKind) -> bool {
    match kind.spec().holding {
        Holding::KeyMaterial => false,
        Holding::Primary => true,
        Holding::Copy => stage != Stage::Stage1,
        Holding::Platform | Holding::Bookkeeping => false,
    }
}

pub struct RetentionService {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    signer: Option<Arc<SigningKey>>,
    issuer: String,
}

impl RetentionService {
    /// `signer` signs deletion certificates; without one, plans can be shown but nothing runs.
    pub fn new(
        store: GuardedStore,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        signer: Option<Arc<SigningKey>>,
        issuer: impl Into<String>,
    ) -> Self {
        Self {
            store: store.shared(),
            keyring,
            clock,
            signer,
            issuer: issuer.into(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn load_state(&self, tenant: &TenantId) -> Result<Option<(RetentionState, u64)>, Error> {
        match self.store.get(&state_key(tenant)?).await? {
            Some(item) => Ok(Some((item.record()?, item.version))),
            None => Ok(None),
        }
    }

    pub async fn holds_of(&self, tenant: &TenantId) -> Result<Vec<LegalHold>, Error> {
        let items = query_all(
            self.store.as_ref(),
            Query::partition(partition(tenant)).prefix("HOLD#"),
        )
        .await?;
        items
            .iter()
            .map(|i| i.record::<LegalHold>().map_err(Error::from))
            .collect()
    }

    async fn active_holds(
        &self,
        tenant: &TenantId,
        now: Timestamp,
    ) -> Result<Vec<LegalHold>, Error> {
        Ok(self
            .holds_of(tenant)
            .await?
            .into_iter()
            .filter(|h| h.active(now))
            .collect())
    }
}
