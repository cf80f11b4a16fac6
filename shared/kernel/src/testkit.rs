//! Test support shared by the adapters' test suites: one port conformance suite that every
//! [`Store`] implementation must pass (the embedded store and DynamoDB run the same checks).
// A test suite run by the adapters' tests: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::json;

use crate::ids::TenantId;
use crate::inventory::RecordKind;
use crate::store::{
    Condition, Item, ItemKey, MAX_BATCH_ITEMS, MAX_TRANSACTION_ITEMS, Query, Store, StoreError,
    WriteOp, query_all,
};

fn key(pk: &str, sk: &str) -> ItemKey {
    ItemKey::new(pk, sk).unwrap_or_else(|e| panic!("test key {pk}/{sk}: {e}"))
}

fn item(pk: &str, sk: &str, n: i64) -> Item {
    let mut item = Item::new(key(pk, sk), RecordKind::Tenant);
    item.data.insert("n".into(), json!(n));
    item
}

/// Runs every conformance check against a store. `prefix` keeps runs apart when the store is
/// shared; each check uses its own partitions under it.
pub async fn store_conformance(store: Arc<dyn Store>, prefix: &str) {
    conditional_writes(store.as_ref(), prefix).await;
    transactions_are_atomic(store.as_ref(), prefix).await;
    queries_page_and_range(store.as_ref(), prefix).await;
    secondary_index(store.as_ref(), prefix).await;
    batch_delete(store.as_ref(), prefix).await;
    limits(store.as_ref(), prefix).await;
}

async fn conditional_writes(store: &dyn Store, prefix: &str) {
    let pk = format!("{prefix}-cond");
    let v1 = store
        .put(item(&pk, "a", 1), Condition::NotExists)
        .await
        .expect("create");
    assert_eq!(v1, 1);
    assert!(
        matches!(
            store.put(item(&pk, "a", 2), Condition::NotExists).await,
            Err(StoreError::ConditionFailed(_))
        ),
        "second create must fail"
    );
    let v2 = store
        .put(item(&pk, "a", 2), Condition::Version(1))
        .await
        .expect("update v1");
    assert_eq!(v2, 2);
    assert!(
        matches!(
            store.put(item(&pk, "a", 3), Condition::Version(1)).await,
            Err(StoreError::ConditionFailed(_))
        ),
        "stale version must fail"
    );
    let got = store
        .get(&key(&pk, "a"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(got.version, 2);
    assert_eq!(got.data.get("n"), Some(&json!(2)));
    assert!(matches!(
        store.put(item(&pk, "missing", 1), Condition::Exists).await,
        Err(StoreError::ConditionFailed(_))
    ));
    assert!(matches!(
        store.delete(&key(&pk, "a"), Condition::Version(1)).await,
        Err(StoreError::ConditionFailed(_))
    ));
    assert!(
        store
            .delete(&key(&pk, "a"), Condition::Version(2))
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete(&key(&pk, "a"), Condition::Always)
            .await
            .expect("delete again")
    );
    assert_eq!(store.get(&key(&pk, "a")).await.expect("get"), None);

    // Tenant, index key and expiry survive the round trip.
    let acme = TenantId::new("acme").expect("tenant");
    let expires: crate::time::Timestamp = "2999-01-01T00:00:00Z".parse().expect("ts");
    let full = item(&pk, "full", 7)
        .with_tenant(acme.clone())
        .with_gsi1(key(&format!("{pk}-idx"), "s1"))
        .with_expiry(expires);
    store.put(full, Condition::Always).await.expect("put full");
    let got = store
        .get(&key(&pk, "full"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(got.tenant, Some(acme));
    assert_eq!(got.gsi1, Some(key(&format!("{pk}-idx"), "s1")));
    assert_eq!(got.expires_at, Some(expires));
    assert_eq!(got.kind, RecordKind::Tenant);

    // Expired items are absent, and a create over an expired item succeeds.
    let past: crate::time::Timestamp = "2000-01-01T00:00:00Z".parse().expect("ts");
    store
        .put(item(&pk, "old", 1).with_expiry(past), Condition::Always)
        .await
        .expect("put");
    assert_eq!(store.get(&key(&pk, "old")).await.expect("get"), None);
    let version = store
        .put(item(&pk, "old", 2), Condition::NotExists)
        .await
        .expect("create over expired");
    assert_eq!(
        version, 1,
        "a create over an expired item starts a new life"
    );
}

async fn transactions_are_atomic(store: &dyn Store, prefix: &str) {
    let pk = format!("{prefix}-tx");
    store
        .put(item(&pk, "a", 1), Condition::NotExists)
        .await
        .expect("seed");
    // The second operation's condition fails: nothing of the transaction may be applied.
    let result = store
        .transact(vec![
            WriteOp::Put {
                item: item(&pk, "b", 1),
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: item(&pk, "a", 9),
                condition: Condition::Version(7),
            },
            WriteOp::Delete {
                key: key(&pk, "c"),
                condition: Condition::Always,
            },
        ])
        .await;
    match result {
        Err(StoreError::TransactionCanceled { index, .. }) => assert_eq!(index, 1),
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(
        store.get(&key(&pk, "b")).await.expect("get"),
        None,
        "no partial write"
    );
    assert_eq!(
        store
            .get(&key(&pk, "a"))
            .await
            .expect("get")
            .expect("a")
            .data
            .get("n"),
        Some(&json!(1))
    );
    // A check on another item guards the transaction without writing it.
    store
        .transact(vec![
            WriteOp::Put {
                item: item(&pk, "b", 1),
                condition: Condition::NotExists,
            },
            WriteOp::Check {
                key: key(&pk, "a"),
                condition: Condition::Version(1),
            },
        ])
        .await
        .expect("transaction applies");
    assert!(store.get(&key(&pk, "b")).await.expect("get").is_some());
    assert!(matches!(
        store
            .transact(vec![
                WriteOp::Delete {
                    key: key(&pk, "b"),
                    condition: Condition::Always
                },
                WriteOp::Check {
                    key: key(&pk, "a"),
                    condition: Condition::NotExists
                },
            ])
            .await,
        Err(StoreError::TransactionCanceled { index: 1, .. })
    ));
    assert!(
        store.get(&key(&pk, "b")).await.expect("get").is_some(),
        "delete rolled back"
    );
    assert!(matches!(
        store
            .transact(vec![
                WriteOp::Put {
                    item: item(&pk, "d", 1),
                    condition: Condition::Always
                },
                WriteOp::Delete {
                    key: key(&pk, "d"),
                    condition: Condition::Always
                },
            ])
            .await,
        Err(StoreError::DuplicateKey(_))
    ));
}

async fn queries_page_and_range(store: &dyn Store, prefix: &str) {
    let pk = format!("{prefix}-q");
    for i in 0..25 {
        store
            .put(item(&pk, &format!("A#{i:03}"), i), Condition::Always)
            .await
            .expect("put");
    }
    for i in 0..5 {
        store
            .put(item(&pk, &format!("B#{i:03}"), i), Condition::Always)
            .await
            .expect("put");
    }
    store
        .put(item(&format!("{pk}x"), "A#000", 0), Condition::Always)
        .await
        .expect("other partition");

    let mut seen = Vec::new();
    let mut query = Query::partition(&pk).prefix("A#").limit(10);
    let mut pages = 0;
    loop {
        let page = store.query(query.clone()).await.expect("query");
        pages += 1;
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|i| i.key.sk.clone()));
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    assert!(pages >= 3);
    let expected: Vec<String> = (0..25).map(|i| format!("A#{i:03}")).collect();
    assert_eq!(seen, expected, "every item once, in order");

    let all = query_all(store, Query::partition(&pk).limit(7))
        .await
        .expect("all");
    assert_eq!(all.len(), 30);
    let between = query_all(store, Query::partition(&pk).between("A#010", "A#012"))
        .await
        .expect("between");
    assert_eq!(between.len(), 3);
    let from = query_all(store, Query::partition(&pk).from("B#003"))
        .await
        .expect("from");
    assert_eq!(from.len(), 2);
    let desc = store
        .query(Query::partition(&pk).prefix("A#").descending().limit(2))
        .await
        .expect("desc");
    let sks: Vec<_> = desc.items.iter().map(|i| i.key.sk.as_str()).collect();
    assert_eq!(sks, vec!["A#024", "A#023"]);
    let desc_all = query_all(
        store,
        Query::partition(&pk).prefix("B#").descending().limit(2),
    )
    .await
    .expect("desc all");
    let sks: Vec<_> = desc_all.iter().map(|i| i.key.sk.as_str()).collect();
    assert_eq!(sks, vec!["B#004", "B#003", "B#002", "B#001", "B#000"]);
    let bad = store
        .query(Query::partition(&pk).after(Some(crate::store::Cursor("not-a-cursor".into()))))
        .await;
    assert!(matches!(bad, Err(StoreError::BadCursor)), "{bad:?}");
}

async fn secondary_index(store: &dyn Store, prefix: &str) {
    let pk = format!("{prefix}-g");
    let idx = format!("{prefix}-gidx");
    for i in 0..12 {
        let it = item(&format!("{pk}{}", i % 3), &format!("s{i:02}"), i)
            .with_gsi1(key(&idx, &format!("open#{i:02}")));
        store.put(it, Condition::Always).await.expect("put");
    }
    store
        .put(item(&pk, "plain", 0), Condition::Always)
        .await
        .expect("not indexed");
    let found = query_all(store, Query::gsi1(&idx).prefix("open#").limit(5))
        .await
        .expect("gsi query");
    let order: Vec<_> = found
        .iter()
        .map(|i| i.gsi1.as_ref().map(|g| g.sk.clone()))
        .collect();
    let expected: Vec<_> = (0..12).map(|i| Some(format!("open#{i:02}"))).collect();
    assert_eq!(order, expected);
    // Moving an item in the index follows its latest write.
    let moved = item(&format!("{pk}0"), "s00", 0).with_gsi1(key(&idx, "closed#00"));
    store.put(moved, Condition::Always).await.expect("update");
    let open = query_all(store, Query::gsi1(&idx).prefix("open#"))
        .await
        .expect("gsi");
    assert_eq!(open.len(), 11);
}

async fn batch_delete(store: &dyn Store, prefix: &str) {
    let pk = format!("{prefix}-b");
    for i in 0..30 {
        store
            .put(item(&pk, &format!("{i:03}"), i), Condition::Always)
            .await
            .expect("put");
    }
    let keys: Vec<ItemKey> = (0..25).map(|i| key(&pk, &format!("{i:03}"))).collect();
    let mut pending = keys;
    for _ in 0..10 {
        if pending.is_empty() {
            break;
        }
        pending = store
            .batch_delete(pending)
            .await
            .expect("batch")
            .unprocessed;
    }
    assert!(pending.is_empty());
    let left = query_all(store, Query::partition(&pk)).await.expect("left");
    assert_eq!(left.len(), 5);
    // Absent items are fine.
    store
        .batch_delete(vec![key(&pk, "nope")])
        .await
        .expect("absent");
}

async fn limits(store: &dyn Store, prefix: &str) {
    let pk = format!("{prefix}-l");
    let too_many: Vec<WriteOp> = (0..=MAX_TRANSACTION_ITEMS)
        .map(|i| WriteOp::Put {
            item: item(&pk, &format!("{i}"), 0),
            condition: Condition::Always,
        })
        .collect();
    assert!(matches!(
        store.transact(too_many).await,
        Err(StoreError::TooMany { .. })
    ));
    let keys: Vec<ItemKey> = (0..=MAX_BATCH_ITEMS)
        .map(|i| key(&pk, &format!("{i}")))
        .collect();
    assert!(matches!(
        store.batch_delete(keys).await,
        Err(StoreError::TooMany { .. })
    ));
    let mut big = item(&pk, "big", 0);
    big.data
        .insert("blob".into(), json!("x".repeat(400 * 1024)));
    assert!(matches!(
        store.put(big, Condition::Always).await,
        Err(StoreError::TooLarge(_))
    ));
    assert!(
        matches!(
            ItemKey::new("has space", "x"),
            Err(StoreError::InvalidKey(why)) if why.contains("partition key 'has space' must be printable ASCII")
        ),
        "a partition key with a space"
    );
    assert!(
        matches!(
            ItemKey::new("ok", ""),
            Err(StoreError::InvalidKey(why)) if why.contains("sort key must be 1 to 1024 bytes")
        ),
        "an empty sort key"
    );
}

/// One stored item of `kind` as the platform wrote it (`tests/fixtures/records/<kind>.json`,
/// taken from a real run's store): its key, tenant, index key, expiry and record.
pub fn golden_item(kind: RecordKind) -> Item {
    let path = format!(
        "{}/../../tests/fixtures/records/{}.json",
        env!("CARGO_MANIFEST_DIR"),
        kind.as_str()
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let stored: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
    let text_of = |field: &str| stored[field].as_str().map(str::to_string);
    let mut item = Item::new(
        key(&text_of("pk").expect("pk"), &text_of("sk").expect("sk")),
        kind,
    );
    if let Some(tenant) = text_of("tenant") {
        item = item.with_tenant(TenantId::new(&tenant).expect("tenant"));
    }
    if let (Some(pk), Some(sk)) = (text_of("gsi1pk"), text_of("gsi1sk")) {
        item = item.with_gsi1(key(&pk, &sk));
    }
    if let Some(seconds) = stored["expires_at"].as_i64() {
        item = item.with_expiry(crate::time::Timestamp::from_second(seconds).expect("expiry"));
    }
    item.data = stored["data"]
        .as_object()
        .cloned()
        .expect("data is an object");
    item
}

/// The golden item of `kind` read as `T` and written again: the same JSON — a renamed,
/// dropped or reshaped field of a stored record fails here before it fails on old data.
pub fn golden_record<T: serde::de::DeserializeOwned + serde::Serialize>(kind: RecordKind) -> T {
    let item = golden_item(kind);
    let record: T = item
        .record()
        .unwrap_or_else(|e| panic!("{kind}: the stored record no longer reads: {e}"));
    let again = serde_json::to_value(&record).expect("serialise");
    assert_eq!(
        again,
        serde_json::Value::Object(item.data.clone()),
        "{kind}: the record no longer writes as it was stored"
    );
    record
}
