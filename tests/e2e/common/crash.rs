//! A store that dies at a chosen write, as the process would: the crash tests of retention and
//! of the outbox drain.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use kernel::store::{
    BatchOutcome, Condition, Item, ItemKey, Page, Query, Store, StoreError, WriteOp,
};

#[derive(Clone, Copy, Debug)]
pub enum CrashMode {
    /// The process dies before the write reaches the store.
    Before,
    /// The write is applied, then the process dies before it learns so. A batch delete applies
    /// only its first half (a crash in the middle of a batch).
    After,
}

/// Counts writes and fails the chosen one, as if the process had died there. Reads pass.
pub struct CrashingStore {
    inner: Arc<dyn Store>,
    writes: AtomicUsize,
    crash_at: AtomicUsize,
    after: AtomicBool,
    crashed: AtomicBool,
}

impl CrashingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            writes: AtomicUsize::new(0),
            crash_at: AtomicUsize::new(usize::MAX),
            after: AtomicBool::new(false),
            crashed: AtomicBool::new(false),
        }
    }

    pub fn arm(&self, at: usize, mode: CrashMode) {
        self.writes.store(0, Ordering::SeqCst);
        self.crashed.store(false, Ordering::SeqCst);
        self.after
            .store(matches!(mode, CrashMode::After), Ordering::SeqCst);
        self.crash_at.store(at, Ordering::SeqCst);
    }

    /// Writes since the last `arm`.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Whether the armed write came (and failed).
    pub fn crashed(&self) -> bool {
        self.crashed.load(Ordering::SeqCst)
    }

    pub fn disarm(&self) {
        self.crash_at.store(usize::MAX, Ordering::SeqCst);
    }

    /// Whether this write is the one that crashes (and whether it is applied first).
    fn next_write(&self) -> Option<bool> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst);
        if n == self.crash_at.load(Ordering::SeqCst) {
            self.crashed.store(true, Ordering::SeqCst);
            Some(self.after.load(Ordering::SeqCst))
        } else {
            None
        }
    }

    fn crash() -> StoreError {
        StoreError::Unavailable("injected crash".into())
    }
}

#[async_trait]
impl Store for CrashingStore {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        match self.next_write() {
            None => self.inner.put(item, condition).await,
            Some(applied) => {
                if applied {
                    self.inner.put(item, condition).await?;
                }
                Err(Self::crash())
            }
        }
    }

    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        match self.next_write() {
            None => self.inner.delete(key, condition).await,
            Some(applied) => {
                if applied {
                    self.inner.delete(key, condition).await?;
                }
                Err(Self::crash())
            }
        }
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        match self.next_write() {
            None => self.inner.transact(ops).await,
            Some(applied) => {
                if applied {
                    self.inner.transact(ops).await?;
                }
                Err(Self::crash())
            }
        }
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
        match self.next_write() {
            None => self.inner.batch_delete(keys).await,
            Some(applied) => {
                if applied {
                    let half = keys.len() / 2;
                    self.inner.batch_delete(keys[..half].to_vec()).await?;
                }
                Err(Self::crash())
            }
        }
    }
}
