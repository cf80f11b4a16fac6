//! The keyring over the real embedded store: keys are created once, rotate, shred, and personal
//! data reaches the database file only sealed.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use infra::EmbeddedStore;
use kernel::crypto::{
    CryptoError, FieldContext, KeyOwner, KeyPurpose, Keyring, LocalKeyEncryption, Personal,
};
use kernel::ids::TenantId;
use kernel::inventory::{GuardedStore, RecordKind};
use kernel::store::{Condition, Item, ItemKey, StoreError};
use kernel::time::ManualClock;
use zeroize::Zeroizing;

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    store: GuardedStore,
    keyring: Keyring,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("store.db");
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T00:00:00Z".parse().expect("ts"),
    ));
    let raw = Arc::new(EmbeddedStore::open(&db, clock.clone()).expect("open"));
    let store = GuardedStore::new(raw);
    let kek = Arc::new(LocalKeyEncryption::new(
        "test",
        &Zeroizing::new(kernel::random::bytes::<32>()),
    ));
    let keyring = Keyring::new(kek, store.shared(), clock);
    Fixture {
        _dir: dir,
        db,
        store,
        keyring,
    }
}

fn tenant(s: &str) -> KeyOwner {
    KeyOwner::Tenant(TenantId::new(s).expect("tenant"))
}

fn ctx<'a>(owner: &'a KeyOwner, field: &'a str) -> FieldContext<'a> {
    FieldContext {
        owner,
        kind: RecordKind::Tenant,
        record_id: "PROFILE",
        field,
    }
}

#[tokio::test]
async fn personal_data_reaches_the_database_only_sealed() {
    let f = fixture();
    let acme = tenant("acme");
    let email = Personal::new("jane.doe@acme.example".to_string());
    let sealed = f
        .keyring
        .seal(&ctx(&acme, "contact_email"), KeyPurpose::Primary, &email)
        .await
        .expect("seal");

    let KeyOwner::Tenant(acme_id) = &acme else {
        unreachable!()
    };
    let key = ItemKey::new(ItemKey::tenant_partition(acme_id), "PROFILE").expect("key");
    let item = Item::new(key.clone(), RecordKind::Tenant)
        .with_tenant(acme_id.clone())
        .with_record(&serde_json::json!({"name": "ACME GmbH", "contact_email": sealed}))
        .expect("record");
    f.store
        .put(item, Condition::Always)
        .await
        .expect("sealed write accepted");

    // The guard refuses the same field in clear, before anything is written.
    let clear = Item::new(
        ItemKey::new(ItemKey::tenant_partition(acme_id), "PROFILE2").expect("key"),
        RecordKind::Tenant,
    )
    .with_tenant(acme_id.clone())
    .with_record(&serde_json::json!({"contact_email": "jane.doe@acme.example"}))
    .expect("record");
    assert!(matches!(
        f.store.put(clear, Condition::Always).await,
        Err(StoreError::Rejected(_))
    ));

    // Read back and open.
    let stored = f.store.get(&key).await.expect("get").expect("present");
    let sealed_back: kernel::crypto::SealedField =
        serde_json::from_value(stored.data["contact_email"].clone()).expect("sealed");
    let opened = f
        .keyring
        .open(&ctx(&acme, "contact_email"), &sealed_back)
        .await
        .expect("open");
    assert_eq!(opened.expose(), "jane.doe@acme.example");

    // Nowhere in the database files is the address in clear.
    for suffix in ["", "-wal"] {
        let mut path = f.db.clone().into_os_string();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(b"jane.doe".len()).any(|w| w == b"jane.doe"),
                "plaintext in {path:?}"
            );
        }
    }
}

#[tokio::test]
async fn rotation_keeps_old_values_readable() {
    let f = fixture();
    let acme = tenant("acme");
    let old = f
        .keyring
        .seal(
            &ctx(&acme, "f"),
            KeyPurpose::Primary,
            &Personal::new("before".into()),
        )
        .await
        .expect("seal");
    assert_eq!(old.key_ref().expect("ref").1, 1);
    assert_eq!(
        f.keyring
            .rotate(&acme, KeyPurpose::Primary)
            .await
            .expect("rotate"),
        2
    );
    let new = f
        .keyring
        .seal(
            &ctx(&acme, "f"),
            KeyPurpose::Primary,
            &Personal::new("after".into()),
        )
        .await
        .expect("seal");
    assert_eq!(new.key_ref().expect("ref").1, 2);
    assert_eq!(
        f.keyring
            .open(&ctx(&acme, "f"), &old)
            .await
            .expect("old")
            .expose(),
        "before"
    );
    assert_eq!(
        f.keyring
            .open(&ctx(&acme, "f"), &new)
            .await
            .expect("new")
            .expose(),
        "after"
    );
}

#[tokio::test]
async fn shredding_makes_every_copy_unreadable_and_touches_nobody_else() {
    let f = fixture();
    let acme = tenant("acme");
    let globex = tenant("globex");
    let primary = f
        .keyring
        .seal(
            &ctx(&acme, "f"),
            KeyPurpose::Primary,
            &Personal::new("live".into()),
        )
        .await
        .expect("seal");
    let export = f
        .keyring
        .seal(
            &ctx(&acme, "f"),
            KeyPurpose::Copies,
            &Personal::new("exported".into()),
        )
        .await
        .expect("seal");
    let theirs = f
        .keyring
        .seal(
            &ctx(&globex, "f"),
            KeyPurpose::Primary,
            &Personal::new("globex".into()),
        )
        .await
        .expect("seal");
    f.keyring
        .rotate(&acme, KeyPurpose::Primary)
        .await
        .expect("rotate");

    let destroyed = f
        .keyring
        .shred(&acme, &[KeyPurpose::Primary])
        .await
        .expect("shred");
    assert_eq!(destroyed.len(), 2, "both versions of the primary key");
    assert!(matches!(
        f.keyring.open(&ctx(&acme, "f"), &primary).await,
        Err(CryptoError::KeyDestroyed(_))
    ));
    // The copies key is another scope: still readable until stage 2 shreds it.
    assert_eq!(
        f.keyring
            .open(&ctx(&acme, "f"), &export)
            .await
            .expect("copy")
            .expose(),
        "exported"
    );
    assert_eq!(
        f.keyring
            .open(&ctx(&globex, "f"), &theirs)
            .await
            .expect("globex")
            .expose(),
        "globex"
    );
    // Idempotent.
    assert!(
        f.keyring
            .shred(&acme, &[KeyPurpose::Primary])
            .await
            .expect("again")
            .is_empty()
    );

    f.keyring
        .shred(&acme, &[KeyPurpose::Copies])
        .await
        .expect("stage 2");
    assert!(matches!(
        f.keyring.open(&ctx(&acme, "f"), &export).await,
        Err(CryptoError::KeyDestroyed(_))
    ));
}

#[tokio::test]
async fn a_value_moved_to_another_tenant_does_not_open() {
    let f = fixture();
    let acme = tenant("acme");
    let globex = tenant("globex");
    let sealed = f
        .keyring
        .seal(
            &ctx(&acme, "f"),
            KeyPurpose::Primary,
            &Personal::new("acme only".into()),
        )
        .await
        .expect("seal");
    // Make sure Globex has a key of the same purpose and version.
    f.keyring
        .seal(
            &ctx(&globex, "f"),
            KeyPurpose::Primary,
            &Personal::new("x".into()),
        )
        .await
        .expect("seal");
    assert!(matches!(
        f.keyring.open(&ctx(&globex, "f"), &sealed).await,
        Err(CryptoError::Authentication)
    ));
}
