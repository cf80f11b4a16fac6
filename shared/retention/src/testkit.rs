//! Helpers for the tests and benchmarks of retention and its adapters.

use kernel::ids::TenantId;
use kernel::inventory::{RecordKind, TENANT_INCIDENT_LINK_PREFIX};
use kernel::store::{Condition, Item, ItemKey, Store};
use serde_json::json;

/// A tenant whose service ended at `now`, holding a profile with a contact address, `links`
/// incident links and one export: what the retention tests, benchmark and the DynamoDB check
/// delete. Returns the number of data items written (`links + 2`).
pub async fn seed_ended_tenant(
    store: &dyn Store,
    keyring: &kernel::crypto::Keyring,
    tenant: &TenantId,
    links: usize,
    now: kernel::time::Timestamp,
) -> Result<usize, kernel::Error> {
    use kernel::rbac::{Access, Actor, Principal};
    let operator = Access::resolve(
        Principal {
            subject: "operator-seed".into(),
            actor: Actor::Staff,
            roles: vec!["operator".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    );
    let admin = Access::resolve(
        Principal {
            subject: format!("{tenant}-admin"),
            actor: Actor::Customer {
                tenant: tenant.clone(),
            },
            roles: vec!["customer_admin".into()],
            amr: vec!["pwd".into()],
        },
        &[],
    );
    kernel::tenants::put(
        store,
        keyring,
        &operator,
        tenant,
        kernel::tenants::TenantInput {
            name: Some(format!("{tenant} GmbH")),
            contact_email: Some(kernel::crypto::Personal::new(format!(
                "dpo@{tenant}.example"
            ))),
            contract: None,
        },
        now,
    )
    .await?;
    // The export first, while it is small (an export lists the incidents affecting the tenant).
    crate::exports::create(store, keyring, &admin, tenant, now).await?;
    for n in 0..links {
        let item = Item::new(
            ItemKey::new(
                ItemKey::tenant_partition(tenant),
                format!("{TENANT_INCIDENT_LINK_PREFIX}inc_{n:07}"),
            )?,
            RecordKind::TenantIncidentLink,
        )
        .with_tenant(tenant.clone())
        .with_record(&json!({ "incident": format!("inc_{n:07}") }))?;
        store.put(item, Condition::NotExists).await?;
    }
    let (mut record, version) = kernel::tenants::load(store, tenant)
        .await?
        .ok_or_else(|| kernel::Error::NotFound(format!("tenant {tenant}")))?;
    record.status = kernel::tenants::ServiceStatus::Ended;
    record.service_ended_at = Some(now);
    store
        .put(kernel::tenants::item(&record)?, Condition::Version(version))
        .await?;
    Ok(links + 2)
}
