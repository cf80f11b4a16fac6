//! Where each tenant stands: its retention plan, the stages due now, and the status the
//! console and the portal show.

use std::collections::BTreeMap;

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::rbac::{Access, Permission, Scope};
use kernel::store::{Query, query_all};
use kernel::tenants::{self};
use kernel::time::{Clock, Timestamp};
use serde::Serialize;

use super::RetentionService;
use super::holds::summary;
use crate::plan::plan_for;
use crate::records::*;

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

impl RetentionService {
    /// A state from the tenant's plan (not stored).
    pub(super) fn state_from_plan(
        record: &tenants::TenantRecord,
    ) -> Result<Option<RetentionState>, Error> {
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

    /// Every tenant whose service has ended or whose data retention has touched.
    pub(super) async fn candidates(&self) -> Result<BTreeMap<TenantId, RetentionState>, Error> {
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

    pub(super) fn due_stages(
        state: &RetentionState,
        holds: &[LegalHold],
        now: Timestamp,
    ) -> Vec<Stage> {
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

    pub(super) fn status(
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
}
