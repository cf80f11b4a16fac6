//! What the incidents area stores beside its reports and incidents (`model`): the link that
//! lists an incident in each affected customer's partition. Other areas read the links through
//! these functions, not by spelling their keys.

use serde::{Deserialize, Serialize};

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::{RecordKind, TENANT_INCIDENT_LINK_PREFIX};
use kernel::store::{Item, ItemKey};

use crate::model::IncidentId;

/// An incident that affects the tenant whose partition holds this link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantIncidentLink {
    pub incident: IncidentId,
}

pub fn link_key(tenant: &TenantId, incident: &IncidentId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(
        ItemKey::tenant_partition(tenant),
        format!("{TENANT_INCIDENT_LINK_PREFIX}{incident}"),
    )?)
}

pub fn link_item(tenant: &TenantId, incident: &IncidentId) -> Result<Item, Error> {
    Ok(
        Item::new(link_key(tenant, incident)?, RecordKind::TenantIncidentLink)
            .with_tenant(tenant.clone())
            .with_record(&TenantIncidentLink {
                incident: *incident,
            })?,
    )
}
