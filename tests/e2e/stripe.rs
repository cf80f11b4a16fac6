//! Stripe: verified webhooks, exactly-once and order-safe processing, the service end that starts
//! retention, fees per billing period, credits as customer balance transactions — on the real
//! embedded store, with Stripe's own object shapes (tests/fixtures/stripe, copied from Stripe's
//! OpenAPI fixtures) and the fake Stripe server in infra for outgoing calls.

use crate::common;
use common::gate::Gate;
use common::{staff_access, ts};

use common::stripe::{customer, event, fixture, fixtures, invoice, subscription};

use std::sync::Arc;

use billing::credits::{CreditStatus, VoluntaryCreditInput};
use billing::records::{InvoiceStatus, customer_partition};
use billing::{Outcome, WebhookSecrets, signature};
use infra::fake_stripe::{FakeStripe, Fault};
use kernel::ids::TenantId;
use kernel::rbac::{Access, Actor, Principal};
use kernel::store::{Query, Store, query_all};
use kernel::tenants::{self, ServiceStatus};
use kernel::time::{SignedDuration, Timestamp};
use kernel::{Clock, Error};
use serde_json::{Value, json};

const SECRET: &str = "whsec_current_0123456789abcdef";
const OLD_SECRET: &str = "whsec_previous_0123456789abcdef";

// ----- the billing core on the embedded store -------------------------------------------------

/// Billing's services through the composition root, with the given tenants.
struct Billing(common::world::World);

impl std::ops::Deref for Billing {
    type Target = common::world::World;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Billing {
    async fn new(tenants: &[&str]) -> Self {
        Self::with_store(tenants, |store| store).await
    }

    /// With the embedded store wrapped (under the inventory guard).
    async fn with_store(
        tenants: &[&str],
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + 'static,
    ) -> Self {
        let world = common::world::World::at("2026-05-01T08:00:00Z")
            .store(wrap)
            .build();
        for t in tenants {
            world.tenant(t).await;
        }
        Self(world)
    }

    async fn deliver(&self, event: &Value) -> Result<Outcome, Error> {
        let payload = serde_json::to_vec(event).expect("json");
        let header = signature::sign(SECRET, &payload, self.clock.now());
        let secrets = WebhookSecrets::parse(SECRET).expect("secret");
        self.services
            .billing
            .receive(&secrets, Some(&header), &payload)
            .await
            .map(|p| p.outcome)
    }

    async fn tenant(&self, t: &str) -> tenants::TenantRecord {
        tenants::get(self.store.as_ref(), &TenantId::new(t).expect("id"))
            .await
            .expect("read")
            .expect("tenant")
    }

    async fn count(&self, kind: &str) -> u64 {
        self.services
            .billing
            .event_counts(&staff_access("billing_admin"))
            .await
            .expect("counts")
            .into_iter()
            .find(|c| c.event_type == kind)
            .map_or(0, |c| c.count)
    }
}

#[tokio::test]
async fn each_event_is_processed_exactly_once_and_never_overwritten_by_an_older_one() {
    let b = Billing::new(&["acme"]).await;
    let created = event(
        "evt_c1",
        "customer.created",
        1_000,
        customer("cus_acme", Some("acme")),
    );
    assert_eq!(b.deliver(&created).await.expect("first"), Outcome::Applied);
    assert_eq!(
        b.deliver(&created).await.expect("again"),
        Outcome::Duplicate
    );
    assert_eq!(b.count("customer.created").await, 1);

    // Stripe delivers out of order: the update (t=2000) arrives before the creation (t=1500).
    let updated = event(
        "evt_s2",
        "customer.subscription.updated",
        2_000,
        subscription("sub_acme1", "cus_acme", "active", None),
    );
    let first = event(
        "evt_s1",
        "customer.subscription.created",
        1_500,
        subscription("sub_acme1", "cus_acme", "incomplete", None),
    );
    assert_eq!(b.deliver(&updated).await.expect("update"), Outcome::Applied);
    assert_eq!(b.deliver(&first).await.expect("older"), Outcome::Stale);
    let overview = b
        .services
        .billing
        .overview(
            &staff_access("billing_admin"),
            &TenantId::new("acme").expect("id"),
        )
        .await
        .expect("overview");
    assert_eq!(overview.subscriptions.len(), 1);
    assert_eq!(overview.subscriptions[0].status, "active");
    assert_eq!(overview.subscriptions[0].stamp.event_id, "evt_s2");

    // Paid arrives before finalized; and a payment failure stamped in the same second as the
    // payment loses to it, whatever the order.
    let period = (1_777_593_600, 1_780_272_000); // 2026-05-01 .. 2026-06-01 UTC
    let paid = event(
        "evt_i2",
        "invoice.paid",
        3_000,
        invoice("in_may", "cus_acme", "paid", period, 10_000),
    );
    let finalized = event(
        "evt_i1",
        "invoice.finalized",
        2_500,
        invoice("in_may", "cus_acme", "open", period, 10_000),
    );
    let mut failing = invoice("in_may", "cus_acme", "open", period, 10_000);
    failing["attempt_count"] = json!(1);
    let failed = event("evt_i3", "invoice.payment_failed", 3_000, failing);
    assert_eq!(b.deliver(&paid).await.expect("paid"), Outcome::Applied);
    assert_eq!(
        b.deliver(&finalized).await.expect("finalized"),
        Outcome::Stale
    );
    assert_eq!(b.deliver(&failed).await.expect("failed"), Outcome::Stale);
    let fees = b
        .services
        .billing
        .fees(&TenantId::new("acme").expect("id"))
        .await
        .expect("fees");
    assert_eq!(fees.len(), 1);
    assert_eq!(fees[0].status, InvoiceStatus::Paid);
    assert_eq!(
        (fees[0].net_amount, fees[0].currency.code()),
        (10_000, "eur")
    );
    assert_eq!(
        (fees[0].period_start, fees[0].period_end),
        (ts("2026-05-01T00:00:00Z"), ts("2026-06-01T00:00:00Z"))
    );

    // Types billing does not act on are acknowledged and counted.
    let other = event(
        "evt_o1",
        "plan.created",
        4_000,
        fixture("event")["data"]["object"].clone(),
    );
    assert_eq!(b.deliver(&other).await.expect("other"), Outcome::Counted);
    assert_eq!(b.count("plan.created").await, 1);
    assert_eq!(b.count("customer.subscription.created").await, 1);
}

#[tokio::test]
async fn the_last_subscription_ending_records_the_service_end_and_the_retention_plan() {
    let b = Billing::new(&["acme"]).await;
    b.deliver(&event(
        "evt_c1",
        "customer.created",
        1_000,
        customer("cus_acme", Some("acme")),
    ))
    .await
    .expect("customer");
    for (i, sub) in ["sub_a", "sub_b"].iter().enumerate() {
        b.deliver(&event(
            &format!("evt_new{i}"),
            "customer.subscription.created",
            1_100,
            subscription(sub, "cus_acme", "active", None),
        ))
        .await
        .expect("subscription");
    }
    let ended_a = ts("2026-04-20T09:00:00Z").as_second();
    b.deliver(&event(
        "evt_del_a",
        "customer.subscription.deleted",
        ended_a,
        subscription("sub_a", "cus_acme", "canceled", Some(ended_a)),
    ))
    .await
    .expect("a ends");
    assert_eq!(
        b.tenant("acme").await.status,
        ServiceStatus::Active,
        "sub_b still runs"
    );

    let ended_b = ts("2026-05-10T12:00:00Z").as_second();
    b.deliver(&event(
        "evt_del_b",
        "customer.subscription.deleted",
        ended_b,
        subscription("sub_b", "cus_acme", "canceled", Some(ended_b)),
    ))
    .await
    .expect("b ends");
    let record = b.tenant("acme").await;
    assert_eq!(record.status, ServiceStatus::Ended);
    assert_eq!(record.service_ended_at, Some(ts("2026-05-10T12:00:00Z")));
    let plan = retention::plan_for(&record).expect("plan").expect("ended");
    // 14:00 CEST + 30 calendar days = 9 June 14:00 CEST; a year later, 9 June 2027.
    assert_eq!(plan.stage1_due, ts("2026-06-09T12:00:00Z"));
    assert_eq!(plan.stage2_due, ts("2027-06-09T12:00:00Z"));
    let trail = kernel::audit::chain_entries(b.store.as_ref(), "tenant:acme")
        .await
        .expect("trail");
    // The operator created the tenant; Stripe's event ended its service.
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].action, "tenant.created");
    assert_eq!(
        (trail[1].action.as_str(), trail[1].actor.as_str()),
        ("service.ended", "stripe-webhook")
    );

    // A new subscription before deletion: the service runs again, the plan is gone.
    b.deliver(&event(
        "evt_new_c",
        "customer.subscription.created",
        ended_b + 60,
        subscription("sub_c", "cus_acme", "active", None),
    ))
    .await
    .expect("resumes");
    let record = b.tenant("acme").await;
    assert_eq!(record.status, ServiceStatus::Active);
    assert!(retention::plan_for(&record).expect("plan").is_none());
}

#[tokio::test]
async fn a_subscription_that_ended_before_its_customer_was_linked_counts_once_linked() {
    let b = Billing::new(&["globex"]).await;
    let ended = ts("2026-04-30T22:00:00Z").as_second();
    b.deliver(&event(
        "evt_del",
        "customer.subscription.deleted",
        ended,
        subscription("sub_g", "cus_globex", "canceled", Some(ended)),
    ))
    .await
    .expect("ended early");
    assert_eq!(b.tenant("globex").await.status, ServiceStatus::Active);
    // Metadata naming no tenant, or an unknown one, links nothing.
    b.deliver(&event(
        "evt_c0",
        "customer.created",
        ended - 100,
        customer("cus_globex", Some("nobody")),
    ))
    .await
    .expect("unknown tenant");
    assert_eq!(b.tenant("globex").await.status, ServiceStatus::Active);
    b.deliver(&event(
        "evt_c1",
        "customer.updated",
        ended + 10,
        customer("cus_globex", Some("globex")),
    ))
    .await
    .expect("linked");
    let record = b.tenant("globex").await;
    assert_eq!(record.status, ServiceStatus::Ended);
    assert_eq!(record.service_ended_at, Some(ts("2026-04-30T22:00:00Z")));
}

// Two deliveries on two threads, both having read the tenant record (which every subscription
// change rewrites) before either writes: one of them must lose on its version, read again and
// still end the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_the_last_two_subscriptions_still_end_the_service() {
    for round in 0..5 {
        let gate = Gate::new(|key| key.sk == kernel::tenants::PROFILE_SK);
        let gated = gate.clone();
        let b = Arc::new(Billing::with_store(&["acme"], move |inner| gated.store(inner)).await);
        b.deliver(&event(
            "evt_c",
            "customer.created",
            1_000,
            customer("cus_acme", Some("acme")),
        ))
        .await
        .expect("customer");
        for sub in ["sub_a", "sub_b"] {
            b.deliver(&event(
                &format!("evt_{sub}"),
                "customer.subscription.created",
                1_100,
                subscription(sub, "cus_acme", "active", None),
            ))
            .await
            .expect("subscription");
        }
        let end_a = event(
            "evt_end_a",
            "customer.subscription.deleted",
            5_000,
            subscription("sub_a", "cus_acme", "canceled", Some(5_000)),
        );
        let end_b = event(
            "evt_end_b",
            "customer.subscription.deleted",
            5_001,
            subscription("sub_b", "cus_acme", "canceled", Some(5_001)),
        );
        gate.arm(2);
        let deliver = |end: Value| {
            let b = b.clone();
            tokio::spawn(async move { b.deliver(&end).await })
        };
        let (a, b2) = (deliver(end_a), deliver(end_b));
        let (a, b2) = (a.await.expect("task a"), b2.await.expect("task b"));
        assert_eq!(
            (a.expect("a"), b2.expect("b")),
            (Outcome::Applied, Outcome::Applied)
        );
        assert!(
            gate.conflicts() >= 1,
            "round {round}: the deliveries did not collide, so the read-again path did not run"
        );
        let record = b.tenant("acme").await;
        assert_eq!(record.status, ServiceStatus::Ended, "round {round}");
        assert_eq!(
            record.service_ended_at,
            Some(Timestamp::from_second(5_001).expect("ts"))
        );
    }
}

#[tokio::test]
async fn unverifiable_or_foreign_deliveries_are_refused_and_store_nothing() {
    let b = Billing::new(&["acme"]).await;
    let payload = serde_json::to_vec(&event(
        "evt_x",
        "customer.created",
        1_000,
        customer("cus_acme", Some("acme")),
    ))
    .expect("json");
    let secrets = WebhookSecrets::parse(&format!("{SECRET},{OLD_SECRET}")).expect("secrets");
    let now = b.clock.now();
    let mut tampered = payload.clone();
    tampered[10] ^= 1;
    let cases: Vec<(&str, Option<String>, Vec<u8>)> = vec![
        ("missing", None, payload.clone()),
        (
            "forged",
            Some(signature::sign(
                "whsec_attacker_000000000000",
                &payload,
                now,
            )),
            payload.clone(),
        ),
        (
            "expired",
            Some(signature::sign(
                SECRET,
                &payload,
                now - SignedDuration::from_secs(301),
            )),
            payload.clone(),
        ),
        (
            "tampered",
            Some(signature::sign(SECRET, &payload, now)),
            tampered,
        ),
        ("garbage", Some("t=abc".into()), payload.clone()),
    ];
    for (case, header, body) in cases {
        let result = b
            .services
            .billing
            .receive(&secrets, header.as_deref(), &body)
            .await;
        assert!(
            matches!(result, Err(Error::BadRequest(_))),
            "{case}: {result:?}"
        );
    }
    let unconfigured = b
        .services
        .billing
        .receive(
            &WebhookSecrets::default(),
            Some(&signature::sign(SECRET, &payload, now)),
            &payload,
        )
        .await;
    assert!(matches!(unconfigured, Err(Error::BadRequest(_))));
    // A live-mode event at a test deployment.
    let mut live = event(
        "evt_live",
        "customer.created",
        1_000,
        customer("cus_acme", Some("acme")),
    );
    live["livemode"] = json!(true);
    let live = serde_json::to_vec(&live).expect("json");
    let result = b
        .services
        .billing
        .receive(&secrets, Some(&signature::sign(SECRET, &live, now)), &live)
        .await;
    assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");

    for partition in [
        customer_partition("cus_acme"),
        "STRIPE_EVENTS".to_string(),
        "STRIPE_EVENT#evt_x".to_string(),
    ] {
        let items = query_all(b.store.as_ref(), Query::partition(partition.clone()))
            .await
            .expect("query");
        assert!(items.is_empty(), "{partition} holds {items:?}");
    }
    // The previous secret of a rotation is accepted.
    let by_old = signature::sign(OLD_SECRET, &payload, now);
    let processed = b
        .services
        .billing
        .receive(&secrets, Some(&by_old), &payload)
        .await
        .expect("rotation");
    assert_eq!(processed.outcome, Outcome::Applied);
}

#[test]
fn our_signatures_and_stripes_library_agree() {
    use stripe_webhook::Webhook;
    let payload = serde_json::to_string(&fixture("event")).expect("json");
    let at = 1_790_000_000;
    let stripe_header = Webhook::generate_test_header(&payload, SECRET, Some(at));
    let secrets = WebhookSecrets::parse(SECRET).expect("secret");
    let now = Timestamp::from_second(at).expect("ts");
    assert!(signature::verify(&secrets, Some(&stripe_header), payload.as_bytes(), now).is_ok());
    let ours = signature::sign(SECRET, payload.as_bytes(), now);
    assert_eq!(
        ours, stripe_header,
        "byte for byte the header Stripe's library makes"
    );
    let verified = Webhook::construct_event_with_timestamp(&payload, &ours, SECRET, at);
    assert!(verified.is_ok(), "{:?}", verified.err());
    let wrong = Webhook::construct_event_with_timestamp(&payload, &ours, OLD_SECRET, at);
    assert!(
        matches!(wrong, Err(stripe_webhook::WebhookError::BadSignature)),
        "{:?}",
        wrong.err()
    );
}

#[test]
fn the_copied_fixtures_are_stripes_own() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/stripe/fixtures3.json");
    let Ok(text) = std::fs::read_to_string(&corpus) else {
        // The test command requires the corpora wherever they are laid out beside the checkout.
        assert!(
            std::env::var_os("REGROOTER_REQUIRE_CORPORA").is_none(),
            "REGROOTER_REQUIRE_CORPORA is set but {} cannot be read",
            corpus.display()
        );
        eprintln!(
            "skipping: {} is not present; the copies in tests/fixtures/stripe are used as they are",
            corpus.display()
        );
        return;
    };
    let all: Value = serde_json::from_str(&text).expect("corpus");
    for (name, object) in fixtures().as_object().expect("objects") {
        assert_eq!(
            &all["resources"][name], object,
            "{name} differs from the corpus"
        );
    }
}

#[test]
fn stripes_fixture_objects_read_as_billing_needs_them() {
    use billing::objects::{Customer, Invoice, Subscription};
    let c: Customer = serde_json::from_value(fixture("customer")).expect("customer");
    assert_eq!(
        (c.id.as_str(), c.tenant_reference()),
        ("cus_QXg1o8vcGmoR32", None)
    );
    let d: Customer = serde_json::from_value(fixture("deleted_customer")).expect("deleted");
    assert!(d.deleted);
    let s: Subscription = serde_json::from_value(fixture("subscription")).expect("subscription");
    assert_eq!(
        (s.customer.id(), s.status.as_str()),
        ("cus_QXg1o8vcGmoR32", "active")
    );
    assert_eq!(
        s.current_period(),
        Some((1_896_570_518, 976_287_773)),
        "the fixture's own values"
    );
    let i: Invoice = serde_json::from_value(fixture("invoice")).expect("invoice");
    assert_eq!(
        (i.net_amount(), i.currency.as_str(), i.status.as_deref()),
        (1_000, "usd", Some("draft"))
    );
    assert_eq!(
        i.billing_period(),
        Some((1_721_954_054, 1_721_954_054)),
        "from its line's period"
    );
    assert_eq!(i.subscription_id(), Some("subscription"));
}

// ----- credits through the fake Stripe ---------------------------------------------------------

async fn linked(b: &Billing) {
    b.deliver(&event(
        "evt_c",
        "customer.created",
        1_000,
        customer("cus_acme", Some("acme")),
    ))
    .await
    .expect("customer");
    b.deliver(&event(
        "evt_s",
        "customer.subscription.created",
        1_100,
        subscription("sub_acme1", "cus_acme", "active", None),
    ))
    .await
    .expect("subscription");
}

fn voluntary(amount: i64, reason: &str) -> VoluntaryCreditInput {
    VoluntaryCreditInput {
        amount: Some(amount),
        currency: Some("eur".into()),
        reason: Some(reason.into()),
    }
}

#[tokio::test]
async fn a_credit_is_exactly_one_balance_transaction_even_when_the_call_is_retried() {
    let b = Billing::new(&["acme"]).await;
    linked(&b).await;
    let fake = FakeStripe::start(&["cus_acme"]).await.expect("fake stripe");
    let gateway =
        infra::stripe::StripeGateway::new("sk_test_fake", Some(&fake.url())).expect("gateway");
    let acme = TenantId::new("acme").expect("id");
    let credit = b
        .services
        .credits
        .grant_voluntary(
            &staff_access("billing_admin"),
            &acme,
            voluntary(500, "Outage at our DNS provider, card 4111 1111 1111 1111"),
        )
        .await
        .expect("granted");
    assert!(!credit.reason.contains("4111"), "{}", credit.reason);

    // The transaction is made, the response is lost: the credit stays pending.
    fake.inject(Fault::LoseResponse);
    let first = b
        .services
        .credits
        .apply(&gateway, &acme, &credit.id)
        .await
        .expect("first try");
    assert_eq!(first.status, CreditStatus::Pending);
    assert!(first.last_error.is_some());
    // Retried with the same idempotency key: Stripe answers with the same transaction.
    let second = b
        .services
        .credits
        .apply(&gateway, &acme, &credit.id)
        .await
        .expect("retry");
    assert_eq!(second.status, CreditStatus::Applied);
    let again = b
        .services
        .credits
        .apply(&gateway, &acme, &credit.id)
        .await
        .expect("once more");
    assert_eq!(again.balance_transaction, second.balance_transaction);

    let made = fake.transactions();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(
        fake.creating_requests(),
        2,
        "the third call never reached Stripe"
    );
    assert_eq!(Some(made[0].id.clone()), second.balance_transaction);
    assert_eq!(
        (made[0].amount, made[0].currency.as_str()),
        (-500, "eur"),
        "a credit, never a charge"
    );
    assert_eq!(
        made[0].metadata.get("regrooter_credit"),
        Some(&credit.id.to_string())
    );
    assert_eq!(
        made[0].idempotency_key,
        Some(format!("regrooter-credit-{}", credit.id))
    );
}

#[tokio::test]
async fn after_stripe_forgot_the_key_the_credit_is_found_instead_of_made_twice() {
    let b = Billing::new(&["acme"]).await;
    linked(&b).await;
    let fake = FakeStripe::start(&["cus_acme"]).await.expect("fake stripe");
    let gateway =
        infra::stripe::StripeGateway::new("sk_test_fake", Some(&fake.url())).expect("gateway");
    let acme = TenantId::new("acme").expect("id");
    let credit = b
        .services
        .credits
        .grant_voluntary(
            &staff_access("billing_admin"),
            &acme,
            voluntary(1_250, "Goodwill"),
        )
        .await
        .expect("granted");
    fake.inject(Fault::LoseResponse);
    assert_eq!(
        b.services
            .credits
            .apply(&gateway, &acme, &credit.id)
            .await
            .expect("lost")
            .status,
        CreditStatus::Pending
    );
    b.clock
        .advance(SignedDuration::from_hours(48))
        .expect("two days");
    let applied = b
        .services
        .credits
        .apply(&gateway, &acme, &credit.id)
        .await
        .expect("found");
    assert_eq!(applied.status, CreditStatus::Applied);
    assert_eq!(fake.creating_requests(), 1, "looked up, not created again");
    assert_eq!(fake.transactions().len(), 1);
}

#[tokio::test]
async fn a_refused_credit_stays_pending_with_stripes_reason() {
    let b = Billing::new(&["acme"]).await;
    linked(&b).await;
    let fake = FakeStripe::start(&["cus_someone_else"])
        .await
        .expect("fake stripe");
    let gateway =
        infra::stripe::StripeGateway::new("sk_test_fake", Some(&fake.url())).expect("gateway");
    let acme = TenantId::new("acme").expect("id");
    let credit = b
        .services
        .credits
        .grant_voluntary(
            &staff_access("billing_admin"),
            &acme,
            voluntary(100, "Test"),
        )
        .await
        .expect("granted");
    let report = b
        .services
        .credits
        .apply_pending(&gateway)
        .await
        .expect("run");
    assert_eq!(report.applied.len(), 0);
    assert_eq!(report.failed.len(), 1);
    let (record, _) = b
        .services
        .credits
        .get(&acme, &credit.id)
        .await
        .expect("credit");
    assert_eq!(record.status, CreditStatus::Pending);
    assert!(
        record
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("No such customer")),
        "{record:?}"
    );
    // Customers cannot grant themselves credits.
    let customer = Access::resolve(
        Principal {
            subject: "acme-admin".into(),
            actor: Actor::Customer {
                tenant: acme.clone(),
            },
            roles: vec!["customer_admin".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    );
    assert!(matches!(
        b.services
            .credits
            .grant_voluntary(&customer, &acme, voluntary(100, "free money"))
            .await,
        Err(Error::Forbidden(_))
    ));
    let invalid = b
        .services
        .credits
        .grant_voluntary(
            &staff_access("billing_admin"),
            &acme,
            VoluntaryCreditInput {
                amount: Some(-5),
                currency: Some("euro".into()),
                reason: None,
            },
        )
        .await;
    match invalid {
        Err(Error::Validation(errors)) => assert_eq!(errors.len(), 3, "{errors:?}"),
        other => panic!("expected validation errors, got {other:?}"),
    }
}

/// A second billing user with its own subject.
fn second_billing_user() -> Access {
    Access::resolve(
        Principal {
            subject: "billing_admin-2".into(),
            actor: Actor::Staff,
            roles: vec!["billing_admin".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    )
}

#[tokio::test]
async fn a_voluntary_credit_above_the_four_eyes_amount_waits_for_a_second_billing_approver() {
    let b = Billing::new(&["acme", "globex"]).await;
    linked(&b).await;
    let fake = FakeStripe::start(&["cus_acme"]).await.expect("fake stripe");
    let gateway =
        infra::stripe::StripeGateway::new("sk_test_fake", Some(&fake.url())).expect("gateway");
    let acme = TenantId::new("acme").expect("id");
    let first = staff_access("billing_admin");

    // 100.00 € is still one person's decision; 250.00 € waits and is not carried.
    let small = b
        .services
        .credits
        .grant_voluntary(&first, &acme, voluntary(10_000, "Goodwill"))
        .await
        .expect("granted");
    assert_eq!(small.status, CreditStatus::Pending);
    let big = b
        .services
        .credits
        .grant_voluntary(&first, &acme, voluntary(25_000, "Three days of trouble"))
        .await
        .expect("asked");
    assert_eq!(big.status, CreditStatus::AwaitingApproval);
    let carried = b
        .services
        .credits
        .apply(&gateway, &acme, &big.id)
        .await
        .expect("apply");
    assert_eq!(carried.status, CreditStatus::AwaitingApproval);
    assert!(fake.transactions().is_empty(), "nothing reached Stripe");
    // The customer does not see it yet.
    let customer = common::customer_access("acme", "customer_admin");
    let seen = b
        .services
        .credits
        .list(&customer, &acme)
        .await
        .expect("list");
    assert_eq!(seen.iter().map(|c| c.id).collect::<Vec<_>>(), [small.id]);

    // Not by the one who asked; by a second billing user.
    assert!(matches!(
        b.services.credits.approve(&first, &acme, &big.id).await,
        Err(Error::Conflict(_))
    ));
    let approved = b
        .services
        .credits
        .approve(&second_billing_user(), &acme, &big.id)
        .await
        .expect("approved");
    assert_eq!(approved.status, CreditStatus::Pending);
    assert_eq!(approved.approved_by.as_deref(), Some("billing_admin-2"));
    let applied = b
        .services
        .credits
        .apply(&gateway, &acme, &big.id)
        .await
        .expect("apply");
    assert_eq!(applied.status, CreditStatus::Applied);
    assert!(matches!(
        b.services
            .credits
            .approve(&second_billing_user(), &acme, &big.id)
            .await,
        Err(Error::Conflict(_))
    ));

    // Withdrawn while pending: never carried; an applied one cannot be withdrawn.
    assert!(matches!(
        b.services
            .credits
            .cancel(&first, &acme, &small.id, None)
            .await,
        Err(Error::Validation(_))
    ));
    let cancelled = b
        .services
        .credits
        .cancel(&first, &acme, &small.id, Some("Granted twice".into()))
        .await
        .expect("cancelled");
    assert_eq!(cancelled.status, CreditStatus::Cancelled);
    let report = b
        .services
        .credits
        .apply_pending(&gateway)
        .await
        .expect("run");
    assert!(
        report.applied.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
    assert_eq!(fake.transactions().len(), 1, "only the approved credit");
    assert!(matches!(
        b.services
            .credits
            .cancel(&first, &acme, &big.id, Some("too late".into()))
            .await,
        Err(Error::Conflict(_))
    ));

    // Only in the customer's Stripe currency, only with a Stripe customer.
    match b
        .services
        .credits
        .grant_voluntary(
            &first,
            &acme,
            VoluntaryCreditInput {
                amount: Some(500),
                currency: Some("usd".into()),
                reason: Some("Goodwill".into()),
            },
        )
        .await
    {
        Err(Error::Validation(errors)) => assert_eq!(errors[0].pointer, "/currency"),
        other => panic!("expected the currency refused, got {other:?}"),
    }
    let globex = TenantId::new("globex").expect("id");
    assert!(matches!(
        b.services
            .credits
            .grant_voluntary(&first, &globex, voluntary(500, "Goodwill"))
            .await,
        Err(Error::Conflict(_))
    ));
}

// ----- over HTTP, through the platform's edge ---------------------------------------------------

const START: &str = "2026-05-01T08:00:00Z";

fn post_webhook(p: &common::Platform, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let mut request = ureq::http::Request::builder()
        .method("POST")
        .uri(p.url("/stripe/webhook"))
        .header("Content-Type", "application/json; charset=utf-8");
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    let mut response = common::agent()
        .run(request.body(body.to_vec()).expect("request"))
        .expect("http");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn webhooks_credits_and_the_retention_plan_over_http() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime
        .block_on(FakeStripe::start(&["cus_acme"]))
        .expect("fake stripe");
    let secrets = format!("{SECRET},{OLD_SECRET}");
    let api_base = fake.url();
    let p = common::Platform::start_with_env(
        &["--clock", "manual", "--start", START],
        &[
            ("STRIPE_WEBHOOK_SECRET", &secrets),
            ("STRIPE_SECRET_KEY", "sk_test_fake"),
            ("STRIPE_API_BASE", &api_base),
        ],
    );
    let at = ["--now", START, "--ttl", "720h"];
    let operator = p.token(&[&["--role", "operator", "--sub", "op-1"][..], &at[..]].concat());
    let billing = p.token(&[&["--role", "billing_admin", "--sub", "bill-1"][..], &at[..]].concat());
    let acme_admin = p.token(
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
    let (status, body) = common::call(
        "PUT",
        &p.url("/api/tenants/acme"),
        Some(&operator),
        Some(&json!({ "name": "ACME GmbH (paid with 4111 1111 1111 1111)" })),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "ACME GmbH (paid with [card number removed])");

    let now = ts(START);
    let created = serde_json::to_vec(&event(
        "evt_h1",
        "customer.created",
        now.as_second() - 60,
        customer("cus_acme", Some("acme")),
    ))
    .expect("json");
    // Unsigned, forged, expired and tampered deliveries: 400, problem+json, nothing stored.
    let mut tampered = created.clone();
    tampered[12] ^= 1;
    for (case, body, header) in [
        ("unsigned", created.clone(), None),
        (
            "forged",
            created.clone(),
            Some(signature::sign(
                "whsec_attacker_000000000000",
                &created,
                now,
            )),
        ),
        (
            "expired",
            created.clone(),
            Some(signature::sign(
                SECRET,
                &created,
                now - SignedDuration::from_secs(301),
            )),
        ),
        (
            "tampered",
            tampered,
            Some(signature::sign(SECRET, &created, now)),
        ),
    ] {
        let (status, problem) = post_webhook(&p, &body, header.as_deref());
        assert_eq!(status, 400, "{case}: {problem}");
        assert_eq!(problem["type"], "/problems/bad-request", "{case}");
    }
    let (status, counts) = common::call(
        "GET",
        &p.url("/api/billing/stripe-events"),
        Some(&billing),
        None,
    );
    assert_eq!((status, counts.clone()), (200, json!([])), "nothing stored");

    // Genuine deliveries, one signed with the previous secret of a rotation; a redelivery.
    let header = signature::sign(SECRET, &created, now);
    let (status, body) = post_webhook(&p, &created, Some(&header));
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let (status, body) = post_webhook(&p, &created, Some(&header));
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("duplicate")),
        "{body}"
    );
    let sub = serde_json::to_vec(&event(
        "evt_h2",
        "customer.subscription.created",
        now.as_second() - 50,
        subscription("sub_acme1", "cus_acme", "active", None),
    ))
    .expect("json");
    let (status, body) = post_webhook(&p, &sub, Some(&signature::sign(OLD_SECRET, &sub, now)));
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );

    // Invoice paid: the period's fee is recorded, and the customer admin sees it.
    let period = (
        ts("2026-04-01T00:00:00+02:00").as_second(),
        ts("2026-05-01T00:00:00+02:00").as_second(),
    );
    // The invoice carries what Stripe attaches about the card that paid it (brand, last four
    // digits, expiry, fingerprint, the holder's name and address) and, as no Stripe event ever
    // does, a whole card number in its metadata: none of it may reach the store.
    let mut april = invoice("in_april", "cus_acme", "paid", period, 49_900);
    april["default_payment_method"] = json!({
        "id": "pm_1Card", "object": "payment_method", "type": "card", "customer": "cus_acme",
        "billing_details": { "name": "Erika Cardholder", "email": "erika.cardholder@example.org",
                             "address": { "line1": "Kartenweg 7", "city": "Berlin", "country": "DE" } },
        "card": { "brand": "visa", "last4": "4242", "exp_month": 9, "exp_year": 2031,
                  "fingerprint": "Xt5EWLLDS7FJjR1c", "funding": "credit", "country": "US" }
    });
    april["payment_settings"]["payment_method_options"] =
        json!({ "card": { "request_three_d_secure": "automatic" } });
    april["metadata"] = json!({ "note": "card 4000 0566 5566 5556 on file" });
    let paid = serde_json::to_vec(&event(
        "evt_h3",
        "invoice.paid",
        now.as_second() - 40,
        april,
    ))
    .expect("json");
    let (status, body) = post_webhook(&p, &paid, Some(&signature::sign(SECRET, &paid, now)));
    assert_eq!(status, 200, "{body}");
    let (status, overview) =
        common::call("GET", &p.url("/api/billing/acme"), Some(&acme_admin), None);
    assert_eq!(status, 200, "{overview}");
    let fee = &overview["invoices"][0];
    assert_eq!(
        (
            fee["net_amount"].as_i64(),
            fee["currency"].as_str(),
            fee["status"].as_str()
        ),
        (Some(49_900), Some("eur"), Some("paid"))
    );
    assert_eq!(fee["period_start"], "2026-03-31T22:00:00Z");

    // A voluntary credit: one balance transaction on the customer's Stripe balance.
    let (status, credit) = common::call(
        "POST",
        &p.url("/api/credits/acme"),
        Some(&billing),
        Some(
            &json!({ "amount": 2_495, "currency": "eur", "reason": "Upstream DNS outage on 28 April" }),
        ),
    );
    assert_eq!(status, 201, "{credit}");
    assert_eq!(credit["status"], "applied", "{credit}");
    let made = fake.transactions();
    assert_eq!(made.len(), 1);
    assert_eq!(
        credit["balance_transaction"].as_str(),
        Some(made[0].id.as_str())
    );
    let (status, problem) = common::call(
        "POST",
        &p.url("/api/credits/acme"),
        Some(&acme_admin),
        Some(&json!({ "amount": 1, "currency": "eur", "reason": "please" })),
    );
    assert_eq!(status, 403, "{problem}");

    // The subscription is deleted: the service ends, and the plan shows both stage dates.
    let ended = now.as_second() - 30;
    let deleted = serde_json::to_vec(&event(
        "evt_h4",
        "customer.subscription.deleted",
        ended,
        subscription("sub_acme1", "cus_acme", "canceled", Some(ended)),
    ))
    .expect("json");
    let (status, body) = post_webhook(&p, &deleted, Some(&signature::sign(SECRET, &deleted, now)));
    assert_eq!(status, 200, "{body}");
    let (status, plan) = common::call(
        "GET",
        &p.url("/api/tenants/acme/retention"),
        Some(&acme_admin),
        None,
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["service_ended_at"], "2026-05-01T07:59:30Z");
    assert_eq!(plan["stage1"]["state"], "scheduled");
    assert_eq!(plan["stage1"]["due"], "2026-05-31T07:59:30Z");
    assert_eq!(plan["stage2"]["due"], "2027-05-31T07:59:30Z");
    let (status, record) = common::call("GET", &p.url("/api/tenants/acme"), Some(&operator), None);
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["status"], "ended");
    assert_eq!(record["service_end_source"]["subscription"], "sub_acme1");

    let (status, counts) = common::call(
        "GET",
        &p.url("/api/billing/stripe-events"),
        Some(&billing),
        None,
    );
    assert_eq!(status, 200);
    let count = |kind: &str| {
        counts
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["event_type"] == kind)
            .map(|c| c["count"].clone())
    };
    assert_eq!(count("customer.created"), Some(json!(1)), "{counts}");

    // No card number and nothing of the paying card anywhere in the raw store files.
    let mut scanned = 0;
    for (path, bytes) in common::files_under(p.data.path()) {
        scanned += bytes.len();
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            "4111 1111 1111 1111",
            "4000 0566 5566 5556",
            "pm_1Card",
            "Xt5EWLLDS7FJjR1c",
            "Erika Cardholder",
            "erika.cardholder",
            "Kartenweg",
            "last4",
            "fingerprint",
        ] {
            assert!(!text.contains(needle), "{needle} in {path:?}");
        }
    }
    assert!(scanned > 0, "the store's files were read");
}

/// A JSON POST with an `Idempotency-Key`; returns status, the replay marker and the body.
fn post_with_key(url: &str, token: &str, key: &str, body: &Value) -> (u16, Option<String>, Value) {
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .body(body.to_string())
        .expect("request");
    let mut response = common::agent().run(request).expect("http");
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        replayed,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn concurrent_credit_requests_with_one_idempotency_key_make_one_credit() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime
        .block_on(FakeStripe::start(&["cus_acme"]))
        .expect("fake stripe");
    let api_base = fake.url();
    let p = common::Platform::start_with_env(
        &["--clock", "manual", "--start", START],
        &[
            ("STRIPE_WEBHOOK_SECRET", SECRET),
            ("STRIPE_SECRET_KEY", "sk_test_fake"),
            ("STRIPE_API_BASE", &api_base),
        ],
    );
    let at = ["--now", START, "--ttl", "720h"];
    let operator = p.token(&[&["--role", "operator", "--sub", "op-1"][..], &at[..]].concat());
    let billing = p.token(&[&["--role", "billing_admin", "--sub", "bill-1"][..], &at[..]].concat());
    let other_billing =
        p.token(&[&["--role", "billing_admin", "--sub", "bill-2"][..], &at[..]].concat());
    let (status, body) = common::call(
        "PUT",
        &p.url("/api/tenants/acme"),
        Some(&operator),
        Some(&json!({ "name": "ACME GmbH" })),
    );
    assert_eq!(status, 200, "{body}");
    let created = serde_json::to_vec(&event(
        "evt_i1",
        "customer.created",
        ts(START).as_second() - 60,
        customer("cus_acme", Some("acme")),
    ))
    .expect("json");
    let (status, body) = post_webhook(
        &p,
        &created,
        Some(&signature::sign(SECRET, &created, ts(START))),
    );
    assert_eq!(status, 200, "{body}");

    // Five identical requests at once, as a client retrying impatiently would send them.
    let url = p.url("/api/credits/acme");
    let request = json!({ "amount": 1_000, "currency": "eur", "reason": "Goodwill" });
    let answers: Vec<(u16, Option<String>, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..5)
            .map(|_| scope.spawn(|| post_with_key(&url, &billing, "credit-7f3a", &request)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for (status, _, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body, &answers[0].2, "every answer is the first one's");
    }
    assert_eq!(
        answers
            .iter()
            .filter(|(_, replayed, _)| replayed.is_none())
            .count(),
        1,
        "one request ran, the others were replayed"
    );
    assert_eq!(fake.creating_requests(), 1, "one call to Stripe");
    assert_eq!(fake.transactions().len(), 1);
    let (status, credits) = common::call("GET", &url, Some(&billing), None);
    assert_eq!(status, 200, "{credits}");
    assert_eq!(credits.as_array().map(Vec::len), Some(1), "{credits}");

    // The same key with another body is refused, and changes nothing.
    let other = json!({ "amount": 2_000, "currency": "eur", "reason": "Goodwill" });
    let (status, _, problem) = post_with_key(&url, &billing, "credit-7f3a", &other);
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["type"], "/problems/idempotency-key-reused",
        "{problem}"
    );
    // Keys are the caller's own: another staff member's same key is a new request.
    let (status, replayed, body) = post_with_key(&url, &other_billing, "credit-7f3a", &other);
    assert_eq!((status, replayed), (201, None), "{body}");
    // Keys are bounded.
    let (status, _, problem) = post_with_key(&url, &billing, &"k".repeat(256), &request);
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["type"], "/problems/bad-request", "{problem}");
    assert_eq!(fake.transactions().len(), 2);
}
