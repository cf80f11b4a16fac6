//! Exports: a copy of a tenant's data made for the customer (data portability). An export is
//! the explicit "copy" of the deletion stages: sealed with the tenant's copies key, kept after
//! stage 1 so the customer can still fetch it, deleted in stage 2 — and once that key is
//! destroyed, any copy of an export anywhere (a download, a backup) can no longer be opened.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use kernel::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::{RecordKind, TENANT_INCIDENT_LINK_PREFIX};
use kernel::rbac::{Access, Permission, Scope};
use kernel::store::{Condition, Item, ItemKey, Query, Store, query_all};
use kernel::tenants;
use kernel::time::Timestamp;

kernel::generated_id!(
    /// A tenant data export.
    ExportId,
    "exp"
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRecord {
    pub id: ExportId,
    pub tenant: TenantId,
    pub created_at: Timestamp,
    pub created_by: String,
    pub content: SealedField,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub id: ExportId,
    pub created_at: Timestamp,
    pub created_by: String,
}

fn sort_key(id: &ExportId) -> String {
    format!("EXPORT#{id}")
}

fn context<'a>(owner: &'a KeyOwner, sk: &'a str) -> FieldContext<'a> {
    // Tenant records are sealed with their sort key as record id (retention re-seals by it).
    FieldContext {
        owner,
        kind: RecordKind::Export,
        record_id: sk,
        field: "content",
    }
}

/// Makes an export of everything the platform holds for the tenant as its own data.
pub async fn create(
    store: &dyn Store,
    keyring: &Keyring,
    access: &Access,
    tenant: &TenantId,
    now: Timestamp,
) -> Result<ExportSummary, Error> {
    access.require(Permission::DataExport, Scope::Tenant(tenant))?;
    let record = tenants::get(store, tenant)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tenant {tenant}")))?;
    let contact = tenants::contact(keyring, &record).await?;
    let incidents: Vec<String> = query_all(
        store,
        Query::partition(ItemKey::tenant_partition(tenant)).prefix(TENANT_INCIDENT_LINK_PREFIX),
    )
    .await?
    .into_iter()
    .filter_map(|i| {
        i.key
            .sk
            .strip_prefix(TENANT_INCIDENT_LINK_PREFIX)
            .map(str::to_string)
    })
    .collect();
    let content = json!({
        "format": "regrooter-export/1",
        "exported_at": now,
        "tenant": {
            "id": record.id,
            "name": record.name,
            "contact_email": contact.as_ref().map(|c| c.expose().clone()),
            "contract": record.contract,
            "status": record.status,
            "service_ended_at": record.service_ended_at,
        },
        "incidents_affecting_the_tenant": incidents,
    });
    let id = ExportId::generate(now);
    let sk = sort_key(&id);
    let owner = KeyOwner::Tenant(tenant.clone());
    let sealed = keyring
        .seal(
            &context(&owner, &sk),
            KeyPurpose::Copies,
            &Personal::new(content.to_string()),
        )
        .await?;
    let export = ExportRecord {
        id,
        tenant: tenant.clone(),
        created_at: now,
        created_by: access.principal().subject.clone(),
        content: sealed,
    };
    let item = Item::new(
        ItemKey::new(ItemKey::tenant_partition(tenant), sk)?,
        RecordKind::Export,
    )
    .with_tenant(tenant.clone())
    .with_record(&export)?;
    store.put(item, Condition::NotExists).await?;
    Ok(ExportSummary {
        id,
        created_at: now,
        created_by: export.created_by,
    })
}

pub async fn list(
    store: &dyn Store,
    access: &Access,
    tenant: &TenantId,
) -> Result<Vec<ExportSummary>, Error> {
    access.require(Permission::DataExport, Scope::Tenant(tenant))?;
    let items = query_all(
        store,
        Query::partition(ItemKey::tenant_partition(tenant)).prefix("EXPORT#"),
    )
    .await?;
    items
        .iter()
        .map(|i| {
            let r: ExportRecord = i.record()?;
            Ok(ExportSummary {
                id: r.id,
                created_at: r.created_at,
                created_by: r.created_by,
            })
        })
        .collect()
}

/// Opens a stored export item (also a copy of one kept elsewhere).
pub async fn open(keyring: &Keyring, item: &Item) -> Result<Value, Error> {
    let record: ExportRecord = item.record()?;
    let owner = KeyOwner::Tenant(record.tenant.clone());
    let plain = keyring
        .open(&context(&owner, &item.key.sk), &record.content)
        .await?;
    serde_json::from_str(plain.expose())
        .map_err(|e| Error::Internal(format!("export content: {e}")))
}

pub async fn read(
    store: &dyn Store,
    keyring: &Keyring,
    access: &Access,
    tenant: &TenantId,
    id: &ExportId,
) -> Result<Value, Error> {
    access.require(Permission::DataExport, Scope::Tenant(tenant))?;
    let item = store
        .get(&ItemKey::new(
            ItemKey::tenant_partition(tenant),
            sort_key(id),
        )?)
        .await?
        .ok_or_else(|| Error::NotFound(format!("export {id}")))?;
    open(keyring, &item).await
}
