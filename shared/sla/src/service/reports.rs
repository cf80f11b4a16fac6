//! Month reports: the uptime of a month for a customer or the platform, and closing a month.

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Permission, Scope as AccessScope};
use kernel::store::{Condition, Item, ItemKey, StoreError};
use kernel::tenants;
use kernel::time::{Clock, Month, SignedDuration, TimeRange, Timestamp};

use super::{SlaService, floor_minute, previous};
use crate::measure::{self};
use crate::records::*;
use crate::report::{self, MonthReport, ReportInput};

impl SlaService {
    /// The month's figures for a tenant (its contract's unknown-minute setting, its own outages
    /// and exclusions) or, without one, for the platform.
    pub async fn month_report(
        &self,
        tenant: Option<&TenantId>,
        month: Month,
    ) -> Result<MonthReport, Error> {
        let now = floor_minute(self.clock.now());
        let full = month
            .range()
            .map_err(|e| Error::validation("/month", e.to_string()))?;
        if full.start() >= now {
            return Err(Error::validation("/month", "the month has not begun"));
        }
        let complete = full.end() <= now;
        let window = TimeRange::new(full.start(), full.end().min(now))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let policy = match tenant {
            Some(t) => tenants::policy_for(self.store.as_ref(), t).await?,
            None => EffectivePolicy::page(),
        };
        // A little on either side, so a run across the month's edge is judged whole.
        let pad = SignedDuration::from_secs(60 * self.confirmations as i64);
        let padded = TimeRange::new(
            window
                .start()
                .checked_sub(pad)
                .map_err(|e| Error::Internal(e.to_string()))?,
            window
                .end()
                .checked_add(pad)
                .map_err(|e| Error::Internal(e.to_string()))?
                .min(now.max(window.end())),
        )
        .map_err(|e| Error::Internal(e.to_string()))?;
        // Every target with results in the month counts; a minute is unknown when any of them
        // has no result for it (the service may have been down where it was not looked at).
        let mut targets = Vec::new();
        let mut measured = Vec::new();
        let mut unknown = Vec::new();
        let mut blips = Vec::new();
        let mut vantages = std::collections::BTreeSet::new();
        for target in self.targets().await? {
            let Some((series, seen_from)) = self
                .combined_series(&target, &padded, &window, policy.sla_down_when)
                .await?
            else {
                continue;
            };
            vantages.extend(seen_from);
            let reading = measure::read(&series, self.confirmations);
            measured.extend(reading.outages);
            unknown.extend(reading.unknown);
            blips.extend(reading.blips);
            targets.push(target);
        }
        if targets.is_empty() {
            unknown.push(window);
        }
        let recorded = self
            .outages_in(&window)
            .await?
            .into_iter()
            .filter(|o| o.scope.concerns(tenant))
            .collect();
        let exclusions = self
            .exclusions_in(&window)
            .await?
            .into_iter()
            .filter(|e| e.scope.concerns(tenant))
            .collect();
        Ok(report::compute(ReportInput {
            tenant: tenant.cloned(),
            month,
            window,
            complete,
            targets,
            measured,
            unknown,
            blips,
            confirmations: self.confirmations,
            recorded,
            exclusions,
            unknown_treatment: policy.sla_unknown_treatment,
            target: policy.monthly_uptime_target,
            vantages: vantages.into_iter().collect(),
            down_when: policy.sla_down_when,
        }))
    }

    /// A tenant's month report, for its users and for staff.
    pub async fn tenant_report(
        &self,
        access: &Access,
        tenant: &TenantId,
        month: Month,
    ) -> Result<MonthReport, Error> {
        access.require(Permission::SlaReportRead, AccessScope::Tenant(tenant))?;
        if tenants::get(self.store.as_ref(), tenant).await?.is_none() {
            return Err(Error::NotFound(format!("tenant {tenant}")));
        }
        self.month_report(Some(tenant), month).await
    }

    /// The platform's month report, for staff.
    pub async fn platform_report(
        &self,
        access: &Access,
        month: Month,
    ) -> Result<MonthReport, Error> {
        access.require(Permission::SlaReportRead, AccessScope::Platform)?;
        self.month_report(None, month).await
    }

    /// Keeps the figures of the month before `at` as computed now (the `sla-month-close` job).
    /// Returns `None` when the month was closed already.
    pub async fn close_month(&self, at: Timestamp) -> Result<Option<MonthSummary>, Error> {
        let month = previous(Month::containing(at))?;
        let report = self.month_report(None, month).await?;
        let summary = MonthSummary {
            month,
            closed_at: at,
            uptime: report.uptime.clone(),
            meets_target: report.meets_target,
            downtime_seconds: report.downtime_seconds,
            excluded_seconds: report.excluded_seconds,
            counted_downtime_seconds: report.counted_downtime_seconds,
            unknown_seconds: report.unknown_seconds,
        };
        let item = Item::new(
            ItemKey::new(MONTHS_PARTITION, month.to_string())?,
            RecordKind::SlaMonthSummary,
        )
        .with_record(&summary)?;
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) => Ok(Some(summary)),
            Err(StoreError::ConditionFailed(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
