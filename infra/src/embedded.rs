//! The embedded store: SQLite through `rusqlite`, one table shaped like the DynamoDB table.
//!
//! Why SQLite and not redb: both are durable on `kill -9`, but SQLite's WAL mode with
//! `synchronous=FULL` has decades of crash testing behind it, several processes (the server and
//! a CLI command) may open the same file safely, and the raw file can be inspected with any
//! SQLite tool — which the "no plaintext personal data in the store" checks rely on.
//!
//! Durability: a write returns only after its transaction is committed and the WAL is synced
//! (`synchronous=FULL`), so an acknowledged write survives a killed process and a power cut.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kernel::Clock;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::store::{
    BatchOutcome, Condition, Cursor, Index, Item, ItemKey, Page, Query, SortRange, Store,
    StoreError, WriteOp, checks,
};
use kernel::time::Timestamp;
use rusqlite::{
    Connection, OptionalExtension, TransactionBehavior, params, params_from_iter,
    types::Value as SqlValue,
};
use serde::{Deserialize, Serialize};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk          TEXT    NOT NULL,
    sk          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    tenant      TEXT,
    gsi1pk      TEXT,
    gsi1sk      TEXT,
    expires_at  INTEGER,
    version     INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
";

/// What [`EmbeddedStore::durability`] reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durability {
    /// `wal` for a store on disk.
    pub journal_mode: String,
    /// 2 is `FULL`: the WAL is synced on every commit.
    pub synchronous: i64,
}

/// The embedded implementation of [`Store`].
pub struct EmbeddedStore {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").finish_non_exhaustive()
    }
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable(format!("the database is busy: {e}"))
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Expiry is kept in whole seconds, as DynamoDB's TTL attribute is.
fn epoch_seconds(t: Timestamp) -> i64 {
    t.as_second()
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(sql_err)?;
        let store = Self::init(conn, clock)?;
        // Only the owner may read the database and its WAL, whatever the umask.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", file.display())))?;
            }
        }
        Ok(store)
    }

    /// A private in-memory store (tests and benchmarks; in-memory databases have no WAL).
    pub fn in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(sql_err)?;
        Self::init(conn, clock)
    }

    fn init(conn: Connection, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql_err)?;
        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit so an
        // acknowledged write survives even a power cut.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql_err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "the data directory was written by a newer version (schema {version}, this build knows {SCHEMA_VERSION})"
            )));
        }
        conn.execute_batch(SCHEMA).map_err(sql_err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
            clock,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The durability settings as SQLite reports them on the store's own connection (they are
    /// per connection and not kept in the file), so tests can hold the store to them: a kill
    /// test alone cannot, since the page cache survives a killed process.
    pub fn durability(&self) -> Result<Durability, StoreError> {
        let conn = self.conn();
        Ok(Durability {
            journal_mode: conn
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .map_err(sql_err)?,
            synchronous: conn
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .map_err(sql_err)?,
        })
    }

    /// Removes expired short-lived items (the local counterpart of DynamoDB's TTL sweeper).
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = epoch_seconds(self.clock.now());
        self.conn()
            .execute(
                "DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                params![now],
            )
            .map_err(sql_err)
    }
}

/// The stored row of a key, expired or not.
struct Current {
    version: u64,
    /// False once the row's expiry has passed: it then counts as absent.
    live: bool,
}

fn current(conn: &Connection, key: &ItemKey, now: i64) -> Result<Option<Current>, StoreError> {
    conn.query_row(
        "SELECT version, expires_at IS NULL OR expires_at > ?3 FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk, key.sk, now],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?)),
    )
    .optional()
    .map_err(sql_err)?
    .map(|(v, live)| {
        u64::try_from(v)
            .map(|version| Current { version, live })
            .map_err(|_| StoreError::Corrupt("negative version".into()))
    })
    .transpose()
}

fn condition_holds(current: &Option<Current>, condition: Condition) -> bool {
    let live = current.as_ref().is_some_and(|c| c.live);
    match condition {
        Condition::Always => true,
        Condition::NotExists => !live,
        Condition::Exists => live,
        Condition::Version(v) => live && current.as_ref().is_some_and(|c| c.version == v),
    }
}

fn write_item(conn: &Connection, item: &Item, version: u64) -> Result<(), StoreError> {
    let data = serde_json::to_string(&item.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let version =
        i64::try_from(version).map_err(|_| StoreError::Corrupt("version overflow".into()))?;
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, kind, tenant, gsi1pk, gsi1sk, expires_at, version, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            item.key.pk,
            item.key.sk,
            item.kind.as_str(),
            item.tenant.as_ref().map(TenantId::as_str),
            item.gsi1.as_ref().map(|g| g.pk.as_str()),
            item.gsi1.as_ref().map(|g| g.sk.as_str()),
            item.expires_at.map(epoch_seconds),
            version,
            data,
        ],
    )
    .map_err(sql_err)?;
    Ok(())
}

/// Applies one write whose condition was checked; returns the new version: 1 on create, else
/// one more than the stored row's (as the DynamoDB adapter computes it).
fn apply_put(
    conn: &Connection,
    item: &Item,
    current: &Option<Current>,
    condition: Condition,
) -> Result<u64, StoreError> {
    let version = match (condition, current) {
        (Condition::NotExists, _) | (_, None) => 1,
        (_, Some(c)) => c.version + 1,
    };
    write_item(conn, item, version)?;
    Ok(version)
}

const COLUMNS: &str = "pk, sk, kind, tenant, gsi1pk, gsi1sk, expires_at, version, data";

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        pk: row.get(0)?,
        sk: row.get(1)?,
        kind: row.get(2)?,
        tenant: row.get(3)?,
        gsi1pk: row.get(4)?,
        gsi1sk: row.get(5)?,
        expires_at: row.get(6)?,
        version: row.get(7)?,
        data: row.get(8)?,
    })
}

struct RawRow {
    pk: String,
    sk: String,
    kind: String,
    tenant: Option<String>,
    gsi1pk: Option<String>,
    gsi1sk: Option<String>,
    expires_at: Option<i64>,
    version: i64,
    data: String,
}

impl RawRow {
    fn into_item(self) -> Result<Item, StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("{} / {}: {what}", self.pk, self.sk));
        let kind: RecordKind = self.kind.parse()?;
        let data = match serde_json::from_str(&self.data).map_err(|e| corrupt(&e.to_string()))? {
            serde_json::Value::Object(map) => map,
            _ => return Err(corrupt("data is not an object")),
        };
        let tenant = self
            .tenant
            .as_deref()
            .map(TenantId::new)
            .transpose()
            .map_err(|e| corrupt(&e.to_string()))?;
        let gsi1 = match (self.gsi1pk.as_ref(), self.gsi1sk.as_ref()) {
            (Some(pk), Some(sk)) => Some(ItemKey {
                pk: pk.clone(),
                sk: sk.clone(),
            }),
            _ => None,
        };
        let expires_at = self
            .expires_at
            .map(Timestamp::from_second)
            .transpose()
            .map_err(|e| corrupt(&e.to_string()))?;
        let version = u64::try_from(self.version).map_err(|_| corrupt("negative version"))?;
        Ok(Item {
            key: ItemKey {
                pk: self.pk,
                sk: self.sk,
            },
            kind,
            tenant,
            gsi1,
            expires_at,
            version,
            data,
        })
    }
}

/// The position after the last item of a page.
#[derive(Serialize, Deserialize)]
struct Position {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsk: Option<String>,
}

fn encode_cursor(pos: &Position) -> Result<Cursor, StoreError> {
    let json = serde_json::to_vec(pos).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

fn decode_cursor(cursor: &Cursor) -> Result<Position, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| StoreError::BadCursor)?;
    serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)
}

/// The smallest string greater than every string starting with `prefix` (keys are printable
/// ASCII, so bumping the last byte stays valid UTF-8).
fn prefix_end(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last += 1;
    }
    String::from_utf8(bytes).unwrap_or_else(|_| format!("{prefix}\u{7f}"))
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError> {
        key.validate()?;
        let now = epoch_seconds(self.clock.now());
        let conn = self.conn();
        let raw = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)"),
                params![key.pk, key.sk, now],
                row_to_item,
            )
            .optional()
            .map_err(sql_err)?;
        raw.map(RawRow::into_item).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        checks::item(&item)?;
        let now = epoch_seconds(self.clock.now());
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let current = current(&tx, &item.key, now)?;
        if !condition_holds(&current, condition) {
            return Err(StoreError::ConditionFailed(item.key));
        }
        let version = apply_put(&tx, &item, &current, condition)?;
        tx.commit().map_err(sql_err)?;
        Ok(version)
    }

    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        key.validate()?;
        let now = epoch_seconds(self.clock.now());
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let current = current(&tx, key, now)?;
        if !condition_holds(&current, condition) {
            return Err(StoreError::ConditionFailed(key.clone()));
        }
        tx.execute(
            "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
            params![key.pk, key.sk],
        )
        .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok(current.is_some_and(|c| c.live))
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        checks::transaction(&ops)?;
        let now = epoch_seconds(self.clock.now());
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        // Check every condition first, as DynamoDB does, then apply; dropping `tx` on an early
        // return rolls everything back.
        let mut currents = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let (key, condition) = match op {
                WriteOp::Put { item, condition } => (&item.key, *condition),
                WriteOp::Delete { key, condition } | WriteOp::Check { key, condition } => {
                    (key, *condition)
                }
            };
            let cur = current(&tx, key, now)?;
            if !condition_holds(&cur, condition) {
                return Err(StoreError::TransactionCanceled {
                    index,
                    reason: format!("ConditionalCheckFailed on {key}"),
                });
            }
            currents.push(cur);
        }
        for (op, cur) in ops.iter().zip(currents) {
            match op {
                WriteOp::Put { item, condition } => {
                    apply_put(&tx, item, &cur, *condition)?;
                }
                WriteOp::Delete { key, .. } => {
                    tx.execute(
                        "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                        params![key.pk, key.sk],
                    )
                    .map_err(sql_err)?;
                }
                WriteOp::Check { .. } => {}
            }
        }
        tx.commit().map_err(sql_err)
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        checks::query(&query)?;
        let now = epoch_seconds(self.clock.now());
        let (pk_col, sk_col) = match query.index {
            Index::Primary => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        };
        let mut sql = format!(
            "SELECT {COLUMNS} FROM items WHERE {pk_col} = ? AND (expires_at IS NULL OR expires_at > ?)"
        );
        let mut args: Vec<SqlValue> = vec![query.pk.clone().into(), now.into()];
        match &query.range {
            SortRange::All => {}
            SortRange::Prefix(p) => {
                sql.push_str(&format!(" AND {sk_col} >= ? AND {sk_col} < ?"));
                args.push(p.clone().into());
                args.push(prefix_end(p).into());
            }
            SortRange::Between(a, b) => {
                sql.push_str(&format!(" AND {sk_col} >= ? AND {sk_col} <= ?"));
                args.push(a.clone().into());
                args.push(b.clone().into());
            }
            SortRange::From(a) => {
                sql.push_str(&format!(" AND {sk_col} >= ?"));
                args.push(a.clone().into());
            }
        }
        let cmp = if query.descending { "<" } else { ">" };
        let dir = if query.descending { "DESC" } else { "ASC" };
        if let Some(cursor) = &query.cursor {
            let pos = decode_cursor(cursor)?;
            match (query.index, pos.gsk) {
                (Index::Primary, None) if pos.pk == query.pk => {
                    sql.push_str(&format!(" AND sk {cmp} ?"));
                    args.push(pos.sk.into());
                }
                (Index::Gsi1, Some(gsk)) => {
                    sql.push_str(&format!(" AND (gsi1sk, pk, sk) {cmp} (?, ?, ?)"));
                    args.push(gsk.into());
                    args.push(pos.pk.into());
                    args.push(pos.sk.into());
                }
                _ => return Err(StoreError::BadCursor),
            }
        }
        match query.index {
            Index::Primary => sql.push_str(&format!(" ORDER BY sk {dir}")),
            Index::Gsi1 => sql.push_str(&format!(" ORDER BY gsi1sk {dir}, pk {dir}, sk {dir}")),
        }
        sql.push_str(" LIMIT ?");
        args.push(i64::from(query.limit + 1).into());

        let rows: Vec<RawRow> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_err)?;
            stmt.query_map(params_from_iter(args), row_to_item)
                .map_err(sql_err)?
                .collect::<Result<_, _>>()
                .map_err(sql_err)?
        };
        let mut items = rows
            .into_iter()
            .map(RawRow::into_item)
            .collect::<Result<Vec<_>, _>>()?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let next = if items.len() > limit {
            items.truncate(limit);
            let last = items.last().ok_or(StoreError::BadCursor)?;
            Some(encode_cursor(&Position {
                pk: last.key.pk.clone(),
                sk: last.key.sk.clone(),
                gsk: match query.index {
                    Index::Primary => None,
                    Index::Gsi1 => last.gsi1.as_ref().map(|g| g.sk.clone()),
                },
            })?)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
        checks::batch(&keys)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        {
            let mut stmt = tx
                .prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
                .map_err(sql_err)?;
            for key in &keys {
                stmt.execute(params![key.pk, key.sk]).map_err(sql_err)?;
            }
        }
        tx.commit().map_err(sql_err)?;
        Ok(BatchOutcome::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end("A#"), "A$");
        assert!(*"A#zzz" < *prefix_end("A#"));
        assert!(*"A$" >= *prefix_end("A#"));
    }
}
