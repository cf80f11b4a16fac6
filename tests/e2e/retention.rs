//! Retention on the real embedded store with a manual clock: the stages fall on the page's days,
//! legal holds keep exactly their categories, early final deletion runs both stages, a crash at
//! any write followed by a rerun finishes with exact counts, and once the copies key is gone an
//! export made earlier can no longer be opened.

use crate::common;
use common::crash::{CrashMode, CrashingStore};
use common::{customer_access, staff_access, ts};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kernel::crypto::{CryptoError, Keyring, Personal};
use kernel::ids::TenantId;
use kernel::inventory::{DataCategory, RecordKind};
use kernel::store::{Condition, Item, ItemKey, Query, Store, query_all};
use kernel::tenants::{self, ServiceStatus, TenantInput};
use kernel::time::{SignedDuration, Timestamp};
use kernel::token::SigningKey;
use kernel::{Clock, Error};
use retention::exports;
use retention::service::{
    FinalDeletionInput, HoldInput, ServiceEndInput, ServiceEndOutcome, StageStatus,
    final_deletion_phrase,
};
use retention::{RunReport, Stage, verify_certificate};

const ISSUER: &str = "https://regrooter.test/deletion-certificates";

fn tenant(id: &str) -> TenantId {
    TenantId::new(id).expect("tenant id")
}

/// The service of `acme` ends at 11:00 Berlin time on 2 March 2026 (CET).
const SERVICE_END: &str = "2026-03-02T10:00:00Z";
/// 30 calendar days later in Berlin: 11:00 CEST on 1 April (summer time began on 29 March).
const STAGE1_DUE: &str = "2026-04-01T09:00:00Z";
/// A further year.
const STAGE2_DUE: &str = "2027-04-01T09:00:00Z";

// ----- the world: tenants with data, and a retention service as a fresh process would build it --

/// Retention's services through the composition root, over a store that can be made to crash
/// after a number of writes; certificates signed as the `retention` function signs them.
struct World {
    base: common::world::World,
    crashing: Arc<CrashingStore>,
}

impl std::ops::Deref for World {
    type Target = common::world::World;

    fn deref(&self) -> &Self::Target {
        &self.base
    }
}

/// A freshly started process: its own keyring (empty key cache) and services.
struct Process {
    keyring: Arc<Keyring>,
    services: Arc<functions::Services>,
}

impl std::ops::Deref for Process {
    type Target = functions::Services;

    fn deref(&self) -> &Self::Target {
        &self.services
    }
}

impl World {
    /// `tenants`: (id, incident links). Every tenant gets a profile with a contact address and
    /// one export; all stay active.
    async fn new(tenants: &[(&str, usize)]) -> Self {
        let (base, crashing) = common::world::World::at("2026-02-01T08:00:00Z")
            // Certificates name `<issuer>/deletion-certificates` as their issuer.
            .env(
                "REGROOTER_TOKEN_ISSUER",
                ISSUER.trim_end_matches("/deletion-certificates"),
            )
            .certificate_signer(Arc::new(SigningKey::generate("cert-test")))
            .crashing();
        let world = Self { base, crashing };
        let keyring = world.process().keyring;
        // A running platform holds its identity key from its first staff account on (the
        // retention run seals the certificates' recipient with it), so the runs below write
        // what a real run writes.
        keyring
            .seal(
                &kernel::crypto::FieldContext {
                    owner: &kernel::crypto::KeyOwner::Platform,
                    kind: RecordKind::StaffUser,
                    record_id: "bootstrap",
                    field: "email",
                },
                kernel::crypto::KeyPurpose::Identity,
                &Personal::new("first-operator@regrooter.example".to_string()),
            )
            .await
            .expect("platform identity key");
        for (id, links) in tenants {
            let t = tenant(id);
            tenants::put(
                world.store.as_ref(),
                &keyring,
                &staff_access("operator"),
                &t,
                TenantInput {
                    name: Some(format!("{id} GmbH")),
                    contact_email: Some(Personal::new(format!("dpo@{id}.example"))),
                    contract: None,
                },
                world.clock.now(),
            )
            .await
            .expect("tenant");
            for n in 0..*links {
                let item = Item::new(
                    ItemKey::new(
                        ItemKey::tenant_partition(&t),
                        format!(
                            "{}inc_{n:04}",
                            kernel::inventory::TENANT_INCIDENT_LINK_PREFIX
                        ),
                    )
                    .expect("key"),
                    RecordKind::TenantIncidentLink,
                )
                .with_tenant(t.clone())
                .with_record(&serde_json::json!({ "incident": format!("inc_{n:04}") }))
                .expect("record");
                world
                    .store
                    .put(item, Condition::NotExists)
                    .await
                    .expect("link");
            }
            exports::create(
                world.store.as_ref(),
                &keyring,
                &customer_access(id, "customer_admin"),
                &t,
                world.clock.now(),
            )
            .await
            .expect("export");
        }
        world
    }

    /// What a freshly started process builds: its own keyring (empty key cache) and services.
    fn process(&self) -> Process {
        let (keyring, services) = self.base.process();
        Process { keyring, services }
    }

    fn set(&self, at: &str) -> Timestamp {
        self.clock.set(ts(at)).expect("clock")
    }

    /// An operator records the service end of `id` at the clock's time.
    async fn end_service(&self, id: &str) {
        self.process()
            .retention
            .record_service_end(
                &staff_access("operator"),
                &tenant(id),
                ServiceEndInput { ended_at: None },
            )
            .await
            .expect("service end");
    }

    async fn run(&self) -> RunReport {
        self.process()
            .retention
            .run_due(self.clock.now())
            .await
            .expect("run")
    }

    /// The tenant's data items (its data keys aside: they go by crypto-shredding).
    async fn items(&self, id: &str) -> Vec<Item> {
        self.partition(id)
            .await
            .into_iter()
            .filter(|i| i.kind != RecordKind::DataKey)
            .collect()
    }

    /// The tenant's data keys that still exist, by sort key.
    async fn data_keys(&self, id: &str) -> Vec<String> {
        self.partition(id)
            .await
            .into_iter()
            .filter(|i| i.kind == RecordKind::DataKey)
            .map(|i| i.key.sk)
            .collect()
    }

    async fn partition(&self, id: &str) -> Vec<Item> {
        query_all(
            self.store.as_ref(),
            Query::partition(ItemKey::tenant_partition(&tenant(id))),
        )
        .await
        .expect("items")
    }

    async fn kinds(&self, id: &str) -> BTreeMap<RecordKind, u64> {
        counts(
            &self
                .items(id)
                .await
                .iter()
                .map(|i| (i.kind, 1))
                .collect::<Vec<_>>(),
        )
    }

    async fn certificates(&self, id: &str) -> Vec<retention::StoredCertificate> {
        self.process()
            .retention
            .certificates(&customer_access(id, "customer_admin"), &tenant(id))
            .await
            .expect("certificates")
    }

    async fn audit_actions(&self, chain: &str) -> Vec<String> {
        let entries = kernel::audit::chain_entries(self.store.as_ref(), chain)
            .await
            .expect("audit");
        kernel::audit::verify_chain(chain, &entries).expect("intact audit chain");
        entries.into_iter().map(|e| e.action).collect()
    }
}

fn counts(pairs: &[(RecordKind, u64)]) -> BTreeMap<RecordKind, u64> {
    let mut out = BTreeMap::new();
    for (kind, n) in pairs {
        *out.entry(*kind).or_default() += n;
    }
    out
}

fn stages(report: &RunReport) -> Vec<(String, Stage)> {
    report
        .completed
        .iter()
        .map(|(t, s, _)| (t.to_string(), *s))
        .collect()
}

fn is_key_destroyed(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::Crypto(CryptoError::KeyDestroyed(_))))
}

// ----- the stages on the page's days -------------------------------------------------------------

#[tokio::test]
async fn stages_fall_on_day_30_and_a_year_later_with_signed_certificates() {
    let w = World::new(&[("acme", 60), ("globex", 5)]).await;
    w.set(SERVICE_END);
    w.end_service("acme").await;
    let globex_before = w.items("globex").await;
    // A copy of the profile and of the export as they would sit in a backup or a download.
    let profile_copy = tenants::get(w.store.as_ref(), &tenant("acme"))
        .await
        .expect("read")
        .expect("profile");
    let export_copy = w
        .items("acme")
        .await
        .into_iter()
        .find(|i| i.kind == RecordKind::Export)
        .expect("export");
    assert_eq!(
        w.kinds("acme").await,
        counts(&[
            (RecordKind::Tenant, 1),
            (RecordKind::TenantIncidentLink, 60),
            (RecordKind::Export, 1)
        ])
    );

    // Day 29, and one second before day 30: nothing.
    for at in ["2026-03-31T10:00:00Z", "2026-04-01T08:59:59Z"] {
        w.set(at);
        let plan = w
            .process()
            .retention
            .plan(ts(at), None)
            .await
            .expect("plan");
        assert_eq!(plan.len(), 1, "only acme's service has ended");
        assert_eq!(
            plan[0].stage1,
            StageStatus::Scheduled {
                due: ts(STAGE1_DUE)
            }
        );
        assert_eq!(
            plan[0].stage2,
            StageStatus::Scheduled {
                due: ts(STAGE2_DUE)
            }
        );
        assert!(plan[0].due_now.is_empty());
        assert_eq!(w.run().await, RunReport::default(), "nothing due at {at}");
        assert_eq!(w.items("acme").await.len(), 62);
    }

    // Day 30: stage 1 deletes the live data; the export stays for the customer.
    let now = w.set(STAGE1_DUE);
    let report = w.run().await;
    assert_eq!(stages(&report), vec![("acme".to_string(), Stage::Stage1)]);
    assert!(report.failed.is_empty());
    assert_eq!(w.kinds("acme").await, counts(&[(RecordKind::Export, 1)]));
    let keys_left = w.data_keys("acme").await;
    assert!(
        !keys_left.is_empty() && keys_left.iter().all(|k| k.starts_with("KEY#copies#")),
        "only the copies key is left after stage 1: {keys_left:?}"
    );
    let certificates = w.certificates("acme").await;
    assert_eq!(certificates.len(), 1);
    let first = &certificates[0].certificate;
    assert_eq!(first.stage, Stage::Stage1);
    assert_eq!(first.tenant, tenant("acme"));
    assert_eq!(
        first.deleted,
        counts(&[
            (RecordKind::Tenant, 1),
            (RecordKind::TenantIncidentLink, 60)
        ])
    );
    assert!(first.kept_under_hold.is_empty());
    assert_eq!(first.started_at, now);
    assert_eq!(first.service_ended_at, ts(SERVICE_END));
    // No clock change in Berlin in early April: 7 calendar days are 168 hours.
    assert_eq!(
        first.backups_expire_by,
        first
            .finished_at
            .checked_add(SignedDuration::from_hours(168))
            .expect("time")
    );
    assert!(
        first
            .keys_destroyed
            .iter()
            .any(|k| k == "tenant:acme/primary/v1"),
        "{:?}",
        first.keys_destroyed
    );
    assert!(
        first.keys_destroyed.iter().all(|k| !k.contains("/copies/")),
        "stage 1 keeps the copies key: {:?}",
        first.keys_destroyed
    );
    // The signed form verifies with the published key, and with nothing else.
    let public = w.services.certificate_keys.clone();
    let verified = verify_certificate(&certificates[0].jws, &public, ISSUER).expect("verifies");
    assert_eq!(&verified, first);
    let stranger = [SigningKey::generate("cert-other").verification_key()];
    let refused = |result: Result<_, Error>, why: &str| {
        assert!(
            matches!(&result, Err(Error::BadRequest(m))
                if m == &format!("the certificate does not verify: {why}")),
            "{result:?}"
        );
    };
    refused(
        verify_certificate(&certificates[0].jws, &stranger, ISSUER),
        "the token's key id is not one of ours",
    );
    refused(
        verify_certificate(&certificates[0].jws, &public, "https://elsewhere"),
        "the token is invalid: Required issuer mismatch",
    );
    let mut forged = certificates[0].jws.clone();
    let middle = forged.len() / 2;
    forged.replace_range(
        middle..middle + 1,
        if &forged[middle..middle + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    refused(
        verify_certificate(&forged, &public, ISSUER),
        "the token is invalid: Signature tag didn't verify",
    );

    // The primary key is gone: the profile copy from before no longer opens, the export does.
    let p = w.process();
    assert!(is_key_destroyed(
        &tenants::contact(&p.keyring, &profile_copy).await
    ));
    let export_id = export_copy
        .key
        .sk
        .strip_prefix("EXPORT#")
        .expect("export id")
        .parse()
        .expect("export id");
    let content = exports::read(
        w.store.as_ref(),
        &p.keyring,
        &customer_access("acme", "customer_admin"),
        &tenant("acme"),
        &export_id,
    )
    .await
    .expect("export readable until stage 2");
    assert_eq!(content["tenant"]["contact_email"], "dpo@acme.example");

    // A year later, minus a second: nothing. Then stage 2.
    w.set("2027-04-01T08:59:59Z");
    assert_eq!(w.run().await, RunReport::default());
    w.set(STAGE2_DUE);
    let report = w.run().await;
    assert_eq!(stages(&report), vec![("acme".to_string(), Stage::Stage2)]);
    assert!(w.items("acme").await.is_empty(), "no item of acme is left");
    assert!(
        w.data_keys("acme").await.is_empty(),
        "no data key of acme is left"
    );
    let certificates = w.certificates("acme").await;
    assert_eq!(certificates.len(), 2);
    let second = certificates
        .iter()
        .find(|c| c.certificate.stage == Stage::Stage2)
        .expect("stage 2 certificate");
    assert_eq!(
        second.certificate.deleted,
        counts(&[(RecordKind::Export, 1)])
    );
    assert!(
        second
            .certificate
            .keys_destroyed
            .iter()
            .any(|k| k == "tenant:acme/copies/v1")
    );
    verify_certificate(&second.jws, &public, ISSUER).expect("verifies");

    // The export made earlier can no longer be decrypted, wherever a copy of it sits.
    assert!(is_key_destroyed(
        &exports::open(&w.process().keyring, &export_copy).await
    ));

    // Nothing more to do; the plan shows both stages done; the other tenant was never touched.
    w.set("2027-06-01T00:00:00Z");
    assert_eq!(w.run().await, RunReport::default());
    let plan = w
        .process()
        .retention
        .plan(w.clock.now(), None)
        .await
        .expect("plan");
    assert!(matches!(plan[0].stage1, StageStatus::Done { .. }));
    assert!(matches!(plan[0].stage2, StageStatus::Done { .. }));
    assert_eq!(w.items("globex").await, globex_before);
    let globex = tenants::get(w.store.as_ref(), &tenant("globex"))
        .await
        .expect("read")
        .expect("globex");
    assert_eq!(
        tenants::contact(&w.process().keyring, &globex)
            .await
            .expect("globex readable")
            .map(|c| c.expose().clone()),
        Some("dpo@globex.example".to_string())
    );

    // Everything audited, in one intact chain per tenant.
    assert_eq!(
        w.audit_actions("retention:acme").await,
        vec![
            "retention.stage1.started",
            "retention.stage1.completed",
            "retention.stage2.started",
            "retention.stage2.completed"
        ]
    );
    assert!(
        w.audit_actions("tenant:acme")
            .await
            .contains(&"service.ended".to_string())
    );
}

#[tokio::test]
async fn the_contract_may_set_other_periods() {
    let w = World::new(&[("acme", 2)]).await;
    let (mut record, version) = tenants::load(w.store.as_ref(), &tenant("acme"))
        .await
        .expect("read")
        .expect("acme");
    record.contract.deletion_after_service_end = Some(kernel::time::Period::Days(90));
    w.store
        .put(
            tenants::item(&record).expect("item"),
            Condition::Version(version),
        )
        .await
        .expect("contract");
    w.set(SERVICE_END);
    w.end_service("acme").await;
    w.set(STAGE1_DUE);
    assert_eq!(
        w.run().await,
        RunReport::default(),
        "the contract says 90 days"
    );
    // 11:00 CET on 2 March + 90 days = 11:00 CEST on 31 May.
    w.set("2026-05-31T09:00:00Z");
    assert_eq!(
        stages(&w.run().await),
        vec![("acme".to_string(), Stage::Stage1)]
    );
}

// ----- legal holds ------------------------------------------------------------------------------

#[tokio::test]
async fn a_legal_hold_keeps_exactly_its_categories_until_it_is_lifted() {
    let w = World::new(&[("acme", 60), ("initech", 3)]).await;
    w.set(SERVICE_END);
    w.end_service("acme").await;
    w.end_service("initech").await;
    let export_copy = w
        .items("acme")
        .await
        .into_iter()
        .find(|i| i.kind == RecordKind::Export)
        .expect("export");
    let p = w.process();
    let dpo = staff_access("data_protection_officer");
    let hold = |categories: &[DataCategory]| HoldInput {
        legal_basis: Some("§ 257 HGB: commercial correspondence, 6 years".into()),
        categories: Some(categories.iter().copied().collect::<BTreeSet<_>>()),
        until: Some(ts("2030-01-01T00:00:00Z")),
    };
    // Who may set holds, and what a hold must say.
    assert!(matches!(
        p.retention
            .set_hold(
                &customer_access("acme", "customer_admin"),
                &tenant("acme"),
                hold(&[DataCategory::Contact])
            )
            .await,
        Err(Error::Forbidden(_))
    ));
    match p
        .retention
        .set_hold(
            &dpo,
            &tenant("acme"),
            HoldInput {
                legal_basis: Some(" ".into()),
                categories: Some(BTreeSet::new()),
                until: Some(ts("2020-01-01T00:00:00Z")),
            },
        )
        .await
    {
        Err(Error::Validation(errors)) => {
            let fields: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
            assert_eq!(fields, vec!["/legal_basis", "/categories", "/until"]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    let contact_hold = p
        .retention
        .set_hold(&dpo, &tenant("acme"), hold(&[DataCategory::Contact]))
        .await
        .expect("hold");
    // A hold on a category no item of the tenant has keeps nothing.
    p.retention
        .set_hold(&dpo, &tenant("initech"), hold(&[DataCategory::Financial]))
        .await
        .expect("hold");

    // Stage 1: the links go; the profile (contact data) stays, still readable.
    w.set(STAGE1_DUE);
    let report = w.run().await;
    assert_eq!(report.completed.len(), 2, "{report:?}");
    // Every audit chain ends at its record's head and a cut in any is found; initech's profile
    // went with stage 1 (no hold on it), so its chain only links.
    let chains = common::chains_end_at_their_records_heads(w.store.as_ref()).await;
    assert_eq!(
        chains.kinds(),
        ["hold", "retention", "tenant"].into(),
        "{chains:?}"
    );
    assert_eq!(
        chains.without_head,
        ["tenant:initech".to_string()].into(),
        "{chains:?}"
    );
    let acme1 = &w.certificates("acme").await[0].certificate;
    assert_eq!(
        acme1.deleted,
        counts(&[(RecordKind::TenantIncidentLink, 60)])
    );
    assert_eq!(acme1.kept_under_hold, counts(&[(RecordKind::Tenant, 1)]));
    assert_eq!(acme1.holds.len(), 1);
    assert_eq!(acme1.holds[0].id, contact_hold.id);
    assert_eq!(
        w.kinds("acme").await,
        counts(&[(RecordKind::Tenant, 1), (RecordKind::Export, 1)])
    );
    let initech1 = &w.certificates("initech").await[0].certificate;
    assert_eq!(
        initech1.deleted,
        counts(&[(RecordKind::Tenant, 1), (RecordKind::TenantIncidentLink, 3)])
    );
    assert!(initech1.kept_under_hold.is_empty());
    let profile = tenants::get(w.store.as_ref(), &tenant("acme"))
        .await
        .expect("read")
        .expect("held profile");
    assert_eq!(
        tenants::contact(&w.process().keyring, &profile)
            .await
            .expect("held data stays readable")
            .map(|c| c.expose().clone()),
        Some("dpo@acme.example".to_string())
    );

    // Stage 2: the export is contact data too, so it stays as well; initech's goes.
    w.set(STAGE2_DUE);
    assert_eq!(w.run().await.completed.len(), 2);
    let acme2 = w
        .certificates("acme")
        .await
        .into_iter()
        .find(|c| c.certificate.stage == Stage::Stage2)
        .expect("stage 2")
        .certificate;
    assert!(acme2.deleted.is_empty());
    assert_eq!(
        acme2.kept_under_hold,
        counts(&[(RecordKind::Tenant, 1), (RecordKind::Export, 1)])
    );
    assert!(
        acme2
            .keys_destroyed
            .iter()
            .all(|k| !k.contains("/legal_hold/")),
        "the legal-hold key stays while held items remain"
    );
    assert!(w.items("initech").await.is_empty());
    let plan = w
        .process()
        .retention
        .plan(w.clock.now(), Some(&tenant("acme")))
        .await
        .expect("plan");
    assert!(plan[0].held_items_remain);
    assert!(plan[0].due_now.is_empty(), "the hold is still active");
    // The held export still opens: it was re-sealed under the legal-hold key.
    assert!(
        exports::open(
            &w.process().keyring,
            &w.items("acme")
                .await
                .into_iter()
                .find(|i| i.kind == RecordKind::Export)
                .expect("held export")
        )
        .await
        .is_ok()
    );
    // The copy made before the hold was sealed with the copies key, which is gone now.
    assert!(is_key_destroyed(
        &exports::open(&w.process().keyring, &export_copy).await
    ));

    // The DPO lifts the hold: the next run deletes what it kept, and the legal-hold key.
    w.set("2027-05-03T08:00:00Z");
    w.process()
        .retention
        .lift_hold(&dpo, &tenant("acme"), &contact_hold.id)
        .await
        .expect("lift");
    let report = w.run().await;
    assert_eq!(
        stages(&report),
        vec![("acme".to_string(), Stage::HoldRelease)]
    );
    assert!(w.items("acme").await.is_empty());
    let release = w
        .certificates("acme")
        .await
        .into_iter()
        .find(|c| c.certificate.stage == Stage::HoldRelease)
        .expect("release certificate")
        .certificate;
    assert_eq!(
        release.deleted,
        counts(&[(RecordKind::Tenant, 1), (RecordKind::Export, 1)])
    );
    assert!(
        release
            .keys_destroyed
            .iter()
            .any(|k| k == "tenant:acme/legal_hold/v1")
    );
    assert_eq!(w.run().await, RunReport::default());
    let hold_actions = w.audit_actions(&format!("hold:{}", contact_hold.id)).await;
    assert_eq!(hold_actions, vec!["legal_hold.set", "legal_hold.lifted"]);
}

#[tokio::test]
async fn a_hold_that_runs_out_releases_what_it_kept() {
    let w = World::new(&[("acme", 1)]).await;
    w.set(SERVICE_END);
    w.end_service("acme").await;
    w.process()
        .retention
        .set_hold(
            &staff_access("data_protection_officer"),
            &tenant("acme"),
            HoldInput {
                legal_basis: Some("§ 147 AO".into()),
                categories: Some([DataCategory::Contact].into()),
                until: Some(ts("2027-06-30T22:00:00Z")),
            },
        )
        .await
        .expect("hold");
    w.set(STAGE1_DUE);
    w.run().await;
    w.set(STAGE2_DUE);
    w.run().await;
    assert_eq!(w.items("acme").await.len(), 2, "profile and export held");
    w.set("2027-06-30T21:59:59Z");
    assert_eq!(w.run().await, RunReport::default());
    w.set("2027-06-30T22:00:00Z");
    assert_eq!(
        stages(&w.run().await),
        vec![("acme".to_string(), Stage::HoldRelease)]
    );
    assert!(w.items("acme").await.is_empty());
}

// ----- early final deletion -----------------------------------------------------------------------

#[tokio::test]
async fn a_customer_admin_may_ask_for_final_deletion_which_runs_both_stages_at_the_next_run() {
    let w = World::new(&[("acme", 30), ("globex", 2)]).await;
    w.set(SERVICE_END);
    w.end_service("acme").await;
    let export_copy = w
        .items("acme")
        .await
        .into_iter()
        .find(|i| i.kind == RecordKind::Export)
        .expect("export");
    w.set("2026-03-03T09:00:00Z");
    let p = w.process();
    let confirm = |text: &str| FinalDeletionInput {
        confirmation: Some(text.to_string()),
    };
    let phrase = final_deletion_phrase(&tenant("acme"));
    assert_eq!(phrase, "DELETE acme");
    // Members may not; another tenant's admin may not; a wrong phrase is refused.
    for (access, input) in [
        (customer_access("acme", "customer_member"), confirm(&phrase)),
        (
            customer_access("globex", "customer_admin"),
            confirm(&phrase),
        ),
    ] {
        assert!(matches!(
            p.retention
                .request_final_deletion(&access, &tenant("acme"), input)
                .await,
            Err(Error::Forbidden(_))
        ));
    }
    let admin = customer_access("acme", "customer_admin");
    for wrong in [None, Some("delete acme"), Some("DELETE globex")] {
        assert!(matches!(
            p.retention
                .request_final_deletion(
                    &admin,
                    &tenant("acme"),
                    FinalDeletionInput {
                        confirmation: wrong.map(str::to_string)
                    }
                )
                .await,
            Err(Error::Validation(_))
        ));
    }
    // An active tenant cannot ask: its service has not ended.
    assert!(matches!(
        p.retention
            .request_final_deletion(
                &customer_access("globex", "customer_admin"),
                &tenant("globex"),
                confirm("DELETE globex")
            )
            .await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(w.items("acme").await.len(), 32, "refusals touch nothing");

    let plan = p
        .retention
        .request_final_deletion(&admin, &tenant("acme"), confirm(&phrase))
        .await
        .expect("final deletion");
    assert!(plan.final_deletion_requested);
    assert_eq!(plan.due_now, vec![Stage::Stage1, Stage::Stage2]);
    assert!(matches!(
        p.retention
            .request_final_deletion(&admin, &tenant("acme"), confirm(&phrase))
            .await,
        Err(Error::Conflict(_))
    ));

    let report = w.run().await;
    assert_eq!(
        stages(&report),
        vec![
            ("acme".to_string(), Stage::Stage1),
            ("acme".to_string(), Stage::Stage2)
        ]
    );
    assert!(w.items("acme").await.is_empty());
    assert_eq!(w.items("globex").await.len(), 4);
    let certificates = w.certificates("acme").await;
    assert_eq!(certificates.len(), 2);
    assert!(
        certificates
            .iter()
            .all(|c| c.certificate.final_deletion_requested)
    );
    assert!(is_key_destroyed(
        &exports::open(&w.process().keyring, &export_copy).await
    ));
    // Both certificates are to go to acme's breach contact, read before stage 1 destroyed the
    // key that opened it; once queued, nothing keeps the address.
    let process = w.process();
    let retention = &process.retention;
    let to_send = retention.certificates_to_send().await.expect("to send");
    assert_eq!(to_send.len(), 2);
    assert!(
        to_send
            .iter()
            .all(|(_, to)| to.expose() == "dpo@acme.example")
    );
    for (stored, _) in &to_send {
        retention
            .certificate_sent(&stored.certificate.tenant, &stored.certificate.id)
            .await
            .expect("sent");
    }
    assert!(
        retention
            .certificates_to_send()
            .await
            .expect("to send")
            .is_empty()
    );
    assert!(
        w.certificates("acme")
            .await
            .iter()
            .all(|c| c.deliver_to.is_none())
    );
    let actions = w.audit_actions("retention:acme").await;
    assert_eq!(actions[0], "retention.final_deletion_requested");
    let entries = kernel::audit::chain_entries(w.store.as_ref(), "retention:acme")
        .await
        .expect("audit");
    assert_eq!(entries[0].actor, "acme-customer_admin");
}

// ----- guards --------------------------------------------------------------------------------------

#[tokio::test]
async fn never_an_active_tenant_even_if_it_comes_back_after_retention_started() {
    let w = World::new(&[("acme", 30), ("globex", 30)]).await;
    let p = w.process();
    let refused = p
        .retention
        .run_stage(&tenant("globex"), Stage::Stage1, w.clock.now())
        .await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");

    w.set(SERVICE_END);
    w.end_service("acme").await;
    w.set(STAGE1_DUE);
    // The customer comes back (a new subscription) just as stage 1 starts: crash after the start
    // is written, then the tenant is active again before the rerun.
    w.crashing.arm(1, CrashMode::Before);
    let report = w.run().await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    w.crashing.disarm();
    let (mut record, version) = tenants::load(w.store.as_ref(), &tenant("acme"))
        .await
        .expect("read")
        .expect("acme");
    record.status = ServiceStatus::Active;
    record.service_ended_at = None;
    w.store
        .put(
            tenants::item(&record).expect("item"),
            Condition::Version(version),
        )
        .await
        .expect("reactivate");
    let report = w.run().await;
    assert_eq!(report.completed, vec![]);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].1.contains("active again"), "{report:?}");
    assert_eq!(w.items("acme").await.len(), 32, "nothing deleted");
    assert_eq!(w.items("globex").await.len(), 32);
}

#[tokio::test]
async fn an_item_of_another_tenant_in_the_partition_stops_the_deletion() {
    // Planted past the inventory guard (which would refuse it): an item in acme's partition
    // that says it belongs to globex, and one that names no tenant. Either stops the stage
    // before anything is deleted.
    for (case, owner) in [("globex's", Some("globex")), ("no tenant's", None)] {
        let w = World::new(&[("acme", 10), ("globex", 10)]).await;
        w.set(SERVICE_END);
        w.end_service("acme").await;
        let mut stray = Item::new(
            ItemKey::new(ItemKey::tenant_partition(&tenant("acme")), "EXPORT#stray").expect("key"),
            RecordKind::Tenant,
        );
        stray.tenant = owner.map(tenant);
        stray
            .data
            .insert("name".into(), serde_json::json!("planted"));
        w.crashing
            .put(stray, Condition::NotExists)
            .await
            .expect("planted past the guard");
        let acme_before = w.items("acme").await.len();
        let globex_before = w.items("globex").await.len();
        w.set(STAGE1_DUE);
        let report = w.run().await;
        assert_eq!(report.completed, vec![], "{case}: {report:?}");
        assert_eq!(report.failed.len(), 1, "{case}: {report:?}");
        assert!(
            report.failed[0]
                .1
                .contains("does not belong to tenant acme"),
            "{case}: {report:?}"
        );
        assert_eq!(
            w.items("acme").await.len(),
            acme_before,
            "{case}: nothing deleted"
        );
        assert_eq!(w.items("globex").await.len(), globex_before, "{case}");
    }
}

#[tokio::test]
async fn the_plan_touches_nothing() {
    let w = World::new(&[("acme", 10)]).await;
    w.set(SERVICE_END);
    w.end_service("acme").await;
    w.crashing.arm(0, CrashMode::Before);
    let plan = w
        .process()
        .retention
        .plan(ts("2028-01-01T00:00:00Z"), None)
        .await
        .expect("plan");
    assert_eq!(plan[0].due_now, vec![Stage::Stage1, Stage::Stage2]);
    assert!(!w.crashing.crashed(), "the plan wrote something");
    assert_eq!(w.crashing.writes(), 0);
}

// ----- crash at every write, then a rerun ----------------------------------------------------------

#[tokio::test]
async fn a_crash_at_any_write_then_a_rerun_finishes_with_exact_counts() {
    let mut points = 0;
    for mode in [CrashMode::Before, CrashMode::After] {
        for at in 0.. {
            let w = World::new(&[("acme", 60), ("globex", 7)]).await;
            w.set(SERVICE_END);
            w.end_service("acme").await;
            let globex_before = w.items("globex").await;
            w.set(STAGE2_DUE);
            w.crashing.arm(at, mode);
            let first = w.run().await;
            w.crashing.disarm();
            if !w.crashing.crashed() {
                // Past the last write: the run went through without a crash.
                assert!(first.failed.is_empty());
                break;
            }
            points += 1;
            assert_eq!(first.failed.len(), 1, "{mode:?} at {at}: {first:?}");
            // A new process picks up where the dead one stopped.
            let rerun = w.run().await;
            assert!(rerun.failed.is_empty(), "{mode:?} at {at}: {rerun:?}");
            // (A crash right after a stage's completion was written reports that stage as
            // failed though it is done, so the rerun may have nothing left: the certificates
            // below are what counts.)

            assert!(
                w.items("acme").await.is_empty(),
                "{mode:?} at {at}: items of acme left"
            );
            assert!(w.data_keys("acme").await.is_empty(), "{mode:?} at {at}");
            let certificates = w.certificates("acme").await;
            let mut stages_certified: Vec<Stage> =
                certificates.iter().map(|c| c.certificate.stage).collect();
            stages_certified.sort_by_key(|s| s.as_str());
            assert_eq!(
                stages_certified,
                vec![Stage::Stage1, Stage::Stage2],
                "{mode:?} at {at}: one certificate per stage"
            );
            for stored in &certificates {
                let expected = match stored.certificate.stage {
                    Stage::Stage1 => counts(&[
                        (RecordKind::Tenant, 1),
                        (RecordKind::TenantIncidentLink, 60),
                    ]),
                    _ => counts(&[(RecordKind::Export, 1)]),
                };
                assert_eq!(
                    stored.certificate.deleted, expected,
                    "{mode:?} at {at}: exact counts"
                );
                assert!(
                    !stored.certificate.keys_destroyed.is_empty(),
                    "{mode:?} at {at}"
                );
            }
            assert_eq!(
                w.items("globex").await,
                globex_before,
                "{mode:?} at {at}: another tenant touched"
            );
            let actions = w.audit_actions("retention:acme").await;
            assert_eq!(
                actions.len(),
                4,
                "{mode:?} at {at}: one start and one completion per stage: {actions:?}"
            );
            assert_eq!(w.run().await, RunReport::default());
        }
    }
    // 3 + 1 batches of at most 25, each written down, deleted and counted, plus starts, key
    // lists, key deletions and completions: every one of them was a crash point in both modes.
    assert!(points >= 2 * 20, "only {points} crash points");
    eprintln!("crashed and resumed at {points} points (every write, before and after it applies)");
}

// ----- end to end on the local platform: HTTP, the scheduler, the CLI -----------------------------

#[test]
fn on_the_platform_the_daily_job_deletes_and_the_customer_downloads_a_verifiable_certificate() {
    use common::{BIN, Platform, call};
    use serde_json::json;

    let p = Platform::start(&["--clock", "manual", "--start", SERVICE_END]);
    let at = ["--now", SERVICE_END, "--ttl", "9000h"];
    let token = |args: &[&str]| p.token(&[args, &at[..]].concat());
    let operator = token(&["--role", "operator", "--sub", "op-1"]);
    let admin = token(&[
        "--role",
        "customer_admin",
        "--tenant",
        "acme",
        "--sub",
        "acme-1",
    ]);
    let other_admin = token(&[
        "--role",
        "customer_admin",
        "--tenant",
        "globex",
        "--sub",
        "globex-1",
    ]);
    let (status, body) = call(
        "PUT",
        &p.url("/api/tenants/acme"),
        Some(&operator),
        Some(&json!({ "name": "ACME GmbH", "contact_email": "dpo@acme.example" })),
    );
    assert_eq!(status, 200, "{body}");
    let (status, export) = call(
        "POST",
        &p.url("/api/tenants/acme/exports"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 201, "{export}");

    // Bad input: problem+json, nothing recorded.
    let (status, problem) = call(
        "POST",
        &p.url("/api/tenants/acme/service-end"),
        Some(&operator),
        Some(&json!({ "ended_at": "2030-01-01T00:00:00Z" })),
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/ended_at");
    let (status, problem) = call(
        "POST",
        &p.url("/api/tenants/acme/service-end"),
        Some(&admin),
        Some(&json!({})),
    );
    assert_eq!(status, 403, "{problem}");

    let (status, plan) = call(
        "POST",
        &p.url("/api/tenants/acme/service-end"),
        Some(&operator),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["stage1"]["due"], STAGE1_DUE);
    let (status, _) = call(
        "GET",
        &p.url("/api/tenants/acme/retention"),
        Some(&other_admin),
        None,
    );
    assert_eq!(status, 403, "another tenant's admin sees nothing");

    // The CLI shows the plan without touching anything.
    let output = std::process::Command::new(BIN)
        .args([
            "retention",
            "plan",
            "--now",
            "2026-04-01T10:00:00Z",
            "--data",
        ])
        .arg(p.data.path())
        .env_remove("REGROOTER_ENV")
        .output()
        .expect("retention plan");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan json");
    assert_eq!(shown[0]["due_now"], json!(["stage1"]));

    // The daily job (02:30 UTC) after day 30 runs stage 1.
    let moved = p.move_clock(json!({ "to": "2026-04-02T03:00:00Z" }));
    let retention_runs = &moved["fired"]["retention"];
    assert!(
        retention_runs["runs"].as_u64().is_some_and(|n| n > 0) && retention_runs["failed"] == 0,
        "{moved}"
    );
    assert_eq!(moved["failures"], json!([]), "{moved}");
    let (status, certificates) = call(
        "GET",
        &p.url("/api/tenants/acme/retention/certificates"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{certificates}");
    let certificates = certificates.as_array().expect("list").clone();
    assert_eq!(certificates.len(), 1);
    let certificate = &certificates[0]["certificate"];
    assert_eq!(certificate["stage"], "stage1");
    assert_eq!(certificate["deleted"], json!({ "tenant": 1 }));
    let id = certificate["id"].as_str().expect("id");

    // The signed form, downloaded, verifies against the published keys with the CLI.
    let mut response = common::agent()
        .get(&p.url(&format!(
            "/api/tenants/acme/retention/certificates/{id}?format=jws"
        )))
        .header("Authorization", format!("Bearer {admin}"))
        .call()
        .expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/jose")
    );
    let jws = response.body_mut().read_to_string().expect("jws");
    let (status, keys) = call(
        "GET",
        &p.url("/.well-known/deletion-certificate-keys.json"),
        None,
        None,
    );
    assert_eq!(status, 200, "{keys}");
    let dir = common::private_dir();
    std::fs::write(dir.path().join("cert.jws"), &jws).expect("write");
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).expect("write");
    let verify = |file: &str| {
        std::process::Command::new(BIN)
            .args(["retention", "verify-certificate"])
            .arg(dir.path().join(file))
            .arg("--keys")
            .arg(dir.path().join("keys.json"))
            .env_remove("REGROOTER_ENV")
            .output()
            .expect("verify")
    };
    let verified = verify("cert.jws");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&verified.stdout).expect("json");
    assert_eq!(&printed, certificate);
    // One changed character in the payload: the CLI says so and fails.
    let mut parts: Vec<String> = jws.trim().split('.').map(str::to_string).collect();
    let payload = parts[1].clone();
    let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
    parts[1] = format!("{}{flipped}", &payload[..payload.len() - 1]);
    std::fs::write(dir.path().join("forged.jws"), parts.join(".")).expect("write");
    let refused = verify("forged.jws");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Early final deletion over HTTP: the wrong phrase is a problem document, the right one
    // makes the next run delete the export too.
    let (status, problem) = call(
        "POST",
        &p.url("/api/tenants/acme/final-deletion"),
        Some(&admin),
        Some(&json!({ "confirmation": "yes" })),
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/confirmation");
    let (status, plan) = call(
        "POST",
        &p.url("/api/tenants/acme/final-deletion"),
        Some(&admin),
        Some(&json!({ "confirmation": "DELETE acme" })),
    );
    assert_eq!(status, 202, "{plan}");
    assert_eq!(plan["due_now"], json!(["stage2"]));
    p.move_clock(json!({ "to": "2026-04-03T03:00:00Z" }));
    let (_, certificates) = call(
        "GET",
        &p.url("/api/tenants/acme/retention/certificates"),
        Some(&admin),
        None,
    );
    assert_eq!(
        certificates.as_array().map(Vec::len),
        Some(2),
        "{certificates}"
    );
    let export_id = export["id"].as_str().expect("export id");
    let (status, gone) = call(
        "GET",
        &p.url(&format!("/api/tenants/acme/exports/{export_id}")),
        Some(&admin),
        None,
    );
    assert_eq!(status, 404, "{gone}");
}

#[test]
fn operators_make_signing_keys_whose_jwks_keeps_the_earlier_ones() {
    let dir = common::private_dir();
    let make = |add_to: Option<&std::path::Path>| -> serde_json::Value {
        let mut command = std::process::Command::new(common::BIN);
        command.args(["retention", "new-signing-key"]);
        if let Some(path) = add_to {
            command.arg("--add-to").arg(path);
        }
        let output = command.output().expect("new-signing-key");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("json")
    };
    let first = make(None);
    let secret = first["secret"].as_str().expect("secret");
    // What terraform/modules/aws/variables.tf accepts: 64 bytes, base64.
    assert_eq!(secret.len(), 88);
    assert!(secret.ends_with("=="));
    assert!(first["kid"].as_str().expect("kid").starts_with("cert-"));
    let published = dir.path().join("keys.json");
    std::fs::write(&published, first["jwks"].to_string()).expect("write");
    let second = make(Some(&published));
    let kids: Vec<&str> = second["jwks"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    assert_eq!(
        kids,
        vec![
            second["kid"].as_str().expect("kid"),
            first["kid"].as_str().expect("kid")
        ]
    );
    assert_ne!(first["secret"], second["secret"]);
    let missing = std::process::Command::new(common::BIN)
        .args([
            "retention",
            "new-signing-key",
            "--add-to",
            "/nonexistent/keys.json",
        ])
        .output()
        .expect("run");
    assert!(!missing.status.success());
    assert!(!String::from_utf8_lossy(&missing.stderr).is_empty());
}

#[tokio::test]
async fn a_service_end_backdated_beyond_the_grace_needs_a_second_operator() {
    let w = World::new(&[("acme", 3)]).await;
    w.set("2026-03-20T10:00:00Z");
    let p = w.process();
    let op1 = staff_access("operator");
    let mut op2 = staff_access("operator");
    let mut principal = op2.principal().clone();
    principal.subject = "operator-2".into();
    op2 = kernel::rbac::Access::resolve(principal, &[]);
    let forty_days_back = ServiceEndInput {
        ended_at: Some(ts("2026-02-08T10:00:00Z")),
    };

    // One operator alone: recorded as a request, the service has not ended, nothing is deleted.
    let outcome = p
        .retention
        .record_service_end(&op1, &tenant("acme"), forty_days_back)
        .await
        .expect("request");
    assert!(
        matches!(outcome, ServiceEndOutcome::AwaitingApproval(_)),
        "{outcome:?}"
    );
    let profile = tenants::get(w.store.as_ref(), &tenant("acme"))
        .await
        .expect("read")
        .expect("acme");
    assert_eq!(profile.status, ServiceStatus::Active);
    assert_eq!(profile.service_ended_at, None);
    let report = w.run().await;
    assert_eq!(report.completed, vec![], "{report:?}");
    assert_eq!(w.items("acme").await.len(), 5, "nothing deleted");

    // The operator who asked cannot approve it.
    let own = p.retention.approve_service_end(&op1, &tenant("acme")).await;
    assert!(matches!(own, Err(Error::Conflict(_))), "{own:?}");
    // Nor can someone without the permission.
    let support = p
        .retention
        .approve_service_end(&staff_access("read_only_support"), &tenant("acme"))
        .await;
    assert!(matches!(support, Err(Error::Forbidden(_))), "{support:?}");
    assert_eq!(w.run().await.completed, vec![]);

    // A second operator's approval makes it effective; stage 1 (30 days) is due at once.
    let record = p
        .retention
        .approve_service_end(&op2, &tenant("acme"))
        .await
        .expect("approval");
    assert_eq!(record.status, ServiceStatus::Ended);
    assert_eq!(record.service_ended_at, Some(ts("2026-02-08T10:00:00Z")));
    let trail =
        kernel::audit::chain_entries(w.store.as_ref(), &tenants::audit_chain(&tenant("acme")))
            .await
            .expect("audit");
    let actions: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert!(
        actions.ends_with(&[
            ("service.end_requested", "operator-1"),
            ("service.end_approved", "operator-2"),
            ("service.ended", "operator-2"),
        ]),
        "{actions:?}"
    );
    let report = w.run().await;
    assert_eq!(stages(&report), vec![("acme".to_string(), Stage::Stage1)]);

    // Within the grace one operator suffices, as before.
    let w = World::new(&[("globex", 0)]).await;
    w.set("2026-03-20T10:00:00Z");
    let outcome = w
        .process()
        .retention
        .record_service_end(
            &op1,
            &tenant("globex"),
            ServiceEndInput {
                ended_at: Some(ts("2026-03-19T11:00:00Z")),
            },
        )
        .await
        .expect("service end");
    assert!(
        matches!(outcome, ServiceEndOutcome::Ended(_)),
        "{outcome:?}"
    );
}
