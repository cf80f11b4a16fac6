//! What billing stores: ids, statuses, amounts, currencies, periods — never a card, a name or an
//! address. Stripe records live in the customer's partition `STRIPE#<customer>`; a linked
//! customer is indexed under `BILLING#<tenant>` so a tenant's invoices are one index query and a
//! few partition queries away.

use serde::{Deserialize, Serialize};

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::money::{Currency, Money};
use kernel::store::{Item, ItemKey, Query};
use kernel::tenants::ServiceEndSource;
use kernel::time::Timestamp;

use crate::credits::{CreditId, CreditRecord, CreditStatus};

/// The event and rank that last changed a record: order safety compares them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub event_id: String,
    /// The event's `created` (Unix seconds): when Stripe took the object's snapshot.
    pub created: i64,
    /// Within one second, the state further along its lifecycle wins (paid after open,
    /// canceled after active, deleted after updated).
    pub rank: u16,
}

impl Stamp {
    /// Whether a snapshot with this stamp is newer than the stored one.
    pub fn supersedes(&self, current: Option<&Stamp>) -> bool {
        match current {
            None => true,
            Some(c) => (self.created, self.rank) > (c.created, c.rank),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRecord {
    pub customer: String,
    /// The tenant named in the customer's metadata, once it names an existing tenant.
    pub tenant: Option<TenantId>,
    /// Why the customer is not linked, when its metadata names no existing tenant.
    pub unlinked_reason: Option<String>,
    pub deleted: bool,
    pub stamp: Stamp,
}

/// Whether a subscription still provides the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    Live,
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRecord {
    pub subscription: String,
    pub customer: String,
    /// Stripe's status, as sent.
    pub status: String,
    pub service: ServiceState,
    pub current_period_start: Option<Timestamp>,
    pub current_period_end: Option<Timestamp>,
    pub cancel_at: Option<Timestamp>,
    pub canceled_at: Option<Timestamp>,
    /// When the service ended (Stripe's `ended_at`), for ended subscriptions.
    pub ended_at: Option<Timestamp>,
    pub stamp: Stamp,
}

/// An invoice's status as billing tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Open,
    Paid,
    Uncollectible,
    Void,
}

impl InvoiceStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "paid" => Some(Self::Paid),
            "uncollectible" => Some(Self::Uncollectible),
            "void" => Some(Self::Void),
            _ => None,
        }
    }

    /// Lifecycle position, for order safety.
    pub fn rank(self) -> u16 {
        match self {
            Self::Open => 1,
            Self::Paid | Self::Uncollectible | Self::Void => 3,
        }
    }

    /// Whether the invoice bills a fee (a voided invoice does not).
    pub fn bills_fee(self) -> bool {
        !matches!(self, Self::Void)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRecord {
    pub invoice: String,
    pub customer: String,
    pub subscription: Option<String>,
    pub status: InvoiceStatus,
    pub currency: Currency,
    /// The fee for the billing period: net of tax, after discounts, in minor units.
    pub net_amount: i64,
    pub total: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    /// The billing period the invoice covers (the service period of its subscription lines).
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    pub billing_reason: Option<String>,
    pub finalized_at: Option<Timestamp>,
    pub paid_at: Option<Timestamp>,
    /// Failed payment attempts so far (from `invoice.payment_failed`).
    pub failed_attempts: u32,
    pub stamp: Stamp,
}

impl InvoiceRecord {
    pub fn fee(&self) -> Money {
        Money::new(self.net_amount, self.currency)
    }
}

/// An event that has been processed: the idempotency record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMarker {
    pub event_id: String,
    pub event_type: String,
    pub created: i64,
    pub received_at: Timestamp,
    pub outcome: super::service::Outcome,
}

/// How many events of one type arrived (every type, handled or only acknowledged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCount {
    pub event_type: String,
    pub count: u64,
    pub handled: bool,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
}

/// A change of a tenant's service state, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceChange {
    pub status: kernel::tenants::ServiceStatus,
    pub service_ended_at: Option<Timestamp>,
    pub source: Option<ServiceEndSource>,
}

// ----- keys ---------------------------------------------------------------------------------

pub const EVENT_COUNTS_PARTITION: &str = "STRIPE_EVENTS";

pub fn customer_partition(customer: &str) -> String {
    format!("STRIPE#{customer}")
}

pub fn tenant_billing_index(tenant: &TenantId) -> String {
    format!("BILLING#{tenant}")
}

fn key(pk: String, sk: String) -> Result<ItemKey, Error> {
    ItemKey::new(pk, sk).map_err(|e| Error::BadRequest(format!("unusable Stripe id: {e}")))
}

pub fn customer_key(customer: &str) -> Result<ItemKey, Error> {
    key(customer_partition(customer), "CUSTOMER".into())
}

const SUBSCRIPTION_PREFIX: &str = "SUB#";
const INVOICE_PREFIX: &str = "INV#";
const EVENT_COUNT_PREFIX: &str = "COUNT#";

pub fn subscription_key(customer: &str, subscription: &str) -> Result<ItemKey, Error> {
    key(
        customer_partition(customer),
        format!("{SUBSCRIPTION_PREFIX}{subscription}"),
    )
}

/// A Stripe customer's subscriptions.
pub fn subscriptions_query(customer: &str) -> Query {
    Query::partition(customer_partition(customer)).prefix(SUBSCRIPTION_PREFIX)
}

pub fn invoice_key(customer: &str, invoice: &str) -> Result<ItemKey, Error> {
    key(
        customer_partition(customer),
        format!("{INVOICE_PREFIX}{invoice}"),
    )
}

/// A Stripe customer's invoices.
pub fn invoices_query(customer: &str) -> Query {
    Query::partition(customer_partition(customer)).prefix(INVOICE_PREFIX)
}

pub fn event_key(event: &str) -> Result<ItemKey, Error> {
    key(format!("STRIPE_EVENT#{event}"), "EVENT".into())
}

pub fn event_count_key(event_type: &str) -> Result<ItemKey, Error> {
    key(
        EVENT_COUNTS_PARTITION.into(),
        format!("{EVENT_COUNT_PREFIX}{event_type}"),
    )
}

/// How many events of each type arrived.
pub fn event_counts_query() -> Query {
    Query::partition(EVENT_COUNTS_PARTITION).prefix(EVENT_COUNT_PREFIX)
}

/// The secondary-index partition of credits not yet applied to the customer's balance.
const PENDING_CREDITS_INDEX: &str = "CREDITS_PENDING";

/// The partition of one tenant's credits.
fn credits_partition(tenant: &TenantId) -> String {
    format!("CREDITS#{tenant}")
}

pub fn credit_key(tenant: &TenantId, id: &CreditId) -> Result<ItemKey, Error> {
    Ok(ItemKey::new(credits_partition(tenant), id.to_string())?)
}

/// A credit as stored; while pending it is in the pending index, which points back at the
/// credit's own partition.
pub fn credit_item(record: &CreditRecord) -> Result<Item, Error> {
    let mut item = Item::new(credit_key(&record.tenant, &record.id)?, RecordKind::Credit)
        .with_record(record)?;
    if record.status == CreditStatus::Pending {
        item = item.with_gsi1(ItemKey::new(
            PENDING_CREDITS_INDEX,
            format!("{}#{}", record.tenant, record.id),
        )?);
    }
    Ok(item)
}

/// A tenant's credits.
pub fn credits_query(tenant: &TenantId) -> Query {
    Query::partition(credits_partition(tenant))
}

/// Every credit not yet applied, in every tenant.
pub fn pending_credits_query() -> Query {
    Query::gsi1(PENDING_CREDITS_INDEX)
}

pub fn customer_item(record: &CustomerRecord) -> Result<Item, Error> {
    let mut item = Item::new(customer_key(&record.customer)?, RecordKind::StripeCustomer)
        .with_record(record)?;
    if let Some(tenant) = &record.tenant {
        item = item.with_gsi1(ItemKey::new(
            tenant_billing_index(tenant),
            record.customer.as_str(),
        )?);
    }
    Ok(item)
}

pub fn subscription_item(record: &SubscriptionRecord) -> Result<Item, Error> {
    Ok(Item::new(
        subscription_key(&record.customer, &record.subscription)?,
        RecordKind::StripeSubscription,
    )
    .with_record(record)?)
}

pub fn invoice_item(record: &InvoiceRecord) -> Result<Item, Error> {
    Ok(Item::new(
        invoice_key(&record.customer, &record.invoice)?,
        RecordKind::StripeInvoice,
    )
    .with_record(record)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(created: i64, rank: u16) -> Stamp {
        Stamp {
            event_id: "evt".into(),
            created,
            rank,
        }
    }

    #[test]
    fn newer_snapshots_win_and_ties_go_to_the_later_state() {
        assert!(stamp(10, 1).supersedes(None));
        assert!(stamp(11, 1).supersedes(Some(&stamp(10, 3))));
        assert!(!stamp(9, 3).supersedes(Some(&stamp(10, 1))));
        assert!(stamp(10, 3).supersedes(Some(&stamp(10, 1))));
        assert!(!stamp(10, 1).supersedes(Some(&stamp(10, 3))));
        assert!(!stamp(10, 1).supersedes(Some(&stamp(10, 1))));
    }
}
