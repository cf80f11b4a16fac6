//! The SLA on the real embedded store with a manual clock: month arithmetic in Europe/Berlin,
//! outages from consecutive failed probes, unknown minutes, exclusions (only the overlap), the
//! 95.0 % boundary, claims (incomplete, late, contradicted, confirmed), the 5 % credit from the
//! Stripe invoice of the billing period, applied once through the fake Stripe. And the probe job
//! on the platform against a real HTTP endpoint that goes down, with `regrooter sla report`.

use crate::common;
use common::{customer_access, staff_access, ts};

use std::sync::Arc;

use billing::credits::{CreditKind, CreditStatus};
use billing::{WebhookSecrets, signature};
use common::stripe::{customer, event, invoice, subscription};
use infra::fake_stripe::{FakeStripe, Fault};
use kernel::ids::TenantId;
use kernel::policy::{ContractTerms, UnknownTreatment};
use kernel::store::Store;
use kernel::tenants::{self};
use kernel::time::TimeRange;
use kernel::time::{Month, SignedDuration};
use kernel::{Clock, Error};
use serde_json::{Value, json};
use sla::records::ExclusionCategory;
use sla::service::{ClaimInput, ClaimedOutage, DecisionInput, ExclusionInput, OutageInput};
use sla::{ClaimStatus, DownWhen, MinuteState, Vantage};

const SECRET: &str = "whsec_current_0123456789abcdef";

fn month(s: &str) -> Month {
    s.parse().expect("month")
}

fn acme() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

/// The SLA's services through the composition root, with tenants `acme` and `globex`.
struct World(common::world::World);

impl std::ops::Deref for World {
    type Target = common::world::World;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl World {
    /// Tenants `acme` and `globex`; the clock at `now`.
    async fn new(now: &str) -> Self {
        Self::with_store(now, |store| store).await
    }

    /// A world whose store is `wrap`ped (e.g. by a gate that makes requests collide).
    async fn with_store(
        now: &str,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + 'static,
    ) -> Self {
        let world = common::world::World::at("2025-12-01T00:00:00Z")
            .kek([3u8; 32])
            .store(wrap)
            .build();
        for t in ["acme", "globex"] {
            world.tenant(t).await;
        }
        world.clock.set(ts(now)).expect("clock");
        Self(world)
    }

    /// `minutes` of `state` for target `api` from `start`.
    async fn probe(&self, start: &str, minutes: usize, state: MinuteState) {
        self.services
            .sla
            .record_minutes("api", Vantage::Region, ts(start), &vec![state; minutes])
            .await
            .expect("record");
    }

    /// Every minute of `m` up.
    async fn all_up(&self, m: &str) {
        let range = month(m).range().expect("range");
        let minutes = range.duration().as_secs() / 60;
        self.services
            .sla
            .record_minutes(
                "api",
                Vantage::Region,
                range.start(),
                &vec![MinuteState::Up; usize::try_from(minutes).expect("minutes")],
            )
            .await
            .expect("record");
    }

    async fn deliver(&self, event: &Value) {
        let payload = serde_json::to_vec(event).expect("json");
        let header = signature::sign(SECRET, &payload, self.clock.now());
        self.services
            .billing
            .receive(
                &WebhookSecrets::parse(SECRET).expect("secret"),
                Some(&header),
                &payload,
            )
            .await
            .expect("event");
    }

    /// acme's Stripe customer, subscription and one paid invoice for `period` with `net` cents.
    async fn invoiced(&self, period: (&str, &str), net: i64) {
        self.deliver(&event(
            "evt_c",
            "customer.created",
            1_000,
            customer("cus_acme", Some("acme")),
        ))
        .await;
        self.deliver(&event(
            "evt_s",
            "customer.subscription.created",
            1_100,
            subscription("sub_acme1", "cus_acme", "active", None),
        ))
        .await;
        let period = (ts(period.0).as_second(), ts(period.1).as_second());
        self.deliver(&event(
            "evt_i",
            "invoice.paid",
            period.0,
            invoice("in_1", "cus_acme", "paid", period, net),
        ))
        .await;
    }

    async fn contract(&self, terms: ContractTerms) {
        let (mut record, version) = tenants::load(self.store.as_ref(), &acme())
            .await
            .expect("read")
            .expect("acme");
        record.contract = terms;
        self.store
            .put(
                tenants::item(&record).expect("item"),
                kernel::store::Condition::Version(version),
            )
            .await
            .expect("contract");
    }
}

fn claim(m: &str, outages: &[(&str, &str)]) -> ClaimInput {
    ClaimInput {
        month: Some(m.to_string()),
        outages: Some(
            outages
                .iter()
                .map(|(a, b)| ClaimedOutage {
                    start: Some(ts(a)),
                    end: Some(ts(b)),
                })
                .collect(),
        ),
    }
}

// ----- month arithmetic ---------------------------------------------------------------------------

#[tokio::test]
async fn months_are_berlin_months_and_an_outage_across_the_month_end_is_split() {
    let w = World::new("2026-04-15T00:00:00Z").await;
    for m in ["2026-02", "2026-03"] {
        w.all_up(m).await;
    }
    // 90 minutes down from 23:00 CET on 28 February to 00:30 on 1 March (Berlin).
    w.probe("2026-02-28T22:00:00Z", 90, MinuteState::Down).await;

    // A target probed only in January (since removed) does not make February unknown.
    w.services
        .sla
        .record_minutes(
            "retired",
            Vantage::Region,
            ts("2026-01-10T00:00:00Z"),
            &[MinuteState::Up; 5],
        )
        .await
        .expect("record");
    let feb = w
        .services
        .sla
        .month_report(None, month("2026-02"))
        .await
        .expect("feb");
    assert_eq!(feb.targets, vec!["api".to_string()]);
    assert_eq!(feb.period_seconds, 28 * 86_400);
    assert_eq!(feb.window.start(), ts("2026-01-31T23:00:00Z"));
    assert_eq!(feb.downtime_seconds, 3_600, "{feb:#?}");
    assert_eq!(feb.counted_downtime_seconds, 3_600);
    assert_eq!(feb.unknown_seconds, 0);
    assert_eq!(feb.uptime, "99.851 %");
    assert!(feb.meets_target);

    let mar = w
        .services
        .sla
        .month_report(None, month("2026-03"))
        .await
        .expect("mar");
    // 31 days less the hour the clocks spring forward.
    assert_eq!(mar.period_seconds, 31 * 86_400 - 3_600);
    assert_eq!(mar.downtime_seconds, 1_800);
    assert_eq!(mar.outages.len(), 1);
    assert_eq!(mar.outages[0].range.start(), ts("2026-02-28T23:00:00Z"));
    assert_eq!(mar.outages[0].range.end(), ts("2026-02-28T23:30:00Z"));

    // January: 31 days, no clock change; April so far: an unfinished month, up to now.
    w.all_up("2026-01").await;
    let jan = w
        .services
        .sla
        .month_report(None, month("2026-01"))
        .await
        .expect("jan");
    assert_eq!(jan.period_seconds, 31 * 86_400);
    assert_eq!(jan.uptime, "100.000 %");
    let apr = w
        .services
        .sla
        .month_report(None, month("2026-04"))
        .await
        .expect("apr");
    assert!(!apr.complete);
    assert_eq!(apr.window.end(), ts("2026-04-15T00:00:00Z"));
    assert_eq!(
        apr.unknown_seconds, apr.period_seconds,
        "nothing was probed in April: every minute unknown, none silently up"
    );
    assert!(apr.meets_target, "unknown is not downtime by default");
    assert!(
        apr.notes
            .iter()
            .any(|n| n.contains("not counted as downtime")),
        "{:?}",
        apr.notes
    );
    assert!(matches!(
        w.services.sla.month_report(None, month("2026-05")).await,
        Err(Error::Validation(_))
    ));
}

#[tokio::test]
async fn a_single_failed_minute_is_a_blip_and_unknown_minutes_count_only_if_the_contract_says_so() {
    let w = World::new("2026-07-01T00:00:00Z").await;
    w.all_up("2026-06").await;
    w.probe("2026-06-10T10:00:00Z", 1, MinuteState::Down).await;
    w.probe("2026-06-11T10:00:00Z", 3, MinuteState::Down).await;
    w.probe("2026-06-12T10:00:00Z", 30, MinuteState::Unknown)
        .await;
    let report = w
        .services
        .sla
        .month_report(Some(&acme()), month("2026-06"))
        .await
        .expect("report");
    assert_eq!(report.downtime_seconds, 180);
    assert_eq!(report.blip_minutes, 1);
    assert_eq!(report.unknown_seconds, 1_800);
    assert_eq!(report.counted_downtime_seconds, 180);

    w.contract(ContractTerms {
        sla_unknown_treatment: Some(UnknownTreatment::Downtime),
        ..ContractTerms::default()
    })
    .await;
    let report = w
        .services
        .sla
        .month_report(Some(&acme()), month("2026-06"))
        .await
        .expect("report");
    assert_eq!(report.counted_downtime_seconds, 180 + 1_800);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("counted as downtime in the customer's favour"))
    );
    // The platform's own figures keep the page's setting.
    let platform = w
        .services
        .sla
        .month_report(None, month("2026-06"))
        .await
        .expect("platform");
    assert_eq!(platform.counted_downtime_seconds, 180);
}

// ----- the 95.0 % boundary ------------------------------------------------------------------------

#[tokio::test]
async fn exactly_95_percent_keeps_the_promise_one_minute_more_misses_it() {
    // April 2026: 30 days, so 5 % is exactly 36 hours.
    let w = World::new("2026-05-02T00:00:00Z").await;
    w.all_up("2026-04").await;
    w.probe("2026-04-10T00:00:00Z", 36 * 60, MinuteState::Down)
        .await;
    let report = w
        .services
        .sla
        .month_report(None, month("2026-04"))
        .await
        .expect("report");
    assert_eq!(report.period_seconds, 2_592_000);
    assert_eq!(report.counted_downtime_seconds, 36 * 3_600);
    assert_eq!(report.uptime, "95.000 %");
    assert!(report.meets_target);

    // One more failed minute right after the outage joins it (a lone failed minute is no
    // outage: two in a row confirm one).
    w.probe("2026-04-11T12:00:00Z", 1, MinuteState::Down).await;
    let report = w
        .services
        .sla
        .month_report(None, month("2026-04"))
        .await
        .expect("report");
    assert_eq!(report.counted_downtime_seconds, 36 * 3_600 + 60);
    // 2 462 340 of 2 592 000 seconds up is 94.99768… %, shown rounded down.
    assert_eq!(report.uptime, "94.997 %");
    assert!(!report.meets_target);
}

// ----- outages recorded by operators, exclusions ----------------------------------------------------

#[tokio::test]
async fn overlapping_outages_count_once_and_exclusions_remove_only_their_overlap() {
    let w = World::new("2026-07-01T00:00:00Z").await;
    w.all_up("2026-06").await;
    // Measured 10:00–12:00 UTC; an operator records 11:00–13:00 (seen by customers, not probes).
    w.probe("2026-06-03T10:00:00Z", 120, MinuteState::Down)
        .await;
    let operator = staff_access("operator");
    w.services
        .sla
        .record_outage(
            &operator,
            OutageInput {
                start: Some(ts("2026-06-03T11:00:00Z")),
                end: Some(ts("2026-06-03T13:00:00Z")),
                tenant: None,
                description: Some("Login failures in the EU cluster".into()),
                evidence: Some("INC-2026-031, status page entry".into()),
            },
        )
        .await
        .expect("outage");
    // Planned maintenance 12:30–14:00, announced the day before: only 12:30–13:00 overlaps.
    w.services
        .sla
        .record_exclusion(
            &operator,
            ExclusionInput {
                start: Some(ts("2026-06-03T12:30:00Z")),
                end: Some(ts("2026-06-03T14:00:00Z")),
                category: Some(ExclusionCategory::PlannedMaintenance),
                tenant: None,
                reason: Some("Database upgrade".into()),
                evidence: Some("Announcement mail MAINT-77".into()),
                announced_at: Some(ts("2026-06-02T09:00:00Z")),
            },
        )
        .await
        .expect("maintenance");
    // An act of another customer excludes nothing for acme.
    w.services
        .sla
        .record_exclusion(
            &operator,
            ExclusionInput {
                start: Some(ts("2026-06-03T10:00:00Z")),
                end: Some(ts("2026-06-03T11:00:00Z")),
                category: Some(ExclusionCategory::CustomerAct),
                tenant: Some(TenantId::new("globex").expect("globex")),
                reason: Some("globex flooded its own integration".into()),
                evidence: Some("TICKET-9".into()),
                announced_at: None,
            },
        )
        .await
        .expect("customer act");

    let acme_report = w
        .services
        .sla
        .month_report(Some(&acme()), month("2026-06"))
        .await
        .expect("acme");
    assert_eq!(acme_report.downtime_seconds, 3 * 3_600);
    assert_eq!(acme_report.excluded_seconds, 1_800);
    assert_eq!(acme_report.counted_downtime_seconds, 2 * 3_600 + 1_800);
    assert_eq!(acme_report.outages.len(), 1);
    assert_eq!(
        acme_report.outages[0].sources.len(),
        2,
        "measured and recorded"
    );
    assert_eq!(acme_report.exclusions.len(), 1);
    assert_eq!(acme_report.exclusions[0].excluded_seconds, 1_800);
    // Outages and exclusions end their audit chains at their records' heads; a cut is found.
    let chains = common::chains_end_at_their_records_heads(w.store.as_ref()).await;
    assert_eq!(
        chains.kinds(),
        ["sla-exclusion", "sla-outage", "tenant"].into(),
        "{chains:?}"
    );
    assert!(chains.without_head.is_empty(), "{chains:?}");
    assert_eq!(
        acme_report.exclusions[0].announced_at,
        Some(ts("2026-06-02T09:00:00Z"))
    );
    let globex_report = w
        .services
        .sla
        .month_report(
            Some(&TenantId::new("globex").expect("globex")),
            month("2026-06"),
        )
        .await
        .expect("globex");
    assert_eq!(
        globex_report.counted_downtime_seconds,
        3 * 3_600 - 1_800 - 3_600
    );

    // Maintenance must have been announced, before it began; evidence is required.
    for (announced, evidence, pointer) in [
        (None, Some("x"), "/announced_at"),
        (Some("2026-06-03T12:45:00Z"), Some("x"), "/announced_at"),
        (Some("2026-06-02T09:00:00Z"), None, "/evidence"),
    ] {
        match w
            .services
            .sla
            .record_exclusion(
                &operator,
                ExclusionInput {
                    start: Some(ts("2026-06-03T12:30:00Z")),
                    end: Some(ts("2026-06-03T14:00:00Z")),
                    category: Some(ExclusionCategory::PlannedMaintenance),
                    tenant: None,
                    reason: Some("Upgrade".into()),
                    evidence: evidence.map(str::to_string),
                    announced_at: announced.map(ts),
                },
            )
            .await
        {
            Err(Error::Validation(errors)) => {
                assert!(errors.iter().any(|e| e.pointer == pointer), "{errors:?}");
            }
            other => panic!("expected a validation error at {pointer}, got {other:?}"),
        }
    }
    // Only operators record outages.
    assert!(matches!(
        w.services
            .sla
            .record_outage(
                &customer_access("acme", "customer_admin"),
                OutageInput {
                    start: Some(ts("2026-06-03T11:00:00Z")),
                    end: Some(ts("2026-06-03T13:00:00Z")),
                    tenant: None,
                    description: Some("x".into()),
                    evidence: Some("y".into()),
                },
            )
            .await,
        Err(Error::Forbidden(_))
    ));
}

// ----- claims ---------------------------------------------------------------------------------------

#[tokio::test]
async fn incomplete_claims_are_refused_whole_and_late_ones_lapse_with_the_reason() {
    let w = World::new("2026-07-10T00:00:00Z").await;
    w.all_up("2026-06").await;
    let admin = customer_access("acme", "customer_admin");
    let bad = [
        (
            ClaimInput {
                month: None,
                outages: None,
            },
            vec!["/month", "/outages"],
        ),
        (
            ClaimInput {
                month: Some("2026-06".into()),
                outages: Some(vec![ClaimedOutage {
                    start: Some(ts("2026-06-03T10:00:00Z")),
                    end: None,
                }]),
            },
            vec!["/outages/0/end"],
        ),
        (
            claim(
                "2026-06",
                &[("2026-06-03T10:00:00Z", "2026-07-01T10:00:00Z")],
            ),
            vec!["/outages/0"],
        ),
        (
            claim(
                "2026-07",
                &[("2026-07-03T10:00:00Z", "2026-07-03T11:00:00Z")],
            ),
            vec!["/month"],
        ),
        (
            claim(
                "2026-06",
                &[("2026-06-03T11:00:00Z", "2026-06-03T10:00:00Z")],
            ),
            vec!["/outages/0/end"],
        ),
    ];
    for (input, pointers) in bad {
        match w.services.sla.file_claim(&admin, &acme(), input).await {
            Err(Error::Validation(errors)) => {
                let got: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
                assert_eq!(got, pointers);
            }
            other => panic!("expected validation errors {pointers:?}, got {other:?}"),
        }
    }
    assert!(
        w.services
            .sla
            .claims(&admin, &acme())
            .await
            .expect("list")
            .is_empty(),
        "nothing stored"
    );
    // Members cannot file; another tenant's admin cannot file for acme.
    for access in [
        customer_access("acme", "customer_member"),
        customer_access("globex", "customer_admin"),
    ] {
        assert!(matches!(
            w.services
                .sla
                .file_claim(
                    &access,
                    &acme(),
                    claim(
                        "2026-06",
                        &[("2026-06-03T10:00:00Z", "2026-06-03T11:00:00Z")]
                    )
                )
                .await,
            Err(Error::Forbidden(_))
        ));
    }

    // June ends 2026-06-30T22:00Z; 30 days later the window closes.
    w.clock.set(ts("2026-07-30T22:00:00Z")).expect("clock");
    let in_time = w
        .services
        .sla
        .file_claim(
            &admin,
            &acme(),
            claim(
                "2026-06",
                &[("2026-06-03T10:00:00Z", "2026-06-03T11:00:00Z")],
            ),
        )
        .await
        .expect("in time");
    assert_eq!(in_time.claim.status, ClaimStatus::Verified);
    assert_eq!(in_time.claim.deadline, ts("2026-07-30T22:00:00Z"));
    w.clock.set(ts("2026-07-30T22:00:01Z")).expect("clock");
    let late = w
        .services
        .sla
        .file_claim(
            &admin,
            &acme(),
            claim(
                "2026-06",
                &[("2026-06-03T10:00:00Z", "2026-06-03T11:00:00Z")],
            ),
        )
        .await
        .expect("stored as lapsed");
    assert_eq!(late.claim.status, ClaimStatus::Lapsed);
    let reason = late.claim.lapse_reason.clone().expect("reason");
    assert!(reason.contains("closed 2026-07-30T22:00:00Z"), "{reason}");
    assert!(late.claim.verification.is_none());
    // A lapsed claim cannot be approved.
    assert!(matches!(
        w.services
            .sla
            .decide(
                &staff_access("billing_admin"),
                &acme(),
                &late.claim.id,
                DecisionInput {
                    approve: Some(true),
                    reason: Some("ok".into())
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        w.services
            .sla
            .claims(&admin, &acme())
            .await
            .expect("list")
            .len(),
        2
    );
}

#[tokio::test]
async fn a_claim_the_measurements_contradict_is_not_credited() {
    let w = World::new("2026-07-05T00:00:00Z").await;
    w.all_up("2026-06").await;
    w.invoiced(("2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"), 4_990)
        .await;
    let view = w
        .services
        .sla
        .file_claim(
            &customer_access("acme", "customer_admin"),
            &acme(),
            claim(
                "2026-06",
                &[("2026-06-03T10:00:00Z", "2026-06-04T22:00:00Z")],
            ),
        )
        .await
        .expect("filed");
    let v = view.claim.verification.clone().expect("verified");
    assert_eq!(v.claimed_seconds, 36 * 3_600);
    assert_eq!(v.confirmed_seconds, 0);
    assert_eq!(v.unconfirmed_seconds, 36 * 3_600);
    assert!(v.meets_target);
    assert!(!v.eligible);
    assert!(v.reasons.iter().any(|r| r.contains("meets the promised")));
    // The same reasons in German, line for line, for German pages.
    assert_eq!(v.reasons.len(), v.reasons_de.len(), "{:?}", v.reasons_de);
    assert!(
        v.reasons_de
            .iter()
            .any(|r| r.contains("erreicht die zugesagten"))
    );
    let billing = staff_access("billing_admin");
    let refused = w
        .services
        .sla
        .decide(
            &billing,
            &acme(),
            &view.claim.id,
            DecisionInput {
                approve: Some(true),
                reason: Some("customer insists".into()),
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m.contains("voluntary credit")),
        "{refused:?}"
    );
    let rejected = w
        .services
        .sla
        .decide(
            &billing,
            &acme(),
            &view.claim.id,
            DecisionInput {
                approve: Some(false),
                reason: Some("The probes show the service up during the claimed time.".into()),
            },
        )
        .await
        .expect("rejected");
    assert_eq!(rejected.claim.status, ClaimStatus::Rejected);
    assert!(rejected.claim.credit.is_none());
}

#[tokio::test]
async fn a_confirmed_claim_earns_5_percent_of_the_periods_fee_applied_once_to_the_next_invoice() {
    let w = World::new("2026-07-05T00:00:00Z").await;
    w.all_up("2026-06").await;
    // 40 hours down: below 95 % (36 h in a 30-day month).
    w.probe("2026-06-10T00:00:00Z", 40 * 60, MinuteState::Down)
        .await;
    // Billing periods run from the 15th. June (Berlin) is 31 May 22:00 to 30 June 22:00 UTC:
    // 15 June–15 July overlaps it 15 d 22 h, 15 May–15 June only 14 d 2 h.
    w.invoiced(("2026-06-15T00:00:00Z", "2026-07-15T00:00:00Z"), 4_990)
        .await;
    w.deliver(&event(
        "evt_i0",
        "invoice.paid",
        ts("2026-05-15T00:00:00Z").as_second(),
        invoice(
            "in_0",
            "cus_acme",
            "paid",
            (
                ts("2026-05-15T00:00:00Z").as_second(),
                ts("2026-06-15T00:00:00Z").as_second(),
            ),
            9_990,
        ),
    ))
    .await;

    let admin = customer_access("acme", "customer_admin");
    let view = w
        .services
        .sla
        .file_claim(
            &admin,
            &acme(),
            claim(
                "2026-06",
                &[
                    // Half confirmed (the outage began at 00:00), half before it.
                    ("2026-06-09T23:00:00Z", "2026-06-10T01:00:00Z"),
                    ("2026-06-11T00:00:00Z", "2026-06-11T12:00:00Z"),
                ],
            ),
        )
        .await
        .expect("filed");
    let v = view.claim.verification.clone().expect("verified");
    assert!(!v.meets_target);
    assert_eq!(v.claimed_seconds, 14 * 3_600);
    assert_eq!(v.confirmed_seconds, 13 * 3_600);
    assert_eq!(v.unconfirmed_seconds, 3_600);
    let basis = v.fee_basis.clone().expect("fee basis");
    assert_eq!(basis.invoice, "in_1");
    assert_eq!(basis.fee.minor, 4_990);
    // 5 % of 49.90 € = 2.495 €: half a cent rounds up.
    assert_eq!(v.credit.map(|c| c.minor), Some(250));
    assert!(v.eligible, "{:?}", v.reasons);
    assert_eq!(v.reasons.len(), v.reasons_de.len(), "{:?}", v.reasons_de);
    assert!(
        v.reasons_de
            .iter()
            .any(|r| r.contains("kostete") && r.contains("aufgerundet")),
        "{:?}",
        v.reasons_de
    );

    let fake = FakeStripe::start(&["cus_acme"]).await.expect("fake stripe");
    let gateway =
        infra::stripe::StripeGateway::new("sk_test_fake", Some(&fake.url())).expect("gateway");
    let billing = staff_access("billing_admin");
    // Customers cannot decide their own claims.
    assert!(matches!(
        w.services
            .sla
            .decide(
                &admin,
                &acme(),
                &view.claim.id,
                DecisionInput {
                    approve: Some(true),
                    reason: Some("yes".into())
                }
            )
            .await,
        Err(Error::Forbidden(_))
    ));
    let approved = w
        .services
        .sla
        .decide(
            &billing,
            &acme(),
            &view.claim.id,
            DecisionInput {
                approve: Some(true),
                reason: Some("Outage confirmed by the probes.".into()),
            },
        )
        .await
        .expect("approved");
    assert_eq!(approved.claim.status, ClaimStatus::Approved);
    let credit = approved.credit_record.clone().expect("credit");
    assert_eq!(credit.amount, 250);
    assert_eq!(credit.status, CreditStatus::Pending);
    assert_eq!(
        credit.kind,
        CreditKind::Sla {
            claim: view.claim.id.to_string(),
            month: month("2026-06")
        }
    );

    // Applied through Stripe's customer balance: the first response is lost, the retry lands
    // on the same transaction; one balance transaction in all, a credit, never a charge.
    fake.inject(Fault::LoseResponse);
    let first = w
        .services
        .credits
        .apply(&gateway, &acme(), &credit.id)
        .await
        .expect("first");
    assert_eq!(first.status, CreditStatus::Pending);
    w.services
        .credits
        .apply_pending(&gateway)
        .await
        .expect("job");
    let shown = w
        .services
        .sla
        .claim(&admin, &acme(), &view.claim.id)
        .await
        .expect("claim");
    let applied = shown.credit_record.expect("credit");
    assert_eq!(applied.status, CreditStatus::Applied);
    let made = fake.transactions();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].amount, -250);
    assert_eq!(Some(made[0].id.clone()), applied.balance_transaction);

    // One SLA credit per month: a second claim for June can be filed but not approved.
    let second = w
        .services
        .sla
        .file_claim(
            &admin,
            &acme(),
            claim(
                "2026-06",
                &[("2026-06-10T02:00:00Z", "2026-06-10T03:00:00Z")],
            ),
        )
        .await
        .expect("filed");
    assert!(matches!(
        w.services
            .sla
            .decide(
                &billing,
                &acme(),
                &second.claim.id,
                DecisionInput {
                    approve: Some(true),
                    reason: Some("again".into())
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(fake.transactions().len(), 1);
    // Traceable: filed, verified, approved.
    let trail =
        kernel::audit::chain_entries(w.store.as_ref(), &format!("sla-claim:{}", view.claim.id))
            .await
            .expect("audit");
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["sla.claim.filed_and_verified", "sla.claim.approved"]
    );
    // Claims and their credit end their audit chains at their records' heads; a cut is found.
    let chains = common::chains_end_at_their_records_heads(w.store.as_ref()).await;
    assert_eq!(
        chains.kinds(),
        ["credit", "sla-claim", "tenant"].into(),
        "{chains:?}"
    );
    assert!(chains.without_head.is_empty(), "{chains:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_at_once_make_one_sla_credit_for_the_month() {
    // Two billing staff approve two claims for the same month at the same moment: both read
    // their claim before either writes (the gate holds them), so the month's one credit is
    // decided by the store's condition, not by timing.
    let gate = common::gate::Gate::new(|key| key.sk.starts_with("clm_"));
    let gated = gate.clone();
    let w = Arc::new(World::with_store("2026-07-05T00:00:00Z", move |s| gated.store(s)).await);
    w.all_up("2026-06").await;
    w.probe("2026-06-10T00:00:00Z", 40 * 60, MinuteState::Down)
        .await;
    w.invoiced(("2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"), 4_990)
        .await;
    let admin = customer_access("acme", "customer_admin");
    let mut claims = Vec::new();
    for outage in [
        ("2026-06-10T01:00:00Z", "2026-06-10T12:00:00Z"),
        ("2026-06-11T01:00:00Z", "2026-06-11T12:00:00Z"),
    ] {
        let view = w
            .services
            .sla
            .file_claim(&admin, &acme(), claim("2026-06", &[outage]))
            .await
            .expect("filed");
        let verification = view.claim.verification.clone().expect("verified");
        assert!(verification.eligible, "{:?}", verification.reasons);
        claims.push(view.claim.id);
    }
    gate.arm(2);
    let decisions: Vec<_> = claims
        .into_iter()
        .map(|id| {
            let w = w.clone();
            tokio::spawn(async move {
                w.services
                    .sla
                    .decide(
                        &staff_access("billing_admin"),
                        &acme(),
                        &id,
                        DecisionInput {
                            approve: Some(true),
                            reason: Some("Outage confirmed by the probes.".into()),
                        },
                    )
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for decision in decisions {
        results.push(decision.await.expect("joined"));
    }
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(Error::Conflict(why)) if why.contains("2026-06"))),
        "{results:?}"
    );
    assert!(gate.conflicts() >= 1, "the two approvals collided");
    let credits = w
        .services
        .credits
        .list(&staff_access("billing_admin"), &acme())
        .await
        .expect("credits");
    assert_eq!(credits.len(), 1, "{credits:?}");
}

#[tokio::test]
async fn the_month_close_keeps_the_figures_once() {
    let w = World::new("2026-07-01T04:00:00Z").await;
    w.all_up("2026-06").await;
    w.probe("2026-06-10T00:00:00Z", 40 * 60, MinuteState::Down)
        .await;
    let closed = w
        .services
        .sla
        .close_month(w.clock.now())
        .await
        .expect("close")
        .expect("first close");
    assert_eq!(closed.month, month("2026-06"));
    assert!(!closed.meets_target);
    assert_eq!(closed.counted_downtime_seconds, 40 * 3_600);
    assert!(
        w.services
            .sla
            .close_month(
                w.clock
                    .now()
                    .checked_add(SignedDuration::from_hours(1))
                    .expect("t")
            )
            .await
            .expect("again")
            .is_none()
    );
}

// ----- the probe job on the platform, the customer API and the CLI -------------------------------

/// A tiny HTTP endpoint whose answer the test switches between 200 and 503.
struct Endpoint {
    url: String,
    healthy: Arc<std::sync::atomic::AtomicBool>,
}

fn endpoint() -> Endpoint {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/health", listener.local_addr().expect("addr"));
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = healthy.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            let status = if flag.load(std::sync::atomic::Ordering::SeqCst) {
                "200 OK"
            } else {
                "503 Service Unavailable"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    Endpoint { url, healthy }
}

#[test]
fn the_probe_job_measures_a_real_endpoint_and_customers_claim_through_the_api() {
    use common::{BIN, Platform, call};
    let target = endpoint();
    let start = "2026-06-30T21:00:00Z";
    let targets = format!("svc={}", target.url);
    let p = Platform::start_with_env(
        &["--clock", "manual", "--start", start],
        &[("REGROOTER_SLA_TARGETS", targets.as_str())],
    );
    let at = ["--now", start, "--ttl", "2000h"];
    let operator = p.token(&[&["--role", "operator", "--sub", "op-1"][..], &at[..]].concat());
    let admin = p.token(
        &[
            &[
                "--role",
                "customer_admin",
                "--tenant",
                "acme",
                "--sub",
                "acme-1",
            ][..],
            &at[..],
        ]
        .concat(),
    );
    let (status, body) = call(
        "PUT",
        &p.url("/api/tenants/acme"),
        Some(&operator),
        Some(&json!({ "name": "ACME GmbH" })),
    );
    assert_eq!(status, 200, "{body}");
    let advance = |to: &str| p.move_clock(json!({ "to": to }));
    // 20 minutes up, 15 down, the rest of June's last hour up again.
    advance("2026-06-30T21:19:30Z");
    target
        .healthy
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let moved = advance("2026-06-30T21:34:30Z");
    let probes = &moved["fired"]["sla-probe"];
    assert!(
        probes["runs"].as_u64().is_some_and(|n| n > 0) && probes["failed"] == 0,
        "{moved}"
    );
    target
        .healthy
        .store(true, std::sync::atomic::Ordering::SeqCst);
    advance("2026-06-30T22:05:00Z");

    let (status, report) = call(
        "GET",
        &p.url("/api/sla/tenants/acme/reports/2026-06"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["downtime_seconds"], 15 * 60, "{report:#}");
    assert_eq!(
        report["outages"][0]["range"]["start"],
        "2026-06-30T21:20:00Z"
    );
    assert_eq!(report["outages"][0]["range"]["end"], "2026-06-30T21:35:00Z");
    assert_eq!(report["targets"], json!(["svc"]));
    // The rest of June was never probed: unknown, shown, not counted.
    assert!(report["unknown_seconds"].as_i64().expect("unknown") > 0);

    // The CLI prints the same figures.
    let output = std::process::Command::new(BIN)
        .args([
            "sla", "report", "--tenant", "acme", "--month", "2026-06", "--json", "--data",
        ])
        .arg(p.data.path())
        .env_remove("REGROOTER_ENV")
        .output()
        .expect("sla report");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(printed["downtime_seconds"], report["downtime_seconds"]);
    let text = std::process::Command::new(BIN)
        .args(["sla", "report", "--month", "2026-06", "--data"])
        .arg(p.data.path())
        .env_remove("REGROOTER_ENV")
        .output()
        .expect("sla report");
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(text.contains("SLA 2026-06 for the platform"), "{text}");
    assert!(text.contains("downtime          0h 15m 00s"), "{text}");
    let bad = std::process::Command::new(BIN)
        .args(["sla", "report", "--month", "June", "--data"])
        .arg(p.data.path())
        .output()
        .expect("sla report");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM"));

    // An incomplete claim over HTTP is a problem document; a complete one is verified.
    let (status, problem) = call(
        "POST",
        &p.url("/api/sla/tenants/acme/claims"),
        Some(&admin),
        Some(&json!({ "month": "2026-06", "outages": [{ "start": "2026-06-30T21:20:00Z" }] })),
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/outages/0/end");
    let (status, filed) = call(
        "POST",
        &p.url("/api/sla/tenants/acme/claims"),
        Some(&admin),
        Some(&json!({ "month": "2026-06", "outages": [
            { "start": "2026-06-30T21:15:00Z", "end": "2026-06-30T21:35:00Z" }
        ] })),
    );
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["status"], "verified");
    assert_eq!(filed["verification"]["confirmed_seconds"], 15 * 60);
    assert_eq!(filed["verification"]["unconfirmed_seconds"], 5 * 60);
    let (status, listed) = call(
        "GET",
        &p.url("/api/sla/tenants/acme/claims"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

/// Uptime from two vantage points on the manual clock: the sla-probe function in the region and
/// the Worker's cron at the edge. One vantage down is not down; both down is; a minute one of
/// them has no result for is unknown; a contract may count either vantage's failure.
#[tokio::test]
async fn two_vantages_a_minute_is_down_only_when_both_saw_it_down() {
    let w = World::new("2026-06-02T00:00:00Z").await;
    let may = month("2026-05");
    let range = may.range().expect("range");
    let minutes = usize::try_from(range.duration().as_secs() / 60).expect("minutes");
    for vantage in [Vantage::Region, Vantage::Edge] {
        w.services
            .sla
            .record_minutes(
                "api",
                vantage,
                range.start(),
                &vec![MinuteState::Up; minutes],
            )
            .await
            .expect("record");
    }
    // 10 May: the region sees 30 minutes down, the edge sees them up (the way from the region
    // failed, not the service).
    let record = |vantage, start: &str, n: usize, state| {
        let sla = &w.services.sla;
        let start = ts(start);
        async move {
            sla.record_minutes("api", vantage, start, &vec![state; n])
                .await
                .expect("record")
        }
    };
    record(
        Vantage::Region,
        "2026-05-10T08:00:00Z",
        30,
        MinuteState::Down,
    )
    .await;
    // 12 May: both see 45 minutes down.
    record(
        Vantage::Region,
        "2026-05-12T08:00:00Z",
        45,
        MinuteState::Down,
    )
    .await;
    record(Vantage::Edge, "2026-05-12T08:00:00Z", 45, MinuteState::Down).await;
    // 14 May: the edge has no result for 20 minutes (its cron did not run), the region sees
    // them down: unknown, not down.
    record(
        Vantage::Edge,
        "2026-05-14T08:00:00Z",
        20,
        MinuteState::Unknown,
    )
    .await;
    record(
        Vantage::Region,
        "2026-05-14T08:00:00Z",
        20,
        MinuteState::Down,
    )
    .await;

    let report = w
        .services
        .sla
        .month_report(None, may)
        .await
        .expect("report");
    assert_eq!(report.vantages, vec![Vantage::Region, Vantage::Edge]);
    assert_eq!(
        report.downtime_seconds,
        45 * 60,
        "only the minutes both saw down: {report:#?}"
    );
    assert_eq!(
        report.unknown_seconds,
        20 * 60,
        "a missing vantage: unknown"
    );
    assert_eq!(
        report.outages.iter().map(|o| o.range).collect::<Vec<_>>(),
        vec![
            TimeRange::new(ts("2026-05-12T08:00:00Z"), ts("2026-05-12T08:45:00Z")).expect("range")
        ]
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("two vantage points"))
    );

    // A contract that counts either vantage's failure: all three stretches are down.
    w.contract(ContractTerms {
        sla_down_when: Some(DownWhen::EitherVantage),
        ..ContractTerms::default()
    })
    .await;
    let acme = w
        .services
        .sla
        .month_report(Some(&acme()), may)
        .await
        .expect("report");
    assert_eq!(acme.downtime_seconds, (30 + 45 + 20) * 60, "{acme:#?}");
    assert_eq!(acme.unknown_seconds, 0);

    // Before the edge probed at all, the region alone decides (one vantage, as before).
    let april = month("2026-04");
    let april_range = april.range().expect("range");
    w.services
        .sla
        .record_minutes(
            "api",
            Vantage::Region,
            april_range.start(),
            &vec![
                MinuteState::Up;
                usize::try_from(april_range.duration().as_secs() / 60).expect("n")
            ],
        )
        .await
        .expect("record");
    record(
        Vantage::Region,
        "2026-04-20T08:00:00Z",
        10,
        MinuteState::Down,
    )
    .await;
    let report = w
        .services
        .sla
        .month_report(None, april)
        .await
        .expect("report");
    assert_eq!(report.vantages, vec![Vantage::Region]);
    assert_eq!(report.downtime_seconds, 10 * 60);
}

#[tokio::test]
async fn the_probes_state_shows_a_silent_vantage_and_the_last_result_of_each() {
    let w = World::new("2026-06-02T10:00:00Z").await;
    // The region saw 50 minutes up, then 5 down, ending three minutes ago; the edge nothing.
    w.probe("2026-06-02T09:02:00Z", 50, MinuteState::Up).await;
    w.probe("2026-06-02T09:52:00Z", 5, MinuteState::Down).await;
    let operator = staff_access("operator");
    let states = w
        .services
        .sla
        .probe_state(&operator, 60)
        .await
        .expect("state");
    let by = |vantage| {
        states
            .iter()
            .find(|s| s.target == "api" && s.vantage == vantage)
            .expect("a row per target and vantage")
    };
    let region = by(Vantage::Region);
    assert_eq!(
        region.last_result,
        Some((ts("2026-06-02T09:56:00Z"), MinuteState::Down))
    );
    assert_eq!((region.up, region.down, region.without_result), (50, 5, 5));
    let edge = by(Vantage::Edge);
    assert_eq!(edge.last_result, None, "the edge never reported: silent");
    assert_eq!((edge.up, edge.down, edge.without_result), (0, 0, 60));
    // Customers see no probe state.
    assert!(matches!(
        w.services
            .sla
            .probe_state(&customer_access("acme", "customer_admin"), 60)
            .await,
        Err(Error::Forbidden(_))
    ));
}
