//! The embedded store against the port conformance suite, plus durability under `kill -9`.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use infra::EmbeddedStore;
use kernel::inventory::RecordKind;
use kernel::store::{Condition, Item, ItemKey, Query, Store, query_all};
use kernel::time::{ManualClock, SystemClock};

#[tokio::test]
async fn embedded_store_passes_the_port_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T00:00:00Z".parse().expect("ts"),
    ));
    let store = EmbeddedStore::open(&dir.path().join("store.db"), clock).expect("open");
    kernel::testkit::store_conformance(Arc::new(store), "conf").await;
}

const CHILD_ENV: &str = "REGROOTER_DURABILITY_CHILD_DIR";

/// Run by `kill_9_loses_nothing_acknowledged` in a child process: writes items one by one and
/// prints "ack N" after each write returned.
#[tokio::test]
#[ignore = "helper process for kill_9_loses_nothing_acknowledged"]
async fn durability_writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = EmbeddedStore::open(
        &std::path::Path::new(&dir).join("store.db"),
        Arc::new(SystemClock),
    )
    .expect("open");
    for n in 0u64.. {
        let key = ItemKey::new("durability", format!("{n:012}")).expect("key");
        let mut item = Item::new(key, RecordKind::Tenant);
        item.data.insert("n".into(), n.into());
        store.put(item, Condition::NotExists).await.expect("put");
        println!("ack {n}");
    }
}

#[test]
fn the_store_on_disk_runs_in_wal_mode_with_every_commit_synced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        EmbeddedStore::open(&dir.path().join("store.db"), Arc::new(SystemClock)).expect("open");
    let durability = store.durability().expect("pragmas");
    assert_eq!(durability.journal_mode, "wal");
    assert_eq!(durability.synchronous, 2, "synchronous=FULL");
}

// Catches a commit acknowledged before it reached the WAL; a lost fsync would survive a killed
// process (the page cache stays), which the pragma test above holds instead.
#[tokio::test]
async fn kill_9_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "durability_writer_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("stdout");
    let mut last_ack = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(n) = line.strip_prefix("ack ") {
            let n: u64 = n.trim().parse().expect("number");
            last_ack = Some(n);
            if n >= 300 {
                break;
            }
        }
    }
    // SIGKILL: no destructors, no flushes, no chance to finish the write in flight.
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let _ = child.wait();
    let last_ack = last_ack.expect("the writer acknowledged writes");

    let store =
        EmbeddedStore::open(&dir.path().join("store.db"), Arc::new(SystemClock)).expect("reopen");
    let items = query_all(&store, Query::partition("durability").limit(1000))
        .await
        .expect("query");
    for n in 0..=last_ack {
        let key = ItemKey::new("durability", format!("{n:012}")).expect("key");
        assert!(
            items.iter().any(|i| i.key == key),
            "acknowledged write {n} is missing after kill -9 (last ack {last_ack})"
        );
    }
}
