//! The incidents area's storage layout: the keys and indexes of security reports, incidents,
//! outbox messages and the link that lists an incident in each affected customer's partition
//! (the records' types are in `model` and `outbox`). Other modules and areas reach these items
//! through these functions, not by spelling their keys.

use serde::{Deserialize, Serialize};

use kernel::audit::{AuditHead, Audited};
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::{RecordKind, TENANT_INCIDENT_LINK_PREFIX};
use kernel::store::{Item, ItemKey, Query, StoreError};
use kernel::time::Timestamp;

use crate::model::{
    DeliveryState, IncidentId, IncidentRecord, IncidentStatus, ReportId, ReportRecord,
};
use crate::outbox::OutboxRecord;

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

// The reports and incidents (`model`), each in its own partition, and the indexes that list
// them: reports by arrival, incidents by awareness, open apart from closed.

/// The index of all reports, newest last.
pub const REPORTS_INDEX: &str = "REPORTS";
/// The index of incidents that are not closed.
pub const OPEN_INCIDENTS_INDEX: &str = "INCIDENTS#open";
/// The index of closed incidents.
pub const CLOSED_INCIDENTS_INDEX: &str = "INCIDENTS#closed";
/// Every incident is in one of these.
pub const INCIDENT_INDEXES: [&str; 2] = [OPEN_INCIDENTS_INDEX, CLOSED_INCIDENTS_INDEX];

/// The sort key of a report's or incident's one record in its partition.
const RECORD: &str = "RECORD";

pub fn report_key(id: &ReportId) -> Result<ItemKey, StoreError> {
    ItemKey::new(format!("REPORT#{id}"), RECORD)
}

/// The report's place in [`REPORTS_INDEX`].
pub fn report_index(report: &ReportRecord) -> Result<ItemKey, StoreError> {
    ItemKey::new(
        REPORTS_INDEX,
        format!("{}#{}", report.received_at.as_second(), report.id),
    )
}

pub fn incident_key(id: &IncidentId) -> Result<ItemKey, StoreError> {
    ItemKey::new(format!("INCIDENT#{id}"), RECORD)
}

/// A report's stored item: its record in its partition, listed in [`REPORTS_INDEX`].
pub fn report_item(report: &ReportRecord) -> Result<Item, StoreError> {
    Item::new(report_key(&report.id)?, RecordKind::SecurityReport)
        .with_gsi1(report_index(report)?)
        .with_record(report)
}

/// An incident's stored item: its record in its partition, listed in the open or closed index.
pub fn incident_item(record: &IncidentRecord) -> Result<Item, StoreError> {
    Item::new(incident_key(&record.id)?, RecordKind::Incident)
        .with_gsi1(incident_index(record)?)
        .with_record(record)
}

/// The incident's place in the open or the closed index, by the time we became aware.
pub fn incident_index(record: &IncidentRecord) -> Result<ItemKey, StoreError> {
    let partition = if record.status == IncidentStatus::Closed {
        CLOSED_INCIDENTS_INDEX
    } else {
        OPEN_INCIDENTS_INDEX
    };
    ItemKey::new(
        partition,
        format!("{}#{}", record.aware_at.as_second(), record.id),
    )
}

// Every change of a report or an incident appends to its own audit chain, named by its id.

impl Audited for ReportRecord {
    fn chain(&self) -> String {
        self.id.to_string()
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        Ok(report_item(self)?)
    }
}

impl Audited for IncidentRecord {
    fn chain(&self) -> String {
        self.id.to_string()
    }

    fn audit_head(&mut self) -> &mut AuditHead {
        &mut self.audit
    }

    fn item(&self) -> Result<Item, Error> {
        Ok(incident_item(self)?)
    }
}

/// The secondary-index partition of messages waiting for a run of the drain (queued, or claimed
/// and not yet settled), sorted by the time they are due.
const PENDING_MESSAGES_INDEX: &str = "OUTBOX#pending";

/// An outbox message, by its id.
pub(crate) fn message_key(id: &str) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(format!("OUTBOX#{id}"), RECORD)?)
}

/// An outbox message as stored: while it waits (queued, or claimed and not settled) it is in
/// the drain's index, by the time it is due.
pub(crate) fn message_item(record: &OutboxRecord) -> Result<Item, Error> {
    let mut item = Item::new(message_key(&record.id)?, RecordKind::OutboxMessage);
    let due = match record.state {
        DeliveryState::Queued => Some(record.next_attempt_at.unwrap_or(record.state_at)),
        DeliveryState::Sending => record.claimed_until,
        _ => None,
    };
    if let Some(due) = due {
        item = item.with_gsi1(ItemKey::new(
            PENDING_MESSAGES_INDEX,
            format!("{:012}#{}", due.as_second().max(0), record.id),
        )?);
    }
    Ok(item.with_record(record)?)
}

/// The messages due at `at` (or before), earliest first.
pub(crate) fn due_messages_query(at: Timestamp) -> Query {
    Query::gsi1(PENDING_MESSAGES_INDEX)
        .between(String::new(), format!("{:012}#~", at.as_second().max(0)))
}
