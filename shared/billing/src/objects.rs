//! The parts of Stripe's objects that billing needs, and nothing else.
//!
//! Deliberately not the full generated types: an event is read with the few fields we keep
//! (ids, statuses, amounts, currencies, periods, the tenant link in metadata), so anything
//! card-like in the payload (payment method details, `last4`, fingerprints) is never even
//! deserialised, and a newer API version that adds fields changes nothing. Both the current
//! shapes (periods on subscription items, the subscription under `invoice.parent`) and the
//! older ones (periods on the subscription, `invoice.subscription`) are read.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The metadata key on a Stripe customer that names the regrooter tenant.
pub const TENANT_METADATA_KEY: &str = "tenant_id";

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix seconds when Stripe created the event: the snapshot time of `data.object`.
    pub created: i64,
    #[serde(default)]
    pub livemode: bool,
    #[serde(default)]
    pub api_version: Option<String>,
    pub data: EventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// A field Stripe may send as an id or, when expanded, as the object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) | Expandable::Object { id } => id,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, Value>>,
}

impl Customer {
    /// The tenant named in the customer's metadata, as written there.
    pub fn tenant_reference(&self) -> Option<&str> {
        self.metadata
            .as_ref()?
            .get(TENANT_METADATA_KEY)?
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer: Expandable,
    pub status: String,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub canceled_at: Option<i64>,
    #[serde(default)]
    pub ended_at: Option<i64>,
    #[serde(default)]
    pub cancel_at: Option<i64>,
    #[serde(default)]
    pub cancel_at_period_end: Option<bool>,
    /// Older API versions carry the period here.
    #[serde(default)]
    pub current_period_start: Option<i64>,
    #[serde(default)]
    pub current_period_end: Option<i64>,
    #[serde(default)]
    pub items: Option<List<SubscriptionItem>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionItem {
    #[serde(default)]
    pub current_period_start: Option<i64>,
    #[serde(default)]
    pub current_period_end: Option<i64>,
}

impl Subscription {
    /// The current billing period: from the items (current API), else the subscription (older).
    pub fn current_period(&self) -> Option<(i64, i64)> {
        let items = self
            .items
            .as_ref()
            .map(|l| l.data.as_slice())
            .unwrap_or(&[]);
        let starts = items.iter().filter_map(|i| i.current_period_start).min();
        let ends = items.iter().filter_map(|i| i.current_period_end).max();
        match (starts, ends) {
            (Some(s), Some(e)) => Some((s, e)),
            _ => Some((self.current_period_start?, self.current_period_end?)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    /// Absent only on previews of upcoming invoices, which never arrive as webhooks we keep.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub customer: Option<Expandable>,
    #[serde(default)]
    pub status: Option<String>,
    pub currency: String,
    pub total: i64,
    #[serde(default)]
    pub subtotal: Option<i64>,
    #[serde(default)]
    pub total_excluding_tax: Option<i64>,
    #[serde(default)]
    pub amount_due: Option<i64>,
    #[serde(default)]
    pub amount_paid: Option<i64>,
    #[serde(default)]
    pub attempt_count: Option<u32>,
    #[serde(default)]
    pub billing_reason: Option<String>,
    #[serde(default)]
    pub period_start: Option<i64>,
    #[serde(default)]
    pub period_end: Option<i64>,
    /// Older API versions.
    #[serde(default)]
    pub subscription: Option<Expandable>,
    #[serde(default)]
    pub parent: Option<InvoiceParent>,
    #[serde(default)]
    pub lines: Option<List<InvoiceLine>>,
    #[serde(default)]
    pub status_transitions: Option<StatusTransitions>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceParent {
    #[serde(default)]
    pub subscription_details: Option<SubscriptionDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionDetails {
    #[serde(default)]
    pub subscription: Option<Expandable>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceLine {
    #[serde(default)]
    pub period: Option<LinePeriod>,
    #[serde(default)]
    pub parent: Option<LineParent>,
    /// Older API versions mark subscription lines with `type: "subscription"`.
    #[serde(default, rename = "type")]
    pub line_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LinePeriod {
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineParent {
    #[serde(default, rename = "type")]
    pub parent_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StatusTransitions {
    #[serde(default)]
    pub finalized_at: Option<i64>,
    #[serde(default)]
    pub paid_at: Option<i64>,
    #[serde(default)]
    pub voided_at: Option<i64>,
    #[serde(default)]
    pub marked_uncollectible_at: Option<i64>,
}

impl Invoice {
    pub fn subscription_id(&self) -> Option<&str> {
        self.parent
            .as_ref()
            .and_then(|p| p.subscription_details.as_ref())
            .and_then(|d| d.subscription.as_ref())
            .or(self.subscription.as_ref())
            .map(Expandable::id)
    }

    /// The service period the invoice bills: the span of its subscription lines (what the
    /// customer paid for), else of all its lines, else the invoice's own period fields (which
    /// for subscription invoices describe pending items, not the service period).
    pub fn billing_period(&self) -> Option<(i64, i64)> {
        let lines = self
            .lines
            .as_ref()
            .map(|l| l.data.as_slice())
            .unwrap_or(&[]);
        let is_subscription_line = |l: &&InvoiceLine| {
            l.parent
                .as_ref()
                .and_then(|p| p.parent_type.as_deref())
                .is_some_and(|t| t == "subscription_item_details")
                || l.line_type.as_deref() == Some("subscription")
        };
        let span = |lines: &mut dyn Iterator<Item = &InvoiceLine>| {
            let periods: Vec<&LinePeriod> = lines.filter_map(|l| l.period.as_ref()).collect();
            let start = periods.iter().map(|p| p.start).min()?;
            let end = periods.iter().map(|p| p.end).max()?;
            Some((start, end))
        };
        span(&mut lines.iter().filter(is_subscription_line))
            .or_else(|| span(&mut lines.iter()))
            .or_else(|| Some((self.period_start?, self.period_end?)))
    }

    /// The fee the period is billed at: net of tax, after discounts.
    pub fn net_amount(&self) -> i64 {
        self.total_excluding_tax
            .or(self.subtotal)
            .unwrap_or(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expandable_reads_ids_and_objects() {
        let id: Expandable = serde_json::from_str(r#""cus_1""#).expect("id");
        let object: Expandable =
            serde_json::from_str(r#"{"id":"cus_2","object":"customer","email":null}"#)
                .expect("object");
        assert_eq!(id.id(), "cus_1");
        assert_eq!(object.id(), "cus_2");
    }

    #[test]
    fn period_from_items_else_from_the_subscription() {
        let current: Subscription = serde_json::from_value(serde_json::json!({
            "id": "sub_1", "customer": "cus_1", "status": "active",
            "items": {"data": [{"current_period_start": 100, "current_period_end": 200}]}
        }))
        .expect("subscription");
        assert_eq!(current.current_period(), Some((100, 200)));
        let older: Subscription = serde_json::from_value(serde_json::json!({
            "id": "sub_1", "customer": "cus_1", "status": "active",
            "current_period_start": 10, "current_period_end": 20
        }))
        .expect("subscription");
        assert_eq!(older.current_period(), Some((10, 20)));
    }
}
