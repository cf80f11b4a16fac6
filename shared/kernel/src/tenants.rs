//! Tenants: the platform's customers, with the contract terms that adjust the page's figures,
//! the contact who receives breach notifications (sealed), and the service state retention
//! reads. Every change is an entry of the tenant's audit chain, written in the same transaction.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditHead};
use crate::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use crate::error::{Error, FieldError};
use crate::ids::TenantId;
use crate::inventory::RecordKind;
use crate::policy::{ContractTerms, EffectivePolicy, PolicyError};
use crate::rbac::{Access, Permission, Scope};
use crate::store::{Condition, Item, ItemKey, Store, WriteOp};
use crate::time::Timestamp;

pub const PROFILE_SK: &str = "PROFILE";
/// The secondary-index partition listing every tenant.
pub const TENANTS_INDEX: &str = "TENANTS";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Active,
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    #[serde(default)]
    pub contact_email: Option<SealedField>,
    #[serde(default)]
    pub contract: ContractTerms,
    pub status: ServiceStatus,
    #[serde(default)]
    pub service_ended_at: Option<Timestamp>,
    /// Who recorded the end: Stripe (the last subscription ended) or an operator.
    #[serde(default)]
    pub service_end_source: Option<ServiceEndSource>,
    /// The newest entry of the tenant's audit chain (service status changes and everything
    /// retention does).
    #[serde(default)]
    pub audit: Option<AuditHead>,
    /// The tenant's admins require a passkey as every user's second factor.
    #[serde(default)]
    pub passkeys_required: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a recorded service end came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ServiceEndSource {
    /// The tenant's last Stripe subscription ended.
    Stripe { subscription: String },
    /// An operator recorded it (e.g. a contract ended outside Stripe).
    Operator { subject: String },
}

/// The audit chain of a tenant.
pub fn audit_chain(tenant: &TenantId) -> String {
    format!("tenant:{tenant}")
}

/// Every tenant the platform has a record of (the tenants index).
pub async fn all(store: &dyn Store) -> Result<Vec<TenantRecord>, Error> {
    crate::store::query_all(store, crate::store::Query::gsi1(TENANTS_INDEX).limit(1_000))
        .await?
        .iter()
        .map(|item| item.record().map_err(Error::from))
        .collect()
}

/// Every tenant, for operators (the console's customer list).
pub async fn list(store: &dyn Store, access: &Access) -> Result<Vec<TenantRecord>, Error> {
    access.require(Permission::TenantsManage, Scope::Platform)?;
    let mut tenants = all(store).await?;
    tenants.sort_by_key(|t| t.name.to_lowercase());
    Ok(tenants)
}

/// The audit heads the tenant records keep, by chain (see `audit::verify_all_chains_to`).
pub fn audit_heads(tenants: &[TenantRecord]) -> crate::audit::RecordHeads {
    tenants
        .iter()
        .filter_map(|t| t.audit.clone().map(|head| (audit_chain(&t.id), head)))
        .collect()
}

/// What an operator sends to create or update a tenant.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantInput {
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub contact_email: Option<Personal<String>>,
    #[serde(default)]
    pub contract: Option<ContractTerms>,
}

pub fn key(tenant: &TenantId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(ItemKey::tenant_partition(tenant), PROFILE_SK)?)
}

fn email_context(owner: &KeyOwner) -> FieldContext<'_> {
    FieldContext {
        owner,
        kind: RecordKind::Tenant,
        record_id: PROFILE_SK,
        field: "contact_email",
    }
}

pub async fn get(store: &dyn Store, tenant: &TenantId) -> Result<Option<TenantRecord>, Error> {
    match store.get(&key(tenant)?).await? {
        Some(item) => Ok(Some(item.record()?)),
        None => Ok(None),
    }
}

/// A tenant's record for those who manage tenants (operators: `tenants:manage`); unknown: not found.
pub async fn get_for(
    access: &Access,
    store: &dyn Store,
    tenant: &TenantId,
) -> Result<TenantRecord, Error> {
    access.require(Permission::TenantsManage, Scope::Tenant(tenant))?;
    get(store, tenant)
        .await?
        .ok_or_else(|| Error::NotFound("tenant".into()))
}

/// The figures that apply to a tenant (the page's, if the tenant is unknown).
pub async fn policy_for(store: &dyn Store, tenant: &TenantId) -> Result<EffectivePolicy, Error> {
    match get(store, tenant).await? {
        Some(record) => Ok(EffectivePolicy::for_contract(&record.contract)?),
        None => Ok(EffectivePolicy::page()),
    }
}

/// The contact address, opened.
pub async fn contact(
    keyring: &Keyring,
    record: &TenantRecord,
) -> Result<Option<Personal<String>>, Error> {
    let owner = KeyOwner::Tenant(record.id.clone());
    match &record.contact_email {
        Some(sealed) => Ok(Some(keyring.open(&email_context(&owner), sealed).await?)),
        None => Ok(None),
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

async fn seal_contact(
    keyring: &Keyring,
    tenant: &TenantId,
    email: &Personal<String>,
) -> Result<SealedField, Error> {
    let owner = KeyOwner::Tenant(tenant.clone());
    Ok(keyring
        .seal(&email_context(&owner), KeyPurpose::Primary, email)
        .await?)
}

/// What is wrong with a tenant's input, every field at once (`new`: no tenant of its id yet).
pub fn check_input(input: &TenantInput, new: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(name) = &input.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("/name", "must be 1 to 200 characters"));
        }
    } else if new {
        errors.push(FieldError::new("/name", "is required for a new tenant"));
    }
    if let Some(email) = &input.contact_email
        && !valid_email(email.expose())
    {
        errors.push(FieldError::new("/contact_email", "is not an email address"));
    }
    if let Some(contract) = &input.contract
        && let Err(refused) = EffectivePolicy::for_contract_checked(contract)
    {
        for PolicyError::Override { field, reason } in refused {
            errors.push(FieldError::new(format!("/contract/{field}"), reason));
        }
    }
    errors
}

/// Creates or updates a tenant (operators only), with an audit entry per change in the same
/// transaction; a change to the same values writes nothing.
pub async fn put(
    store: &dyn Store,
    keyring: &Keyring,
    access: &Access,
    tenant: &TenantId,
    input: TenantInput,
    now: Timestamp,
) -> Result<TenantRecord, Error> {
    access.require(Permission::TenantsManage, Scope::Tenant(tenant))?;
    let existing = store.get(&key(tenant)?).await?;
    let errors = check_input(&input, existing.is_none());
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let chain = audit_chain(tenant);
    let Some(item) = existing else {
        let contact_email = match &input.contact_email {
            Some(email) => Some(seal_contact(keyring, tenant, email).await?),
            None => None,
        };
        let mut record = TenantRecord {
            id: tenant.clone(),
            name: crate::scrub::scrub(input.name.unwrap_or_default().trim()).0,
            contact_email,
            contract: input.contract.unwrap_or_default(),
            status: ServiceStatus::Active,
            service_ended_at: None,
            service_end_source: None,
            audit: None,
            passkeys_required: false,
            created_at: now,
            updated_at: now,
        };
        // The contact goes into the digest sealed, as stored: never the address itself.
        let entry = AuditEntry::append(
            &chain,
            None,
            now,
            access.principal(),
            "tenant.created",
            &(&record.name, &record.contact_email, &record.contract),
        );
        record.audit = Some(entry.head());
        store
            .transact(vec![
                WriteOp::Put {
                    item: self::item(&record)?,
                    condition: Condition::NotExists,
                },
                entry.insert_op()?,
            ])
            .await?;
        return Ok(record);
    };
    let mut record: TenantRecord = item.record()?;
    // What changed, one audit entry each: (action, the new value as stored).
    let mut changes: Vec<(&str, serde_json::Value)> = Vec::new();
    if let Some(name) = input.name {
        let name = crate::scrub::scrub(name.trim()).0;
        if name != record.name {
            changes.push(("tenant.renamed", serde_json::json!(name)));
            record.name = name;
        }
    }
    if let Some(email) = &input.contact_email {
        // An unreadable old address (its key shredded) counts as a different one.
        let current = contact(keyring, &record).await.ok().flatten();
        if current.as_ref().map(Personal::expose) != Some(email.expose()) {
            let sealed = seal_contact(keyring, tenant, email).await?;
            changes.push(("tenant.breach_contact_changed", serde_json::json!(sealed)));
            record.contact_email = Some(sealed);
        }
    }
    if let Some(contract) = input.contract
        && contract != record.contract
    {
        changes.push(("tenant.contract_changed", serde_json::json!(contract)));
        record.contract = contract;
    }
    if changes.is_empty() {
        return Ok(record);
    }
    record.updated_at = now;
    let mut ops = Vec::new();
    for (action, change) in changes {
        let entry = AuditEntry::append(
            &chain,
            record.audit.as_ref(),
            now,
            access.principal(),
            action,
            &change,
        );
        record.audit = Some(entry.head());
        ops.push(entry.insert_op()?);
    }
    ops.insert(
        0,
        WriteOp::Put {
            item: self::item(&record)?,
            condition: Condition::Version(item.version),
        },
    );
    store.transact(ops).await?;
    Ok(record)
}

/// A tenant's admin requires (or stops requiring) passkeys of the tenant's users, audited in the
/// tenant's chain. Setting what is already set writes nothing.
pub async fn set_passkeys_required(
    store: &dyn Store,
    access: &Access,
    tenant: &TenantId,
    required: bool,
    now: Timestamp,
) -> Result<TenantRecord, Error> {
    access.require(Permission::TenantUsersManage, Scope::Tenant(tenant))?;
    let (mut record, version) = load(store, tenant)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tenant {tenant}")))?;
    if record.passkeys_required == required {
        return Ok(record);
    }
    record.passkeys_required = required;
    record.updated_at = now;
    let action = if required {
        "tenant.passkeys_required"
    } else {
        "tenant.passkeys_optional"
    };
    let entry = AuditEntry::append(
        &audit_chain(tenant),
        record.audit.as_ref(),
        now,
        access.principal(),
        action,
        &required,
    );
    record.audit = Some(entry.head());
    store
        .transact(vec![
            WriteOp::Put {
                item: self::item(&record)?,
                condition: Condition::Version(version),
            },
            entry.insert_op()?,
        ])
        .await?;
    Ok(record)
}

/// The stored form of a tenant record (listed in the `TENANTS` index).
pub fn item(record: &TenantRecord) -> Result<Item, Error> {
    Ok(Item::new(key(&record.id)?, RecordKind::Tenant)
        .with_tenant(record.id.clone())
        .with_gsi1(ItemKey::new(TENANTS_INDEX, record.id.as_str())?)
        .with_record(record)?)
}

/// A tenant record with its version, for conditional updates.
pub async fn load(
    store: &dyn Store,
    tenant: &TenantId,
) -> Result<Option<(TenantRecord, u64)>, Error> {
    match store.get(&key(tenant)?).await? {
        Some(item) => Ok(Some((item.record()?, item.version))),
        None => Ok(None),
    }
}
