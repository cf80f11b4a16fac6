//! The SLA: probe results in, month reports, claims checked against the measurements, credits.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::measure::{self, DownWhen, MinuteState, Series, Vantage};
use super::records::*;
use super::report::{self, MonthReport, ReportInput};
use billing::credits::{CreditKind, CreditRecord, CreditService};
use billing::service::BillingService;
use kernel::audit::{self, AuditHead, Audited, Stamp};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::RecordKind;
use kernel::money::Rounding;
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Permission, Scope as AccessScope};
use kernel::scrub;
use kernel::store::{Condition, Item, ItemKey, Query, Store, StoreError, WriteOp, query_all};
use kernel::tenants;
use kernel::time::{Clock, Month, SignedDuration, TimeRange, Timestamp};

/// Failed minutes in a row before they count as an outage, unless configured otherwise.
pub const DEFAULT_CONFIRMATIONS: usize = 2;
/// At most this many outages in one claim.
const MAX_CLAIMED_OUTAGES: usize = 500;

/// A probe target seen from one vantage over a recent window (see [`SlaService::probe_state`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetState {
    pub target: String,
    pub vantage: Vantage,
    pub window: TimeRange,
    /// The newest minute with a result, and that result.
    pub last_result: Option<(Timestamp, MinuteState)>,
    pub up: usize,
    pub down: usize,
    pub without_result: usize,
}

fn minutes_in(window: &TimeRange) -> i64 {
    window.duration().as_secs().div_euclid(60)
}

/// One endpoint the probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub name: String,
    pub url: String,
}

/// The probe's way out (HTTP in the functions; anything in tests).
#[async_trait]
pub trait Prober: Send + Sync {
    /// Up when the endpoint answered in time with a success status.
    async fn check(&self, target: &ProbeTarget) -> MinuteState;
}

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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimedOutage {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<Timestamp>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub outages: Option<Vec<ClaimedOutage>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub approve: Option<bool>,
    pub reason: Option<String>,
}

/// A claim with the credit it led to (where the credit went).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    pub credit_record: Option<CreditRecord>,
}

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

    // ----- measurement ---------------------------------------------------------------------------

    /// Stores `states`, one per minute from the minute of `start`, for `target`.
    pub async fn record_minutes(
        &self,
        target: &str,
        vantage: Vantage,
        start: Timestamp,
        states: &[MinuteState],
    ) -> Result<(), Error> {
        if target.is_empty()
            || target.len() > 64
            || !target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::validation(
                "/target",
                "1 to 64 letters, digits, '-' or '_'",
            ));
        }
        self.register_target(target).await?;
        let (first_day, first_minute) = measure::day_and_minute(floor_minute(start));
        let mut by_day: BTreeMap<i64, Vec<(usize, MinuteState)>> = BTreeMap::new();
        for (i, state) in states.iter().enumerate() {
            let absolute = first_minute + i;
            let day = first_day + i64::try_from(absolute / measure::MINUTES_PER_DAY).unwrap_or(0);
            by_day
                .entry(day)
                .or_default()
                .push((absolute % measure::MINUTES_PER_DAY, *state));
        }
        for (day, minutes) in by_day {
            self.update_day(target, vantage, day, &minutes).await?;
        }
        Ok(())
    }

    /// Results another vantage sends for one minute (the Worker's cron at the edge): each
    /// target's state for the minute of `at`, which must be the present minute or one of the
    /// few before it (a vantage reports what it sees now, never history).
    pub async fn record_vantage_minute(
        &self,
        vantage: Vantage,
        at: Timestamp,
        results: &[(String, MinuteState)],
    ) -> Result<(), Error> {
        const MAX_TARGETS: usize = 32;
        let now = self.clock.now();
        let mut errors = Vec::new();
        let age = now.duration_since(at);
        if age < SignedDuration::from_secs(-60) || age > SignedDuration::from_mins(10) {
            errors.push(FieldError::new(
                "/minute",
                format!("must lie within the ten minutes before now ({now})"),
            ));
        }
        if results.is_empty() || results.len() > MAX_TARGETS {
            errors.push(FieldError::new(
                "/results",
                format!("1 to {MAX_TARGETS} results"),
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        for (target, state) in results {
            self.record_minutes(target, vantage, at, &[*state]).await?;
        }
        Ok(())
    }

    async fn register_target(&self, target: &str) -> Result<(), Error> {
        if self.store.get(&target_key(target)?).await?.is_some() {
            return Ok(());
        }
        let item = target_item(target)?;
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn update_day(
        &self,
        target: &str,
        vantage: Vantage,
        day: i64,
        minutes: &[(usize, MinuteState)],
    ) -> Result<(), Error> {
        let label = measure::day_label(day);
        let key = day_key(target, vantage, &label)?;
        // Two probes may write the same day at once: retry on a lost race.
        for _ in 0..5 {
            let existing = self.store.get(&key).await?;
            let (mut record, condition) = match &existing {
                Some(item) => (item.record::<ProbeDay>()?, Condition::Version(item.version)),
                None => (
                    ProbeDay {
                        target: target.to_string(),
                        vantage,
                        day: label.clone(),
                        minutes: measure::unknown_day(),
                    },
                    Condition::NotExists,
                ),
            };
            for (minute, state) in minutes {
                measure::set_minute(&mut record.minutes, *minute, *state);
            }
            let item = Item::new(key.clone(), RecordKind::SlaProbeDay).with_record(&record)?;
            match self.store.put(item, condition).await {
                Ok(_) => return Ok(()),
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict(format!(
            "probe day {label} of {target} kept changing"
        )))
    }

    /// Checks every target once and records the result for the minute of `at`.
    pub async fn probe(
        &self,
        prober: &dyn Prober,
        targets: &[ProbeTarget],
        at: Timestamp,
    ) -> Result<Vec<(String, MinuteState)>, Error> {
        let mut results = Vec::new();
        for target in targets {
            let state = prober.check(target).await;
            self.record_minutes(&target.name, Vantage::Region, at, &[state])
                .await?;
            results.push((target.name.clone(), state));
        }
        Ok(results)
    }

    async fn targets(&self) -> Result<Vec<String>, Error> {
        Ok(
            query_all(self.store.as_ref(), Query::partition(TARGETS_PARTITION))
                .await?
                .into_iter()
                .map(|i| i.key.sk)
                .collect(),
        )
    }

    /// The minute series of `target` over `padded` from every vantage with results in it,
    /// combined by `rule`, and the vantages with results within `window` itself; `None` when no
    /// vantage has a result.
    async fn combined_series(
        &self,
        target: &str,
        padded: &TimeRange,
        window: &TimeRange,
        rule: DownWhen,
    ) -> Result<Option<(Series, Vec<Vantage>)>, Error> {
        let region = self.series(target, Vantage::Region, padded).await?;
        let edge = self.series(target, Vantage::Edge, padded).await?;
        let within = |series: &Option<Series>| {
            series.as_ref().is_some_and(|s| {
                let minute = |at: Timestamp| {
                    usize::try_from(at.duration_since(s.start).as_secs().div_euclid(60))
                        .unwrap_or(0)
                };
                let (from, to) = (minute(window.start()), minute(window.end()));
                s.minutes
                    .get(from.min(s.minutes.len())..to.min(s.minutes.len()))
                    .is_some_and(|m| m.iter().any(|m| *m != MinuteState::Unknown))
            })
        };
        let vantages: Vec<Vantage> = [
            (Vantage::Region, within(&region)),
            (Vantage::Edge, within(&edge)),
        ]
        .into_iter()
        .filter_map(|(v, has)| has.then_some(v))
        .collect();
        Ok(measure::combine(region, edge, rule).map(|series| (series, vantages)))
    }

    /// The minute series of `target` seen from `vantage` over `window` (unknown where nothing
    /// was recorded), or `None` when it has no results in the window at all.
    async fn series(
        &self,
        target: &str,
        vantage: Vantage,
        window: &TimeRange,
    ) -> Result<Option<Series>, Error> {
        let start = floor_minute(window.start());
        let total = usize::try_from(window.end().duration_since(start).as_secs().div_euclid(60))
            .unwrap_or(0);
        let mut minutes = vec![MinuteState::Unknown; total];
        let (first_day, first_minute) = measure::day_and_minute(start);
        let (last_day, _) = measure::day_and_minute(window.end());
        let items = query_all(
            self.store.as_ref(),
            Query::partition(target_partition(target, vantage))
                .from(format!("DAY#{}", measure::day_label(first_day))),
        )
        .await?;
        let mut any = false;
        for item in items {
            let day: ProbeDay = item.record()?;
            let Some(number) = measure::day_number(&day.day) else {
                continue;
            };
            if number > last_day {
                break;
            }
            let offset = (number - first_day) * measure::MINUTES_PER_DAY as i64
                - i64::try_from(first_minute).unwrap_or(0);
            for (m, c) in day.minutes.chars().enumerate() {
                let index = offset + m as i64;
                if index >= 0
                    && let Some(slot) = usize::try_from(index).ok().and_then(|i| minutes.get_mut(i))
                {
                    *slot = MinuteState::from_symbol(c);
                    any |= *slot != MinuteState::Unknown;
                }
            }
        }
        Ok(any.then_some(Series { start, minutes }))
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

    // ----- operators: outages and exclusions -------------------------------------------------------

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

    async fn outages_in(&self, window: &TimeRange) -> Result<Vec<RecordedOutage>, Error> {
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

    async fn exclusions_in(&self, window: &TimeRange) -> Result<Vec<Exclusion>, Error> {
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

    /// What each probe target looked like from each vantage over the last `minutes` before
    /// now: the newest minute with a result and its state, and the minutes up, down and
    /// without a result. A vantage that stopped reporting shows as silent here before it
    /// shows as unknown time in a month's report.
    pub async fn probe_state(
        &self,
        access: &Access,
        minutes: u32,
    ) -> Result<Vec<TargetState>, Error> {
        access.require(Permission::SlaReportRead, AccessScope::Platform)?;
        let end = floor_minute(self.clock.now());
        let start = end
            .checked_sub(SignedDuration::from_mins(i64::from(minutes.max(1))))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let window = TimeRange::new(start, end).map_err(|e| Error::Internal(e.to_string()))?;
        let mut states = Vec::new();
        for target in self.targets().await? {
            for vantage in Vantage::ALL {
                let series = self.series(&target, vantage, &window).await?;
                let minutes = series.as_ref().map_or(&[][..], |s| &s.minutes[..]);
                let count = |state: MinuteState| minutes.iter().filter(|m| **m == state).count();
                let last = minutes
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, m)| **m != MinuteState::Unknown);
                let last_result = match (last, &series) {
                    (Some((i, state)), Some(series)) => Some((
                        series
                            .start
                            .checked_add(SignedDuration::from_mins(i as i64))
                            .map_err(|e| Error::Internal(e.to_string()))?,
                        *state,
                    )),
                    _ => None,
                };
                states.push(TargetState {
                    target: target.clone(),
                    vantage,
                    window,
                    last_result,
                    up: count(MinuteState::Up),
                    down: count(MinuteState::Down),
                    without_result: usize::try_from(minutes_in(&window))
                        .unwrap_or(0)
                        .saturating_sub(count(MinuteState::Up) + count(MinuteState::Down)),
                });
            }
        }
        Ok(states)
    }

    // ----- reports -------------------------------------------------------------------------------

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

    // ----- claims --------------------------------------------------------------------------------

    /// A customer admin files a claim: the month and every outage's start and end. Incomplete
    /// claims are refused whole (nothing stored); late ones are stored as lapsed, with the
    /// reason; the rest are checked against the measurements at once.
    pub async fn file_claim(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: ClaimInput,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsFile, AccessScope::Tenant(tenant))?;
        let now = self.clock.now();
        let mut errors = Vec::new();
        let month = match input.month.as_deref().map(str::parse::<Month>) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                errors.push(FieldError::new("/month", e.to_string()));
                None
            }
            None => {
                errors.push(FieldError::new("/month", "is required (YYYY-MM)"));
                None
            }
        };
        let month_range = month.and_then(|m| m.range().ok());
        if let Some(r) = &month_range
            && r.end() > now
        {
            errors.push(FieldError::new(
                "/month",
                "claims are filed once the month is over",
            ));
        }
        let claimed = input.outages.unwrap_or_default();
        if claimed.is_empty() {
            errors.push(FieldError::new(
                "/outages",
                "name every outage claimed, each with its start and end",
            ));
        }
        if claimed.len() > MAX_CLAIMED_OUTAGES {
            errors.push(FieldError::new(
                "/outages",
                format!("at most {MAX_CLAIMED_OUTAGES} outages per claim"),
            ));
        }
        let mut outages = Vec::new();
        for (i, o) in claimed.iter().enumerate() {
            let prefix = format!("/outages/{i}");
            if let Some(r) = range(&mut errors, &prefix, o.start, o.end) {
                match &month_range {
                    Some(m) if !m.covers(&r) => errors.push(FieldError::new(
                        &prefix,
                        format!(
                            "must lie inside {} ({} to {})",
                            month.map(|m| m.to_string()).unwrap_or_default(),
                            m.start(),
                            m.end()
                        ),
                    )),
                    _ => outages.push(r),
                }
            }
        }
        let (Some(month), Some(month_range)) = (month, month_range) else {
            return Err(Error::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if tenants::get(self.store.as_ref(), tenant).await?.is_none() {
            return Err(Error::NotFound(format!("tenant {tenant}")));
        }
        let policy = tenants::policy_for(self.store.as_ref(), tenant).await?;
        let deadline = policy
            .sla_claim_window
            .after(month_range.end())
            .map_err(|e| Error::Internal(e.to_string()))?;
        let id = ClaimId::generate(now);
        let (status, lapse_reason, verification) = if now > deadline {
            (
                ClaimStatus::Lapsed,
                Some(format!(
                    "filed {now}; the claim window for {month} ({} after the month's end) \
                     closed {deadline}",
                    policy.sla_claim_window
                )),
                None,
            )
        } else {
            let verification = self.verify(tenant, month, &outages, &policy).await?;
            (ClaimStatus::Verified, None, Some(verification))
        };
        let mut claim = Claim {
            id,
            tenant: tenant.clone(),
            month,
            outages: TimeRange::merge(outages),
            filed_at: now,
            filed_by: access.principal().subject.clone(),
            deadline,
            status,
            lapse_reason,
            verification,
            decision: None,
            credit: None,
            audit: AuditHead::default(),
        };
        let stamp = Stamp {
            at: now,
            by: access.principal(),
            action: match status {
                ClaimStatus::Lapsed => "sla.claim.lapsed",
                _ => "sla.claim.filed_and_verified",
            },
        };
        // The entry's digest covers the claim as filed (before its audit head is set).
        let filed = claim.clone();
        self.create_audited(&mut claim, stamp, &filed).await?;
        Ok(ClaimView {
            claim,
            credit_record: None,
        })
    }

    /// Sets a claim against the month's measurements and the billing period's fee.
    async fn verify(
        &self,
        tenant: &TenantId,
        month: Month,
        claimed: &[TimeRange],
        policy: &EffectivePolicy,
    ) -> Result<Verification, Error> {
        let report = self.month_report(Some(tenant), month).await?;
        let claimed = TimeRange::merge(claimed.to_vec());
        let claimed_seconds = TimeRange::total(&claimed).as_secs();
        let confirmed = report::intersect(&claimed, &report.counted);
        let downtime: Vec<TimeRange> = report.outages.iter().map(|o| o.range).collect();
        let countable = match report.unknown_treatment {
            kernel::policy::UnknownTreatment::Downtime => {
                TimeRange::merge(downtime.iter().chain(&report.unknown).copied().collect())
            }
            kernel::policy::UnknownTreatment::NotDowntime => downtime.clone(),
        };
        let mut excluded = Vec::new();
        for line in &report.exclusions {
            for part in report::intersect(&report::intersect(&claimed, &countable), &[line.range]) {
                excluded.push(ExcludedPart {
                    range: part,
                    category: line.category,
                    exclusion: line.id,
                });
            }
        }
        let excluded_ranges: Vec<TimeRange> = excluded.iter().map(|e| e.range).collect();
        let unconfirmed = report::subtract(&claimed, &countable);
        let confirmed_seconds = TimeRange::total(&confirmed).as_secs();
        let fee_basis = self.fee_basis(tenant, month).await?;
        let credit = match &fee_basis {
            Some(b) => Some(
                b.fee
                    .share(policy.sla_credit, Rounding::HalfUp)
                    .map_err(|e| Error::Internal(e.to_string()))?,
            ),
            None => None,
        };
        let mut reasons = Vec::new();
        let mut reasons_de = Vec::new();
        let mut say = |en: String, de: String| {
            reasons.push(en);
            reasons_de.push(de);
        };
        if report.meets_target {
            say(
                format!(
                    "The month's uptime was {}, which meets the promised {}: no SLA credit is due.",
                    report.uptime, report.target
                ),
                format!(
                    "Die Verfügbarkeit im Monat lag bei {} und erreicht die zugesagten {}: keine \
                     SLA-Gutschrift fällig.",
                    report.uptime, report.target
                ),
            );
        } else {
            say(
                format!(
                    "The month's uptime was {}, below the promised {}.",
                    report.uptime, report.target
                ),
                format!(
                    "Die Verfügbarkeit im Monat lag bei {}, unter den zugesagten {}.",
                    report.uptime, report.target
                ),
            );
        }
        if confirmed_seconds == 0 {
            say(
                "None of the claimed time shows in the measurements as downtime that counts."
                    .to_string(),
                "Nichts von der beanspruchten Zeit zeigt sich in den Messungen als zählende \
                 Ausfallzeit."
                    .to_string(),
            );
        } else {
            say(
                format!(
                    "{confirmed_seconds} s of the {claimed_seconds} s claimed are confirmed as \
                     downtime."
                ),
                format!(
                    "{confirmed_seconds} s der beanspruchten {claimed_seconds} s sind als \
                     Ausfallzeit bestätigt."
                ),
            );
        }
        let excluded_seconds = TimeRange::total(&excluded_ranges).as_secs();
        if excluded_seconds > 0 {
            say(
                format!("{excluded_seconds} s of the claimed downtime fall under exclusions."),
                format!(
                    "{excluded_seconds} s der beanspruchten Ausfallzeit fallen unter Ausnahmen."
                ),
            );
        }
        let unconfirmed_seconds = TimeRange::total(&unconfirmed).as_secs();
        if unconfirmed_seconds > 0 {
            say(
                format!("{unconfirmed_seconds} s claimed are not downtime in the measurements."),
                format!(
                    "{unconfirmed_seconds} s der beanspruchten Zeit sind in den Messungen keine \
                     Ausfallzeit."
                ),
            );
        }
        let day = |t: Timestamp| {
            kernel::time::in_company_time(t)
                .strftime("%d.%m.%Y")
                .to_string()
        };
        match (&fee_basis, &credit) {
            (Some(b), Some(c)) => say(
                format!(
                    "The billing period {} to {} (invoice {}) had a fee of {}; {} of it is {} \
                     (half a cent and more rounded up).",
                    b.period_start, b.period_end, b.invoice, b.fee, policy.sla_credit, c
                ),
                format!(
                    "Der Abrechnungszeitraum {} bis {} (Rechnung {}) kostete {}; {} davon sind {} \
                     (ab einem halben Cent aufgerundet).",
                    day(b.period_start),
                    day(b.period_end),
                    b.invoice,
                    b.fee,
                    policy.sla_credit,
                    c
                ),
            ),
            _ => say(
                format!(
                    "No Stripe invoice bills a period overlapping {month}: the credit cannot be \
                     computed yet."
                ),
                format!(
                    "Keine Stripe-Rechnung deckt einen Zeitraum ab, der {month} überschneidet: die \
                     Gutschrift lässt sich noch nicht berechnen."
                ),
            ),
        }
        let eligible = !report.meets_target
            && report.complete
            && confirmed_seconds > 0
            && credit.is_some_and(|c| c.minor > 0);
        Ok(Verification {
            checked_at: self.clock.now(),
            uptime: report.uptime,
            meets_target: report.meets_target,
            counted_downtime_seconds: report.counted_downtime_seconds,
            claimed_seconds,
            confirmed,
            confirmed_seconds,
            excluded,
            excluded_seconds,
            unconfirmed,
            unconfirmed_seconds,
            fee_basis,
            credit,
            eligible,
            reasons,
            reasons_de,
        })
    }

    /// The billing period the month falls in: of the invoices billing a fee, the one whose
    /// period overlaps the month longest (the earlier on a tie).
    async fn fee_basis(&self, tenant: &TenantId, month: Month) -> Result<Option<FeeBasis>, Error> {
        let month_range = month.range().map_err(|e| Error::Internal(e.to_string()))?;
        let mut best: Option<(i64, FeeBasis)> = None;
        for invoice in self.billing.fees(tenant).await? {
            let Ok(period) = TimeRange::new(invoice.period_start, invoice.period_end) else {
                continue;
            };
            let Some(overlap) = period.intersection(&month_range) else {
                continue;
            };
            let seconds = overlap.duration().as_secs();
            if best.as_ref().is_none_or(|(s, _)| seconds > *s) {
                best = Some((
                    seconds,
                    FeeBasis {
                        invoice: invoice.invoice.clone(),
                        period_start: invoice.period_start,
                        period_end: invoice.period_end,
                        fee: invoice.fee(),
                    },
                ));
            }
        }
        Ok(best.map(|(_, b)| b))
    }

    async fn load_claim(&self, tenant: &TenantId, id: &ClaimId) -> Result<(Claim, u64), Error> {
        let item = self
            .store
            .get(&claim_key(tenant, id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("claim {id}")))?;
        Ok((item.record()?, item.version))
    }

    async fn view(&self, claim: Claim) -> Result<ClaimView, Error> {
        let credit_record = match &claim.credit {
            Some(id) => Some(self.credits.get(&claim.tenant, id).await?.0),
            None => None,
        };
        Ok(ClaimView {
            claim,
            credit_record,
        })
    }

    pub async fn claims(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<ClaimView>, Error> {
        access.require(Permission::SlaClaimsRead, AccessScope::Tenant(tenant))?;
        let items = query_all(
            self.store.as_ref(),
            Query::partition(claims_partition(tenant)).prefix(ClaimId::PREFIX),
        )
        .await?;
        let mut out = Vec::new();
        for item in items {
            out.push(self.view(item.record()?).await?);
        }
        Ok(out)
    }

    /// Every tenant's claims, oldest first: billing's queue across customers.
    pub async fn claims_queue(&self, access: &Access) -> Result<Vec<ClaimView>, Error> {
        access.require(Permission::SlaClaimsRead, AccessScope::Platform)?;
        let mut queue = Vec::new();
        for tenant in kernel::tenants::all(self.store.as_ref()).await? {
            queue.extend(self.claims(access, &tenant.id).await?);
        }
        queue.sort_by_key(|view| view.claim.filed_at);
        Ok(queue)
    }

    pub async fn claim(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &ClaimId,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsRead, AccessScope::Tenant(tenant))?;
        let (claim, _) = self.load_claim(tenant, id).await?;
        self.view(claim).await
    }

    /// The claim again for the one who decided it (after its credit went to Stripe): deciding
    /// includes seeing the decision, whatever else the role may read.
    pub async fn claim_as_decided(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &ClaimId,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsDecide, AccessScope::Tenant(tenant))?;
        let (claim, _) = self.load_claim(tenant, id).await?;
        self.view(claim).await
    }

    /// Billing staff approve or reject a verified claim, with a reason. Approval needs a
    /// verification that supports it and records the credit (one per tenant and month) in the
    /// same transaction; a credit the measurements do not support is a voluntary credit instead.
    pub async fn decide(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &ClaimId,
        input: DecisionInput,
    ) -> Result<ClaimView, Error> {
        access.require(Permission::SlaClaimsDecide, AccessScope::Tenant(tenant))?;
        let mut errors = Vec::new();
        if input.approve.is_none() {
            errors.push(FieldError::new("/approve", "is required (true or false)"));
        }
        let reason = text(&mut errors, "/reason", input.reason, 2_000);
        let Some(approve) = input.approve.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let (mut claim, version) = self.load_claim(tenant, id).await?;
        if claim.status != ClaimStatus::Verified {
            return Err(Error::Conflict(format!(
                "the claim is {:?}; only verified claims are decided",
                claim.status
            )));
        }
        let now = self.clock.now();
        let mut ops = Vec::new();
        if approve {
            let verification = claim
                .verification
                .as_ref()
                .ok_or_else(|| Error::Internal("a verified claim without verification".into()))?;
            let credit = match (verification.eligible, verification.credit) {
                (true, Some(c)) => c,
                _ => {
                    return Err(Error::Conflict(format!(
                        "the verification does not support an SLA credit ({}); a credit at the \
                         company's discretion is a voluntary credit",
                        verification.reasons.join(" ")
                    )));
                }
            };
            let (record, credit_ops) = self.credits.prepare(
                access.principal(),
                tenant,
                CreditKind::Sla {
                    claim: claim.id.to_string(),
                    month: claim.month,
                },
                credit,
                &format!("SLA credit for {} (claim {})", claim.month, claim.id),
            )?;
            ops.extend(credit_ops);
            ops.push(WriteOp::Put {
                item: month_credit_item(
                    tenant,
                    &MonthCredit {
                        claim: claim.id,
                        credit: record.id,
                        month: claim.month,
                    },
                )?,
                condition: Condition::NotExists,
            });
            claim.credit = Some(record.id);
            claim.status = ClaimStatus::Approved;
        } else {
            claim.status = ClaimStatus::Rejected;
        }
        claim.decision = Some(Decision {
            approved: approve,
            reason,
            decided_by: access.principal().subject.clone(),
            decided_at: now,
        });
        let stamp = Stamp {
            at: now,
            by: access.principal(),
            action: if approve {
                "sla.claim.approved"
            } else {
                "sla.claim.rejected"
            },
        };
        let change = (claim.decision.clone(), claim.credit);
        ops.extend(audit::update_ops(&mut claim, version, stamp, &change)?);
        match self.store.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TransactionCanceled { .. }) if approve => {
                return Err(Error::Conflict(format!(
                    "an SLA credit for {} was granted already, or the claim changed meanwhile",
                    claim.month
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.view(claim).await
    }
}
