//! A store that makes concurrent requests collide for sure: once armed, the first `n` reads of
//! the keys it watches each wait until all `n` have read, so `n` concurrent requests decide on
//! the same version of a record; it counts the writes a condition then refused. Without it,
//! "concurrent" requests over the embedded store (whose calls never yield) may simply run one
//! after the other and the retry path never runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kernel::store::{
    BatchOutcome, Condition, Item, ItemKey, Page, Query, Store, StoreError, WriteOp,
};

pub struct Gate {
    watches: fn(&ItemKey) -> bool,
    held: AtomicUsize,
    barrier: std::sync::Mutex<Option<Arc<tokio::sync::Barrier>>>,
    conflicts: AtomicUsize,
}

impl Gate {
    /// A gate on the reads of the keys `watches` accepts; not armed yet.
    pub fn new(watches: fn(&ItemKey) -> bool) -> Arc<Self> {
        Arc::new(Gate {
            watches,
            held: AtomicUsize::new(0),
            barrier: std::sync::Mutex::new(None),
            conflicts: AtomicUsize::new(0),
        })
    }

    /// Holds the next `n` watched reads until all `n` happened.
    pub fn arm(&self, n: usize) {
        *self.barrier.lock().expect("lock") = Some(Arc::new(tokio::sync::Barrier::new(n)));
        self.held.store(n, Ordering::SeqCst);
    }

    /// Writes refused by a condition (a version that moved, a transaction cancelled).
    pub fn conflicts(&self) -> usize {
        self.conflicts.load(Ordering::SeqCst)
    }

    /// `inner` behind this gate.
    pub fn store(self: &Arc<Self>, inner: Arc<dyn Store>) -> Arc<dyn Store> {
        Arc::new(GatedStore {
            inner,
            gate: self.clone(),
        })
    }
}

struct GatedStore {
    inner: Arc<dyn Store>,
    gate: Arc<Gate>,
}

impl GatedStore {
    fn counted<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(StoreError::ConditionFailed(_) | StoreError::TransactionCanceled { .. }) =
            &result
        {
            self.gate.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
}

#[async_trait::async_trait]
impl Store for GatedStore {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError> {
        // Read first, then wait: every held reader has read before any of them goes on.
        let read = self.inner.get(key).await;
        if (self.gate.watches)(key)
            && self
                .gate
                .held
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            let barrier = self.gate.barrier.lock().expect("lock").clone();
            if let Some(barrier) = barrier {
                // A reader that never comes fails the test's assertions instead of hanging it.
                let _ = tokio::time::timeout(Duration::from_secs(10), barrier.wait()).await;
            }
        }
        read
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        let result = self.inner.put(item, condition).await;
        self.counted(result)
    }
    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        let result = self.inner.delete(key, condition).await;
        self.counted(result)
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let result = self.inner.transact(ops).await;
        self.counted(result)
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
        self.inner.batch_delete(keys).await
    }
}
