//! Processing Stripe events: verified, exactly once, in order per object.
//!
//! Exactly once: the event's marker is created (condition: absent) in the same transaction as
//! every change the event makes and its type's counter, so an event either changed everything
//! and is marked, or changed nothing and is not; a redelivery finds the marker and does nothing.
//! In order: every record carries the stamp (event time, lifecycle rank) of the snapshot it
//! holds; an older snapshot is acknowledged and dropped. Concurrent deliveries touching the same
//! records collide on optimistic versions, and the loser starts over from a fresh read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::objects::{self, Event};
use super::records::*;
use super::signature::{self, WebhookSecrets};
use kernel::audit::AuditEntry;
use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::inventory::RecordKind;
use kernel::money::Currency;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::store::{
    Condition, Item, Query, Store, StoreError, WriteOp, query_all, retry_lost_races,
};
use kernel::tenants::{self, ServiceEndSource, ServiceStatus};
use kernel::time::{Clock, Timestamp};

/// How long an event's marker is kept. Stripe retries a delivery for up to three days and
/// re-sends on request for 30 days; past that, order safety alone keeps an old event from
/// changing anything.
pub const EVENT_MARKER_DAYS: i64 = 90;
/// Attempts when concurrent deliveries keep changing the same records.
const MAX_ATTEMPTS: usize = 8;
/// The audit trail's name for this processor.
const ACTOR: &str = "stripe-webhook";

/// What processing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The event changed billing state.
    Applied,
    /// A newer snapshot of the object was already applied; nothing changed.
    Stale,
    /// A type billing does not act on: acknowledged and counted.
    Counted,
    /// Processed before: answered without effect.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Processed {
    pub event_id: String,
    pub event_type: String,
    pub outcome: Outcome,
}

/// Which event types change billing state.
fn handled(event_type: &str) -> bool {
    matches!(
        event_type,
        "customer.created"
            | "customer.updated"
            | "customer.deleted"
            | "invoice.finalized"
            | "invoice.paid"
            | "invoice.payment_succeeded"
            | "invoice.payment_failed"
            | "invoice.voided"
            | "invoice.marked_uncollectible"
    ) || event_type.starts_with("customer.subscription.")
}

fn timestamp(seconds: i64, what: &str) -> Result<Timestamp, Error> {
    Timestamp::from_second(seconds)
        .map_err(|_| Error::BadRequest(format!("{what} is not a valid Unix time")))
}

fn optional_timestamp(seconds: Option<i64>, what: &str) -> Result<Option<Timestamp>, Error> {
    seconds.map(|s| timestamp(s, what)).transpose()
}

fn parse_object<T: serde::de::DeserializeOwned>(event: &Event, what: &str) -> Result<T, Error> {
    serde_json::from_value(event.data.object.clone())
        .map_err(|e| Error::BadRequest(format!("{} does not hold a {what}: {e}", event.id)))
}

fn check_id(id: &str, prefix: &str, what: &str) -> Result<(), Error> {
    let ok = id.starts_with(prefix)
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "'{id}' is not a Stripe {what} id"
        )))
    }
}

/// Service states of Stripe subscription statuses.
fn service_state(status: &str) -> ServiceState {
    match status {
        "canceled" | "incomplete_expired" => ServiceState::Ended,
        _ => ServiceState::Live,
    }
}

fn subscription_rank(status: &str) -> u16 {
    match status {
        "incomplete" => 0,
        "canceled" | "incomplete_expired" => 3,
        _ => 1,
    }
}

/// The writes an event makes, decided from one consistent read.
struct Plan {
    ops: Vec<WriteOp>,
    outcome: Outcome,
}

impl Plan {
    fn nothing(outcome: Outcome) -> Self {
        Self {
            ops: vec![],
            outcome,
        }
    }
}

fn put(item: Item, version: Option<u64>) -> WriteOp {
    WriteOp::Put {
        item,
        condition: version.map_or(Condition::NotExists, Condition::Version),
    }
}

pub struct BillingService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Production takes only live-mode events, every other deployment only test-mode ones.
    livemode: bool,
}

impl BillingService {
    pub fn new(store: GuardedStore, clock: Arc<dyn Clock>, livemode: bool) -> Self {
        Self {
            store: store.shared(),
            clock,
            livemode,
        }
    }

    /// The webhook: verifies the delivery, then processes it. Anything unverifiable is refused
    /// before a single read or write.
    pub async fn receive(
        &self,
        secrets: &WebhookSecrets,
        signature_header: Option<&str>,
        payload: &[u8],
    ) -> Result<Processed, Error> {
        signature::verify(secrets, signature_header, payload, self.clock.now())
            .map_err(|e| Error::BadRequest(format!("unverifiable Stripe event: {e}")))?;
        let event: Event = serde_json::from_slice(payload)
            .map_err(|e| Error::BadRequest(format!("not a Stripe event: {e}")))?;
        self.process(event).await
    }

    /// Processes a verified event.
    pub async fn process(&self, event: Event) -> Result<Processed, Error> {
        check_id(&event.id, "evt_", "event")?;
        if event.event_type.is_empty()
            || event.event_type.len() > 100
            || !event
                .event_type
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
        {
            return Err(Error::BadRequest(format!(
                "'{}' is not a Stripe event type",
                event.event_type
            )));
        }
        if event.livemode != self.livemode {
            return Err(Error::BadRequest(format!(
                "a {} event was sent to a {} deployment",
                if event.livemode {
                    "live-mode"
                } else {
                    "test-mode"
                },
                if self.livemode { "live" } else { "test" }
            )));
        }
        let processed = |outcome| Processed {
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            outcome,
        };
        let marker_key = event_key(&event.id)?;
        let gave_up = || {
            Error::Conflict(format!(
                "{} kept colliding with concurrent deliveries; Stripe will retry it",
                event.id
            ))
        };
        retry_lost_races(MAX_ATTEMPTS, gave_up, || async {
            if self.store.get(&marker_key).await?.is_some() {
                return Ok(processed(Outcome::Duplicate));
            }
            let now = self.clock.now();
            let plan = if handled(&event.event_type) {
                self.plan(&event, now).await?
            } else {
                Plan::nothing(Outcome::Counted)
            };
            let marker = EventMarker {
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                created: event.created,
                received_at: now,
                outcome: plan.outcome,
            };
            let expires = now
                .checked_add(jiff::SignedDuration::from_hours(EVENT_MARKER_DAYS * 24))
                .map_err(|e| Error::Internal(e.to_string()))?;
            let mut ops = vec![
                WriteOp::Put {
                    item: Item::new(marker_key.clone(), RecordKind::StripeEvent)
                        .with_expiry(expires)
                        .with_record(&marker)?,
                    condition: Condition::NotExists,
                },
                self.count(&event.event_type, now).await?,
            ];
            ops.extend(plan.ops);
            // The marker exists: another delivery of this event was processed meanwhile. Any
            // other lost race means another delivery changed what we read: read again.
            match self.store.transact(ops).await {
                Ok(()) => Ok(processed(plan.outcome)),
                Err(StoreError::TransactionCanceled { index: 0, .. }) => {
                    Ok(processed(Outcome::Duplicate))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn count(&self, event_type: &str, now: Timestamp) -> Result<WriteOp, Error> {
        let key = event_count_key(event_type)?;
        let (record, version) = match self.store.get(&key).await? {
            Some(item) => {
                let mut record: EventCount = item.record()?;
                record.count += 1;
                record.last_at = now;
                (record, Some(item.version))
            }
            None => (
                EventCount {
                    event_type: event_type.to_string(),
                    count: 1,
                    handled: handled(event_type),
                    first_at: now,
                    last_at: now,
                },
                None,
            ),
        };
        Ok(put(
            Item::new(key, RecordKind::StripeEventCount).with_record(&record)?,
            version,
        ))
    }

    async fn plan(&self, event: &Event, now: Timestamp) -> Result<Plan, Error> {
        if event.event_type.starts_with("customer.subscription.") {
            self.plan_subscription(event, now).await
        } else if event.event_type.starts_with("customer.") {
            self.plan_customer(event, now).await
        } else {
            self.plan_invoice(event).await
        }
    }

    async fn plan_customer(&self, event: &Event, now: Timestamp) -> Result<Plan, Error> {
        let customer: objects::Customer = parse_object(event, "customer")?;
        check_id(&customer.id, "cus_", "customer")?;
        let deleted = customer.deleted || event.event_type == "customer.deleted";
        let stamp = Stamp {
            event_id: event.id.clone(),
            created: event.created,
            rank: if deleted { 3 } else { 1 },
        };
        let existing = self.store.get(&customer_key(&customer.id)?).await?;
        let (current, version) = match &existing {
            Some(item) => (Some(item.record::<CustomerRecord>()?), Some(item.version)),
            None => (None, None),
        };
        if !stamp.supersedes(current.as_ref().map(|c| &c.stamp)) {
            return Ok(Plan::nothing(Outcome::Stale));
        }
        let (tenant, unlinked_reason) = match customer.tenant_reference() {
            Some(reference) => match TenantId::new(reference) {
                Ok(tenant) if tenants::get(self.store.as_ref(), &tenant).await?.is_some() => {
                    (Some(tenant), None)
                }
                Ok(tenant) => (
                    None,
                    Some(format!(
                        "metadata names tenant '{tenant}', which does not exist"
                    )),
                ),
                Err(e) => (
                    None,
                    Some(format!("metadata {}: {e}", objects::TENANT_METADATA_KEY)),
                ),
            },
            // A deleted customer's snapshot may lack metadata: the link stays as it was.
            None if deleted => (
                current.as_ref().and_then(|c| c.tenant.clone()),
                current.as_ref().and_then(|c| c.unlinked_reason.clone()),
            ),
            None => (
                None,
                Some(format!("metadata has no {}", objects::TENANT_METADATA_KEY)),
            ),
        };
        let record = CustomerRecord {
            customer: customer.id.clone(),
            tenant: tenant.clone(),
            unlinked_reason,
            deleted,
            stamp,
        };
        let mut ops = vec![put(customer_item(&record)?, version)];
        let newly_linked =
            tenant.is_some() && current.as_ref().and_then(|c| c.tenant.as_ref()) != tenant.as_ref();
        if let (Some(tenant), true) = (&tenant, newly_linked) {
            // Subscriptions that arrived before the link now count for the tenant.
            ops.extend(
                self.sync_tenant(tenant, Some(&customer.id), None, now)
                    .await?,
            );
        }
        Ok(Plan {
            ops,
            outcome: Outcome::Applied,
        })
    }

    async fn plan_subscription(&self, event: &Event, now: Timestamp) -> Result<Plan, Error> {
        let subscription: objects::Subscription = parse_object(event, "subscription")?;
        check_id(&subscription.id, "sub_", "subscription")?;
        let customer = subscription.customer.id().to_string();
        check_id(&customer, "cus_", "customer")?;
        let stamp = Stamp {
            event_id: event.id.clone(),
            created: event.created,
            rank: subscription_rank(&subscription.status),
        };
        let key = subscription_key(&customer, &subscription.id)?;
        let existing = self.store.get(&key).await?;
        let (current, version) = match &existing {
            Some(item) => (
                Some(item.record::<SubscriptionRecord>()?),
                Some(item.version),
            ),
            None => (None, None),
        };
        if !stamp.supersedes(current.as_ref().map(|c| &c.stamp)) {
            return Ok(Plan::nothing(Outcome::Stale));
        }
        let service = service_state(&subscription.status);
        let period = subscription.current_period();
        let ended_at = match service {
            ServiceState::Live => None,
            // Stripe sets ended_at when a subscription ends; the event time stands in if not.
            ServiceState::Ended => Some(timestamp(
                subscription
                    .ended_at
                    .or(subscription.canceled_at)
                    .unwrap_or(event.created),
                "ended_at",
            )?),
        };
        let record = SubscriptionRecord {
            subscription: subscription.id.clone(),
            customer: customer.clone(),
            status: subscription.status.clone(),
            service,
            current_period_start: optional_timestamp(period.map(|p| p.0), "current_period_start")?,
            current_period_end: optional_timestamp(period.map(|p| p.1), "current_period_end")?,
            cancel_at: optional_timestamp(subscription.cancel_at, "cancel_at")?,
            canceled_at: optional_timestamp(subscription.canceled_at, "canceled_at")?,
            ended_at,
            stamp,
        };
        let mut ops = vec![put(subscription_item(&record)?, version)];
        let link = self.store.get(&customer_key(&customer)?).await?;
        if let Some(tenant) = link
            .map(|item| item.record::<CustomerRecord>())
            .transpose()?
            .and_then(|c| c.tenant)
        {
            ops.extend(self.sync_tenant(&tenant, None, Some(&record), now).await?);
        }
        Ok(Plan {
            ops,
            outcome: Outcome::Applied,
        })
    }

    async fn plan_invoice(&self, event: &Event) -> Result<Plan, Error> {
        let invoice: objects::Invoice = parse_object(event, "invoice")?;
        let Some(id) = invoice.id.clone() else {
            return Ok(Plan::nothing(Outcome::Counted));
        };
        check_id(&id, "in_", "invoice")?;
        let Some(status) = invoice.status.as_deref().and_then(InvoiceStatus::parse) else {
            // Drafts bill nothing yet.
            return Ok(Plan::nothing(Outcome::Counted));
        };
        let customer = invoice
            .customer
            .as_ref()
            .map(|c| c.id().to_string())
            .ok_or_else(|| Error::BadRequest(format!("invoice {id} names no customer")))?;
        check_id(&customer, "cus_", "customer")?;
        let failed = event.event_type == "invoice.payment_failed";
        let attempts = invoice.attempt_count.unwrap_or(0).min(999);
        let stamp = Stamp {
            event_id: event.id.clone(),
            created: event.created,
            rank: status.rank() * 1_000 + u16::try_from(attempts).unwrap_or(999),
        };
        let key = invoice_key(&customer, &id)?;
        let existing = self.store.get(&key).await?;
        let (current, version) = match &existing {
            Some(item) => (Some(item.record::<InvoiceRecord>()?), Some(item.version)),
            None => (None, None),
        };
        if !stamp.supersedes(current.as_ref().map(|c| &c.stamp)) {
            return Ok(Plan::nothing(Outcome::Stale));
        }
        let (start, end) = invoice
            .billing_period()
            .ok_or_else(|| Error::BadRequest(format!("invoice {id} has no billing period")))?;
        let transitions = invoice.status_transitions.as_ref();
        let previous_failures = current.as_ref().map_or(0, |c| c.failed_attempts);
        let record = InvoiceRecord {
            invoice: id.clone(),
            customer,
            subscription: invoice.subscription_id().map(str::to_string),
            status,
            currency: Currency::new(&invoice.currency)
                .map_err(|e| Error::BadRequest(format!("invoice {id}: {e}")))?,
            net_amount: invoice.net_amount(),
            total: invoice.total,
            amount_paid: invoice.amount_paid.unwrap_or(0),
            amount_due: invoice.amount_due.unwrap_or(invoice.total),
            period_start: timestamp(start, "period start")?,
            period_end: timestamp(end.max(start), "period end")?,
            billing_reason: invoice.billing_reason.clone(),
            finalized_at: optional_timestamp(
                transitions.and_then(|t| t.finalized_at),
                "finalized_at",
            )?,
            paid_at: optional_timestamp(transitions.and_then(|t| t.paid_at), "paid_at")?,
            failed_attempts: if failed {
                previous_failures.max(attempts.max(1))
            } else {
                previous_failures
            },
            stamp,
        };
        Ok(Plan {
            ops: vec![put(invoice_item(&record)?, version)],
            outcome: Outcome::Applied,
        })
    }

    /// The tenant's service state from all its subscriptions (with `changed` replacing its
    /// stored version, and `extra_customer` counted as linked). The tenant record is rewritten
    /// whenever one of its subscriptions changes, so two deliveries deciding on stale views of
    /// each other collide on its version instead of both missing the end.
    async fn sync_tenant(
        &self,
        tenant: &TenantId,
        extra_customer: Option<&str>,
        changed: Option<&SubscriptionRecord>,
        now: Timestamp,
    ) -> Result<Vec<WriteOp>, Error> {
        let Some((mut record, version)) = tenants::load(self.store.as_ref(), tenant).await? else {
            return Ok(vec![]);
        };
        let mut customers: Vec<String> = self
            .linked_customers(tenant)
            .await?
            .into_iter()
            .map(|c| c.customer)
            .collect();
        if let Some(extra) = extra_customer
            && !customers.iter().any(|c| c == extra)
        {
            customers.push(extra.to_string());
        }
        let mut subscriptions = Vec::new();
        for customer in &customers {
            subscriptions.extend(self.subscriptions_of(customer).await?);
        }
        if let Some(changed) = changed {
            subscriptions.retain(|s| s.subscription != changed.subscription);
            subscriptions.push(changed.clone());
        }
        let before = ServiceChange {
            status: record.status,
            service_ended_at: record.service_ended_at,
            source: record.service_end_source.clone(),
        };
        let any_live = subscriptions
            .iter()
            .any(|s| s.service == ServiceState::Live);
        let last_end = subscriptions
            .iter()
            .filter(|s| s.service == ServiceState::Ended)
            .max_by_key(|s| s.ended_at);
        match (record.status, any_live, last_end) {
            // The last subscription ended: the retention clock starts at its end.
            (ServiceStatus::Active, false, Some(last)) => {
                record.status = ServiceStatus::Ended;
                record.service_ended_at = last.ended_at;
                record.service_end_source = Some(ServiceEndSource::Stripe {
                    subscription: last.subscription.clone(),
                });
            }
            // A new subscription after a Stripe-recorded end: the service runs again. An
            // operator's recorded end stands until an operator lifts it.
            (ServiceStatus::Ended, true, _)
                if matches!(
                    record.service_end_source,
                    Some(ServiceEndSource::Stripe { .. })
                ) =>
            {
                record.status = ServiceStatus::Active;
                record.service_ended_at = None;
                record.service_end_source = None;
            }
            _ => {}
        }
        let after = ServiceChange {
            status: record.status,
            service_ended_at: record.service_ended_at,
            source: record.service_end_source.clone(),
        };
        let mut ops = Vec::new();
        if after != before {
            let action = match after.status {
                ServiceStatus::Ended => "service.ended",
                ServiceStatus::Active => "service.resumed",
            };
            let entry = AuditEntry::append(
                &tenants::audit_chain(tenant),
                record.audit.as_ref(),
                now,
                &Principal::system(ACTOR),
                action,
                &after,
            );
            record.audit = Some(entry.head());
            ops.push(entry.insert_op()?);
        }
        record.updated_at = now;
        ops.push(put(tenants::item(&record)?, Some(version)));
        Ok(ops)
    }

    async fn linked_customers(&self, tenant: &TenantId) -> Result<Vec<CustomerRecord>, Error> {
        let items = query_all(
            self.store.as_ref(),
            Query::gsi1(tenant_billing_index(tenant)).limit(100),
        )
        .await?;
        items
            .iter()
            .map(|i| i.record::<CustomerRecord>().map_err(Error::from))
            .collect()
    }

    async fn subscriptions_of(&self, customer: &str) -> Result<Vec<SubscriptionRecord>, Error> {
        let items = query_all(self.store.as_ref(), subscriptions_query(customer)).await?;
        items
            .iter()
            .map(|i| i.record::<SubscriptionRecord>().map_err(Error::from))
            .collect()
    }

    async fn invoices_of(&self, customer: &str) -> Result<Vec<InvoiceRecord>, Error> {
        let items = query_all(self.store.as_ref(), invoices_query(customer)).await?;
        items
            .iter()
            .map(|i| i.record::<InvoiceRecord>().map_err(Error::from))
            .collect()
    }

    /// Every invoice of a tenant that bills a fee, oldest period first: the base of SLA credits.
    pub async fn fees(&self, tenant: &TenantId) -> Result<Vec<InvoiceRecord>, Error> {
        let mut invoices = Vec::new();
        for customer in self.linked_customers(tenant).await? {
            invoices.extend(
                self.invoices_of(&customer.customer)
                    .await?
                    .into_iter()
                    .filter(|i| i.status.bills_fee()),
            );
        }
        invoices.sort_by_key(|i| (i.period_start, i.invoice.clone()));
        Ok(invoices)
    }

    /// The Stripe customer credits go to: the tenant's customer with a live subscription, else
    /// its only customer.
    pub async fn credit_customer(&self, tenant: &TenantId) -> Result<String, Error> {
        let customers: Vec<CustomerRecord> = self
            .linked_customers(tenant)
            .await?
            .into_iter()
            .filter(|c| !c.deleted)
            .collect();
        for customer in &customers {
            if self
                .subscriptions_of(&customer.customer)
                .await?
                .iter()
                .any(|s| s.service == ServiceState::Live)
            {
                return Ok(customer.customer.clone());
            }
        }
        match customers.as_slice() {
            [only] => Ok(only.customer.clone()),
            [] => Err(Error::Conflict(format!(
                "tenant {tenant} has no Stripe customer to credit"
            ))),
            _ => Err(Error::Conflict(format!(
                "tenant {tenant} has several Stripe customers and none with a live subscription"
            ))),
        }
    }

    /// The currency Stripe bills `customer` in: that of its latest invoice; before the first
    /// invoice, the currency our prices are in (Stripe fixes a customer's currency with the
    /// first invoice or balance transaction, so a credit in it keeps the two together).
    pub async fn customer_currency(&self, customer: &str) -> Result<Currency, Error> {
        Ok(self
            .invoices_of(customer)
            .await?
            .into_iter()
            .max_by_key(|i| i.period_start)
            .map_or(kernel::policy::BILLING_CURRENCY, |i| i.currency))
    }

    /// The tenant's billing as its admins and the billing team see it.
    pub async fn overview(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<BillingOverview, Error> {
        access.require(Permission::BillingRead, Scope::Tenant(tenant))?;
        let mut overview = BillingOverview {
            tenant: tenant.clone(),
            customers: vec![],
            subscriptions: vec![],
            invoices: vec![],
        };
        for customer in self.linked_customers(tenant).await? {
            overview
                .subscriptions
                .extend(self.subscriptions_of(&customer.customer).await?);
            overview
                .invoices
                .extend(self.invoices_of(&customer.customer).await?);
            overview.customers.push(customer);
        }
        overview
            .invoices
            .sort_by_key(|i| (i.period_start, i.invoice.clone()));
        Ok(overview)
    }

    /// How many events of each type arrived (billing staff and operators).
    pub async fn event_counts(&self, access: &Access) -> Result<Vec<EventCount>, Error> {
        access.require(Permission::BillingOperate, Scope::Platform)?;
        let items = query_all(self.store.as_ref(), event_counts_query()).await?;
        items
            .iter()
            .map(|i| i.record::<EventCount>().map_err(Error::from))
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BillingOverview {
    pub tenant: TenantId,
    pub customers: Vec<CustomerRecord>,
    pub subscriptions: Vec<SubscriptionRecord>,
    pub invoices: Vec<InvoiceRecord>,
}
