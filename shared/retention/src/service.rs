//! Running retention: the due stages of every tenant, crash-safe and exact.
//!
//! Each stage deletes in batches of at most 25 items. Before a batch is deleted its keys are
//! written into the tenant's retention state; after the delete they are counted and cleared. A
//! crash anywhere leaves either no pending batch (nothing lost) or a pending one, which the next
//! run deletes again (deleting a deleted item is a no-op) and counts once — so a rerun finishes
//! the job, deletes nothing twice, skips nothing, and its counts are exact. Keys to be destroyed
//! are listed the same way before the crypto-shred. Before every batch the guard checks that
//! every key lies in the tenant's own partition and that the tenant's service has ended.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::plan::plan_for;
use super::records::*;
use kernel::audit::{self, AuditEntry, AuditHead, Audited, Stamp};
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, SealedField};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::{DataCategory, Holding, RecordKind};
use kernel::policy;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::store::{Condition, Item, ItemKey, MAX_BATCH_ITEMS, Query, Store, WriteOp, query_all};
use kernel::tenants::{self, ServiceEndSource, ServiceStatus};
use kernel::time::{Clock, Timestamp};
use kernel::token::{SigningKey, VerificationKey};

const ACTOR: &str = "retention";
/// How often a batch's unprocessed keys are retried before the run gives up (and a rerun
/// continues).
const BATCH_ATTEMPTS: usize = 8;

/// Where a stage stands for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StageStatus {
    Scheduled {
        due: Timestamp,
    },
    Due {
        due: Timestamp,
    },
    Running {
        since: Timestamp,
    },
    Done {
        certificate: CertificateId,
        finished_at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantRetention {
    pub tenant: TenantId,
    pub service_ended_at: Timestamp,
    pub stage1: StageStatus,
    pub stage2: StageStatus,
    pub final_deletion_requested: bool,
    pub active_holds: Vec<HoldSummary>,
    pub held_items_remain: bool,
    /// What a run at the plan's time would do, in order.
    pub due_now: Vec<Stage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub completed: Vec<(TenantId, Stage, CertificateId)>,
    pub failed: Vec<(TenantId, String)>,
}

/// What became of an operator's service end.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ServiceEndOutcome {
    /// In force: the service has ended on that date.
    Ended(tenants::TenantRecord),
    /// Dated back beyond the grace: waits for a second staff member's approval.
    AwaitingApproval(ServiceEndRequest),
}

/// Marks the tenant's service ended (by an operator) and returns the audit entry that records
/// it, after `after` (an approval entry written in the same transaction) when given.
fn end_service(
    record: &mut tenants::TenantRecord,
    by: &Principal,
    ended_at: Timestamp,
    now: Timestamp,
    approved: Option<(&kernel::audit::AuditHead, &String)>,
) -> AuditEntry {
    record.status = ServiceStatus::Ended;
    record.service_ended_at = Some(ended_at);
    record.service_end_source = Some(ServiceEndSource::Operator {
        subject: approved.map_or_else(|| by.subject.clone(), |(_, requester)| requester.clone()),
    });
    record.updated_at = now;
    let previous = approved.map(|(head, _)| head).or(record.audit.as_ref());
    let entry = AuditEntry::append(
        &tenants::audit_chain(&record.id),
        previous,
        now,
        by,
        "service.ended",
        &(
            &record.status,
            &record.service_ended_at,
            &record.service_end_source,
        ),
    );
    record.audit = Some(entry.head());
    entry
}

/// What an operator sends to record a service end by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEndInput {
    /// When the service ended; now if absent. Never in the future.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    pub legal_basis: Option<String>,
    pub categories: Option<BTreeSet<DataCategory>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

/// What is wrong with a legal hold, every field at once.
pub fn check_hold(input: &HoldInput, now: Timestamp) -> Result<(), Error> {
    let mut errors = Vec::new();
    let basis = input.legal_basis.as_deref().unwrap_or_default().trim();
    if basis.chars().count() < 3 || basis.chars().count() > 500 {
        errors.push(FieldError::new(
            "/legal_basis",
            "name the statutory duty (3 to 500 characters)",
        ));
    }
    if input.categories.as_ref().is_none_or(BTreeSet::is_empty) {
        errors.push(FieldError::new(
            "/categories",
            "name at least one data category",
        ));
    }
    match input.until {
        Some(until) if until > now => {}
        Some(_) => errors.push(FieldError::new("/until", "must lie in the future")),
        None => errors.push(FieldError::new("/until", "is required")),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalDeletionInput {
    /// Must read exactly `DELETE <tenant>`.
    pub confirmation: Option<String>,
}

/// The text a customer admin types to confirm final deletion.
pub fn final_deletion_phrase(tenant: &TenantId) -> String {
    format!("DELETE {tenant}")
}

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

/// What a stage covers in German, beside [`scope_text`] (the English words each certificate
/// signs): pages in German show these for a certificate whose signed scope is the current one.
pub fn scope_text_de(stage: Stage) -> &'static str {
    match stage {
        Stage::Stage1 => {
            "Stufe 1 (Leistungsende + 30 Tage): alle personenbezogenen Daten des Kunden in den \
             Primärspeichern des Datenverzeichnisses sowie die Primär- und Identitätsschlüssel des \
             Kunden (Crypto-Shredding: jede damit versiegelte Kopie, Sicherungen eingeschlossen, wird \
             unlesbar). Nicht erfasst: Exporte und Archive, die bis Stufe 2 für den Kunden bleiben; \
             Einträge unter einer Aufbewahrungspflicht (bleiben, neu versiegelt mit dem \
             Aufbewahrungsschlüssel); eigene Unterlagen des Unternehmens unter eigenen Pflichten \
             (Abrechnung, Vorfallakten, versandte Benachrichtigungen)."
        }
        Stage::Stage2 => {
            "Stufe 2 (ein weiteres Jahr später): alle verbleibenden Kopien der Daten des Kunden \
             (Exporte, Archive, alles nach Stufe 1 Verbliebene) und der Kopienschlüssel des Kunden. \
             Nicht erfasst: Einträge, die eine Aufbewahrungspflicht noch erfasst."
        }
        Stage::HoldRelease => {
            "Ende einer Aufbewahrungspflicht: die Einträge, die sie hielt, gelöscht, sobald keine \
             Pflicht sie mehr erfasst, und der Aufbewahrungsschlüssel des Kunden, sobald nichts \
             mehr von ihm Versiegeltes bleibt."
        }
    }
}

/// What a stage covers, as its certificates say (and sign).
pub fn scope_text(stage: Stage) -> &'static str {
    match stage {
        Stage::Stage1 => {
            "Stage 1 (service end + 30 days): every item of the tenant's personal data in the \
             primary stores of the data inventory, and the tenant's primary and identity data keys \
             (crypto-shredding: every copy they sealed, backups included, becomes unreadable). \
             Not covered: exports and archives kept for the customer until stage 2; items a legal \
             hold covers (kept, re-sealed under the legal-hold key); the company's own records \
             under its own duties (billing records, incident files, notifications sent)."
        }
        Stage::Stage2 => {
            "Stage 2 (a further year on): all remaining copies of the tenant's data (exports, \
             archives, anything kept after stage 1) and the tenant's copies key. Not covered: items \
             a legal hold still covers."
        }
        Stage::HoldRelease => {
            "Release of a legal hold: the items a hold kept, deleted once no hold covers them, and \
             the tenant's legal-hold key once nothing it sealed remains."
        }
    }
}

/// The mail that brings a certificate to the tenant's breach contact: what was deleted when,
/// in both languages, the signed certificate itself (a JWS, verifiable with the published
/// keys) and where to check it. After stage 1 the customer's accounts are gone, so this mail
/// is how the proof reaches the customer.
pub fn certificate_message(stored: &StoredCertificate, verify_url: &str) -> (String, String) {
    let c = &stored.certificate;
    let at = |t: Timestamp| {
        kernel::time::in_company_time(t)
            .strftime("%d.%m.%Y %H:%M %Z")
            .to_string()
    };
    let (stage_de, stage_en) = match c.stage {
        Stage::Stage1 => ("Stufe 1", "stage 1"),
        Stage::Stage2 => ("Stufe 2 (letzte Stufe)", "stage 2 (the last stage)"),
        Stage::HoldRelease => ("Ende einer Aufbewahrungspflicht", "release of a legal hold"),
    };
    let deleted: u64 = c.deleted.values().sum();
    let keys = c.keys_destroyed.len();
    let subject = format!(
        "Löschbescheinigung {} / Deletion certificate {}",
        c.id, c.id
    );
    let body = format!(
        "Guten Tag,\n\nfür {tenant} ist die Löschung abgeschlossen: {stage_de}, beendet am {finished}. \
         Gelöschte Einträge: {deleted}; vernichtete Schlüssel: {keys}. Die letzte Sicherung mit diesen \
         Daten läuft ab am {backups}.\n\n{scope_de}\n\nDie unterschriebene Bescheinigung steht unten \
         (JWS); prüfen Sie sie hier: {verify_url}\n\n— regrooter GmbH\n\n----\n\nHello,\n\nthe deletion \
         for {tenant} is done: {stage_en}, finished on {finished}. Items deleted: {deleted}; keys \
         destroyed: {keys}. The last backup holding this data expires on {backups}.\n\n{scope_en}\n\n\
         The signed certificate follows (JWS); check it here: {verify_url}\n\n— regrooter GmbH\n\n----\n\n{jws}\n",
        tenant = c.tenant,
        finished = at(c.finished_at),
        backups = at(c.backups_expire_by),
        scope_de = scope_text_de(c.stage),
        scope_en = c.scope,
        jws = stored.jws,
    );
    (subject, body)
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

fn summary(h: &LegalHold) -> HoldSummary {
    HoldSummary {
        id: h.id,
        legal_basis: h.legal_basis.clone(),
        categories: h.categories.clone(),
        until: h.until,
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

    // ----- reading -------------------------------------------------------------------------------

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

    /// A state from the tenant's plan (not stored).
    fn state_from_plan(record: &tenants::TenantRecord) -> Result<Option<RetentionState>, Error> {
        Ok(plan_for(record)?.map(|plan| RetentionState {
            tenant: record.id.clone(),
            service_ended_at: plan.service_ended_at,
            stage1_due: plan.stage1_due,
            stage2_due: plan.stage2_due,
            deletion_after_service_end: plan.deletion_after_service_end,
            remaining_copies_retention: plan.remaining_copies_retention,
            backup_retention: plan.backup_retention,
            final_deletion: None,
            running: None,
            completed: vec![],
            held_items_remain: false,
            audit: None,
            certificate_recipient: None,
        }))
    }

    /// The context the certificates' recipient is sealed in (platform identity key).
    fn recipient_context<'a>(tenant: &'a TenantId) -> FieldContext<'a> {
        FieldContext {
            owner: &KeyOwner::Platform,
            kind: RecordKind::RetentionState,
            record_id: tenant.as_str(),
            field: "certificate_recipient",
        }
    }

    /// The tenant's breach contact, sealed for the certificates, read while the tenant's keys
    /// still exist (none: no contact, or its profile is gone already).
    async fn seal_recipient(&self, tenant: &TenantId) -> Result<Option<SealedField>, Error> {
        let Some(record) = tenants::get(self.store.as_ref(), tenant).await? else {
            return Ok(None);
        };
        let Some(contact) = tenants::contact(&self.keyring, &record).await? else {
            return Ok(None);
        };
        Ok(Some(
            self.keyring
                .seal(
                    &Self::recipient_context(tenant),
                    KeyPurpose::Identity,
                    &contact,
                )
                .await?,
        ))
    }

    /// Every tenant whose service has ended or whose data retention has touched.
    async fn candidates(&self) -> Result<BTreeMap<TenantId, RetentionState>, Error> {
        let mut out = BTreeMap::new();
        for record in tenants::all(self.store.as_ref()).await? {
            if let Some(state) = Self::state_from_plan(&record)? {
                out.insert(record.id.clone(), state);
            }
        }
        for item in query_all(self.store.as_ref(), Query::gsi1(STATES_INDEX).limit(1_000)).await? {
            let state: RetentionState = item.record()?;
            out.insert(state.tenant.clone(), state);
        }
        Ok(out)
    }

    fn due_stages(state: &RetentionState, holds: &[LegalHold], now: Timestamp) -> Vec<Stage> {
        let mut due = Vec::new();
        if let Some(run) = &state.running {
            due.push(run.stage);
        }
        let forced = state.final_deletion.is_some();
        if !state.done(Stage::Stage1)
            && (forced || now >= state.stage1_due)
            && !due.contains(&Stage::Stage1)
        {
            due.push(Stage::Stage1);
        }
        let stage1 = state.done(Stage::Stage1) || due.contains(&Stage::Stage1);
        if stage1
            && !state.done(Stage::Stage2)
            && (forced || now >= state.stage2_due)
            && !due.contains(&Stage::Stage2)
        {
            due.push(Stage::Stage2);
        }
        if state.done(Stage::Stage2)
            && state.held_items_remain
            && state.running.is_none()
            && holds.is_empty()
        {
            due.push(Stage::HoldRelease);
        }
        due
    }

    fn status(
        state: &RetentionState,
        stage: Stage,
        due_at: Timestamp,
        now: Timestamp,
    ) -> StageStatus {
        if let Some(done) = state.completed.iter().rev().find(|c| c.stage == stage) {
            return StageStatus::Done {
                certificate: done.certificate,
                finished_at: done.finished_at,
            };
        }
        if let Some(run) = state.running.as_ref().filter(|r| r.stage == stage) {
            return StageStatus::Running {
                since: run.started_at,
            };
        }
        if now >= due_at || state.final_deletion.is_some() {
            StageStatus::Due { due: due_at }
        } else {
            StageStatus::Scheduled { due: due_at }
        }
    }

    /// What is due when, for every tenant (or one), as of `now`. Touches nothing.
    /// Every tenant's plan, for those who operate retention (operators, the DPO).
    pub async fn plan_all(
        &self,
        access: &Access,
        now: Timestamp,
    ) -> Result<Vec<TenantRetention>, Error> {
        access.require(Permission::RetentionOperate, Scope::Platform)?;
        self.plan(now, None).await
    }

    pub async fn plan(
        &self,
        now: Timestamp,
        only: Option<&TenantId>,
    ) -> Result<Vec<TenantRetention>, Error> {
        let mut out = Vec::new();
        for (tenant, state) in self.candidates().await? {
            if only.is_some_and(|t| t != &tenant) {
                continue;
            }
            let holds = self.active_holds(&tenant, now).await?;
            out.push(TenantRetention {
                service_ended_at: state.service_ended_at,
                stage1: Self::status(&state, Stage::Stage1, state.stage1_due, now),
                stage2: Self::status(&state, Stage::Stage2, state.stage2_due, now),
                final_deletion_requested: state.final_deletion.is_some(),
                active_holds: holds.iter().map(summary).collect(),
                held_items_remain: state.held_items_remain,
                due_now: Self::due_stages(&state, &holds, now),
                tenant,
            });
        }
        Ok(out)
    }

    /// A customer's (or the DPO's) view of one tenant's retention.
    pub async fn tenant_plan(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Option<TenantRetention>, Error> {
        access.require(Permission::RetentionRead, Scope::Tenant(tenant))?;
        Ok(self
            .plan(self.clock.now(), Some(tenant))
            .await?
            .into_iter()
            .next())
    }

    // ----- running -------------------------------------------------------------------------------

    /// Runs every stage due at `now`, tenant by tenant; one tenant's failure does not stop the
    /// others (it is reported, and the next run resumes it).
    pub async fn run_due(&self, now: Timestamp) -> Result<RunReport, Error> {
        let mut report = RunReport::default();
        for (tenant, state) in self.candidates().await? {
            let holds = self.active_holds(&tenant, now).await?;
            for stage in Self::due_stages(&state, &holds, now) {
                match self.run_stage(&tenant, stage, now).await {
                    Ok(certificate) => report.completed.push((tenant.clone(), stage, certificate)),
                    Err(e) => {
                        report
                            .failed
                            .push((tenant.clone(), format!("{stage}: {e}")));
                        break;
                    }
                }
            }
        }
        Ok(report)
    }

    /// The state of `tenant`, created from its plan when retention first touches it.
    async fn state_for_run(
        &self,
        tenant: &TenantId,
    ) -> Result<(RetentionState, Option<u64>), Error> {
        if let Some((state, version)) = self.load_state(tenant).await? {
            return Ok((state, Some(version)));
        }
        let record = tenants::get(self.store.as_ref(), tenant)
            .await?
            .ok_or_else(|| Error::NotFound(format!("tenant {tenant}")))?;
        let state = Self::state_from_plan(&record)?.ok_or_else(|| {
            Error::Conflict(format!("the service of tenant {tenant} has not ended"))
        })?;
        Ok((state, None))
    }

    async fn save(&self, state: &RetentionState, version: Option<u64>) -> Result<u64, Error> {
        let condition = version.map_or(Condition::NotExists, Condition::Version);
        Ok(self.store.put(state_item(state)?, condition).await?)
    }

    /// Runs (or resumes) one stage for one tenant and returns its certificate id.
    pub async fn run_stage(
        &self,
        tenant: &TenantId,
        stage: Stage,
        now: Timestamp,
    ) -> Result<CertificateId, Error> {
        let signer = self.signer.clone().ok_or_else(|| {
            Error::Conflict("no certificate signing key is configured; retention cannot run".into())
        })?;
        let (mut state, version) = self.state_for_run(tenant).await?;
        let mut version = match (&state.running, version) {
            (Some(run), Some(v)) if run.stage == stage => v,
            (Some(run), _) => {
                return Err(Error::Conflict(format!(
                    "{} is still running for tenant {tenant}",
                    run.stage
                )));
            }
            (None, version) => {
                let holds = self.active_holds(tenant, now).await?;
                // Where the certificates go, kept before stage 1 destroys what opens it.
                if state.certificate_recipient.is_none() && !state.done(Stage::Stage1) {
                    state.certificate_recipient = self.seal_recipient(tenant).await?;
                }
                state.running = Some(StageRun {
                    stage,
                    certificate: CertificateId::generate(now),
                    started_at: now,
                    deleted: BTreeMap::new(),
                    kept_under_hold: BTreeMap::new(),
                    holds_applied: holds.iter().map(|h| h.id).collect(),
                    pending: None,
                    scan_from: None,
                    keys_to_destroy: None,
                });
                let entry = AuditEntry::append(
                    &chain(tenant),
                    state.audit.as_ref(),
                    now,
                    &Principal::system(ACTOR),
                    &format!("retention.{stage}.started"),
                    &(&stage, &state.running),
                );
                state.audit = Some(entry.head());
                self.store
                    .transact(vec![
                        WriteOp::Put {
                            item: state_item(&state)?,
                            condition: version.map_or(Condition::NotExists, Condition::Version),
                        },
                        entry.insert_op()?,
                    ])
                    .await?;
                self.load_state(tenant)
                    .await?
                    .map(|(_, v)| v)
                    .ok_or_else(|| Error::Internal("retention state vanished".into()))?
            }
        };
        let holds = self.active_holds(tenant, now).await?;
        let owner = KeyOwner::Tenant(tenant.clone());

        // 1. Held items keep their data, re-sealed with the legal-hold key, before any key goes.
        if !holds.is_empty() {
            self.reseal_held(tenant, stage, &owner, &holds).await?;
        }

        // 2. A batch that was being deleted when the last run stopped.
        if let Some(pending) = state.running.as_ref().and_then(|r| r.pending.clone()) {
            self.delete_batch(&pending.keys).await?;
            let run = running(&mut state)?;
            for kind in pending.kinds {
                *run.deleted.entry(kind).or_default() += 1;
            }
            run.pending = None;
            version = self.save(&state, Some(version)).await?;
        }

        // 3. Batches of at most 25, each guarded, written down, deleted, counted.
        loop {
            let scan_from = state.running.as_ref().and_then(|r| r.scan_from.clone());
            let (batch, next_from) = self.next_batch(tenant, stage, &holds, scan_from).await?;
            if batch.is_empty() {
                break;
            }
            self.guard(tenant, &batch).await?;
            let pending = PendingBatch {
                keys: batch.iter().map(|i| i.key.clone()).collect(),
                kinds: batch.iter().map(|i| i.kind).collect(),
            };
            {
                let run = running(&mut state)?;
                run.pending = Some(pending.clone());
                run.scan_from = next_from;
            }
            version = self.save(&state, Some(version)).await?;
            self.delete_batch(&pending.keys).await?;
            let run = running(&mut state)?;
            for kind in pending.kinds {
                *run.deleted.entry(kind).or_default() += 1;
            }
            run.pending = None;
            version = self.save(&state, Some(version)).await?;
        }

        // 4. What holds keep, counted now that everything else is gone.
        let kept = self.kept_items(tenant, stage, &holds).await?;
        let kept_any = kept.values().sum::<u64>() > 0;

        // 5. Crypto-shredding: keys listed first, then destroyed.
        let mut purposes: Vec<KeyPurpose> = stage_purposes(stage).to_vec();
        if stage != Stage::Stage1 && !kept_any {
            purposes.push(KeyPurpose::LegalHold);
        }
        if running(&mut state)?.keys_to_destroy.is_none() {
            let listed = self.keyring.list_keys(&owner, &purposes).await?;
            running(&mut state)?.keys_to_destroy =
                Some(listed.iter().map(ToString::to_string).collect());
            version = self.save(&state, Some(version)).await?;
        }
        self.keyring.shred(&owner, &purposes).await?;

        // 6. The certificate, the state and the audit entry, together.
        let run = state
            .running
            .take()
            .ok_or_else(|| Error::Internal("no running stage".into()))?;
        let finished = self.clock.now().max(now);
        let all_holds = self.holds_of(tenant).await?;
        let certificate = DeletionCertificate {
            id: run.certificate,
            tenant: tenant.clone(),
            stage,
            scope: scope_text(stage).to_string(),
            service_ended_at: state.service_ended_at,
            started_at: run.started_at,
            finished_at: finished,
            deleted: run.deleted.clone(),
            kept_under_hold: kept,
            holds: all_holds
                .iter()
                .filter(|h| run.holds_applied.contains(&h.id))
                .map(summary)
                .collect(),
            keys_destroyed: run.keys_to_destroy.clone().unwrap_or_default(),
            backups_expire_by: state
                .backup_retention
                .after(finished)
                .map_err(|e| Error::Internal(e.to_string()))?,
            final_deletion_requested: state.final_deletion.is_some(),
        };
        let jws = signer
            .sign_document(&self.issuer, tenant.as_str(), finished, certificate.clone())
            .map_err(|e| Error::Internal(format!("signing the certificate: {e}")))?;
        let stored = StoredCertificate {
            certificate: certificate.clone(),
            jws,
            kid: signer.kid().to_string(),
            deliver_to: state.certificate_recipient.clone(),
        };
        // The last stage's certificate carries the recipient; the state no longer keeps it.
        if stage == Stage::Stage2 {
            state.certificate_recipient = None;
        }
        state.completed.push(CompletedStage {
            stage,
            certificate: certificate.id,
            finished_at: finished,
        });
        state.held_items_remain = kept_any;
        let entry = AuditEntry::append(
            &chain(tenant),
            state.audit.as_ref(),
            finished,
            &Principal::system(ACTOR),
            &format!("retention.{stage}.completed"),
            &certificate,
        );
        state.audit = Some(entry.head());
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: certificate_item(&stored)?,
                    condition: Condition::NotExists,
                },
                WriteOp::Put {
                    item: state_item(&state)?,
                    condition: Condition::Version(version),
                },
                entry.insert_op()?,
            ])
            .await?;
        Ok(certificate.id)
    }

    /// The next at most 25 items the stage deletes, and where the scan continues after them.
    async fn next_batch(
        &self,
        tenant: &TenantId,
        stage: Stage,
        holds: &[LegalHold],
        scan_from: Option<String>,
    ) -> Result<(Vec<Item>, Option<String>), Error> {
        let mut from = scan_from;
        let mut batch = Vec::new();
        loop {
            let mut query = Query::partition(ItemKey::tenant_partition(tenant)).limit(100);
            if let Some(f) = &from {
                query = query.from(f.clone());
            }
            let page = self.store.query(query).await?;
            let exhausted = page.next.is_none();
            let mut last = None;
            for item in page.items {
                last = Some(item.key.sk.clone());
                if in_scope(stage, item.kind) && !held(item.kind, holds) {
                    batch.push(item);
                    if batch.len() == MAX_BATCH_ITEMS {
                        // Resume at this key: it is deleted with the batch, so the scan moves on.
                        return Ok((batch, last));
                    }
                }
            }
            match (exhausted, last) {
                (true, _) | (_, None) => return Ok((batch, None)),
                // `From` is inclusive; keys are printable ASCII, whose smallest character is '!',
                // so `<last>!` is the first key after the last one of this page.
                (false, Some(l)) => from = Some(l + "!"),
            }
        }
    }

    async fn delete_batch(&self, keys: &[ItemKey]) -> Result<(), Error> {
        let mut remaining = keys.to_vec();
        for _ in 0..BATCH_ATTEMPTS {
            if remaining.is_empty() {
                return Ok(());
            }
            remaining = self.store.batch_delete(remaining).await?.unprocessed;
        }
        if remaining.is_empty() {
            Ok(())
        } else {
            Err(Error::Store(kernel::store::StoreError::Unavailable(
                format!(
                    "{} items stayed unprocessed; the next run continues",
                    remaining.len()
                ),
            )))
        }
    }

    /// Never another tenant's data, never an active tenant's.
    async fn guard(&self, tenant: &TenantId, batch: &[Item]) -> Result<(), Error> {
        let partition = ItemKey::tenant_partition(tenant);
        if let Some(stray) = batch
            .iter()
            .find(|i| i.key.pk != partition || i.tenant.as_ref() != Some(tenant))
        {
            return Err(Error::Internal(format!(
                "retention guard: {} does not belong to tenant {tenant}; nothing deleted",
                stray.key
            )));
        }
        if let Some(record) = tenants::get(self.store.as_ref(), tenant).await?
            && record.status == ServiceStatus::Active
        {
            return Err(Error::Conflict(format!(
                "retention guard: tenant {tenant} is active again; nothing deleted"
            )));
        }
        Ok(())
    }

    /// Re-seals the personal fields of held items with the legal-hold key (idempotent).
    async fn reseal_held(
        &self,
        tenant: &TenantId,
        stage: Stage,
        owner: &KeyOwner,
        holds: &[LegalHold],
    ) -> Result<(), Error> {
        let items = query_all(
            self.store.as_ref(),
            Query::partition(ItemKey::tenant_partition(tenant)),
        )
        .await?;
        for mut item in items {
            if !in_scope(stage, item.kind) || !held(item.kind, holds) {
                continue;
            }
            let mut changed = false;
            for field in item.kind.spec().personal {
                // Top-level fields only: nested paths are not used by tenant records.
                let Some(value) = item.data.get(field.path).cloned() else {
                    continue;
                };
                if value.is_null() {
                    continue;
                }
                let sealed: SealedField = serde_json::from_value(value)
                    .map_err(|e| Error::Internal(format!("{} {}: {e}", item.kind, item.key)))?;
                if sealed.key_ref()?.0 == KeyPurpose::LegalHold {
                    continue;
                }
                let ctx = FieldContext {
                    owner,
                    kind: item.kind,
                    record_id: &item.key.sk,
                    field: field.path,
                };
                let plain = self.keyring.open(&ctx, &sealed).await?;
                let resealed = self
                    .keyring
                    .seal(&ctx, KeyPurpose::LegalHold, &plain)
                    .await?;
                item.data.insert(
                    field.path.to_string(),
                    serde_json::Value::String(resealed.as_str().to_string()),
                );
                changed = true;
            }
            if changed {
                let condition = Condition::Version(item.version);
                self.store.put(item, condition).await?;
            }
        }
        Ok(())
    }

    /// Items of the stage's scope that a hold keeps.
    async fn kept_items(
        &self,
        tenant: &TenantId,
        stage: Stage,
        holds: &[LegalHold],
    ) -> Result<BTreeMap<RecordKind, u64>, Error> {
        let mut kept = BTreeMap::new();
        if holds.is_empty() {
            return Ok(kept);
        }
        for item in query_all(
            self.store.as_ref(),
            Query::partition(ItemKey::tenant_partition(tenant)),
        )
        .await?
        {
            if in_scope(stage, item.kind) && held(item.kind, holds) {
                *kept.entry(item.kind).or_default() += 1;
            }
        }
        Ok(kept)
    }

    // ----- decisions by people -----------------------------------------------------------------

    /// An operator records a service end by hand (e.g. a contract ended outside Stripe). A date
    /// further back than [`policy::SERVICE_END_BACKDATING_GRACE`] does not take effect: it is
    /// recorded as a request (audited) that a second staff member must approve.
    pub async fn record_service_end(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: ServiceEndInput,
    ) -> Result<ServiceEndOutcome, Error> {
        access.require(Permission::ServiceEndRecord, Scope::Tenant(tenant))?;
        let now = self.clock.now();
        let ended_at = input.ended_at.unwrap_or(now);
        if ended_at > now {
            return Err(Error::validation("/ended_at", "must not lie in the future"));
        }
        let (mut record, version) = self.active_tenant(tenant).await?;
        let grace_start = policy::SERVICE_END_BACKDATING_GRACE
            .before(now)
            .map_err(|e| Error::Internal(e.to_string()))?;
        if ended_at >= grace_start {
            let entry = end_service(&mut record, access.principal(), ended_at, now, None);
            self.store
                .transact(vec![
                    WriteOp::Put {
                        item: tenants::item(&record)?,
                        condition: Condition::Version(version),
                    },
                    entry.insert_op()?,
                ])
                .await?;
            return Ok(ServiceEndOutcome::Ended(record));
        }
        let request = ServiceEndRequest {
            tenant: tenant.clone(),
            ended_at,
            requested_by: access.principal().subject.clone(),
            requested_at: now,
        };
        let entry = AuditEntry::append(
            &tenants::audit_chain(tenant),
            record.audit.as_ref(),
            now,
            access.principal(),
            "service.end_requested",
            &request,
        );
        record.audit = Some(entry.head());
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: service_end_request_item(&request)?,
                    condition: Condition::NotExists,
                },
                WriteOp::Put {
                    item: tenants::item(&record)?,
                    condition: Condition::Version(version),
                },
                entry.insert_op()?,
            ])
            .await
            .map_err(|e| match e {
                kernel::store::StoreError::TransactionCanceled { index: 0, .. } => Error::Conflict(
                    format!("a backdated service end of tenant {tenant} awaits approval already"),
                ),
                other => other.into(),
            })?;
        Ok(ServiceEndOutcome::AwaitingApproval(request))
    }

    /// A second staff member approves a backdated service end: only then does it take effect.
    /// The one who asked cannot approve their own request.
    pub async fn approve_service_end(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<tenants::TenantRecord, Error> {
        access.require(Permission::ServiceEndRecord, Scope::Tenant(tenant))?;
        // A staff-only permission: `require` refused everyone but staff already.
        let approver = access.principal();
        let key = service_end_request_key(tenant)?;
        let Some(item) = self.store.get(&key).await? else {
            return Err(Error::NotFound(format!(
                "a backdated service end of tenant {tenant} awaiting approval"
            )));
        };
        let request: ServiceEndRequest = item.record()?;
        if request.requested_by == approver.subject {
            return Err(Error::Conflict(
                "a backdated service end needs the approval of another staff member than the one \
                 who asked for it"
                    .into(),
            ));
        }
        let (mut record, version) = self.active_tenant(tenant).await?;
        let now = self.clock.now();
        let approval = AuditEntry::append(
            &tenants::audit_chain(tenant),
            record.audit.as_ref(),
            now,
            approver,
            "service.end_approved",
            &(&request, &approver.subject),
        );
        let head = approval.head();
        let ended = end_service(
            &mut record,
            approver,
            request.ended_at,
            now,
            Some((&head, &request.requested_by)),
        );
        self.store
            .transact(vec![
                WriteOp::Delete {
                    key,
                    condition: Condition::Version(item.version),
                },
                WriteOp::Put {
                    item: tenants::item(&record)?,
                    condition: Condition::Version(version),
                },
                approval.insert_op()?,
                ended.insert_op()?,
            ])
            .await?;
        Ok(record)
    }

    /// The backdated service end awaiting approval, if there is one.
    pub async fn pending_service_end(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Option<ServiceEndRequest>, Error> {
        access.require(Permission::ServiceEndRecord, Scope::Tenant(tenant))?;
        match self.store.get(&service_end_request_key(tenant)?).await? {
            Some(item) => Ok(Some(item.record()?)),
            None => Ok(None),
        }
    }

    async fn active_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<(tenants::TenantRecord, u64), Error> {
        let (record, version) = tenants::load(self.store.as_ref(), tenant)
            .await?
            .ok_or_else(|| Error::NotFound(format!("tenant {tenant}")))?;
        if record.status == ServiceStatus::Ended {
            return Err(Error::Conflict(format!(
                "the service of tenant {tenant} ended already"
            )));
        }
        Ok((record, version))
    }

    /// A customer admin asks for final deletion before the periods run out: both stages run at
    /// the next run. Needs the exact confirmation phrase; audited.
    pub async fn request_final_deletion(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: FinalDeletionInput,
    ) -> Result<TenantRetention, Error> {
        access.require(Permission::FinalDeletionRequest, Scope::Tenant(tenant))?;
        let phrase = final_deletion_phrase(tenant);
        if input.confirmation.as_deref() != Some(phrase.as_str()) {
            return Err(Error::Validation(vec![FieldError::new(
                "/confirmation",
                format!("type exactly '{phrase}' to confirm that all data is deleted for good"),
            )]));
        }
        let (mut state, version) = self.state_for_run(tenant).await?;
        if state.final_deletion.is_some() {
            return Err(Error::Conflict(
                "final deletion was requested already".into(),
            ));
        }
        let now = self.clock.now();
        state.final_deletion = Some(FinalDeletionRequest {
            requested_at: now,
            requested_by: access.principal().subject.clone(),
        });
        let entry = AuditEntry::append(
            &chain(tenant),
            state.audit.as_ref(),
            now,
            access.principal(),
            "retention.final_deletion_requested",
            &state.final_deletion,
        );
        state.audit = Some(entry.head());
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: state_item(&state)?,
                    condition: version.map_or(Condition::NotExists, Condition::Version),
                },
                entry.insert_op()?,
            ])
            .await?;
        self.plan(now, Some(tenant))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("the plan vanished".into()))
    }

    /// The DPO sets a legal hold: legal basis, categories, until when.
    pub async fn set_hold(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: HoldInput,
    ) -> Result<LegalHold, Error> {
        access.require(Permission::LegalHoldsManage, Scope::Tenant(tenant))?;
        let now = self.clock.now();
        check_hold(&input, now)?;
        let basis = input.legal_basis.unwrap_or_default().trim().to_string();
        let categories = input.categories.unwrap_or_default();
        let id = HoldId::generate(now);
        let change = (basis.clone(), categories.clone(), input.until);
        let mut hold = LegalHold {
            id,
            tenant: tenant.clone(),
            legal_basis: kernel::scrub::scrub(&basis).0,
            categories,
            until: input.until.unwrap_or(now),
            set_by: access.principal().subject.clone(),
            set_at: now,
            lifted_at: None,
            lifted_by: None,
            audit: AuditHead::default(),
        };
        let set = Stamp {
            at: now,
            by: access.principal(),
            action: "legal_hold.set",
        };
        let ops = audit::create_ops(&mut hold, set, &change)?;
        self.store.transact(ops).await?;
        Ok(hold)
    }

    pub async fn lift_hold(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &HoldId,
    ) -> Result<LegalHold, Error> {
        access.require(Permission::LegalHoldsManage, Scope::Tenant(tenant))?;
        let item = self
            .store
            .get(&hold_key(tenant, id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("legal hold {id}")))?;
        let mut hold: LegalHold = item.record()?;
        if hold.lifted_at.is_some() {
            return Err(Error::Conflict("the hold was lifted already".into()));
        }
        let now = self.clock.now();
        hold.lifted_at = Some(now);
        hold.lifted_by = Some(access.principal().subject.clone());
        let lifted = Stamp {
            at: now,
            by: access.principal(),
            action: "legal_hold.lifted",
        };
        let change = hold.lifted_at;
        let ops = audit::update_ops(&mut hold, item.version, lifted, &change)?;
        self.store.transact(ops).await?;
        Ok(hold)
    }

    pub async fn list_holds(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<LegalHold>, Error> {
        access.require(Permission::RetentionRead, Scope::Tenant(tenant))?;
        self.holds_of(tenant).await
    }

    /// Every tenant's legal holds, newest first (the data protection officer's overview).
    pub async fn all_holds(&self, access: &Access) -> Result<Vec<LegalHold>, Error> {
        access.require(Permission::RetentionRead, Scope::Platform)?;
        let mut holds = Vec::new();
        for tenant in kernel::tenants::all(self.store.as_ref()).await? {
            holds.extend(self.holds_of(&tenant.id).await?);
        }
        holds.sort_by_key(|h| std::cmp::Reverse(h.set_at));
        Ok(holds)
    }

    /// The certificates still to be mailed, with their recipient opened: for the workflow that
    /// queues the mail and then calls [`Self::certificate_sent`].
    pub async fn certificates_to_send(
        &self,
    ) -> Result<Vec<(StoredCertificate, kernel::crypto::Personal<String>)>, Error> {
        let mut out = Vec::new();
        for item in query_all(self.store.as_ref(), Query::gsi1(STATES_INDEX).limit(1_000)).await? {
            let state: RetentionState = item.record()?;
            let tenant = state.tenant;
            for cert in query_all(
                self.store.as_ref(),
                Query::partition(partition(&tenant)).prefix("CERT#"),
            )
            .await?
            {
                let stored: StoredCertificate = cert.record()?;
                if let Some(sealed) = &stored.deliver_to {
                    let to = self
                        .keyring
                        .open(&Self::recipient_context(&tenant), sealed)
                        .await?;
                    out.push((stored, to));
                }
            }
        }
        Ok(out)
    }

    /// A certificate's mail is queued: its copy of the recipient goes.
    pub async fn certificate_sent(
        &self,
        tenant: &TenantId,
        id: &CertificateId,
    ) -> Result<(), Error> {
        let key = certificate_key(tenant, id)?;
        let Some(item) = self.store.get(&key).await? else {
            return Ok(());
        };
        let mut stored: StoredCertificate = item.record()?;
        if stored.deliver_to.take().is_none() {
            return Ok(());
        }
        self.store
            .put(certificate_item(&stored)?, Condition::Version(item.version))
            .await?;
        Ok(())
    }

    /// The tenant's deletion certificates, each with its signed form for download.
    pub async fn certificates(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<StoredCertificate>, Error> {
        access.require(Permission::RetentionRead, Scope::Tenant(tenant))?;
        let items = query_all(
            self.store.as_ref(),
            Query::partition(partition(tenant)).prefix("CERT#"),
        )
        .await?;
        items
            .iter()
            .map(|i| i.record::<StoredCertificate>().map_err(Error::from))
            .collect()
    }
}

fn running(state: &mut RetentionState) -> Result<&mut StageRun, Error> {
    state
        .running
        .as_mut()
        .ok_or_else(|| Error::Internal("no running stage".into()))
}

/// Checks a certificate's signature with one of the published keys; returns what it certifies.
pub fn verify_certificate(
    jws: &str,
    keys: &[VerificationKey],
    issuer: &str,
) -> Result<DeletionCertificate, Error> {
    let mut last = None;
    for key in keys {
        match key.verify_document::<DeletionCertificate>(issuer, jws.trim()) {
            Ok((certificate, subject)) if subject == certificate.tenant.as_str() => {
                return Ok(certificate);
            }
            Ok(_) => last = Some("the certificate's subject is not its tenant".to_string()),
            Err(e) => last = Some(e.to_string()),
        }
    }
    Err(Error::BadRequest(format!(
        "the certificate does not verify: {}",
        last.unwrap_or_else(|| "no key to check it with".into())
    )))
}
