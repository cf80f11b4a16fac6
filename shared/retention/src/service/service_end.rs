//! Decisions by people: the end of a customer's service (recorded, approved by a second
//! person) and a customer's request for final deletion.

use kernel::audit::AuditEntry;
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::policy;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::store::{Condition, WriteOp};
use kernel::tenants::{self, ServiceEndSource, ServiceStatus};
use kernel::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

use super::status::TenantRetention;
use super::{RetentionService, chain};
use crate::records::*;

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
pub(super) fn end_service(
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
pub struct FinalDeletionInput {
    /// Must read exactly `DELETE <tenant>`.
    pub confirmation: Option<String>,
}

/// The text a customer admin types to confirm final deletion.
pub fn final_deletion_phrase(tenant: &TenantId) -> String {
    format!("DELETE {tenant}")
}

impl RetentionService {
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

    pub(super) async fn active_tenant(
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
}
