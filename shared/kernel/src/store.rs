//! Storage ports, shaped so DynamoDB implements them directly (single-table design):
//! items addressed by a partition key and a sort key, optimistic versions for conditional writes,
//! small all-or-nothing transactions, paged queries by partition key with a sort-key range,
//! one secondary index, batch deletes that may leave work unprocessed, and expiry (TTL) for
//! short-lived items only.
//!
//! Layout rules (enforced by [`crate::inventory::InventoryGuard`]):
//! * every item of a tenant lives in the partition `T#<tenant>` — one Query lists all of a
//!   tenant's data, which is what retention needs;
//! * platform records (reports, incidents) live in partitions of their own kind;
//! * personal data appears only as sealed values (see [`crate::crypto`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::ids::TenantId;
use crate::inventory::RecordKind;
use crate::time::Timestamp;

/// DynamoDB's TransactWriteItems limit we design for (the service allows 100; 25 keeps every
/// transaction also within a single BatchWriteItem's size).
pub const MAX_TRANSACTION_ITEMS: usize = 25;
/// BatchWriteItem takes at most 25 requests.
pub const MAX_BATCH_ITEMS: usize = 25;
/// Largest page a query returns.
pub const MAX_PAGE: u32 = 1_000;
/// DynamoDB's item limit is 400 KB; we stay under it with room for attribute names.
pub const MAX_ITEM_BYTES: usize = 380 * 1024;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("condition failed for {0}")]
    ConditionFailed(ItemKey),
    #[error("transaction cancelled at operation {index}: {reason}")]
    TransactionCanceled { index: usize, reason: String },
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("at most {limit} operations per call, got {got}")]
    TooMany { limit: usize, got: usize },
    #[error("the same item appears twice in one transaction: {0}")]
    DuplicateKey(ItemKey),
    #[error("item too large: {0} bytes")]
    TooLarge(usize),
    #[error("invalid paging cursor")]
    BadCursor,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("refused by the data inventory: {0}")]
    Rejected(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether a conditional write failed only because another writer changed what it read
    /// first: reading again and retrying may succeed.
    pub fn is_lost_race(&self) -> bool {
        matches!(
            self,
            StoreError::ConditionFailed(_) | StoreError::TransactionCanceled { .. }
        )
    }
}

/// Runs `attempt` (read, change, write under the version read) again as long as it loses the
/// race to another writer, at most `attempts` times; then answers `gave_up` (the caller says
/// what kept changing). Any other outcome is returned as it is.
///
/// (A closure returning a future rather than an async closure: the futures of the services'
/// handlers must be `Send`, which async closures cannot promise yet.)
pub async fn retry_lost_races<T, Attempt>(
    attempts: usize,
    gave_up: impl FnOnce() -> crate::error::Error,
    mut attempt: impl FnMut() -> Attempt,
) -> Result<T, crate::error::Error>
where
    Attempt: Future<Output = Result<T, crate::error::Error>>,
{
    for _ in 0..attempts {
        match attempt().await {
            Err(e) if e.is_lost_race() => continue,
            other => return other,
        }
    }
    Err(gave_up())
}

/// Primary key of an item. Keys are printable ASCII (ids, prefixes and `#` separators), which
/// keeps byte order, DynamoDB order and SQLite order the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

fn check_key_part(part: &str, what: &str, max: usize) -> Result<(), StoreError> {
    if part.is_empty() || part.len() > max {
        return Err(StoreError::InvalidKey(format!(
            "{what} must be 1 to {max} bytes"
        )));
    }
    if !part.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(StoreError::InvalidKey(format!(
            "{what} '{part}' must be printable ASCII without spaces"
        )));
    }
    Ok(())
}

impl ItemKey {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Result<Self, StoreError> {
        let key = Self {
            pk: pk.into(),
            sk: sk.into(),
        };
        key.validate()?;
        Ok(key)
    }

    pub fn validate(&self) -> Result<(), StoreError> {
        check_key_part(&self.pk, "partition key", 1024)?;
        check_key_part(&self.sk, "sort key", 1024)
    }

    /// The partition holding everything of one tenant.
    pub fn tenant_partition(tenant: &TenantId) -> String {
        format!("T#{tenant}")
    }
}

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: ItemKey,
    pub kind: RecordKind,
    /// The tenant whose data this is, if any: used by isolation and retention guards.
    pub tenant: Option<TenantId>,
    /// Key in the secondary index, if the item should appear there.
    pub gsi1: Option<ItemKey>,
    /// Only for short-lived kinds (rate and idempotency records): the item counts as absent from
    /// this instant on and is removed by the store's expiry.
    pub expires_at: Option<Timestamp>,
    /// Optimistic version: 1 after the first write, +1 per write. Ignored on input.
    pub version: u64,
    /// The record's fields. Personal data only as sealed strings.
    pub data: Map<String, Value>,
}

impl Item {
    pub fn new(key: ItemKey, kind: RecordKind) -> Self {
        Self {
            key,
            kind,
            tenant: None,
            gsi1: None,
            expires_at: None,
            version: 0,
            data: Map::new(),
        }
    }

    pub fn with_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    pub fn with_gsi1(mut self, key: ItemKey) -> Self {
        self.gsi1 = Some(key);
        self
    }

    pub fn with_expiry(mut self, at: Timestamp) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Stores a serialisable record as the item's data (it must serialise to a JSON object).
    pub fn with_record<T: Serialize>(mut self, record: &T) -> Result<Self, StoreError> {
        match serde_json::to_value(record) {
            Ok(Value::Object(map)) => {
                self.data = map;
                Ok(self)
            }
            Ok(_) => Err(StoreError::Corrupt(
                "a record must serialise to an object".into(),
            )),
            Err(e) => Err(StoreError::Corrupt(e.to_string())),
        }
    }

    /// Reads the item's data back as a record.
    pub fn record<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(Value::Object(self.data.clone()))
            .map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", self.kind, self.key)))
    }

    /// Whether the item has expired at `now` (expired items are treated as absent).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Approximate stored size, for the item size limit.
    pub fn approximate_size(&self) -> usize {
        let data = serde_json::to_string(&self.data)
            .map(|s| s.len())
            .unwrap_or(usize::MAX / 2);
        data + self.key.pk.len() + self.key.sk.len() + 128
    }
}

/// When a write may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Unconditionally.
    Always,
    /// Only if no (unexpired) item has this key: creates.
    NotExists,
    /// Only if an item has this key.
    Exists,
    /// Only if the stored item has exactly this version: optimistic concurrency.
    Version(u64),
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: ItemKey,
        condition: Condition,
    },
    /// Asserts a condition on an item the transaction does not write.
    Check {
        key: ItemKey,
        condition: Condition,
    },
}

impl WriteOp {
    pub fn key(&self) -> &ItemKey {
        match self {
            WriteOp::Put { item, .. } => &item.key,
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => key,
        }
    }
}

/// Which key a query runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
}

/// Sort-key condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    All,
    Prefix(String),
    /// Inclusive on both ends, as DynamoDB's BETWEEN.
    Between(String, String),
    /// Sort keys greater than or equal to this.
    From(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub range: SortRange,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    pub descending: bool,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            index: Index::Primary,
            pk: pk.into(),
            range: SortRange::All,
            limit: 100,
            cursor: None,
            descending: false,
        }
    }

    pub fn gsi1(pk: impl Into<String>) -> Self {
        Self {
            index: Index::Gsi1,
            ..Self::partition(pk)
        }
    }

    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.range = SortRange::Prefix(prefix.into());
        self
    }

    pub fn between(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.range = SortRange::Between(from.into(), to.into());
        self
    }

    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.range = SortRange::From(from.into());
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE);
        self
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// Where the next page starts. Opaque to callers; each adapter encodes its own position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Cursor>,
}

/// What a batch delete left undone (DynamoDB may return unprocessed items under load).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub unprocessed: Vec<ItemKey>,
}

/// The storage port. Implemented by the embedded store (SQLite) and by DynamoDB.
#[async_trait]
pub trait Store: Send + Sync {
    /// Reads one item; expired items are absent.
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError>;

    /// Writes one item if `condition` holds; returns the new version.
    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError>;

    /// Deletes one item if `condition` holds; returns whether an item was there.
    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError>;

    /// Applies up to [`MAX_TRANSACTION_ITEMS`] operations on distinct keys, all or nothing.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// One page of a partition (or of a secondary-index partition), in sort-key order.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// Deletes up to [`MAX_BATCH_ITEMS`] items unconditionally; returns what was not processed.
    /// Deleting an absent item is not an error.
    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError>;
}

/// Shared argument checks, so both adapters refuse the same things the same way.
pub mod checks {
    use super::*;

    pub fn transaction(ops: &[WriteOp]) -> Result<(), StoreError> {
        if ops.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooMany {
                limit: MAX_TRANSACTION_ITEMS,
                got: ops.len(),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for op in ops {
            op.key().validate()?;
            if let WriteOp::Put { item, .. } = op {
                self::item(item)?;
            }
            if !seen.insert(op.key()) {
                return Err(StoreError::DuplicateKey(op.key().clone()));
            }
        }
        Ok(())
    }

    pub fn item(item: &Item) -> Result<(), StoreError> {
        item.key.validate()?;
        if let Some(g) = &item.gsi1 {
            g.validate()?;
        }
        let size = item.approximate_size();
        if size > MAX_ITEM_BYTES {
            return Err(StoreError::TooLarge(size));
        }
        Ok(())
    }

    pub fn batch(keys: &[ItemKey]) -> Result<(), StoreError> {
        if keys.len() > MAX_BATCH_ITEMS {
            return Err(StoreError::TooMany {
                limit: MAX_BATCH_ITEMS,
                got: keys.len(),
            });
        }
        keys.iter().try_for_each(ItemKey::validate)
    }

    pub fn query(q: &Query) -> Result<(), StoreError> {
        check_key_part(&q.pk, "query partition key", 1024)?;
        if q.limit == 0 || q.limit > MAX_PAGE {
            return Err(StoreError::InvalidKey(format!(
                "page size must be 1 to {MAX_PAGE}"
            )));
        }
        Ok(())
    }
}

/// Reads every page of a query (for callers that know the result is bounded).
pub async fn query_all(store: &dyn Store, mut query: Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    loop {
        let page = store.query(query.clone()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn lost() -> Error {
        Error::Store(StoreError::ConditionFailed(
            ItemKey::new("A", "B").expect("key"),
        ))
    }

    fn gave_up() -> Error {
        Error::Conflict("kept changing".into())
    }

    #[tokio::test]
    async fn a_lost_race_is_tried_again_until_it_is_won() {
        let mut tries = 0;
        let won = retry_lost_races(5, gave_up, || {
            tries += 1;
            let this_try = tries;
            async move {
                if this_try < 3 {
                    Err(lost())
                } else {
                    Ok(this_try)
                }
            }
        })
        .await;
        assert_eq!(won.ok(), Some(3));
    }

    #[tokio::test]
    async fn races_lost_every_time_end_in_the_callers_answer() {
        let mut tries = 0;
        let given_up = retry_lost_races(4, gave_up, || {
            tries += 1;
            async { Err::<(), _>(lost()) }
        })
        .await;
        assert!(matches!(given_up, Err(Error::Conflict(m)) if m == "kept changing"));
        assert_eq!(tries, 4);
    }

    #[tokio::test]
    async fn any_other_error_is_not_tried_again() {
        let mut tries = 0;
        let failed = retry_lost_races(4, gave_up, || {
            tries += 1;
            async { Err::<(), _>(Error::Store(StoreError::Unavailable("down".into()))) }
        })
        .await;
        assert!(matches!(
            failed,
            Err(Error::Store(StoreError::Unavailable(_)))
        ));
        assert_eq!(tries, 1);
    }
}
