//! The DynamoDB implementation of the storage port (single-table design; the table is described
//! in ARCHITECTURE.md and created by Terraform — or by [`DynamoStore::create_table`] for tests).
//!
//! * Every put is an `UpdateItem` (or a transaction's `Update`) that replaces all attributes and
//!   sets the next `version`, with the caller's condition as a `ConditionExpression`.
//! * Items whose `expires_at` has passed count as absent (DynamoDB's TTL sweeper may take up to
//!   days), in conditions and in reads.
//! * `BatchWriteItem` deletes retry unprocessed keys with exponential backoff before handing any
//!   that remain back to the caller.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, DeleteRequest,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ReturnValue,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update, WriteRequest,
};
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

/// Name of the secondary index.
pub const GSI1: &str = "gsi1";
/// The TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// How often unprocessed batch items are retried before they go back to the caller.
const BATCH_ATTEMPTS: u32 = 6;
const BATCH_BACKOFF_START: Duration = Duration::from_millis(25);

pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn service_err<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().unwrap_or("unknown").to_string();
    let message = e.message().unwrap_or_default().to_string();
    StoreError::Unavailable(format!("DynamoDB {code}: {message}"))
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// `(expression, values)` for a condition, with expired items treated as absent.
fn condition_expression(
    condition: Condition,
    now: i64,
) -> Option<(String, HashMap<String, AttributeValue>)> {
    let mut values = HashMap::from([(":now".to_string(), n(now))]);
    let live = "(attribute_not_exists(#exp) OR #exp > :now)";
    let expression = match condition {
        Condition::Always => return None,
        Condition::NotExists => {
            "(attribute_not_exists(pk) OR (attribute_exists(#exp) AND #exp <= :now))".to_string()
        }
        Condition::Exists => format!("(attribute_exists(pk) AND {live})"),
        Condition::Version(v) => {
            values.insert(":expected_version".into(), n(v));
            format!("(#ver = :expected_version AND {live})")
        }
    };
    Some((expression, values))
}

/// The attribute names every expression may refer to.
fn standard_names() -> HashMap<String, String> {
    HashMap::from([
        ("#exp".to_string(), TTL_ATTRIBUTE.to_string()),
        ("#ver".to_string(), "version".to_string()),
    ])
}

/// DynamoDB rejects expression names and values an expression does not use: keep the used ones.
fn keep_used(
    text: &str,
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
) {
    let mentions = |placeholder: &str| {
        text.match_indices(placeholder).any(|(at, _)| {
            text[at + placeholder.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        })
    };
    names.retain(|k, _| mentions(k));
    values.retain(|k, _| mentions(k));
}

/// An expression with exactly the attribute names and values it uses.
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// A condition's expression.
fn condition_parts(condition: Condition, now: i64) -> Option<Expression> {
    let (text, mut values) = condition_expression(condition, now)?;
    let mut names = standard_names();
    keep_used(&text, &mut names, &mut values);
    Some(Expression {
        text,
        names,
        values,
    })
}

fn key_map(key: &ItemKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), s(&key.pk)),
        ("sk".to_string(), s(&key.sk)),
    ])
}

/// The parts of an `Update` that replace an item entirely and set its next version.
struct Replacement {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn replacement(
    item: &Item,
    condition: Condition,
    now: i64,
) -> Result<(Replacement, Option<String>), StoreError> {
    let data = serde_json::to_string(&item.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut names = standard_names();
    names.extend([
        ("#kind".to_string(), "kind".to_string()),
        ("#data".to_string(), "data".to_string()),
        ("#tenant".to_string(), "tenant".to_string()),
        ("#g1pk".to_string(), "gsi1pk".to_string()),
        ("#g1sk".to_string(), "gsi1sk".to_string()),
    ]);
    let mut values = HashMap::from([
        (":kind".to_string(), s(item.kind.as_str())),
        (":data".to_string(), s(data)),
        (":one".to_string(), n(1)),
    ]);
    let mut set = vec!["#kind = :kind".to_string(), "#data = :data".to_string()];
    let mut remove = Vec::new();
    // The new version: 1 on create, the expected one + 1 on a versioned update, else the stored
    // one + 1.
    match condition {
        Condition::NotExists => set.push("#ver = :one".into()),
        Condition::Version(v) => {
            values.insert(":next".into(), n(v + 1));
            set.push("#ver = :next".into());
        }
        Condition::Always | Condition::Exists => {
            values.insert(":zero".into(), n(0));
            set.push("#ver = if_not_exists(#ver, :zero) + :one".into());
        }
    }
    match &item.tenant {
        Some(t) => {
            values.insert(":tenant".into(), s(t.as_str()));
            set.push("#tenant = :tenant".into());
        }
        None => remove.push("#tenant"),
    }
    match &item.gsi1 {
        Some(g) => {
            values.insert(":g1pk".into(), s(&g.pk));
            values.insert(":g1sk".into(), s(&g.sk));
            set.push("#g1pk = :g1pk".into());
            set.push("#g1sk = :g1sk".into());
        }
        None => {
            remove.push("#g1pk");
            remove.push("#g1sk");
        }
    }
    match item.expires_at {
        Some(at) => {
            values.insert(":exp".into(), n(at.as_second()));
            set.push("#exp = :exp".into());
        }
        None => remove.push("#exp"),
    }
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    let condition_text = condition_expression(condition, now).map(|(text, condition_values)| {
        values.extend(condition_values);
        text
    });
    let all = format!(
        "{expression} {}",
        condition_text.as_deref().unwrap_or_default()
    );
    keep_used(&all, &mut names, &mut values);
    Ok((
        Replacement {
            expression,
            names,
            values,
        },
        condition_text,
    ))
}

fn string_attr(map: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    match map.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

fn number_attr(
    map: &HashMap<String, AttributeValue>,
    name: &str,
) -> Result<Option<i64>, StoreError> {
    match map.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not an integer"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a number"
        ))),
        None => Ok(None),
    }
}

fn to_item(map: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
    let pk = string_attr(map, "pk").ok_or_else(|| corrupt("item without pk"))?;
    let sk = string_attr(map, "sk").ok_or_else(|| corrupt("item without sk"))?;
    let kind: RecordKind = string_attr(map, "kind")
        .ok_or_else(|| corrupt("item without kind"))?
        .parse()?;
    let tenant = string_attr(map, "tenant")
        .map(TenantId::new)
        .transpose()
        .map_err(|e| corrupt(&e.to_string()))?;
    let gsi1 = match (string_attr(map, "gsi1pk"), string_attr(map, "gsi1sk")) {
        (Some(pk), Some(sk)) => Some(ItemKey { pk, sk }),
        _ => None,
    };
    let expires_at = number_attr(map, TTL_ATTRIBUTE)?
        .map(Timestamp::from_second)
        .transpose()
        .map_err(|e| corrupt(&e.to_string()))?;
    let version = number_attr(map, "version")?
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| corrupt("item without a valid version"))?;
    let data = match serde_json::from_str(
        &string_attr(map, "data").ok_or_else(|| corrupt("item without data"))?,
    ) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(corrupt("data is not a JSON object")),
    };
    Ok(Item {
        key: ItemKey { pk, sk },
        kind,
        tenant,
        gsi1,
        expires_at,
        version,
        data,
    })
}

fn encode_cursor(key: &HashMap<String, AttributeValue>) -> Result<Cursor, StoreError> {
    let plain: HashMap<&str, &str> = key
        .iter()
        .map(|(k, v)| match v {
            AttributeValue::S(s) => Ok((k.as_str(), s.as_str())),
            _ => Err(StoreError::Corrupt("non-string key attribute".into())),
        })
        .collect::<Result<_, _>>()?;
    let json = serde_json::to_vec(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

fn decode_cursor(
    cursor: &Cursor,
    index: Index,
    pk: &str,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| StoreError::BadCursor)?;
    let plain: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    let expected: &[&str] = match index {
        Index::Primary => &["pk", "sk"],
        Index::Gsi1 => &["pk", "sk", "gsi1pk", "gsi1sk"],
    };
    let partition = match index {
        Index::Primary => "pk",
        Index::Gsi1 => "gsi1pk",
    };
    if plain.len() != expected.len()
        || !expected.iter().all(|k| plain.contains_key(*k))
        || plain.get(partition).map(String::as_str) != Some(pk)
    {
        return Err(StoreError::BadCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    /// Creates the table as Terraform does (keys, the secondary index, TTL) — for tests against
    /// a local DynamoDB protocol server. Production tables come from Terraform only.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key("gsi1pk", KeyType::Hash)?)
            .key_schema(key("gsi1sk", KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .attribute_definitions(attr("gsi1pk")?)
            .attribute_definitions(attr("gsi1sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .send()
            .await
            .map_err(service_err)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            )
            .send()
            .await
            .map_err(service_err)?;
        Ok(())
    }

    fn update_for(&self, item: &Item, condition: Condition) -> Result<Update, StoreError> {
        let (replacement, condition_text) = replacement(item, condition, self.now())?;
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(&item.key)))
            .update_expression(replacement.expression)
            .set_condition_expression(condition_text)
            .set_expression_attribute_names(Some(replacement.names))
            .set_expression_attribute_values(Some(replacement.values))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StoreError> {
        key.validate()?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(service_err)?;
        match out.item {
            Some(map) => {
                let item = to_item(&map)?;
                Ok((!item.is_expired(self.clock.now())).then_some(item))
            }
            None => Ok(None),
        }
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        checks::item(&item)?;
        let (replacement, condition_text) = replacement(&item, condition, self.now())?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(&item.key)))
            .update_expression(replacement.expression)
            .set_condition_expression(condition_text)
            .set_expression_attribute_names(Some(replacement.names))
            .set_expression_attribute_values(Some(replacement.values))
            // ALL_NEW, not UPDATED_NEW: a create over an expired item may "change" version 1 to 1.
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let attrs = out.attributes.unwrap_or_default();
                number_attr(&attrs, "version")?
                    .and_then(|v| u64::try_from(v).ok())
                    .ok_or_else(|| StoreError::Corrupt("no version returned".into()))
            }
            Err(e) if is_condition_failure(&e) => Err(StoreError::ConditionFailed(item.key)),
            Err(e) => Err(service_err(e)),
        }
    }

    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        key.validate()?;
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .return_values(ReturnValue::AllOld);
        if let Some(Expression {
            text,
            names,
            values,
        }) = condition_parts(condition, self.now())
        {
            request = request
                .condition_expression(text)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values));
        }
        match request.send().await {
            Ok(out) => {
                let now = self.clock.now();
                Ok(out
                    .attributes
                    .map(|old| to_item(&old))
                    .transpose()?
                    .is_some_and(|old| !old.is_expired(now)))
            }
            Err(e) if is_condition_failure(&e) => Err(StoreError::ConditionFailed(key.clone())),
            Err(e) => Err(service_err(e)),
        }
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        checks::transaction(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let write = match op {
                WriteOp::Put { item, condition } => TransactWriteItem::builder()
                    .update(self.update_for(item, *condition)?)
                    .build(),
                WriteOp::Delete { key, condition } => {
                    let mut delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(key)));
                    if let Some(Expression {
                        text,
                        names,
                        values,
                    }) = condition_parts(*condition, now)
                    {
                        delete = delete
                            .condition_expression(text)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values(Some(values));
                    }
                    TransactWriteItem::builder()
                        .delete(
                            delete
                                .build()
                                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
                        )
                        .build()
                }
                WriteOp::Check { key, condition } => {
                    // A check needs a condition; "always" becomes one that always holds.
                    let Expression {
                        text,
                        names,
                        values,
                    } = condition_parts(*condition, now).unwrap_or_else(|| Expression {
                        text: "attribute_exists(pk) OR attribute_not_exists(pk)".into(),
                        names: HashMap::new(),
                        values: HashMap::new(),
                    });
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(key)))
                        .condition_expression(text)
                        .set_expression_attribute_names((!names.is_empty()).then_some(names))
                        .set_expression_attribute_values((!values.is_empty()).then_some(values))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            items.push(write);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let reasons = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons.clone()
                        }
                        _ => None,
                    });
                match reasons {
                    Some(reasons) => {
                        let index = reasons
                            .iter()
                            .position(|r| r.code().is_some_and(|c| c != "None"))
                            .unwrap_or(0);
                        let reason = reasons
                            .get(index)
                            .and_then(|r| r.code())
                            .unwrap_or("TransactionCanceled")
                            .to_string();
                        Err(StoreError::TransactionCanceled { index, reason })
                    }
                    None => Err(service_err(e)),
                }
            }
        }
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        checks::query(&query)?;
        let (pk_attr, sk_attr) = match query.index {
            Index::Primary => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        };
        let mut values = HashMap::from([
            (":pk".to_string(), s(&query.pk)),
            (":now".to_string(), n(self.now())),
        ]);
        let mut names = HashMap::from([
            ("#pk".to_string(), pk_attr.to_string()),
            ("#exp".to_string(), TTL_ATTRIBUTE.to_string()),
        ]);
        let mut key_condition = "#pk = :pk".to_string();
        match &query.range {
            SortRange::All => {}
            SortRange::Prefix(p) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":p".into(), s(p));
                key_condition.push_str(" AND begins_with(#sk, :p)");
            }
            SortRange::Between(a, b) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":a".into(), s(a));
                values.insert(":b".into(), s(b));
                key_condition.push_str(" AND #sk BETWEEN :a AND :b");
            }
            SortRange::From(a) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":a".into(), s(a));
                key_condition.push_str(" AND #sk >= :a");
            }
        }
        let start = query
            .cursor
            .as_ref()
            .map(|c| decode_cursor(c, query.index, &query.pk))
            .transpose()?;
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .filter_expression("attribute_not_exists(#exp) OR #exp > :now")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.descending)
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        match query.index {
            Index::Primary => request = request.consistent_read(true),
            Index::Gsi1 => request = request.index_name(GSI1),
        }
        let out = request.send().await.map_err(service_err)?;
        let items = out
            .items
            .unwrap_or_default()
            .iter()
            .map(to_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match out.last_evaluated_key {
            Some(key) if !key.is_empty() => Some(encode_cursor(&key)?),
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn batch_delete(&self, keys: Vec<ItemKey>) -> Result<BatchOutcome, StoreError> {
        checks::batch(&keys)?;
        let mut pending: Vec<WriteRequest> = keys
            .iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key_map(key)))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut backoff = BATCH_BACKOFF_START;
        for attempt in 0..BATCH_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending.clone())
                .send()
                .await
                .map_err(service_err)?;
            pending = out
                .unprocessed_items
                .and_then(|mut m| m.remove(&self.table))
                .unwrap_or_default();
        }
        let unprocessed = pending
            .iter()
            .filter_map(|w| w.delete_request.as_ref())
            .map(|d| {
                let key = d.key();
                Ok(ItemKey {
                    pk: string_attr(key, "pk")
                        .ok_or_else(|| StoreError::Corrupt("unprocessed key without pk".into()))?,
                    sk: string_attr(key, "sk")
                        .ok_or_else(|| StoreError::Corrupt("unprocessed key without sk".into()))?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(BatchOutcome { unprocessed })
    }
}
