//! What operators record: outages the probes could not see, and exclusions (force majeure,
//! customer or third-party acts, planned maintenance), each with its audit entry.

use kernel::audit::{AuditHead, Stamp};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::rbac::{Access, Permission, Scope as AccessScope};
use kernel::store::{Query, query_all};
use kernel::tenants;
use kernel::time::{Clock, Month, TimeRange, Timestamp};
use serde::Deserialize;

use super::{SlaService, range, text};
use crate::records::*;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutageInput {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<Timestamp>,
    /// Only this tenant; every tenant if absent.
    pub tenant: Option<TenantId>,
    pub description: Option<String>,
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionInput {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<Timestamp>,
    pub category: Option<ExclusionCategory>,
    /// Only this tenant; every tenant if absent. Required for acts of the customer.
    pub tenant: Option<TenantId>,
    pub reason: Option<String>,
    pub evidence: Option<String>,
    /// Planned maintenance: when it was announced; must lie before its start.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub announced_at: Option<Timestamp>,
}

impl SlaService {
    pub async fn record_outage(
        &self,
        access: &Access,
        input: OutageInput,
    ) -> Result<RecordedOutage, Error> {
        access.require(Permission::OutagesRecord, AccessScope::Platform)?;
        let mut errors = Vec::new();
        let range = range(&mut errors, "", input.start, input.end);
        let description = text(&mut errors, "/description", input.description, 500);
        let evidence = text(&mut errors, "/evidence", input.evidence, 500);
        let now = self.clock.now();
        if let Some(r) = &range
            && r.start() > now
        {
            errors.push(FieldError::new(
                "/start",
                "an outage cannot lie in the future",
            ));
        }
        if let Some(t) = &input.tenant
            && tenants::get(self.store.as_ref(), t).await?.is_none()
        {
            errors.push(FieldError::new("/tenant", "no such tenant"));
        }
        let Some(range) = range.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let id = OutageId::generate(now);
        let scope = input.tenant.map_or(Scope::Platform, Scope::Tenant);
        let mut outage = RecordedOutage {
            id,
            range,
            scope,
            description,
            evidence,
            recorded_by: access.principal().subject.clone(),
            recorded_at: now,
            audit: AuditHead::default(),
        };
        let change = (
            outage.range,
            outage.scope.clone(),
            outage.description.clone(),
            outage.evidence.clone(),
        );
        let stamp = Stamp {
            at: now,
            by: access.principal(),
            action: "sla.outage.recorded",
        };
        self.create_audited(&mut outage, stamp, &change).await?;
        Ok(outage)
    }

    pub async fn record_exclusion(
        &self,
        access: &Access,
        input: ExclusionInput,
    ) -> Result<Exclusion, Error> {
        access.require(Permission::OutagesRecord, AccessScope::Platform)?;
        let mut errors = Vec::new();
        let range = range(&mut errors, "", input.start, input.end);
        let reason = text(&mut errors, "/reason", input.reason, 500);
        let evidence = text(&mut errors, "/evidence", input.evidence, 500);
        let now = self.clock.now();
        match input.category {
            None => errors.push(FieldError::new(
                "/category",
                "is required: force_majeure, customer_act, third_party_act, \
                 external_infrastructure or planned_maintenance",
            )),
            Some(ExclusionCategory::PlannedMaintenance) => match (input.announced_at, &range) {
                (None, _) => errors.push(FieldError::new(
                    "/announced_at",
                    "planned maintenance must have been announced: when?",
                )),
                (Some(a), _) if a > now => errors.push(FieldError::new(
                    "/announced_at",
                    "must not lie in the future",
                )),
                (Some(a), Some(r)) if a >= r.start() => errors.push(FieldError::new(
                    "/announced_at",
                    "maintenance counts as planned only when announced before it began",
                )),
                _ => {}
            },
            Some(ExclusionCategory::CustomerAct) if input.tenant.is_none() => errors.push(
                FieldError::new("/tenant", "an act of the customer names the tenant"),
            ),
            Some(_) if input.announced_at.is_some() => errors.push(FieldError::new(
                "/announced_at",
                "only for planned maintenance",
            )),
            Some(_) => {}
        }
        if let Some(t) = &input.tenant
            && tenants::get(self.store.as_ref(), t).await?.is_none()
        {
            errors.push(FieldError::new("/tenant", "no such tenant"));
        }
        let (Some(range), Some(category)) = (range, input.category) else {
            return Err(Error::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let id = ExclusionId::generate(now);
        let scope = input.tenant.map_or(Scope::Platform, Scope::Tenant);
        let mut exclusion = Exclusion {
            id,
            range,
            category,
            scope,
            reason,
            evidence,
            announced_at: input.announced_at,
            recorded_by: access.principal().subject.clone(),
            recorded_at: now,
            audit: AuditHead::default(),
        };
        let change = (
            exclusion.range,
            exclusion.category,
            exclusion.scope.clone(),
            exclusion.reason.clone(),
            exclusion.evidence.clone(),
            exclusion.announced_at,
        );
        let stamp = Stamp {
            at: now,
            by: access.principal(),
            action: "sla.exclusion.recorded",
        };
        self.create_audited(&mut exclusion, stamp, &change).await?;
        Ok(exclusion)
    }

    pub(super) async fn outages_in(
        &self,
        window: &TimeRange,
    ) -> Result<Vec<RecordedOutage>, Error> {
        let items = query_all(self.store.as_ref(), Query::partition(OUTAGES_PARTITION)).await?;
        let mut out = Vec::new();
        for item in items {
            let o: RecordedOutage = item.record()?;
            if o.range.intersection(window).is_some() {
                out.push(o);
            }
        }
        Ok(out)
    }

    pub(super) async fn exclusions_in(&self, window: &TimeRange) -> Result<Vec<Exclusion>, Error> {
        let items = query_all(self.store.as_ref(), Query::partition(EXCLUSIONS_PARTITION)).await?;
        let mut out = Vec::new();
        for item in items {
            let e: Exclusion = item.record()?;
            if e.range.intersection(window).is_some() {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The outages and exclusions operators recorded that touch `month`, with their evidence
    /// and who recorded them, oldest first (the report shows only their effect).
    pub async fn recorded_in_month(
        &self,
        access: &Access,
        month: Month,
    ) -> Result<(Vec<RecordedOutage>, Vec<Exclusion>), Error> {
        access.require(Permission::SlaReportRead, AccessScope::Platform)?;
        let window = month
            .range()
            .map_err(|e| Error::validation("/month", e.to_string()))?;
        let mut outages = self.outages_in(&window).await?;
        outages.sort_by_key(|o| o.range.start());
        let mut exclusions = self.exclusions_in(&window).await?;
        exclusions.sort_by_key(|e| e.range.start());
        Ok((outages, exclusions))
    }
}
