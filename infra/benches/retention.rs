//! Retention throughput (issue 6): items deleted per second when one tenant's 100 k items go
//! through both stages on the embedded store (SQLite file, as `regrooter serve` uses it) — counted
//! from the stages' signed certificates, not from what was seeded, and only after the tenant's
//! partition was read back empty — and the number of batch deletes that took — on DynamoDB each is one BatchWriteItem request, so the
//! request count should be ≈ items / 25. With `REGROOTER_MOTO_ENDPOINT` set, the same run on
//! moto's DynamoDB (fewer items: moto is a Python server) counts the BatchWriteItem requests
//! actually sent.
//!
//! Target (issue 6): batch deletes ≤ items / 25 + 1 per stage (each a full DynamoDB batch), and
//! every item deleted; printed as met or not, the exit code 1 when not.
//!
//! `cargo bench -p infra --bench retention [-- ITEMS]`

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use kernel::crypto::{Keyring, LocalKeyEncryption};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::rbac::{Access, Actor, Principal};
use kernel::store::{
    BatchOutcome, Condition, Item, ItemKey, Page, Query, Store, StoreError, WriteOp,
};
use kernel::time::ManualClock;
use retention::{RetentionService, Stage};

/// Counts batch deletes on their way to the store.
struct Counting {
    inner: Arc<dyn Store>,
    batches: AtomicU64,
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.inner.batch_delete(keys).await
    }
}

struct Outcome {
    seeded: usize,
    /// Items deleted, as the stages' certificates count them.
    deleted: u64,
    /// Items of the tenant's partition still there afterwards (data keys included).
    left: usize,
    seconds: f64,
    batches: u64,
}

async fn run(raw: Arc<dyn Store>, clock: Arc<ManualClock>, links: usize) -> Outcome {
    let counting = Arc::new(Counting {
        inner: raw,
        batches: AtomicU64::new(0),
    });
    let store = GuardedStore::new(counting.clone());
    let keyring = Arc::new(Keyring::new(
        Arc::new(LocalKeyEncryption::new(
            "bench",
            &zeroize::Zeroizing::new([9u8; 32]),
        )),
        store.shared(),
        clock.clone(),
    ));
    let tenant = TenantId::new("acme").expect("tenant");
    let now = kernel::Clock::now(clock.as_ref());
    let seeded =
        retention::testkit::seed_ended_tenant(store.as_ref(), &keyring, &tenant, links, now)
            .await
            .expect("seed");
    let retention = RetentionService::new(
        store.clone(),
        keyring,
        clock,
        Some(Arc::new(kernel::token::SigningKey::generate("cert-bench"))),
        "https://regrooter.test/deletion-certificates",
    );
    let started = Instant::now();
    for stage in [Stage::Stage1, Stage::Stage2] {
        retention
            .run_stage(&tenant, stage, now)
            .await
            .expect("stage");
    }
    let seconds = started.elapsed().as_secs_f64();
    let dpo = Access::resolve(
        Principal {
            subject: "dpo-bench".into(),
            actor: Actor::Staff,
            roles: vec!["data_protection_officer".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    );
    let certificates = retention
        .certificates(&dpo, &tenant)
        .await
        .expect("certificates");
    assert_eq!(certificates.len(), 2, "one certificate per stage");
    let deleted = certificates
        .iter()
        .flat_map(|c| c.certificate.deleted.values())
        .sum();
    let left = kernel::store::query_all(
        store.as_ref(),
        Query::partition(ItemKey::tenant_partition(&tenant)),
    )
    .await
    .expect("partition")
    .len();
    Outcome {
        seeded,
        deleted,
        left,
        seconds,
        batches: counting.batches.load(Ordering::Relaxed),
    }
}

/// Prints the run and judges it: every seeded item deleted and certified, the partition empty,
/// and at most one batch per 25 items (+ one partial batch per stage).
fn report(label: &str, o: &Outcome) -> bool {
    println!(
        "{label:<34} {:>7} items deleted in {:>7.3} s = {:>9.0} items/s; {} batch deletes (items/25 = {:.1}); {} seeded, {} left in the partition",
        o.deleted,
        o.seconds,
        o.deleted as f64 / o.seconds,
        o.batches,
        o.deleted as f64 / 25.0,
        o.seeded,
        o.left,
    );
    let all_deleted = o.deleted >= o.seeded as u64 && o.left == 0;
    let batches_ok = o.batches <= o.deleted.div_ceil(25) + 2;
    let met = all_deleted && batches_ok;
    println!(
        "{:<34} target every item deleted and ≤ items/25 + 1 batches per stage: {}",
        "",
        if met { "met" } else { "NOT met" }
    );
    met
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; a number among the arguments sets the item count.
    let links = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(100_000);
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T00:00:00Z".parse().expect("ts"),
    ));

    let dir = tempfile::tempdir().expect("tempdir");
    let file = Arc::new(
        infra::EmbeddedStore::open(&dir.path().join("store.db"), clock.clone()).expect("store"),
    );
    let mut met = report(
        "embedded store (SQLite file)",
        &run(file, clock.clone(), links).await,
    );
    let memory = Arc::new(infra::EmbeddedStore::in_memory(clock.clone()).expect("store"));
    met &= report(
        "embedded store (in memory)",
        &run(memory, clock.clone(), links).await,
    );

    if let Ok(endpoint) = std::env::var("REGROOTER_MOTO_ENDPOINT") {
        let links = links.min(2_000);
        let _ = ureq::post(&format!("{endpoint}/moto-api/reset")).send_empty();
        let aws = infra::aws::local_sdk_config(&endpoint, "eu-central-1").await;
        let counter = infra::aws::RequestCounter::default();
        let dynamo = infra::dynamodb::DynamoStore::new(
            counter.client(&aws),
            "regrooter-bench",
            clock.clone(),
        );
        dynamo.create_table().await.expect("table");
        let seeded_batches = counter.count("BatchWriteItem");
        let outcome = run(Arc::new(dynamo), clock, links).await;
        met &= report("DynamoDB (moto)", &outcome);
        println!(
            "{:<34} {} BatchWriteItem requests sent for {} items",
            "",
            counter.count("BatchWriteItem") - seeded_batches,
            outcome.deleted
        );
    } else {
        println!(
            "DynamoDB: skipped (set REGROOTER_MOTO_ENDPOINT to a moto server to count requests)"
        );
    }
    if !met {
        std::process::exit(1);
    }
}
