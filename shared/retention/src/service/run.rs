//! Running the due stages: batches listed before they are deleted, the guard before each
//! batch, held data resealed, keys crypto-shredded, and the deletion certificate.

use std::collections::BTreeMap;

use kernel::audit::AuditEntry;
use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, SealedField};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::rbac::Principal;
use kernel::store::{Condition, Item, ItemKey, MAX_BATCH_ITEMS, Query, WriteOp, query_all};
use kernel::tenants::{self, ServiceStatus};
use kernel::time::{Clock, Timestamp};
use serde::Serialize;

use super::certificates::scope_text;
use super::holds::summary;
use super::{ACTOR, RetentionService, chain, held, in_scope, stage_purposes};
use crate::records::*;

/// How often a batch's unprocessed keys are retried before the run gives up (and a rerun
/// continues).
pub(super) const BATCH_ATTEMPTS: usize = 8;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub completed: Vec<(TenantId, Stage, CertificateId)>,
    pub failed: Vec<(TenantId, String)>,
}

pub(super) fn running(state: &mut RetentionState) -> Result<&mut StageRun, Error> {
    state
        .running
        .as_mut()
        .ok_or_else(|| Error::Internal("no running stage".into()))
}

impl RetentionService {
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
    pub(super) async fn state_for_run(
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

    pub(super) async fn save(
        &self,
        state: &RetentionState,
        version: Option<u64>,
    ) -> Result<u64, Error> {
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
    pub(super) async fn next_batch(
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

    pub(super) async fn delete_batch(&self, keys: &[ItemKey]) -> Result<(), Error> {
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
    pub(super) async fn guard(&self, tenant: &TenantId, batch: &[Item]) -> Result<(), Error> {
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
    pub(super) async fn reseal_held(
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
    pub(super) async fn kept_items(
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

    /// The context the certificates' recipient is sealed in (platform identity key).
    pub(super) fn recipient_context<'a>(tenant: &'a TenantId) -> FieldContext<'a> {
        FieldContext {
            owner: &KeyOwner::Platform,
            kind: RecordKind::RetentionState,
            record_id: tenant.as_str(),
            field: "certificate_recipient",
        }
    }

    /// The tenant's breach contact, sealed for the certificates, read while the tenant's keys
    /// still exist (none: no contact, or its profile is gone already).
    pub(super) async fn seal_recipient(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<SealedField>, Error> {
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
}
