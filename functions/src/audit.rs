//! The audit heads every area's records keep, in one map: what `regrooter audit verify` holds
//! each chain's end to (entries cut from a chain's end still link; only the record's head shows
//! them missing). Each area names its own chains and finds its own records.

use kernel::audit::RecordHeads;
use kernel::store::Store;

/// Every audited record's head, by chain: reports and incidents, tenants, accounts and custom
/// roles, retention states and legal holds, credits, SLA outages, exclusions and claims.
pub async fn record_heads(store: &dyn Store) -> Result<RecordHeads, kernel::Error> {
    // The tenants are read once; the areas look up their records per tenant.
    let tenants = kernel::tenants::all(store).await?;
    let ids: Vec<_> = tenants.iter().map(|t| t.id.clone()).collect();
    let mut heads = incidents::service::audit_heads(store).await?;
    heads.extend(kernel::tenants::audit_heads(&tenants));
    heads.extend(auth::service::audit_heads(store, &ids).await?);
    heads.extend(retention::service::audit_heads(store, &ids).await?);
    heads.extend(billing::credits::audit_heads(store, &ids).await?);
    heads.extend(sla::service::audit_heads(store, &ids).await?);
    Ok(heads)
}
