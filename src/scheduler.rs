//! The local scheduler: fires the jobs of `schedules.json` on the clock the platform runs on,
//! exactly as EventBridge Scheduler fires the Lambda functions in production. Each job gets the
//! firing's scheduled time (EventBridge passes it as the event's `time`), so simulated time
//! replays every firing in order.

use std::collections::HashMap;
use std::sync::Arc;

use functions::Services;
use functions::jobs::Handler;
use functions::schedule::{CatchUp, Schedule, ScheduleError};
use kernel::time::Timestamp;
use serde::Serialize;
use tokio::sync::Mutex;

/// Firings replayed at most per schedule in one catch-up; older ones are skipped with a warning
/// (a probe every minute over a simulated year would otherwise replay half a million times).
const MAX_CATCH_UP: usize = 2_000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Firing {
    pub job: String,
    pub scheduled: Timestamp,
    pub ok: bool,
}

pub struct Scheduler {
    entries: Mutex<Vec<(Schedule, Handler, Timestamp)>>,
    services: Arc<Services>,
}

impl Scheduler {
    pub fn new(
        schedules: Vec<Schedule>,
        mut handlers: HashMap<String, Handler>,
        services: Arc<Services>,
    ) -> Result<Self, ScheduleError> {
        let now = services.clock.now();
        let mut entries = Vec::new();
        for schedule in schedules {
            match handlers.remove(&schedule.job) {
                Some(handler) => {
                    let next = schedule.next_after(now)?;
                    tracing::info!(job = %schedule.job, expression = %schedule.expression, next = %next, "scheduled");
                    entries.push((schedule, handler, next));
                }
                None => {
                    tracing::info!(job = %schedule.job, "not scheduled locally: its function is not built yet")
                }
            }
        }
        Ok(Self {
            entries: Mutex::new(entries),
            services,
        })
    }

    /// Runs every firing due up to `now`, oldest first, and reports them.
    pub async fn run_due(&self, now: Timestamp) -> Vec<Firing> {
        let mut entries = self.entries.lock().await;
        let mut due: Vec<(usize, Timestamp)> = Vec::new();
        for (index, (schedule, _, next)) in entries.iter_mut().enumerate() {
            let mut times = Vec::new();
            while *next <= now {
                times.push(*next);
                match schedule.next_after(*next) {
                    Ok(t) => *next = t,
                    Err(e) => {
                        tracing::error!(job = %schedule.job, error = %e, "cannot compute the next firing");
                        break;
                    }
                }
            }
            if schedule.catch_up == CatchUp::Latest && times.len() > 1 {
                times.drain(..times.len() - 1);
            }
            if times.len() > MAX_CATCH_UP {
                let skipped = times.len() - MAX_CATCH_UP;
                tracing::warn!(job = %schedule.job, skipped, "skipping old firings in a long catch-up");
                times.drain(..skipped);
            }
            due.extend(times.into_iter().map(|t| (index, t)));
        }
        // Across jobs, in time order, as they would have fired.
        due.sort_by_key(|(index, at)| (*at, *index));
        let mut fired = Vec::with_capacity(due.len());
        for (index, at) in due {
            let (schedule, handler, _) = &entries[index];
            let result = handler(self.services.clone(), at).await;
            if let Err(e) = &result {
                tracing::error!(job = %schedule.job, scheduled = %at, error = %e, "job failed");
            }
            fired.push(Firing {
                job: schedule.job.clone(),
                scheduled: at,
                ok: result.is_ok(),
            });
        }
        drop(entries);
        fired
    }

    /// Fires jobs as their time comes, for the life of the process.
    pub async fn run_forever(self: Arc<Self>) {
        loop {
            let wait = {
                let entries = self.entries.lock().await;
                let now = self.services.clock.now();
                entries
                    .iter()
                    .map(|(_, _, next)| next.duration_since(now))
                    .min()
                    .and_then(|d| u64::try_from(d.as_millis()).ok())
                    .unwrap_or(0)
                    // Re-read the clock at least every second: the manual clock may have moved.
                    .clamp(1, 1_000)
            };
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            let now = self.services.clock.now();
            self.run_due(now).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::crypto::{Keyring, LocalKeyEncryption};
    use kernel::time::ManualClock;
    use kernel::token::{SigningKey, TokenVerifier};
    use std::sync::Mutex as StdMutex;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn services(clock: Arc<ManualClock>) -> Arc<Services> {
        let config = functions::Config::from_lookup(|_| None).expect("config");
        let store = kernel::inventory::GuardedStore::new(Arc::new(
            infra::EmbeddedStore::in_memory(clock.clone()).expect("store"),
        ));
        let kek = Arc::new(LocalKeyEncryption::new(
            "test",
            &zeroize::Zeroizing::new(kernel::random::bytes::<32>()),
        ));
        let tokens = TokenVerifier::new(
            vec![SigningKey::generate("t").verification_key()],
            config.token_audience(),
            kernel::time::SignedDuration::ZERO,
        );
        let keyring = Arc::new(Keyring::new(kek, store.shared(), clock.clone()));
        let sender = Arc::new(incidents::NoTransport);
        Arc::new(Services::new(
            config,
            clock,
            functions::services::Adapters {
                store,
                keyring,
                tokens,
                sender,
                gateway: Arc::new(infra::stripe::UnconfiguredGateway),
                certificate_signer: None,
                certificate_keys: vec![],
                prober: Some(Arc::new(infra::probe::HttpProber::default())),
                token_signer: None,
                index_key: None,
                hashing: None,
            },
        ))
    }

    #[tokio::test]
    async fn every_due_firing_runs_once_in_order() {
        let clock = Arc::new(ManualClock::new(ts("2026-03-01T10:07:00Z")));
        let seen: Arc<StdMutex<Vec<Timestamp>>> = Arc::default();
        let record = seen.clone();
        let handler: Handler = Arc::new(move |_, at| {
            record.lock().expect("lock").push(at);
            Box::pin(async { Ok(()) })
        });
        let schedule = Schedule::new(
            "deadline-watch",
            "deadline-watch",
            "cron(0/15 * * * ? *)",
            "test",
        )
        .expect("schedule");
        let scheduler = Scheduler::new(
            vec![schedule],
            HashMap::from([("deadline-watch".to_string(), handler)]),
            services(clock.clone()),
        )
        .expect("scheduler");
        assert!(
            scheduler
                .run_due(ts("2026-03-01T10:14:59Z"))
                .await
                .is_empty()
        );
        let fired = scheduler.run_due(ts("2026-03-01T11:00:00Z")).await;
        assert_eq!(fired.len(), 4);
        assert!(fired.iter().all(|f| f.ok));
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![
                ts("2026-03-01T10:15:00Z"),
                ts("2026-03-01T10:30:00Z"),
                ts("2026-03-01T10:45:00Z"),
                ts("2026-03-01T11:00:00Z")
            ]
        );
        // Nothing fires twice.
        assert!(
            scheduler
                .run_due(ts("2026-03-01T11:00:00Z"))
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_snapshot_job_runs_only_its_newest_firing_of_a_leap() {
        let clock = Arc::new(ManualClock::new(ts("2026-03-01T10:00:00Z")));
        let seen: Arc<StdMutex<Vec<Timestamp>>> = Arc::default();
        let record = seen.clone();
        let handler: Handler = Arc::new(move |_, at| {
            record.lock().expect("lock").push(at);
            Box::pin(async { Ok(()) })
        });
        let schedule = Schedule::new(
            "trust-statement",
            "retention",
            "cron(7/15 * * * ? *)",
            "test",
        )
        .expect("schedule")
        .with_catch_up(CatchUp::Latest);
        let scheduler = Scheduler::new(
            vec![schedule],
            HashMap::from([("trust-statement".to_string(), handler)]),
            services(clock.clone()),
        )
        .expect("scheduler");
        // Three days pass over 288 firings; the statement is made once, as of the last.
        let fired = scheduler.run_due(ts("2026-03-04T10:00:00Z")).await;
        assert_eq!(fired.len(), 1);
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![ts("2026-03-04T09:52:00Z")]
        );
        // Step by step, each firing runs.
        scheduler.run_due(ts("2026-03-04T10:07:00Z")).await;
        scheduler.run_due(ts("2026-03-04T10:22:00Z")).await;
        assert_eq!(seen.lock().expect("lock").len(), 3);
    }
}
