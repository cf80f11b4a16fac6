//! Measurement: probe results per minute and vantage, the probe job, and the state of each
//! target as the console shows it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use kernel::error::{Error, FieldError};
use kernel::inventory::RecordKind;
use kernel::rbac::{Access, Permission, Scope as AccessScope};
use kernel::store::{Condition, Item, Query, StoreError, query_all};
use kernel::time::{Clock, SignedDuration, TimeRange, Timestamp};
use serde::Serialize;

use super::{SlaService, floor_minute, minutes_in};
use crate::measure::{self, DownWhen, MinuteState, Series, Vantage};
use crate::records::*;

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

impl SlaService {
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

    pub(super) async fn register_target(&self, target: &str) -> Result<(), Error> {
        if self.store.get(&target_key(target)?).await?.is_some() {
            return Ok(());
        }
        let item = target_item(target)?;
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn update_day(
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

    pub(super) async fn targets(&self) -> Result<Vec<String>, Error> {
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
    pub(super) async fn combined_series(
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
    pub(super) async fn series(
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
}
