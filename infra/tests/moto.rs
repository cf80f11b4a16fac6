//! The DynamoDB and KMS adapters against moto's server, a real implementation of both wire
//! protocols. `scripts/test` starts it and exports `REGROOTER_MOTO_ENDPOINT`; every test here
//! resets it first (nextest runs them one at a time: see .config/nextest.toml).
//!
//! Without the endpoint the tests say so and skip — unless `REGROOTER_REQUIRE_MOTO=1` (set by
//! `scripts/test`), in which case a missing server is a failure.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use infra::dynamodb::DynamoStore;
use infra::kms::KmsKeyEncryption;
use kernel::crypto::{
    CryptoError, FieldContext, KekRotation, KeyContext, KeyEncryption, KeyOwner, KeyPurpose,
    Keyring, Personal,
};
use kernel::ids::TenantId;
use kernel::inventory::{GuardedStore, RecordKind};
use kernel::store::{Condition, Item, ItemKey, Store, StoreError};
use kernel::time::ManualClock;

/// Serialises the tests of this binary when run by plain `cargo test` (threads, one process).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Moto {
    aws: aws_config::SdkConfig,
}

async fn moto() -> Option<Moto> {
    let Ok(endpoint) = std::env::var("REGROOTER_MOTO_ENDPOINT") else {
        assert!(
            std::env::var("REGROOTER_REQUIRE_MOTO").is_err(),
            "REGROOTER_REQUIRE_MOTO is set but REGROOTER_MOTO_ENDPOINT is not"
        );
        eprintln!("skipping: no moto server (run scripts/test, which starts one)");
        return None;
    };
    let reset = ureq::post(&format!("{endpoint}/moto-api/reset")).send_empty();
    assert!(reset.is_ok(), "cannot reset moto at {endpoint}: {reset:?}");
    let aws = infra::aws::local_sdk_config(&endpoint, "eu-central-1").await;
    Some(Moto { aws })
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        "2026-06-01T00:00:00Z".parse().expect("ts"),
    ))
}

async fn table(m: &Moto, clock: Arc<ManualClock>) -> DynamoStore {
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&m.aws),
        "regrooter-test",
        clock,
    );
    store.create_table().await.expect("create table");
    store
}

async fn kms_key(m: &Moto) -> String {
    let out = aws_sdk_kms::Client::new(&m.aws)
        .create_key()
        .description("regrooter test key")
        .send()
        .await
        .expect("create key");
    out.key_metadata().expect("metadata").key_id().to_string()
}

#[tokio::test]
async fn moto_dynamodb_passes_the_port_conformance_suite() {
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let store = table(&m, clock()).await;
    kernel::testkit::store_conformance(Arc::new(store), "conf").await;
}

#[tokio::test]
async fn moto_dynamodb_items_have_the_documented_shape() {
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let store = table(&m, clock()).await;
    let acme = TenantId::new("acme").expect("tenant");
    let key = ItemKey::new("T#acme", "PROFILE").expect("key");
    let item = Item::new(key.clone(), RecordKind::Tenant)
        .with_tenant(acme)
        .with_gsi1(ItemKey::new("TENANTS", "acme").expect("gsi"))
        .with_record(&serde_json::json!({"name": "ACME GmbH"}))
        .expect("record");
    assert_eq!(store.put(item, Condition::NotExists).await.expect("put"), 1);
    let raw = aws_sdk_dynamodb::Client::new(&m.aws)
        .get_item()
        .table_name("regrooter-test")
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("T#acme".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()),
        )
        .send()
        .await
        .expect("raw get")
        .item
        .expect("item");
    let mut names: Vec<&str> = raw.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "data", "gsi1pk", "gsi1sk", "kind", "pk", "sk", "tenant", "version"
        ]
    );
    // Removing the index key on the next write removes the attributes, not just their values.
    let plain = Item::new(key.clone(), RecordKind::Tenant)
        .with_tenant(TenantId::new("acme").expect("tenant"))
        .with_record(&serde_json::json!({"name": "ACME"}))
        .expect("record");
    assert_eq!(
        store
            .put(plain, Condition::Version(1))
            .await
            .expect("update"),
        2
    );
    let got = store.get(&key).await.expect("get").expect("present");
    assert_eq!(got.gsi1, None);
    assert_eq!(got.data["name"], "ACME");
}

#[tokio::test]
async fn moto_kms_binds_data_keys_to_tenant_and_purpose() {
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let kek = KmsKeyEncryption::new(aws_sdk_kms::Client::new(&m.aws), kms_key(&m).await);
    let acme = KeyOwner::Tenant(TenantId::new("acme").expect("tenant"));
    let globex = KeyOwner::Tenant(TenantId::new("globex").expect("tenant"));
    let ctx = KeyContext {
        owner: &acme,
        purpose: KeyPurpose::Primary,
    };
    let (plain, wrapped) = kek.generate_data_key(ctx).await.expect("generate");
    assert_eq!(plain.len(), 32);
    assert_ne!(wrapped.blob.as_slice(), plain.as_slice());
    assert_eq!(
        *kek.decrypt_data_key(&wrapped, ctx).await.expect("decrypt"),
        *plain
    );
    let other_tenant = KeyContext {
        owner: &globex,
        purpose: KeyPurpose::Primary,
    };
    assert!(matches!(
        kek.decrypt_data_key(&wrapped, other_tenant).await,
        Err(CryptoError::KeyEncryption(_))
    ));
    let other_purpose = KeyContext {
        owner: &acme,
        purpose: KeyPurpose::Copies,
    };
    assert!(matches!(
        kek.decrypt_data_key(&wrapped, other_purpose).await,
        Err(CryptoError::KeyEncryption(_))
    ));
}

/// The trust statement's evidence of key rotation, read from KMS: off for a new key, automatic
/// once enabled (as Terraform enables it, every 365 days).
#[tokio::test]
async fn moto_kms_reports_whether_the_key_rotates() {
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let client = aws_sdk_kms::Client::new(&m.aws);
    let key = kms_key(&m).await;
    let kek = KmsKeyEncryption::new(client.clone(), key.clone());
    assert_eq!(kek.rotation().await.expect("state"), KekRotation::Off);
    client
        .enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(365)
        .send()
        .await
        .expect("enable rotation");
    match kek.rotation().await.expect("state") {
        // AWS answers with the period; moto's server leaves it out.
        KekRotation::Automatic { period_days, .. } => {
            assert!(period_days.is_none_or(|d| d == 365), "{period_days:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn moto_keyring_seals_into_dynamodb_and_shreds() {
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let clock = clock();
    let store = GuardedStore::new(Arc::new(table(&m, clock.clone()).await));
    let kek = Arc::new(KmsKeyEncryption::new(
        aws_sdk_kms::Client::new(&m.aws),
        kms_key(&m).await,
    ));
    let keyring = Keyring::new(kek, store.shared(), clock);
    let acme = KeyOwner::Tenant(TenantId::new("acme").expect("tenant"));
    let ctx = FieldContext {
        owner: &acme,
        kind: RecordKind::Tenant,
        record_id: "PROFILE",
        field: "contact_email",
    };
    let sealed = keyring
        .seal(
            &ctx,
            KeyPurpose::Primary,
            &Personal::new("jane@acme.example".into()),
        )
        .await
        .expect("seal");
    let item = Item::new(
        ItemKey::new("T#acme", "PROFILE").expect("key"),
        RecordKind::Tenant,
    )
    .with_tenant(TenantId::new("acme").expect("tenant"))
    .with_record(&serde_json::json!({"contact_email": sealed}))
    .expect("record");
    store
        .put(item, Condition::Always)
        .await
        .expect("sealed write");
    let clear = Item::new(
        ItemKey::new("T#acme", "PROFILE").expect("key"),
        RecordKind::Tenant,
    )
    .with_tenant(TenantId::new("acme").expect("tenant"))
    .with_record(&serde_json::json!({"contact_email": "jane@acme.example"}))
    .expect("record");
    assert!(matches!(
        store.put(clear, Condition::Always).await,
        Err(StoreError::Rejected(_))
    ));
    assert_eq!(
        keyring.open(&ctx, &sealed).await.expect("open").expose(),
        "jane@acme.example"
    );

    // A scan of the whole table finds the address nowhere in clear.
    let scan = aws_sdk_dynamodb::Client::new(&m.aws)
        .scan()
        .table_name("regrooter-test")
        .send()
        .await
        .expect("scan");
    let dump = format!("{:?}", scan.items());
    assert!(!dump.contains("jane@acme.example"));

    let destroyed = keyring
        .shred(&acme, &[KeyPurpose::Primary])
        .await
        .expect("shred");
    assert_eq!(destroyed.len(), 1);
    assert!(matches!(
        keyring.open(&ctx, &sealed).await,
        Err(CryptoError::KeyDestroyed(_))
    ));
}

#[tokio::test]
async fn moto_retention_deletes_a_tenant_in_batches_of_25_and_shreds_its_kms_wrapped_keys() {
    use kernel::store::{Query, query_all};
    use retention::{RetentionService, Stage};
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let clock = clock();
    let counter = infra::aws::RequestCounter::default();
    let dynamo = DynamoStore::new(counter.client(&m.aws), "regrooter-test", clock.clone());
    dynamo.create_table().await.expect("create table");
    let store = GuardedStore::new(Arc::new(dynamo));
    let kek = Arc::new(KmsKeyEncryption::new(
        aws_sdk_kms::Client::new(&m.aws),
        kms_key(&m).await,
    ));
    let keyring = Arc::new(Keyring::new(kek, store.shared(), clock.clone()));
    let acme = TenantId::new("acme").expect("tenant");
    let globex = TenantId::new("globex").expect("tenant");
    let now = kernel::Clock::now(clock.as_ref());
    let items = retention::testkit::seed_ended_tenant(store.as_ref(), &keyring, &acme, 300, now)
        .await
        .expect("seed acme");
    retention::testkit::seed_ended_tenant(store.as_ref(), &keyring, &globex, 3, now)
        .await
        .expect("seed globex");
    let export = query_all(
        store.as_ref(),
        Query::partition(ItemKey::tenant_partition(&acme)).prefix("EXPORT#"),
    )
    .await
    .expect("export")
    .remove(0);

    let retention = RetentionService::new(
        store.clone(),
        keyring.clone(),
        clock.clone(),
        Some(Arc::new(kernel::token::SigningKey::generate("cert-moto"))),
        "https://regrooter.test/deletion-certificates",
    );
    let before = counter.count("BatchWriteItem");
    let first = retention
        .run_stage(&acme, Stage::Stage1, now)
        .await
        .expect("stage 1");
    let second = retention
        .run_stage(&acme, Stage::Stage2, now)
        .await
        .expect("stage 2");
    let batches = counter.count("BatchWriteItem") - before;
    // Profile + 300 links in stage 1 (13 batches of at most 25), the export in stage 2 (1).
    assert_eq!(items, 302);
    assert_eq!(batches, 301u64.div_ceil(25) + 1, "{:?}", counter.snapshot());
    eprintln!(
        "retention on DynamoDB: {items} items, {batches} BatchWriteItem requests; all requests: {:?}",
        counter.snapshot()
    );
    // One certificate per stage, read back from DynamoDB: each names its stage and counts
    // what it deleted (stage 1 the profile and the 300 links, stage 2 the export).
    let dpo = kernel::rbac::Access::resolve(
        kernel::rbac::Principal {
            subject: "dpo-1".into(),
            actor: kernel::rbac::Actor::Staff,
            roles: vec!["data_protection_officer".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    );
    let certificates = retention
        .certificates(&dpo, &acme)
        .await
        .expect("certificates");
    let of = |id: &retention::records::CertificateId| {
        certificates
            .iter()
            .map(|c| &c.certificate)
            .find(|c| c.id == *id)
            .unwrap_or_else(|| panic!("no certificate {id}"))
    };
    assert_eq!(certificates.len(), 2);
    let (stage1, stage2) = (of(&first), of(&second));
    assert_eq!((stage1.stage, stage2.stage), (Stage::Stage1, Stage::Stage2));
    assert_eq!(
        stage1.deleted.values().sum::<u64>(),
        301,
        "{:?}",
        stage1.deleted
    );
    assert_eq!(
        stage2.deleted.values().sum::<u64>(),
        1,
        "{:?}",
        stage2.deleted
    );

    let left = query_all(
        store.as_ref(),
        Query::partition(ItemKey::tenant_partition(&acme)),
    )
    .await
    .expect("left");
    assert!(left.is_empty(), "acme items left: {left:?}");
    assert!(matches!(
        retention::exports::open(&keyring, &export).await,
        Err(kernel::Error::Crypto(CryptoError::KeyDestroyed(_)))
    ));
    let globex_items = query_all(
        store.as_ref(),
        Query::partition(ItemKey::tenant_partition(&globex)),
    )
    .await
    .expect("globex");
    assert_eq!(
        globex_items
            .iter()
            .filter(|i| i.kind != RecordKind::DataKey)
            .count(),
        5
    );
}

/// SES v2 on moto: a customer notice sent through the configuration set arrives there (read back
/// through moto's API) with its recipient, subject and both languages; a sender outside the
/// verified identity is refused for good, so the outbox marks it failed instead of retrying.
#[tokio::test]
async fn moto_ses_delivers_the_bilingual_notice_from_the_verified_identity() {
    use incidents::{NoticeSender, OutgoingMessage, SendFailure};
    let _serial = SERIAL.lock().await;
    let Some(m) = moto().await else { return };
    let ses = aws_sdk_sesv2::Client::new(&m.aws);
    ses.create_email_identity()
        .email_identity("notify.regrooter.test")
        .send()
        .await
        .expect("identity");
    ses.create_configuration_set()
        .configuration_set_name("regrooter-test")
        .send()
        .await
        .expect("configuration set");
    let content = incidents::notice::NoticeContent {
        kind: incidents::notice::NoticeKind::Initial,
        first_sent_at: None,
        closed_at: None,
        incident: "inc_1".into(),
        title: None,
        customer_name: "ACME GmbH".into(),
        aware_at: "2026-03-28T09:00:00Z".parse().expect("ts"),
        nature_and_scope: "A missing tenant filter exposed HR records.".into(),
        data_categories: vec![kernel::inventory::DataCategory::Employment],
        approx_data_subjects: incidents::model::Approx { min: 120, max: 150 },
        approx_records: incidents::model::Approx { min: 300, max: 300 },
        likely_consequences: "Phishing.".into(),
        measures: vec![],
        english: incidents::service::EnglishText::default(),
        dpo_contact: "datenschutz@regrooter.de".into(),
    };
    let (subject, body) = incidents::notice::render_bilingual(&content);
    let message = OutgoingMessage {
        id: "inc_1-acme-1".into(),
        to: Personal::new("privacy@acme.example".into()),
        subject: subject.clone(),
        body: Personal::new(body),
    };
    let sender = infra::ses::SesSender::new(
        ses.clone(),
        "security@notify.regrooter.test".into(),
        "regrooter-test".into(),
    );
    let accepted = sender.send(&message).await.expect("accepted");
    assert!(!accepted.transport_id.is_empty());

    let endpoint = std::env::var("REGROOTER_MOTO_ENDPOINT").expect("endpoint");
    let data: serde_json::Value = ureq::get(&format!("{endpoint}/moto-api/data.json"))
        .call()
        .expect("moto data")
        .body_mut()
        .read_json()
        .expect("json");
    let sent = data["ses"]["Message"].as_array().expect("messages");
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let sent = &sent[0];
    assert_eq!(sent["id"], accepted.transport_id.as_str());
    assert_eq!(sent["source"], "security@notify.regrooter.test");
    assert_eq!(
        sent["destinations"]["ToAddresses"],
        serde_json::json!(["privacy@acme.example"])
    );
    assert_eq!(sent["subject"], subject.as_str());
    let text = sent["body"].as_str().expect("body");
    for needle in [
        "Art und Umfang der Verletzung",
        "Nature and scope of the breach",
        "zwischen 120 und 150",
        "between 120 and 150",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }

    let unverified = infra::ses::SesSender::new(
        ses,
        "security@elsewhere.test".into(),
        "regrooter-test".into(),
    );
    match unverified.send(&message).await {
        Err(SendFailure::Permanent(reason)) => {
            assert_eq!(reason, "SES MessageRejected");
        }
        other => panic!("an unverified sender must be refused for good: {other:?}"),
    }
}
